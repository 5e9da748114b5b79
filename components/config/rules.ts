/**
 * The rules of the stack configuration that span fields (e.g. Vault apps need `postgres-access:vault`), the
 * PEM inputs parsed, and `parseStackConfig`, which runs them all with the schema (`schema.ts`) and reports
 * every problem at once, each with its path, e.g.
 * `organizations[1].apps[0].access: expected one of "owner" | "readwrite" | "readonly"`.
 */
import { z } from "zod";
import { ENV_NAME_MAX, ENV_NAME_PATTERN, NAME_PATTERN, NamedOrganization, derivedNameProblems, rdsReservedRoleProblem } from "../naming";
import { CredentialSource, DeliveryMode } from "../types";
import { pemBundleProblems, readPemFile, runTime } from "./certificateBundle";
import { accessPolicyOf, accessRequestProblems } from "./accessRequestConfig";
import { DELIVERY_MODES, OrganizationConfig, SCHEMA_DEFAULTS, StackConfig, appSchema, organizationSchema, quantityValue, stackConfigSchema } from "./schema";
import { ConfigError, ConfigProblem, zodProblems } from "./problems";
import { StackPart, stackSplitProblems } from "./stackSplit";

/** Which delivery modes each credential source can feed, the first being the default. */
export const DELIVERY_FOR_CREDENTIALS: Record<CredentialSource, readonly DeliveryMode[]> = {
    kubernetes: ["secret"],
    secretsmanager: ["csi"],
    "vault-static": ["vault-secrets-operator", "csi", "vault-agent"],
    "vault-dynamic": ["vault-secrets-operator", "csi", "vault-agent"],
};

/** Namespaces an organization may not take. */
export const RESERVED_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** Where to fetch the RDS CA bundles (the plan cannot: no network). */
export const RDS_CA_BUNDLE_HELP = "download the bundle of the instance's region, e.g. `curl -fsSo certs/rds-eu-west-1-bundle.pem https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem` (or global/global-bundle.pem), and set database.rds.caBundleFile to that path";

/** A DNS name (dot-separated DNS-1123 labels), as the trust domain must be: it ends the SVIDs' DNS names. */
const TRUST_DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;


/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Checks that span several fields. Runs on the raw input too (defensively), so a config with a type
 * error elsewhere still reports these problems in the same run.
 */
