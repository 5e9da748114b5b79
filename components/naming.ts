/**
 * Every name postgres-access derives, checked against the limits of the system that will hold it.
 *
 * A derived name that is too long is shortened deterministically: a prefix of the full name plus the first
 * 8 hex digits of its SHA-256, so two different long names never truncate into the same short one.
 * Input names (organization, app, environment) are validated by the config schema before they get here.
 */
import { createHash } from "crypto";

/** Kubernetes DNS-1123 label (namespaces, ServiceAccounts, Services): lower-case alphanumerics and '-', ≤ 63. */
export const DNS_LABEL_MAX = 63;
/** Kubernetes DNS-1123 subdomain (Secrets, ConfigMaps, most object names): ≤ 253. */
export const DNS_SUBDOMAIN_MAX = 253;
/** PostgreSQL identifiers are truncated by the server at NAMEDATALEN-1 = 63 bytes. */
export const PG_IDENTIFIER_MAX_BYTES = 63;
/** IAM role names: ≤ 64 characters of [\w+=,.@-]. */
export const IAM_ROLE_NAME_MAX = 64;
/** RDS DB instance identifiers: ≤ 63, letters, digits and hyphens, starting with a letter. */
export const RDS_IDENTIFIER_MAX = 63;
/** Secrets Manager secret names: ≤ 512 of [A-Za-z0-9/_+=.@-]; we stay far below. */
export const SECRETS_MANAGER_NAME_MAX = 512;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const SECRETS_MANAGER_NAME = /^[A-Za-z0-9/_+=.@-]+$/;
const IAM_ROLE_NAME = /^[\w+=,.@-]+$/;
const RDS_IDENTIFIER = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const VAULT_PATH_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Pattern every organization and app name must match (a DNS-1123 label). */
export const NAME_PATTERN = DNS_LABEL;

/**
 * Pattern of an environment (stack) name: a letter, then letters and digits, no '-'. Without a '-' in the
 * environment, `{org}-{env}-database-credentials` (the seed's Secrets Manager name) splits back into its
 * organization and environment at the last '-', so it is unique across environments of one AWS account.
 */
export const ENV_NAME_PATTERN = /^[a-z][a-z0-9]*$/;
/** Longest environment (stack) name. */
export const ENV_NAME_MAX = 20;

/**
 * Joins the parts of names that several environments share (one Vault, one AWS account): organization,
 * environment and app names never contain it (they are DNS labels), so joined names never collide.
 */
export const SHARED_NAME_SEPARATOR = "_";

