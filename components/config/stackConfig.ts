/**
 * The stack configuration contract (`postgres-access:*` keys in Pulumi.<env>.yaml), validated with zod
 * before any resource is registered. Every problem is reported at once, each with its path, e.g.
 * `organizations[1].apps[0].access: expected one of "owner" | "readwrite" | "readonly"`.
 */
import { z } from "zod";
import { ENV_NAME_MAX, ENV_NAME_PATTERN, NAME_PATTERN, NamedOrganization, derivedNameProblems, rdsReservedRoleProblem } from "../naming";
import { pemBundleProblems, readPemFile, runTime } from "./certificateBundle";
import { VAULT_TOKEN_MAX_TTL } from "../vault/vaultPolicies";
import { rotationEveryProblem } from "../rotation";
import { parseRfc3339 } from "../clock";
import { AccessPolicy } from "../accessRequests";
import { accessPolicyOf, accessPolicySchema, accessRequestProblems, accessRequestSchema } from "./accessRequestConfig";

/** Why a dynamic lease cannot outlive a day. */
const TTL_LIMIT = `seconds; Vault revokes a lease when the login token that created it expires, and the apps' tokens live at most ${VAULT_TOKEN_MAX_TTL} s`;
import { ACCESS_LEVELS, CREDENTIAL_SOURCES, DELIVERY_MODES, AccessLevel, CredentialSource, DeliveryMode, AppSpec, OrganizationSpec } from "../types";

export { ACCESS_LEVELS, CREDENTIAL_SOURCES, DELIVERY_MODES };
export type { AccessLevel, CredentialSource, DeliveryMode };
export const TLS_MODES = ["require", "verify-full", "mtls"] as const;
export const ENGINES = ["statefulset", "rds"] as const;
/** Supported PostgreSQL majors (14 reached end of life in November 2026); the default is the newest, which the real-PostgreSQL tests run. */
export const POSTGRES_VERSIONS = ["15", "16", "17", "18"] as const;

/** Majors an in-cluster server's data may be upgraded from (`statefulset.upgradeFrom`). */
export const UPGRADE_SOURCE_VERSIONS = ["14", "15", "16", "17"] as const;
/**
 * `database.phase`: `server` creates only the server (first run of a stack whose admin endpoint is a tunnel to
 * the server it creates, README "First pulumi up of an RDS stack"); `full` (default) creates everything.
 */
export const DEPLOYMENT_PHASES = ["full", "server"] as const;

export type TlsMode = (typeof TLS_MODES)[number];
export type Engine = (typeof ENGINES)[number];

/** Which delivery modes each credential source can feed, the first being the default. */
export const DELIVERY_FOR_CREDENTIALS: Record<CredentialSource, readonly DeliveryMode[]> = {
    kubernetes: ["secret"],
    secretsmanager: ["csi"],
    "vault-static": ["vault-secrets-operator", "csi", "vault-agent"],
    "vault-dynamic": ["vault-secrets-operator", "csi", "vault-agent"],
};

/** Namespaces an organization may not take. */
export const RESERVED_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

function oneOf<T extends readonly [string, ...string[]]>(values: T) {
    return z.enum(values, { error: () => `expected one of ${values.map((v) => `"${v}"`).join(" | ")}` });
}

const dnsName = (max: number) =>
    z
        .string({ error: "expected a string" })
        .max(max, { error: `at most ${max} characters` })
        .regex(NAME_PATTERN, { error: "expected a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit" });

const positiveInt = (what: string, min = 1, max = Number.MAX_SAFE_INTEGER) =>
    z
        .number({ error: `expected a whole number (${what})` })
        .int({ error: `expected a whole number (${what})` })
        .min(min, { error: `expected at least ${min} (${what})` })
        .max(max, { error: `expected at most ${max} (${what})` });

const quantity = z
    .string({ error: "expected a Kubernetes quantity string such as \"500m\" or \"1Gi\"" })
    .regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, { error: "expected a Kubernetes quantity such as \"500m\", \"1Gi\"" });