export function crossFieldProblems(raw: any, env: string): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const add = (path: string, message: string) => problems.push({ path, message });
    const split = raw && typeof raw === "object" && raw.split && typeof raw.split === "object" ? raw.split : undefined;
    if (split && typeof split.environment === "string") {
        // the schema checks the name itself; the caller must build the environment it names
        if (split.environment !== env) add("split.environment", `the stacks of a split environment are built for their environment: expected "${env}" (the environment the program was given), got "${split.environment}"`);
    } else if (!ENV_NAME_PATTERN.test(env) || env.length > ENV_NAME_MAX) {
        add("(stack name)", `the environment is the stack name and must be a DNS-1123 label without '-' (a lower-case letter, then lower-case letters or digits: names shared by environments join it with the organization's), at most ${ENV_NAME_MAX} characters; got "${env}"`);
    }
    if (!raw || typeof raw !== "object") {
        return problems;
    }
    problems.push(...stackSplitProblems(raw));
    if (split?.part !== StackPart.Platform) {
        if (raw.organizations === undefined) add("organizations", "is required (expected a list of organizations)");
        else if (Array.isArray(raw.organizations) && raw.organizations.length === 0) add("organizations", "expected at least one organization");
    }
    const db = raw.database ?? {};
    const engine = db.engine;
    const hasVault = raw.vault !== undefined;
    const hasAws = raw.aws !== undefined;
    if (engine === "rds") {
        if (db.rds === undefined) add("database.rds", "is required when database.engine is \"rds\" (vpcId, subnetIds, ...)");
        if (!hasAws) add("aws", "is required when database.engine is \"rds\" (region, EKS OIDC provider)");
        if (db.tls === "mtls") add("database.tls", "\"mtls\" needs client certificates in pg_hba, which RDS does not allow; use \"verify-full\" (and IAM database authentication, database.rds.iamDatabaseAuthentication) on RDS, or engine \"statefulset\"");
        if (db.tls === "verify-full" && db.rds && db.rds.caBundlePem === undefined && db.rds.caBundleFile === undefined) add("database.rds.caBundlePem", `is required with tls "verify-full" on RDS (or caBundleFile): the RDS CA bundle that travels with the credentials; ${RDS_CA_BUNDLE_HELP}`);
        if (db.statefulset !== undefined) add("database.statefulset", "only applies to engine \"statefulset\"; remove it or set database.engine to \"statefulset\"");
        const rds = db.rds && typeof db.rds === "object" ? db.rds : undefined;
        if (rds) {
            const sgs: unknown[] = Array.isArray(rds.allowedSecurityGroupIds) ? rds.allowedSecurityGroupIds : [];
            const cidrs: unknown[] = Array.isArray(rds.allowedCidrBlocks) ? rds.allowedCidrBlocks : [];
            if (sgs.length === 0 && cidrs.length === 0) add("database.rds.allowedSecurityGroupIds", "list the clients' security groups (EKS node or pod security groups), or set allowedCidrBlocks: nothing could reach the database otherwise");
            cidrs.forEach((c, i) => {
                if (typeof c === "string" && /\/0$/.test(c)) add(`database.rds.allowedCidrBlocks[${i}]`, `"${c}" admits every address; name the clients' CIDR blocks`);
            });
            const allocated = typeof rds.allocatedStorage === "number" ? rds.allocatedStorage : SCHEMA_DEFAULTS.rds.allocatedStorage;
            if (typeof rds.maxAllocatedStorage === "number" && rds.maxAllocatedStorage < allocated) add("database.rds.maxAllocatedStorage", `must be at least allocatedStorage (${allocated})`);
            if (rds.caBundlePem !== undefined && rds.caBundleFile !== undefined) add("database.rds.caBundleFile", "set either caBundlePem or caBundleFile, not both");
            if (typeof rds.masterUsername === "string" && rdsReservedRoleProblem(rds.masterUsername)) add("database.rds.masterUsername", `${rdsReservedRoleProblem(rds.masterUsername)}; choose another`);
            if (rds.deletionProtection !== false && rds.skipFinalSnapshot === true) add("database.rds.skipFinalSnapshot", "a deletion-protected instance keeps its final snapshot; set deletionProtection: false too (throw-away environments only)");
            if (rds.deletionProtection !== false && typeof rds.backupRetentionDays === "number" && rds.backupRetentionDays < 7) add("database.rds.backupRetentionDays", "a deletion-protected instance keeps at least 7 days of backups; shorter only for throw-away environments (deletionProtection: false)");
            const subnets: unknown[] = Array.isArray(rds.subnetIds) ? rds.subnetIds : [];
            subnets.forEach((id, i) => {
                if (subnets.indexOf(id) !== i) add(`database.rds.subnetIds[${i}]`, `duplicate subnet ${JSON.stringify(id)} (also subnetIds[${subnets.indexOf(id)}]); list subnets in different availability zones`);
            });
        }
    }
    if (engine === "statefulset") {
        if (db.rds !== undefined) add("database.rds", "only applies to engine \"rds\"; remove it or set database.engine to \"rds\"");
        if (db.tls === "mtls" && db.spiffe === undefined) add("database.spiffe", "is required when database.tls is \"mtls\" (trustDomain of the SPIRE installation)");
        if (db.tls === "mtls" && db.adminEndpoint === undefined) add("database.adminEndpoint", "is required with tls \"mtls\": the server's pg_hba admits the admin login from loopback only, so `pulumi up` reaches it through `kubectl port-forward` (host localhost, port 15432 for example)");
        const serverNs = db.statefulset?.namespace;
        if (typeof serverNs === "string" && (RESERVED_NAMESPACES.includes(serverNs) || serverNs.startsWith("kube-"))) {
            add("database.statefulset.namespace", `"${serverNs}" is a reserved Kubernetes namespace (default, kube-*); the server gets its own namespace, such as "postgres"`);
        }
        const resources = db.statefulset?.resources;
        for (const kind of ["cpu", "memory"] as const) {
            const request = resources?.requests?.[kind] ?? SCHEMA_DEFAULTS.statefulset.resources.requests[kind];
            const limit = resources?.limits?.[kind] ?? SCHEMA_DEFAULTS.statefulset.resources.limits[kind];
            const r = typeof request === "string" ? quantityValue(request) : undefined;
            const l = typeof limit === "string" ? quantityValue(limit) : undefined;
            if (r !== undefined && l !== undefined && r > l) add(`database.statefulset.resources.requests.${kind}`, `${request} exceeds the limit ${limit} (resources.limits.${kind}); Kubernetes refuses a request above its limit`);
        }
        const upgradeFrom = db.statefulset?.upgradeFrom;
        const version = db.version ?? SCHEMA_DEFAULTS.database.version;
        if (typeof upgradeFrom === "string" && typeof version === "string" && Number(upgradeFrom) >= Number(version)) {
            add("database.statefulset.upgradeFrom", `names the major the data is upgraded from, which must be older than database.version ("${version}")`);
        }
        if (db.tls === "mtls" && db.spiffe?.trustBundlePem !== undefined && typeof db.adminEndpoint?.host === "string" && /^[0-9.:]+$/.test(db.adminEndpoint.host)) {
            add("database.adminEndpoint.host", "with tls \"mtls\" and spiffe.trustBundlePem the server's SVID must name the host pulumi connects to, and SVIDs carry DNS names only; use a name such as localhost");
        }
    }
    if (db.spiffe !== undefined && db.tls !== "mtls") add("database.spiffe", "only applies when database.tls is \"mtls\"");
    const trustDomain = db.spiffe?.trustDomain;
    if (typeof trustDomain === "string" && !TRUST_DOMAIN.test(trustDomain)) {
        add("database.spiffe.trustDomain", `"${trustDomain}" is not usable: it ends every certificate's DNS name (<app>.<org>.pg.<trustDomain>), so it must be a DNS name: lower-case letters, digits and '-' in dot-separated labels (no '_'), such as example.org`);
    }
    const usesVault = (Array.isArray(raw.organizations) ? raw.organizations : []).some((org: any) =>
        (Array.isArray(org?.apps) ? org.apps : [org]).some((app: any) => typeof app?.credentials === "string" && app.credentials.startsWith("vault-")));
    if (engine === "statefulset" && hasVault && usesVault && raw.vault && typeof raw.vault === "object" && raw.vault.kubernetesNamespace === undefined) {
        add("vault.kubernetesNamespace", "is required when Vault manages logins of the in-cluster server: Vault must run in this cluster to reach it (the server's Service is cluster-internal), and its namespace must be admitted by the server's NetworkPolicy");
    }
    const usesVaultAgent = (Array.isArray(raw.organizations) ? raw.organizations : []).some((org: any) =>
        (Array.isArray(org?.apps) ? org.apps : []).some((app: any) => app?.delivery === "vault-agent"));
    if (usesVaultAgent && hasVault && raw.vault && typeof raw.vault === "object" && raw.vault.kubernetesNamespace === undefined
        && !(Array.isArray(raw.vault.egressCidrBlocks) && raw.vault.egressCidrBlocks.length > 0)) {
        add("vault.egressCidrBlocks", "is required when apps use delivery \"vault-agent\" and Vault runs outside the cluster (no vault.kubernetesNamespace): the agent in each pod must reach Vault, and the namespace denies all other egress; list the address blocks of Vault's endpoints (not a Service CIDR, which network plugins match after translation)");
    }
    if (hasVault && raw.vault && typeof raw.vault === "object") {
        const { defaultTtl, maxTtl } = raw.vault;
        if (typeof defaultTtl === "number" && typeof maxTtl === "number" && defaultTtl > maxTtl) {
            add("vault.defaultTtl", `must not exceed vault.maxTtl (${maxTtl})`);
        }
    }
    if (hasAws && raw.aws && typeof raw.aws === "object") {
        const { eksOidcProviderArn, eksOidcIssuerUrl } = raw.aws;
        if (typeof eksOidcProviderArn === "string" && typeof eksOidcIssuerUrl === "string") {
            const host = eksOidcIssuerUrl.replace(/^https:\/\//, "").replace(/\/$/, "");
            if (!eksOidcProviderArn.endsWith(`:oidc-provider/${host}`)) add("aws.eksOidcProviderArn", `must be the IAM OIDC provider of aws.eksOidcIssuerUrl (arn:…:oidc-provider/${host}); IRSA trust would never match a token otherwise`);
        }
        const account = typeof eksOidcProviderArn === "string" ? eksOidcProviderArn.split(":")[4] : undefined;
        (Array.isArray(raw.aws.platformAdminRoleArns) ? raw.aws.platformAdminRoleArns : []).forEach((arn: unknown, i: number) => {
            if (account && typeof arn === "string" && arn.split(":")[4] !== account) {
                add(`aws.platformAdminRoleArns[${i}]`, `must be a role of account ${account} (the stack's, from aws.eksOidcProviderArn): the secrets and keys admit admins of their own account only`);
            }
        });
    }
    let usesSecretsManager = false;
    const orgs: any[] = Array.isArray(raw.organizations) ? raw.organizations : [];
    const orgNames = new Map<string, number>();
    const serverNamespace = db.statefulset?.namespace ?? SCHEMA_DEFAULTS.statefulset.namespace;
    orgs.forEach((org, i) => {
        if (!org || typeof org !== "object") return;
        const orgPath = `organizations[${i}]`;
        if (typeof org.name === "string") {
            if (orgNames.has(org.name)) add(`${orgPath}.name`, `duplicate organization "${org.name}" (also organizations[${orgNames.get(org.name)}])`);
            else orgNames.set(org.name, i);
            if (RESERVED_NAMESPACES.includes(org.name) || org.name.startsWith("kube-")) add(`${orgPath}.name`, `"${org.name}" is a reserved Kubernetes namespace (default, kube-*)`);
            if (engine === "statefulset" && org.name === serverNamespace) add(`${orgPath}.name`, `"${org.name}" is the database server's namespace (database.statefulset.namespace)`);
            if (hasVault && org.name === raw.vault?.kubernetesNamespace) add(`${orgPath}.name`, `"${org.name}" is Vault's namespace (vault.kubernetesNamespace)`);
        }
        if (Array.isArray(org.apps)) {
            for (const key of ["access", "credentials"]) {
                if (org[key] !== undefined) add(`${orgPath}.${key}`, `only applies to the default app (when apps is absent); set apps[].${key} instead`);
            }
        }
        const apps: any[] = Array.isArray(org.apps) ? org.apps : (org.credentials !== undefined || org.access !== undefined ? [{ name: org.name, access: org.access, credentials: org.credentials }] : []);
        const appNames = new Map<string, number>();
        apps.forEach((app, j) => {
            if (!app || typeof app !== "object") return;
            const appPath = `${orgPath}.apps[${j}]`;
            if (typeof app.name === "string") {
                if (appNames.has(app.name)) add(`${appPath}.name`, `duplicate app "${app.name}" in organization "${org.name}" (also apps[${appNames.get(app.name)}])`);
                else appNames.set(app.name, j);
                if (app.name === "default") add(`${appPath}.name`, "\"default\" would be the app's ServiceAccount, which is the namespace's default one: every pod that names no ServiceAccount would get this app's IAM role and Vault login; choose another name");
            }
            const credentials: string = app.credentials ?? SCHEMA_DEFAULTS.app.credentials;
            const allowed = DELIVERY_FOR_CREDENTIALS[credentials as CredentialSource];
            if (allowed && app.delivery !== undefined && (DELIVERY_MODES as readonly string[]).includes(app.delivery) && !allowed.includes(app.delivery)) {
                add(`${appPath}.delivery`, `credentials "${credentials}" can be delivered by ${allowed.map((d) => `"${d}"`).join(" | ")}, not "${app.delivery}"`);
            }
            if (credentials.startsWith("vault-") && !hasVault) add(`${appPath}.credentials`, `"${credentials}" needs the postgres-access:vault config (address, ...)`);
            if (credentials === "secretsmanager" && !hasAws) add(`${appPath}.credentials`, "\"secretsmanager\" needs the postgres-access:aws config (region, EKS OIDC provider)");
            if (credentials === "secretsmanager") usesSecretsManager = true;
            const staticOnly = ["rotationPeriod", "rotationSchedule", "rotationWindow"].filter((k) => app[k] !== undefined);
            if (staticOnly.length && credentials !== "vault-static") add(`${appPath}.${staticOnly[0]}`, "only applies to credentials \"vault-static\"");
            if (app.rotationPeriod !== undefined && app.rotationSchedule !== undefined) add(`${appPath}.rotationSchedule`, "set either rotationPeriod or rotationSchedule (+ rotationWindow), not both");
            if (app.rotationWindow !== undefined && app.rotationSchedule === undefined) add(`${appPath}.rotationWindow`, "only applies together with rotationSchedule");
            for (const key of ["runAsUser", "runAsGroup"]) {
                if (app[key] !== undefined && app.delivery !== "vault-agent") add(`${appPath}.${key}`, "only applies to delivery \"vault-agent\"");
            }
            if (app.rotation !== undefined) {
                if (credentials !== "kubernetes" && credentials !== "secretsmanager") {
                    add(`${appPath}.rotation`, `only applies to credentials "kubernetes" or "secretsmanager"; with "${credentials}" Vault rotates (${credentials === "vault-static" ? "rotationPeriod / rotationSchedule" : "every lease is a new user"})`);
                } else if (db.tls === "mtls") {
                    add(`${appPath}.rotation`, "does not apply with database.tls \"mtls\": the login has no password (its SPIFFE certificate, which SPIRE rotates, is its credential)");
                }
            }
            if (app.syncSecret !== undefined && (app.delivery ?? DELIVERY_FOR_CREDENTIALS[credentials as CredentialSource]?.[0]) !== "csi") add(`${appPath}.syncSecret`, "only applies to delivery \"csi\"");
            const ttlKeys = ["defaultTtl", "maxTtl"].filter((k) => app[k] !== undefined);
            if (ttlKeys.length && credentials !== "vault-dynamic") add(`${appPath}.${ttlKeys[0]}`, "only applies to credentials \"vault-dynamic\"");
            const defaultTtl = app.defaultTtl ?? raw.vault?.defaultTtl ?? SCHEMA_DEFAULTS.vault.defaultTtl;
            const maxTtl = app.maxTtl ?? raw.vault?.maxTtl ?? SCHEMA_DEFAULTS.vault.maxTtl;
            if (credentials === "vault-dynamic" && typeof defaultTtl === "number" && typeof maxTtl === "number" && defaultTtl > maxTtl) {
                add(`${appPath}.defaultTtl`, `must not exceed maxTtl (${maxTtl})`);
            }
            if (db.tls === "mtls" && credentials.startsWith("vault-")) {
                add(`${appPath}.credentials`, `"${credentials}" does not combine with database.tls "mtls": every app logs in with its SPIFFE certificate mapped to its own login (no password is checked, so Vault would rotate nothing; dynamic users have no certificate identity), and the server admits no password logins from the network; use "kubernetes" (the Secret carries the connection settings and certificate paths)`);
            }
            if (db.tls === "mtls" && typeof db.spiffe?.trustDomain === "string" && typeof app.name === "string" && typeof org.name === "string") {
                const cn = `${app.name}.${org.name}.pg.${db.spiffe.trustDomain}`;
                if (cn.length > 64) add(`${appPath}.name`, `the app's certificate CN "${cn}" would exceed 64 characters; shorten the app, organization or trust domain name`);
            }
            if (app.access === "owner" && credentials === "vault-dynamic") {
                add(`${appPath}.access`, "\"owner\" creates objects, which a short-lived dynamic user could not drop when its lease ends; use vault-static (or readwrite/readonly) for owner apps");
            }
        });
    });
    // Names derived from several config names must not collide (a-b/c and a/b-c, an app named "owner").
    const isName = (n: unknown, max: number): n is string => typeof n === "string" && n.length <= max && NAME_PATTERN.test(n);
    const named: NamedOrganization[] = [];
    orgs.forEach((org, i) => {
        if (!org || typeof org !== "object" || !isName(org.name, 40)) return;
        const apps: NamedOrganization["apps"] = Array.isArray(org.apps)
            ? org.apps.flatMap((app: any, j: number) => (app && isName(app.name, 40) ? [{ name: app.name, path: `organizations[${i}].apps[${j}]`, isDefaultApp: false, rotates: app.rotation !== undefined }] : []))
            : [{ name: org.name, path: `organizations[${i}]`, isDefaultApp: true }];
        named.push({ name: org.name, path: `organizations[${i}]`, apps });
    });
    if (ENV_NAME_PATTERN.test(env) && env.length <= ENV_NAME_MAX) {
        const reservedRoles = typeof db.rds?.masterUsername === "string" ? [db.rds.masterUsername] : [];
        problems.push(...derivedNameProblems(env, named, reservedRoles, engine === "rds"));
    }
    if (usesSecretsManager && hasAws && raw.aws && typeof raw.aws === "object" && !(Array.isArray(raw.aws.platformAdminRoleArns) && raw.aws.platformAdminRoleArns.length > 0)) {
        add("aws.platformAdminRoleArns", "list at least the IAM role that runs `pulumi up`: each secret's resource policy denies every principal but its app and these roles, so without it the deployer locks itself out");
    }
    return problems;
}

