/**
 * Access requests: time-bound database access for a ServiceAccount of an organization, issued only once
 * approved and only until it expires (seed 004's DatabaseAccessRequest, declared in the stack config and
 * reviewed in a pull request). Pure logic: the state of a request at an instant, the names it derives, and
 * how each layer (PostgreSQL, IAM, Vault) is told its expiry.
 */
import { NO_ELEVATED_ATTRIBUTES_SQL } from "./postgres/roleAttributes";
import { SHARED_NAME_SEPARATOR, dnsSubdomain, iamRoleName, pgIdentifier, vaultName } from "./naming";

/** Access levels a request may ask for: never `owner` (objects created by a temporary login would outlive it). */
export const ACCESS_REQUEST_LEVELS = ["readonly", "readwrite"] as const;
/** Where a request's credentials come from. */
export const ACCESS_REQUEST_CREDENTIALS = ["kubernetes", "secretsmanager", "vault-dynamic"] as const;
/** A request's state at an instant. */
export const ACCESS_REQUEST_STATES = ["pending", "approved", "denied", "expired"] as const;

export type AccessRequestLevel = (typeof ACCESS_REQUEST_LEVELS)[number];
export type AccessRequestCredentials = (typeof ACCESS_REQUEST_CREDENTIALS)[number];
export type AccessRequestState = (typeof ACCESS_REQUEST_STATES)[number];

/** One access request of an organization, as the components receive it (validated). */
export interface AccessRequestSpec {
    /** DNS label, unique within the organization. */
    name: string;
    /** Who: a ServiceAccount (bare name) in the organization's namespace. */
    serviceAccount: string;
    access: AccessRequestLevel;
    credentials: AccessRequestCredentials;
    /** When access ends, RFC 3339 as written in the config. */
    expires: string;
    /** Why (free text, shown in the plan). */
    reason?: string;
    /** Who approved: the decision record. */
    approvedBy: string[];
    /** Who denied: any denial wins over approvals. */
    deniedBy: string[];
}

/** `postgres-access:accessPolicy`. */
export interface AccessPolicy {
    /** Distinct approvals a request needs before anything is issued. */
    requiredApprovals: number;
    /** Longest allowed span from now to `expires`, in seconds. */
    maxDurationSeconds: number;
}

export const DEFAULT_ACCESS_POLICY: AccessPolicy = { requiredApprovals: 1, maxDurationSeconds: 168 * 3600 };


/** A number of seconds as a short duration (`2d 3h`, `45m`, `0s`). */
export function formatDuration(seconds: number): string {
    let s = Math.max(0, Math.floor(seconds));
    const parts: string[] = [];
    for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
        if (s >= size) {
            parts.push(`${Math.floor(s / size)}${unit}`);
            s %= size;
        }
    }
    if (s || parts.length === 0) parts.push(`${s}s`);
    return parts.slice(0, 2).join(" ");
}

/** The distinct approvers (trimmed, case-insensitive for e-mail addresses), in the order first listed. */
export function distinctApprovers(approvedBy: string[]): string[] {
    const seen = new Set<string>();
    return approvedBy.filter((a) => {
        const key = a.trim().toLowerCase();
        return seen.has(key) ? false : (seen.add(key), true);
    });
}

/**
 * A request's state at `now`: `denied` if anyone denied; else `expired` once `expires` is not in the future;
 * else `approved` with at least `requiredApprovals` distinct approvers; else `pending`.
 */
export function accessRequestState(request: Pick<AccessRequestSpec, "expires" | "approvedBy" | "deniedBy">, policy: AccessPolicy, now: Date): AccessRequestState {
    if (request.deniedBy.length > 0) return "denied";
    if (new Date(request.expires).getTime() <= now.getTime()) return "expired";
    return distinctApprovers(request.approvedBy).length >= policy.requiredApprovals ? "approved" : "pending";
}

/** The identities that name a request's own ServiceAccount: it cannot approve itself. */
export function selfIdentities(organization: string, serviceAccount: string): string[] {
    return [serviceAccount, `system:serviceaccount:${organization}:${serviceAccount}`, `${organization}/${serviceAccount}`];
}

/** Everything postgres-access names for one access request. */
export interface AccessRequestNames {
    /** PostgreSQL LOGIN role (`<org>_request_<name>`, `-` → `_`, ≤ 63 bytes). */
    loginRole: string;
    /** Kubernetes Secret with the credentials (kubernetes). */
    secret: string;
    /** Secrets Manager secret (secretsmanager). */
    secretsManagerSecret: string;
    /** IAM role of the ServiceAccount (secretsmanager, IRSA). */
    iamRole: string;
    /** Vault dynamic role, policy and Kubernetes auth role (vault-dynamic). */
    vaultRole: string;
}