const cidr = z
    .string({ error: "expected a CIDR block string" })
    .refine((v) => {
        const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
        return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
    }, { error: "expected an IPv4 CIDR block such as 10.0.0.0/16 (octets 0-255, prefix 0-32)" });

/** A Kubernetes quantity as a number of base units (cores, bytes), for comparing requests with limits. */
export function quantityValue(q: string): number | undefined {
    const m = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q);
    if (!m) return undefined;
    const factor: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
    return Number(m[1]) * factor[m[2] ?? ""];
}

/** Each cron field: `*`, numbers, ranges, lists and steps within its bounds (names for months and weekdays). */
const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31 },
    { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
    { name: "day of week", min: 0, max: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

/** Why a 5-field cron expression is not one Vault accepts, or undefined. */
export function cronProblem(expression: string): string | undefined {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
    for (const [i, field] of fields.entries()) {
        const spec = CRON_FIELDS[i];
        const value = (v: string) => {
            const named = spec.names?.indexOf(v.toUpperCase()) ?? -1;
            const n = named >= 0 ? named + spec.min : /^\d+$/.test(v) ? Number(v) : NaN;
            return n >= spec.min && n <= spec.max ? n : undefined;
        };
        for (const part of field.split(",")) {
            const [range, step] = part.split("/");
            const bounds = range === "*" ? [] : range.split("-");
            const ok = (step === undefined || /^[1-9]\d*$/.test(step)) && bounds.length <= 2 && bounds.every((b) => value(b) !== undefined)
                && (bounds.length < 2 || value(bounds[0])! <= value(bounds[1])!);
            if (!ok) return `${spec.name} "${field}" is not valid (${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : ""}, *, ranges, lists, steps)`;
        }
    }
    return undefined;
}

const cron = z
    .string({ error: "expected a cron expression string" })
    .superRefine((v, ctx) => {
        const problem = cronProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: `expected a standard cron expression such as "0 3 * * SAT": ${problem}` });
    });

/** A Vault mount path: segments of letters, digits, `_` and `-`, no leading, trailing or double slash. */
const vaultMountPath = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*(\/[A-Za-z0-9_-]+)*$/, { error: "expected a Vault mount path such as database-prod or teams/database (no leading, trailing or double slash)" });


/** PEM certificates; parsed (each certificate, validity, CA) by `pemFieldProblems` below. */
const pem = z.string({ error: "expected a PEM certificate bundle (a string)" });

/** Where to fetch the RDS CA bundles (the plan cannot: no network). */
export const RDS_CA_BUNDLE_HELP = "download the bundle of the instance's region, e.g. `curl -fsSo certs/rds-eu-west-1-bundle.pem https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem` (or global/global-bundle.pem), and set database.rds.caBundleFile to that path";

const resourcesSchema = z.strictObject({
    requests: z.strictObject({ cpu: quantity.default("250m"), memory: quantity.default("512Mi") }).prefault({}),
    limits: z.strictObject({ cpu: quantity.default("1"), memory: quantity.default("1Gi") }).prefault({}),
});

const statefulsetSchema = z.strictObject({
    /** Namespace the server runs in. */
    namespace: dnsName(63).default("postgres"),
    /** Container image; defaults to the official image of `database.version`. */
    image: z.string().min(1).optional(),
    /** Size of the data volume. */
    storageSize: quantity.default("20Gi"),
    /** StorageClass of the data volume (cluster default when absent); prefer one with reclaimPolicy Retain. */
    storageClassName: z.string().min(1).optional(),
    resources: resourcesSchema.prefault({}),
    /** PostgreSQL max_connections. */
    maxConnections: positiveInt("connections", 10, 10000).default(200),
    /**
     * Set only while following the major upgrade procedure (README "Major version upgrades of the in-cluster
     * server"): the major the data was written by. Without it a change of database.version is refused.
     */
    upgradeFrom: oneOf(UPGRADE_SOURCE_VERSIONS).optional(),
});