/** Options of `parseStackConfig`. */
export interface ParseOptions {
    /** The time certificates must be valid at (default: `POSTGRES_ACCESS_NOW` or the clock). */
    now?: Date;
    /** Directory `database.rds.caBundleFile` is relative to (default: the working directory, the project's under Pulumi). */
    projectDir?: string;
}

/**
 * Every PEM input parsed (`certificateBundle.ts`): each certificate of a bundle readable, valid at `now`, a CA.
 * Returns the problems and the RDS bundle read from `database.rds.caBundleFile`, if any.
 */
export function pemFieldProblems(raw: any, now: Date, projectDir: string): { problems: ConfigProblem[]; rdsBundleFromFile?: string } {
    const problems: ConfigProblem[] = [];
    const check = (path: string, pem: unknown) => {
        if (typeof pem === "string") for (const message of pemBundleProblems(pem, now, true)) problems.push({ path, message });
    };
    const rds = raw?.database?.rds;
    check("database.rds.caBundlePem", rds?.caBundlePem);
    check("vault.caCertPem", raw?.vault?.caCertPem);
    check("database.spiffe.trustBundlePem", raw?.database?.spiffe?.trustBundlePem);
    let rdsBundleFromFile: string | undefined;
    if (typeof rds?.caBundleFile === "string" && rds.caBundleFile !== "") {
        const { pem, problem } = readPemFile(rds.caBundleFile, projectDir);
        if (problem) problems.push({ path: "database.rds.caBundleFile", message: `${problem}; ${RDS_CA_BUNDLE_HELP}` });
        else {
            check("database.rds.caBundleFile", pem);
            rdsBundleFromFile = pem;
        }
    }
    return { problems, rdsBundleFromFile };
}