/**
 * Names of a request. They carry `request` where app names carry the app, so they differ from an app's
 * unless an app is named `request-<name>`; the config check rejects such collisions (and any other) with
 * their paths.
 */
export function accessRequestNames(org: string, request: string, env: string): AccessRequestNames {
    return {
        loginRole: pgIdentifier(org, "request", request),
        secret: dnsSubdomain("request", request, "database"),
        // joined with `_` like named apps' (no part contains it): unique per (environment, organization, request)
        secretsManagerSecret: [org, env, "request", request, "database-credentials"].join(SHARED_NAME_SEPARATOR),
        iamRole: iamRoleName(org, env, "request", request),
        vaultRole: vaultName(org, env, "request", request),
    };
}

/** The instant as PostgreSQL and IAM read it (`2026-12-24T18:00:00Z`, UTC, whole seconds kept). */
export function expiryTimestamp(expires: string): string {
    return new Date(expires).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * The expiry as PostgreSQL prints a timestamptz (`rolvaliduntil::text` with DateStyle ISO and TimeZone UTC,
 * e.g. `2026-12-24 18:00:00+00`): the postgresql provider reads `valid_until` back in that form, so a Role
 * given it has no difference to apply on the next run (an RFC 3339 `…T18:00:00Z` would be "changed" on
 * every run, and each in-place Role update revokes and re-grants its memberships).
 */
export function postgresValidUntil(expires: string): string {
    const iso = new Date(expires).toISOString();
    const ms = iso.slice(19, 23) === ".000" ? "" : iso.slice(19, 23).replace(/0+$/, "");
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms}+00`;
}

/**
 * A Vault dynamic role's TTLs for a request: `vault.maxTtl`, capped so that a lease issued now ends no later
 * than the request (at least 1 s; the role is not registered once the request has expired). The default TTL
 * equals the maximum, so a lease is never renewed past what it was issued with (see requestRenewStatements);
 * leases issued later are cut at the expiry by their user's VALID UNTIL (requestCreationStatements).
 */
export function requestLeaseTtls(expires: string, now: Date, maxTtl: number): { defaultTtl: number; maxTtl: number } {
    const left = Math.max(1, Math.floor((new Date(expires).getTime() - now.getTime()) / 1000));
    const capped = Math.min(maxTtl, left);
    return { defaultTtl: capped, maxTtl: capped };
}

/**
 * Creation of a request's dynamic user: a LOGIN role valid until the earlier of its lease end
 * (`{{expiration}}`) and the request's expiry, member of exactly the requested group role, nothing else.
 * `VALID UNTIL` takes only a literal, so the statement is a DO block (which Vault runs as one statement:
 * it contains END) that computes `least(...)` and formats it into the CREATE ROLE.
 */
export function requestCreationStatements(groupRole: string, expires: string): string[] {
    const expiry = expiryTimestamp(expires);
    return [
        [
            "DO $create$",
            "BEGIN",
            "  EXECUTE pg_catalog.format(",
            `    'CREATE ROLE %I WITH LOGIN PASSWORD %L VALID UNTIL %L ${NO_ELEVATED_ATTRIBUTES_SQL} INHERIT CONNECTION LIMIT 5 IN ROLE %I',`,
            `    '{{name}}', '{{password}}',`,
            `    LEAST('{{expiration}}'::timestamptz, '${expiry}'::timestamptz),`,
            `    ${quoteLiteral(groupRole)});`,
            "END",
            "$create$;",
        ].join("\n"),
    ];
}

/**
 * Renewal of a request's dynamic user: nothing moves. Its TTLs are capped (default = max) so a lease cannot
 * be extended anyway, and Vault's default renewal (`VALID UNTIL '{{expiration}}'`) could push the login past
 * the request's expiry; Vault splits renewal statements on ';', so no DO block could compute the cap here.
 */
export function requestRenewStatements(): string[] {
    return ["SELECT 1"];
}

function quoteLiteral(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/** The organization's requests that are approved at `now`: exactly those that get access. */
export function approvedRequests(requests: AccessRequestSpec[] | undefined, policy: AccessPolicy, now: Date): AccessRequestSpec[] {
    return (requests ?? []).filter((r) => accessRequestState(r, policy, now) === "approved");
}

/**
 * ServiceAccounts requests name that are not an app's (created in the organization's namespace while a
 * request names them, whatever its state: the identity grants nothing by itself).
 */
export function requestOnlyServiceAccounts(requests: AccessRequestSpec[] | undefined, appServiceAccounts: string[]): string[] {
    return [...new Set((requests ?? []).map((r) => r.serviceAccount))].filter((sa) => !appServiceAccounts.includes(sa));
}