/** The in-cluster server's settings when `database.statefulset` is absent (the schema's defaults). */
export const DEFAULT_STATEFULSET = statefulsetSchema.parse({});

const rdsSchema = z.strictObject({
    instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, { error: "expected an RDS instance class such as db.t4g.medium" }).default("db.t4g.medium"),
    allocatedStorage: positiveInt("GiB", 20, 65536).default(20),
    maxAllocatedStorage: positiveInt("GiB", 20, 65536).optional(),
    storageType: oneOf(["gp3", "gp2", "io1", "io2"]).default("gp3"),
    multiAz: z.boolean({ error: "expected true or false" }).default(false),
    vpcId: z.string({ error: "expected a VPC id string" }).regex(/^vpc-[0-9a-f]+$/, { error: "expected a VPC id such as vpc-0abc123" }),
    subnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]+$/, { error: "expected a subnet id such as subnet-0abc123" }), { error: "expected a list of private subnet ids" })
        .min(2, { error: "expected at least 2 private subnets in different availability zones" }),
    allowedSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, { error: "expected a security group id such as sg-0abc123" })).default([]),
    allowedCidrBlocks: z.array(cidr).default([]),
    backupRetentionDays: positiveInt("days", 1, 35).default(7),
    deletionProtection: z.boolean({ error: "expected true or false" }).default(true),
    skipFinalSnapshot: z.boolean({ error: "expected true or false" }).default(false),
    caCertIdentifier: z.string().min(1).default("rds-ca-rsa2048-g1"),
    performanceInsights: z.boolean({ error: "expected true or false" }).default(true),
    masterUsername: z.string().regex(/^[a-z][a-z0-9_]{0,15}$/, { error: "expected 1-16 lower-case letters, digits or '_', starting with a letter" }).default("pgadmin"),
    iamDatabaseAuthentication: z.boolean({ error: "expected true or false" }).default(false),
    /** Bump to generate and set a new master password (RandomPassword keepers + passwordWoVersion). */
    masterPasswordVersion: positiveInt("version", 1, 1000000).default(1),
    /** PEM bundle of the RDS CAs apps verify against with tls: verify-full (the region's or the global bundle). */
    caBundlePem: pem.optional(),
    /** The same bundle as a file, relative to the project directory (e.g. certs/rds-eu-west-1-bundle.pem); instead of caBundlePem. */
    caBundleFile: z.string({ error: "expected a file path" }).min(1).optional(),
});

const adminEndpointSchema = z.strictObject({
    /** Host `pulumi up` reaches the server on (e.g. localhost through `kubectl port-forward`, a NodePort, a bastion tunnel). */
    host: z.string({ error: "expected a host name" }).min(1),
    port: positiveInt("TCP port", 1, 65535).default(5432),
});

/** A DNS name (dot-separated DNS-1123 labels), as the trust domain must be: it ends the SVIDs' DNS names. */
const TRUST_DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const spiffeSchema = z.strictObject({
    trustDomain: z.string().regex(/^[a-z0-9._-]+$/, { error: "expected a SPIFFE trust domain such as example.org" }),
    helperImage: z.string().min(1).default("ghcr.io/spiffe/spiffe-helper:0.10.0"),
    /** Agent socket as mounted by the SPIFFE CSI driver. */
    agentSocketPath: z.string().regex(/^\/[^/]+\/\S+$/, { error: "expected an absolute path below a directory, such as /spiffe-workload-api/spire-agent.sock" }).default("/spiffe-workload-api/spire-agent.sock"),
    /** Class name of the SPIRE controller manager that should pick up the ClusterSPIFFEIDs. */
    className: z.string().optional(),
    /** The trust domain's root CA(s), when stable (UpstreamAuthority): `pulumi up` then verifies the server (verify-full). */
    trustBundlePem: pem.optional(),
});