/**
 * Validates raw stack config (as read from `postgres-access:*` keys) and applies defaults.
 * Throws a ConfigError listing every problem with its path.
 */
export function parseStackConfig(raw: unknown, env: string, options: ParseOptions = {}): StackConfig {
    const parsed = stackConfigSchema.safeParse(raw, { reportInput: true });
    let now = options.now;
    const clockProblems: ConfigProblem[] = [];
    try {
        now ??= runTime();
    } catch (err) {
        clockProblems.push({ path: "(POSTGRES_ACCESS_NOW)", message: (err as Error).message });
    }
    const pems = now ? pemFieldProblems(raw, now, options.projectDir ?? process.cwd()) : { problems: [] };
    const problems = [...(parsed.success ? [] : zodProblems(parsed.error)), ...crossFieldProblems(raw, env), ...clockProblems, ...pems.problems, ...(now ? accessRequestProblems(raw, env, now) : [])];
    const seen = new Set<string>();
    const unique = problems.filter((p) => {
        const key = `${p.path}\u0000${p.message}`;
        return seen.has(key) ? false : (seen.add(key), true);
    });
    if (unique.length > 0 || !parsed.success) {
        throw new ConfigError(unique);
    }
    const data = parsed.data;
    const rds = data.database.rds && pems.rdsBundleFromFile !== undefined ? { ...data.database.rds, caBundlePem: pems.rdsBundleFromFile } : data.database.rds;
    return {
        env,
        database: { ...data.database, rds },
        aws: data.aws,
        vault: data.vault ? { ...data.vault, mount: data.vault.mount ?? `database-${env}` } : undefined,
        organizations: (data.organizations ?? []).map(organizationConfigOf),
        accessPolicy: accessPolicyOf(data.accessPolicy),
        split: data.split,
    };
}

/** One parsed organization with its defaults applied (the default app when `apps` is absent). */
export function organizationConfigOf(org: z.infer<typeof organizationSchema>): OrganizationConfig {
    return {
        name: org.name,
        connectionLimit: org.connectionLimit,
        quota: org.quota,
        adoptExisting: org.adoptExisting,
        accessRequests: org.accessRequests ?? [],
        apps: (org.apps ?? [{ name: org.name, access: org.access, credentials: org.credentials } as z.infer<typeof appSchema>]).map((app) => {
            const parsedApp = org.apps ? app : appSchema.parse(app);
            return {
                ...parsedApp,
                delivery: parsedApp.delivery ?? DELIVERY_FOR_CREDENTIALS[parsedApp.credentials][0],
                isDefaultApp: org.apps === undefined,
            };
        }),
    };
}