/** First 8 hex digits of SHA-256(text). */
export function shortHash(text: string): string {
    return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/**
 * Returns `name` if it fits in `max` units (as measured by `size`), else a prefix of it plus
 * `separator` plus its short hash, never longer than `max`. Trailing separators are trimmed from the prefix.
 */
export function fitWithHash(name: string, max: number, separator = "-", size: (s: string) => number = (s) => s.length): string {
    if (size(name) <= max) {
        return name;
    }
    const suffix = `${separator}${shortHash(name)}`;
    let prefix = name;
    while (prefix.length > 0 && size(prefix + suffix) > max) {
        prefix = prefix.slice(0, -1);
    }
    prefix = prefix.replace(/[-_.]+$/, "");
    return prefix + suffix;
}

function byteLength(s: string): number {
    return Buffer.byteLength(s, "utf8");
}

function check(name: string, pattern: RegExp, max: number, what: string): string {
    if (!pattern.test(name) || name.length > max) {
        throw new Error(`derived ${what} "${name}" is not valid (pattern ${pattern}, at most ${max} characters)`);
    }
    return name;
}

/** A Kubernetes DNS-1123 label, shortened with a hash if needed. */
export function dnsLabel(...parts: string[]): string {
    return check(fitWithHash(parts.join("-"), DNS_LABEL_MAX), DNS_LABEL, DNS_LABEL_MAX, "Kubernetes DNS label");
}

/** A Kubernetes object name (DNS-1123 subdomain). */
export function dnsSubdomain(...parts: string[]): string {
    return check(fitWithHash(parts.join("-"), DNS_SUBDOMAIN_MAX), DNS_SUBDOMAIN, DNS_SUBDOMAIN_MAX, "Kubernetes object name");
}

/**
 * A PostgreSQL identifier built from DNS-label parts: '-' becomes '_' (organization and app names cannot
 * contain '_', so this is injective), joined with '_', shortened with a hash to ≤ 63 bytes.
 */
export function pgIdentifier(...parts: string[]): string {
    const joined = parts.map((p) => p.replace(/-/g, "_")).join("_");
    const fitted = fitWithHash(joined, PG_IDENTIFIER_MAX_BYTES, "_", byteLength);
    if (!/^[a-z_][a-z0-9_]*$/.test(fitted)) {
        throw new Error(`derived PostgreSQL identifier "${fitted}" must start with a letter or '_'`);
    }
    return fitted;
}

/**
 * An IAM role name, ≤ 64: parts joined with `_`; a longer name is shortened to a prefix plus `-` and its
 * hash, so a shortened name (ending in `-<8 hex>`) never equals an unshortened one (ending in `_<part>`).
 */
export function iamRoleName(...parts: string[]): string {
    return check(fitWithHash(parts.join(SHARED_NAME_SEPARATOR), IAM_ROLE_NAME_MAX), IAM_ROLE_NAME, IAM_ROLE_NAME_MAX, "IAM role name");
}

/** An RDS DB instance (or subnet/parameter group) identifier, ≤ 63, starting with a letter. */
export function rdsIdentifier(...parts: string[]): string {
    const joined = parts.join("-");
    const name = /^[a-z]/.test(joined) ? joined : `pg-${joined}`;
    return check(fitWithHash(name, RDS_IDENTIFIER_MAX), RDS_IDENTIFIER, RDS_IDENTIFIER_MAX, "RDS identifier");
}

/** A Vault path segment, policy or role name: parts joined with `_` (which no part contains). */
export function vaultName(...parts: string[]): string {
    return check(fitWithHash(parts.join(SHARED_NAME_SEPARATOR), 128), VAULT_PATH_SEGMENT, 128, "Vault name");
}

/** KMS alias names: ≤ 256 of [a-zA-Z0-9/_-] after `alias/` (and not `alias/aws/`). */
export const KMS_ALIAS_MAX = 256;
const KMS_ALIAS = /^alias\/[a-zA-Z0-9/_-]+$/;

/**
 * The alias of an organization's secrets key, `alias/postgres-access/{env}/{org}`: '/' occurs in neither
 * part, so it is unique per (environment, organization) in the account.
 */
export function organizationKeyAlias(env: string, org: string): string {
    return check(`alias/postgres-access/${env}/${org}`, KMS_ALIAS, KMS_ALIAS_MAX, "KMS alias");
}

/** Everything postgres-access names for one organization and environment. */
export interface OrganizationNames {
    /** Kubernetes namespace (the organization's name). */
    namespace: string;
    /** The organization's PostgreSQL database. */
    database: string;
    /** Group role that owns the database and its objects (NOLOGIN). */
    ownerRole: string;
    /** Group role with SELECT/INSERT/UPDATE/DELETE on the owner's tables (NOLOGIN). */
    readwriteRole: string;
    /** Group role with SELECT on the owner's tables (NOLOGIN). */
    readonlyRole: string;
}

export function organizationNames(org: string): OrganizationNames {
    return {
        namespace: dnsLabel(org),
        database: pgIdentifier(org),
        ownerRole: pgIdentifier(org, "owner"),
        readwriteRole: pgIdentifier(org, "readwrite"),
        readonlyRole: pgIdentifier(org, "readonly"),
    };
}

/**
 * The PostgreSQL login of an organization's own Vault database connection (`<org>_vault_admin`, ≤ 63
 * bytes): LOGIN CREATEROLE NOINHERIT, CONNECT on the organization's database only. One per organization,
 * so revocation runs in that database and a root rotation of one connection never touches another's.
 */
export function vaultAdminRoleName(org: string): string {
    return pgIdentifier(org, "vault", "admin");
}

/** Everything postgres-access names for one app of an organization in an environment. */
export interface AppNames {
    /** ServiceAccount the app's pods run as. */
    serviceAccount: string;
    /** PostgreSQL LOGIN role of the app (static credentials); dynamic users get Vault-generated names. */
    loginRole: string;
    /** Kubernetes Secret with the connection settings and DATABASE_URL. */
    secret: string;
    /** SecretProviderClass name (csi delivery). */
    secretProviderClass: string;
    /**
     * AWS Secrets Manager secret name (shared by every environment of the account): `{org}-{env}-database-credentials`
     * for an organization's default app, `{org}_{env}_{app}_database-credentials` for a named app.
     */
    secretsManagerSecret: string;
    /** IAM role for the app's ServiceAccount (IRSA), shared by the account's environments: `{org}_{env}_{app}_db`. */
    iamRole: string;
    /** Vault policy and Kubernetes auth role (shared by every environment of one Vault), database role: `{org}_{env}_{app}`. */
    vaultRole: string;
}

/**
 * Names shared across environments (Vault policy and Kubernetes auth role, IAM role, Secrets Manager secret)
 * join organization, environment and app with `_`, which none of them contains, so two different
 * (environment, organization, app) triples never give the same name. The default app's Secrets Manager name
 * keeps the seed's `{org}-{env}-database-credentials`: an environment has no '-' (`ENV_NAME_PATTERN`), so it
 * splits back at its last '-', and it has no `_`, so it never equals a named app's.
 *
 * @param isDefaultApp true when the organization declares no apps and gets one named after itself; its
 *   Secrets Manager secret then uses the seed's `{org}-{env}-database-credentials` pattern.
 */
export function appNames(org: string, app: string, env: string, isDefaultApp: boolean): AppNames {
    // derived once per app and run (the components ask for an app's names at every level)
    const key = `${org}\n${app}\n${env}\n${isDefaultApp}`;
    let names = appNamesCache.get(key);
    if (!names) {
        names = Object.freeze(deriveAppNames(org, app, env, isDefaultApp));
        appNamesCache.set(key, names);
    }
    return names;
}

const appNamesCache = new Map<string, AppNames>();

function deriveAppNames(org: string, app: string, env: string, isDefaultApp: boolean): AppNames {
    const sep = SHARED_NAME_SEPARATOR;
    const sm = isDefaultApp ? `${org}-${env}-database-credentials` : `${org}${sep}${env}${sep}${app}${sep}database-credentials`;
    if (!SECRETS_MANAGER_NAME.test(sm) || sm.length > SECRETS_MANAGER_NAME_MAX) {
        throw new Error(`derived Secrets Manager name "${sm}" is not valid`);
    }
    return {
        serviceAccount: dnsLabel(app),
        loginRole: pgIdentifier(org, app),
        secret: dnsSubdomain(app, "database"),
        secretProviderClass: dnsSubdomain(app, "database"),
        secretsManagerSecret: sm,
        iamRole: iamRoleName(org, env, app, "db"),
        vaultRole: vaultName(org, env, app),
    };
}

/**
 * The two alternating LOGIN roles of an app with `rotation` (`<org>_<app>_a`, `<org>_<app>_b`, each ≤ 63
 * bytes); they take the place of its single login. `derivedNameProblems` claims them for rotating apps, so
 * they can never be another app's login.
 */
export function rotationLoginNames(org: string, app: string): { a: string; b: string } {
    return { a: pgIdentifier(org, app, "a"), b: pgIdentifier(org, app, "b") };
}

/** Databases every PostgreSQL server already has; an organization cannot be given one of them. */
export const EXISTING_DATABASES = ["postgres", "template0", "template1"];
/** Databases RDS adds (its management database). */
export const RDS_EXISTING_DATABASES = ["rdsadmin"];
/** PostgreSQL refuses to create roles whose names start with this. */
export const RESERVED_ROLE_PREFIX = "pg_";

/**
 * Why RDS would refuse (or already has) a role of this name, or undefined: RDS reserves the `rds_` prefix
 * (rds_superuser, rds_iam, rds_replication, ...) and its own `rdsadmin` and `rdsrepladmin` logins.
 */
export function rdsReservedRoleProblem(role: string): string | undefined {
    if (role.startsWith("rds_")) return `"${role}" starts with "rds_", which RDS reserves for its own roles (rds_superuser, rds_iam, ...)`;
    if (role === "rdsadmin" || role === "rdsrepladmin") return `"${role}" is a login RDS reserves for itself`;
    return undefined;
}

/** An organization as the config declares it, with the config paths problems are reported at. */
export interface NamedOrganization {
    name: string;
    /** e.g. `organizations[1]` */
    path: string;
    apps: { name: string; path: string; isDefaultApp: boolean; rotates?: boolean }[];
}

/**
 * Problems with the names a whole stack derives. Joining names loses the boundaries between them
 * (`a-b`/`c` and `a`/`b-c` both give the login `a_b_c`; an app named `owner` gets its organization's
 * owner group role as login), so every derived PostgreSQL role and database, Vault role, IAM role and
 * Secrets Manager name must be unique across the stack, whether or not the app's credential source uses it
 * today; otherwise one organization's resources would fail to create or (Vault writes are upserts) silently
 * take over another's. Also reported: identifiers PostgreSQL cannot hold or reserves, and databases that
 * exist on every server.
 *
 * @param reservedRoles roles postgres-access itself creates or connects as (the admin, Vault's admin).
 * @param rds the server is RDS: roles starting with `rds_` (an organization `rds` with an app `iam` would
 *   get `rds_iam`, RDS's IAM-authentication role) and the database `rdsadmin` are refused too.
 */
export function derivedNameProblems(env: string, organizations: NamedOrganization[], reservedRoles: string[] = [], rds = false): { path: string; message: string }[] {
    const problems: { path: string; message: string }[] = [];
    const existingDatabases = rds ? [...EXISTING_DATABASES, ...RDS_EXISTING_DATABASES] : EXISTING_DATABASES;
    const rdsReserved = (role: string, path: string, what: string) => {
        const problem = rds ? rdsReservedRoleProblem(role) : undefined;
        if (problem) problems.push({ path, message: `its ${what} ${problem}; rename it` });
    };
    const appNamesOrUndefined = (org: string, app: string, e: string, isDefault: boolean) => {
        try {
            return appNames(org, app, e, isDefault);
        } catch {
            return undefined;
        }
    };
    const owners = new Map<string, string>();
    const claim = (system: string, name: string, path: string, what: string) => {
        const key = `${system}\u0000${name}`;
        const first = owners.get(key);
        if (first !== undefined) {
            problems.push({ path, message: `derives the ${system} "${name}", which is already ${first}; rename one of them` });
        } else {
            owners.set(key, what);
        }
    };
    for (const role of reservedRoles) owners.set(`PostgreSQL role\u0000${role}`, "a role postgres-access reserves for itself");
    // Every organization's Vault admin login is claimed first (whether or not it has Vault apps today), so an
    // app whose login would be that name (org "a", app "vault-admin"; org "a-vault", app "admin") is the
    // one reported.
    for (const org of organizations) {
        let admin: string;
        try {
            admin = vaultAdminRoleName(org.name);
        } catch {
            continue; // reported below with the organization's other names
        }
        if (!admin.startsWith(RESERVED_ROLE_PREFIX)) claim("PostgreSQL role", admin, `${org.path}.name`, `the Vault admin login of organization "${org.name}"`);
    }
    for (const org of organizations) {
        let names: OrganizationNames;
        try {
            names = organizationNames(org.name);
        } catch (err) {
            problems.push({ path: `${org.path}.name`, message: `${(err as Error).message} (it names the organization's PostgreSQL database and roles)` });
            continue;
        }
        if (existingDatabases.includes(names.database)) {
            problems.push({ path: `${org.path}.name`, message: `its database "${names.database}" already exists on every ${rds ? "RDS " : ""}PostgreSQL server` });
        }
        if (names.ownerRole.startsWith(RESERVED_ROLE_PREFIX)) {
            problems.push({ path: `${org.path}.name`, message: `its roles ("${names.ownerRole}", ...) would start with "${RESERVED_ROLE_PREFIX}", which PostgreSQL reserves` });
            continue;
        }
        claim("PostgreSQL database", names.database, `${org.path}.name`, `the database of organization "${org.name}"`);
        for (const level of ["owner", "readwrite", "readonly"] as const) {
            const role = names[`${level}Role`];
            claim("PostgreSQL role", role, `${org.path}.name`, `the ${level} group role of organization "${org.name}"`);
        }
        // Every role of an organization starts with its database name and '_', so one report says it all.
        const rdsRoleProblem = rds ? rdsReservedRoleProblem(names.ownerRole) : undefined;
        if (rdsRoleProblem) {
            const login = org.apps[0] ? appNamesOrUndefined(org.name, org.apps[0].name, env, org.apps[0].isDefaultApp)?.loginRole : undefined;
            problems.push({ path: `${org.path}.name`, message: `its roles ("${names.ownerRole}"${login ? `, the login "${login}"` : ""}, ...) would start with "rds_", which RDS reserves for its own roles (rds_superuser, rds_iam, ...); rename the organization` });
            continue;
        }
        for (const app of org.apps) {
            let n: AppNames;
            try {
                n = appNames(org.name, app.name, env, app.isDefaultApp);
            } catch (err) {
                problems.push({ path: `${app.path}.name`, message: (err as Error).message });
                continue;
            }
            const who = `used by app "${app.name}" of organization "${org.name}"`;
            claim("PostgreSQL role", n.loginRole, `${app.path}.name`, `the login ${who}`);
            rdsReserved(n.loginRole, `${app.path}.name`, "login");
            if (app.rotates) {
                const slots = rotationLoginNames(org.name, app.name);
                for (const slot of ["a", "b"] as const) claim("PostgreSQL role", slots[slot], `${app.path}.rotation`, `the rotating login ${slot} ${who}`);
            }
            claim("Vault role", n.vaultRole, `${app.path}.name`, who);
            claim("IAM role", n.iamRole, `${app.path}.name`, who);
            claim("Secrets Manager secret", n.secretsManagerSecret, `${app.path}.name`, who);
        }
    }
    return problems;
}