const databaseSchema = z.strictObject({
    engine: oneOf(ENGINES),
    version: oneOf(POSTGRES_VERSIONS).default(POSTGRES_VERSIONS[POSTGRES_VERSIONS.length - 1]),
    tls: oneOf(TLS_MODES).default("require"),
    statefulset: statefulsetSchema.optional(),
    rds: rdsSchema.optional(),
    adminEndpoint: adminEndpointSchema.optional(),
    spiffe: spiffeSchema.optional(),
    phase: oneOf(DEPLOYMENT_PHASES).default("full"),
});

const vaultSchema = z.strictObject({
    address: z.string({ error: "expected the Vault address" }).regex(/^https:\/\/\S+$/, { error: "expected an https:// URL (TLS always)" }),
    /** Enterprise namespace, if any. */
    namespace: z.string().optional(),
    /** Mount path of the database secrets engine; defaults to `database-<env>`. */
    mount: vaultMountPath.optional(),
    /** Mount path of the Kubernetes auth method. */
    kubernetesAuthMount: vaultMountPath.default("kubernetes"),
    /** PEM CA bundle Vault's own certificate chains to (for pods and agents). */
    caCertPem: pem.optional(),
    defaultTtl: positiveInt("seconds", 60).default(3600),
    maxTtl: positiveInt(TTL_LIMIT, 60, VAULT_TOKEN_MAX_TTL).default(86400),
    staticRotationPeriod: positiveInt("seconds", 300).default(86400),
    /**
     * Where Vault is when it runs outside the cluster, for the egress rule of namespaces whose pods run the
     * Vault agent (vault-agent delivery); required then. Address blocks of Vault's endpoints, not a Service CIDR.
     */
    egressCidrBlocks: z.array(cidr).default([]),
    /** TCP port the agents reach Vault on (egress rule): default the port of `address`, else 8200 in-cluster (the pods' port) or 443. */
    egressPort: positiveInt("TCP port", 1, 65535).optional(),
    /**
     * The namespace Vault runs in when it runs in this cluster: the in-cluster server's NetworkPolicy admits
     * it on 5432, since Vault logs in to rotate passwords and create users.
     */
    kubernetesNamespace: dnsName(63).optional(),
});

const awsSchema = z.strictObject({
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: "expected an AWS region such as eu-west-1" }),
    eksOidcProviderArn: z
        .string({ error: "expected the EKS cluster's IAM OIDC provider ARN" })
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/\S+$/, { error: "expected an ARN such as arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC" }),
    eksOidcIssuerUrl: z.string({ error: "expected the EKS OIDC issuer URL" }).regex(/^https:\/\/\S+$/, { error: "expected an https:// issuer URL" }),
    /** Roles that administer secrets besides the apps' own roles (e.g. the deployer running `pulumi up`). */
    platformAdminRoleArns: z.array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, { error: "expected an IAM role ARN" })).default([]),
    /**
     * Days a removed app's secret stays recoverable: 0 (default) deletes it at once, so the app can be added
     * back at once (Secrets Manager refuses a new secret with the name of one pending deletion); 7-30 keeps
     * it recoverable, and re-adding the app within the window needs the steps in README.
     */
    secretRecoveryWindowDays: z
        .number({ error: "expected a whole number of days: 0 (delete at once) or 7-30" })
        .int({ error: "expected a whole number of days: 0 (delete at once) or 7-30" })
        .refine((days) => days === 0 || (days >= 7 && days <= 30), { error: "expected 0 (delete at once) or at least 7 and at most 30 days (Secrets Manager's recovery window)" })
        .default(0),
    /** Permissions boundary attached to every app IAM role (when the account's guardrails require one). */
    permissionsBoundaryArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\/\S+$/, { error: "expected an IAM policy ARN such as arn:aws:iam::123456789012:policy/boundary" }).optional(),
});

/** `apps[].rotation`: alternating logins rotated on a schedule (README "Scheduled rotation"). */
const rotationSchema = z.strictObject({
    every: z.string({ error: "expected a duration such as \"30d\" or \"12h\"" }).superRefine((v, ctx) => {
        const problem = rotationEveryProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    anchor: z.string({ error: "expected an RFC 3339 date-time" }).refine((v) => parseRfc3339(v) !== undefined, { error: "expected an RFC 3339 date-time such as 2026-01-05T03:00:00Z" }).optional(),
}, { error: "expected an object such as {every: 30d}" });

const appSchema = z.strictObject({
    name: dnsName(40),
    access: oneOf(ACCESS_LEVELS).default("readwrite"),
    credentials: oneOf(CREDENTIAL_SOURCES).default("kubernetes"),
    delivery: oneOf(DELIVERY_MODES).optional(),
    connectionLimit: positiveInt("connections", 1, 1000).default(20),
    rotationPeriod: positiveInt("seconds", 300).optional(),
    rotationSchedule: cron.optional(),
    rotationWindow: positiveInt("seconds", 3600).optional(),
    defaultTtl: positiveInt("seconds", 60).optional(),
    maxTtl: positiveInt(TTL_LIMIT, 60, VAULT_TOKEN_MAX_TTL).optional(),
    /** delivery csi: also sync the credentials into a Kubernetes Secret for env vars (default true). */
    syncSecret: z.boolean({ error: "expected true or false" }).optional(),
    /**
     * delivery vault-agent: the uid the app's container runs as; the agent then runs as it and writes the
     * file (mode 0400) as its owner. Absent: the agent takes the uid of the pod's first container
     * (`agent-run-as-same-user`), whose securityContext.runAsUser must then be set.
     */
    runAsUser: positiveInt("uid, not 0", 1, 2147483647).optional(),
    /** delivery vault-agent: the gid the agent runs as (default: runAsUser). */
    runAsGroup: positiveInt("gid, not 0", 1, 2147483647).optional(),
    rotation: rotationSchema.optional(),
});

const organizationSchema = z.strictObject({
    name: dnsName(40),
    connectionLimit: positiveInt("connections", 1, 10000).default(100),
    quota: z
        .strictObject({ cpu: quantity.default("4"), memory: quantity.default("8Gi"), pods: positiveInt("pods", 1, 10000).default(50) })
        .prefault({}),
    /** Access and credentials of the default app (the one named after the organization, when `apps` is absent). */
    access: oneOf(ACCESS_LEVELS).optional(),
    credentials: oneOf(CREDENTIAL_SOURCES).optional(),
    apps: z.array(appSchema, { error: "expected a list of apps" }).min(1, { error: "expected at least one app (or leave apps out for one app named after the organization)" }).optional(),
    /** Re-adding a removed organization: adopt its kept database, owner role and namespace. */
    adoptExisting: z.boolean({ error: "expected true (re-adding a removed organization: adopt its kept database, owner role and namespace) or false" }).default(false),
    /** Time-bound access for ServiceAccounts of the organization, issued only while approved (README "Access requests"). */
    accessRequests: z.array(accessRequestSchema, { error: "expected a list of access requests" }).optional(),
});

export const stackConfigSchema = z.strictObject({
    database: databaseSchema,
    vault: vaultSchema.optional(),
    aws: awsSchema.optional(),
    organizations: z.array(organizationSchema, { error: "expected a list of organizations" }).min(1, { error: "expected at least one organization" }),
    accessPolicy: accessPolicySchema.optional(),
});

type ParsedConfig = z.infer<typeof stackConfigSchema>;
export type DatabaseConfig = ParsedConfig["database"];
export type StatefulSetConfig = z.infer<typeof statefulsetSchema>;
export type RdsConfig = z.infer<typeof rdsSchema>;
export type SpiffeConfig = z.infer<typeof spiffeSchema>;
export type AdminEndpointConfig = z.infer<typeof adminEndpointSchema>;
export type AwsConfig = z.infer<typeof awsSchema>;
export type VaultConfig = z.infer<typeof vaultSchema> & { mount: string };

/** One app after defaults are applied. */
export type AppConfig = AppSpec;
/** One organization after defaults are applied. */
export type OrganizationConfig = OrganizationSpec;

/** The validated, defaulted stack configuration. */
export interface StackConfig {
    /** The environment: the stack name. */
    env: string;
    database: DatabaseConfig & { statefulset?: StatefulSetConfig; rds?: RdsConfig };
    vault?: VaultConfig;
    aws?: AwsConfig;
    organizations: OrganizationConfig[];
    /** `postgres-access:accessPolicy` with its defaults (maxDuration in seconds). */
    accessPolicy: AccessPolicy;
}

/** A config problem: where (`organizations[1].apps[0].access`) and what is allowed. */
export interface ConfigProblem {
    path: string;
    message: string;
}

export class ConfigError extends Error {
    constructor(public readonly problems: ConfigProblem[]) {
        super(`invalid postgres-access configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` + problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"));
        this.name = "ConfigError";
    }
}

export function formatPath(path: readonly PropertyKey[]): string {
    let out = "";
    for (const part of path) {
        out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
    }
    return out || "(root)";
}

export function zodProblems(error: z.ZodError): ConfigProblem[] {
    return error.issues.map((issue) => {
        if (issue.code === "unrecognized_keys") {
            return { path: formatPath(issue.path), message: `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}` };
        }
        const missing = issue.code === "invalid_type" && (issue as { input?: unknown }).input === undefined;
        const message = missing ? `is required (${issue.message})` : issue.message;
        return { path: formatPath(issue.path), message };
    });
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Checks that span several fields. Runs on the raw input too (defensively), so a config with a type
 * error elsewhere still reports these problems in the same run.
 */
export function crossFieldProblems(raw: any, env: string): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const add = (path: string, message: string) => problems.push({ path, message });
    if (!ENV_NAME_PATTERN.test(env) || env.length > ENV_NAME_MAX) {
        add("(stack name)", `the environment is the stack name and must be a DNS-1123 label without '-' (a lower-case letter, then lower-case letters or digits: names shared by environments join it with the organization's), at most ${ENV_NAME_MAX} characters; got "${env}"`);
    }
    if (!raw || typeof raw !== "object") {
        return problems;
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
            const allocated = typeof rds.allocatedStorage === "number" ? rds.allocatedStorage : 20;
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
            const request = resources?.requests?.[kind] ?? DEFAULT_STATEFULSET.resources.requests[kind];
            const limit = resources?.limits?.[kind] ?? DEFAULT_STATEFULSET.resources.limits[kind];
            const r = typeof request === "string" ? quantityValue(request) : undefined;
            const l = typeof limit === "string" ? quantityValue(limit) : undefined;
            if (r !== undefined && l !== undefined && r > l) add(`database.statefulset.resources.requests.${kind}`, `${request} exceeds the limit ${limit} (resources.limits.${kind}); Kubernetes refuses a request above its limit`);
        }
        const upgradeFrom = db.statefulset?.upgradeFrom;
        const version = db.version ?? POSTGRES_VERSIONS[POSTGRES_VERSIONS.length - 1];
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
    const serverNamespace = db.statefulset?.namespace ?? "postgres";
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
            const credentials: string = app.credentials ?? "kubernetes";
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
            const defaultTtl = app.defaultTtl ?? raw.vault?.defaultTtl ?? 3600;
            const maxTtl = app.maxTtl ?? raw.vault?.maxTtl ?? 86400;
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
        organizations: data.organizations.map(organizationConfigOf),
        accessPolicy: accessPolicyOf(data.accessPolicy),
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

/** The config keys the program reads, as `postgres-access:<key>`. */
export const CONFIG_KEYS = ["database", "vault", "aws", "organizations", "accessPolicy"] as const;
