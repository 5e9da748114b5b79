/**
 * The schema of the stack configuration (`postgres-access:*` keys in Pulumi.<env>.yaml) in zod: what each
 * field allows on its own, and its default. The types of the parsed config are inferred from it, and the
 * defaults the program needs elsewhere are read from it (`SCHEMA_DEFAULTS`), never restated. Checks that
 * span fields are in `rules.ts`; `tools/configSchema.ts` turns this schema into the stack files' JSON Schema.
 */
import { z } from "zod";
import { NAME_PATTERN } from "../naming";
import { VAULT_TOKEN_MAX_TTL } from "../vault/vaultPolicies";
import { rotationEveryProblem } from "../rotation";
import { parseRfc3339 } from "../clock";
import { ACCESS_LEVELS, CREDENTIAL_SOURCES, DELIVERY_MODES, AccessLevel, AppSpec, CredentialSource, DeliveryMode, OrganizationSpec, valuesOf } from "../types";
import { DatabaseEngine, DeploymentPhase, PostgresVersion, ServerTlsMode, UpgradeSourceVersion } from "../postgresAccessArgs";
import { parseDuration } from "../duration";
import { ACCESS_REQUEST_CREDENTIALS, ACCESS_REQUEST_LEVELS, AccessPolicy } from "../accessRequests";
import { cronProblem } from "./cron";
import { StackSplit, stackSplitSchema } from "./stackSplit";

/** Why a dynamic lease cannot outlive a day. */
const TTL_LIMIT = `seconds; Vault revokes a lease when the login token that created it expires, and the apps' tokens live at most ${VAULT_TOKEN_MAX_TTL} s`;

export { ACCESS_LEVELS, CREDENTIAL_SOURCES, DELIVERY_MODES };
export type { AccessLevel, CredentialSource, DeliveryMode };
// The allowed values of each closed set, from the enumerations the component args publish (one source).
export const TLS_MODES = valuesOf(ServerTlsMode);
export const ENGINES = valuesOf(DatabaseEngine);
/** Supported PostgreSQL majors (14 reached end of life in November 2026); the default is the newest, which the real-PostgreSQL tests run. */
export const POSTGRES_VERSIONS = valuesOf(PostgresVersion);

/** Majors an in-cluster server's data may be upgraded from (`statefulset.upgradeFrom`). */
export const UPGRADE_SOURCE_VERSIONS = valuesOf(UpgradeSourceVersion);
/**
 * `database.phase`: `server` creates only the server (first run of a stack whose admin endpoint is a tunnel to
 * the server it creates, docs/operations.md "First `pulumi up` of an RDS stack"); `full` (default) creates everything.
 */
export const DEPLOYMENT_PHASES = valuesOf(DeploymentPhase);

export type TlsMode = (typeof TLS_MODES)[number];
export type Engine = (typeof ENGINES)[number];

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

/** A Kubernetes quantity: a number and an optional suffix (decimal SI or binary). */
const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

const quantity = z
    .string({ error: "expected a Kubernetes quantity string such as \"500m\" or \"1Gi\"" })
    .regex(QUANTITY, { error: "expected a Kubernetes quantity such as \"500m\", \"1Gi\"" });

const cidr = z
    .string({ error: "expected a CIDR block string" })
    .refine((v) => {
        const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
        return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
    }, { error: "expected an IPv4 CIDR block such as 10.0.0.0/16 (octets 0-255, prefix 0-32)" });

/** A Kubernetes quantity as a number of base units (cores, bytes), for comparing requests with limits. */
export function quantityValue(q: string): number | undefined {
    const m = QUANTITY.exec(q);
    if (!m) return undefined;
    const factor: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
    return Number(m[1]) * factor[m[2] ?? ""];
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
     * Set only while following the major upgrade procedure (docs/operations.md "Major version upgrades of the
     * in-cluster server"): the major the data was written by. Without it a change of database.version is refused.
     */
    upgradeFrom: oneOf(UPGRADE_SOURCE_VERSIONS).optional(),
});

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
     * it recoverable, and re-adding the app within the window needs the steps in docs/operations.md "Removing and re-adding a `secretsmanager` app".
     */
    secretRecoveryWindowDays: z
        .number({ error: "expected a whole number of days: 0 (delete at once) or 7-30" })
        .int({ error: "expected a whole number of days: 0 (delete at once) or 7-30" })
        .refine((days) => days === 0 || (days >= 7 && days <= 30), { error: "expected 0 (delete at once) or at least 7 and at most 30 days (Secrets Manager's recovery window)" })
        .default(0),
    /** Permissions boundary attached to every app IAM role (when the account's guardrails require one). */
    permissionsBoundaryArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\/\S+$/, { error: "expected an IAM policy ARN such as arn:aws:iam::123456789012:policy/boundary" }).optional(),
});

/** `apps[].rotation`: alternating logins rotated on a schedule (docs/delivery.md "Scheduled rotation"). */
const rotationSchema = z.strictObject({
    every: z.string({ error: "expected a duration such as \"30d\" or \"12h\"" }).superRefine((v, ctx) => {
        const problem = rotationEveryProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    anchor: z.string({ error: "expected an RFC 3339 date-time" }).refine((v) => parseRfc3339(v) !== undefined, { error: "expected an RFC 3339 date-time such as 2026-01-05T03:00:00Z" }).optional(),
}, { error: "expected an object such as {every: 30d}" });

/** One app of `organizations[].apps` (also the default app, parsed from the organization's `access` and `credentials`). */
export const appSchema = z.strictObject({
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

/** `postgres-access:accessPolicy` and `organizations[].accessRequests[]` (rules in `accessRequestConfig.ts`). */
const list = (values: readonly string[]) => values.map((v) => `"${v}"`).join(" | ");

export const accessPolicySchema = z.strictObject({
    /** Distinct approvals a request needs before anything is issued. */
    requiredApprovals: z
        .number({ error: "expected a whole number of approvals (1-10)" })
        .int({ error: "expected a whole number of approvals (1-10)" })
        .min(1, { error: "expected at least 1 approval: an unapproved request is never issued" })
        .max(10, { error: "expected at most 10 approvals" })
        .default(1),
    /** Longest allowed span from now to a request's `expires`. */
    maxDuration: z
        .string({ error: "expected a duration such as \"168h\", \"7d\" or \"90m\"" })
        .refine((v) => parseDuration(v) !== undefined, { error: "expected a duration such as \"168h\", \"7d\", \"90m\" or \"1h30m\" (units s, m, h, d)" })
        .default("168h"),
});

const identity = z.string({ error: "expected an identity string (e.g. an e-mail address)" }).trim().min(1, { error: "expected a non-empty identity" });

export const accessRequestSchema = z.strictObject({
    name: z
        .string({ error: "expected a string" })
        .max(40, { error: "at most 40 characters" })
        .regex(NAME_PATTERN, { error: "expected a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit" }),
    /** Checked in accessRequestProblems (its organization decides what is allowed). */
    serviceAccount: z.string({ error: "expected the name of a ServiceAccount in the organization's namespace" }),
    access: z.enum(ACCESS_REQUEST_LEVELS, { error: () => `expected one of ${list(ACCESS_REQUEST_LEVELS)} (never "owner": objects a temporary login creates would outlive its access)` }),
    credentials: z.enum(ACCESS_REQUEST_CREDENTIALS, { error: () => `expected one of ${list(ACCESS_REQUEST_CREDENTIALS)}` }),
    expires: z
        .string({ error: "expected an RFC 3339 date-time such as \"2026-12-24T18:00:00Z\"" })
        .refine((v) => parseRfc3339(v) !== undefined, { error: "expected an RFC 3339 date-time with a time zone, such as \"2026-12-24T18:00:00Z\"" }),
    reason: z.string({ error: "expected a string" }).optional(),
    approvedBy: z.array(identity, { error: "expected a list of approvers" }).default([]),
    deniedBy: z.array(identity, { error: "expected a list of identities that denied" }).default([]),
});

export type AccessRequestConfig = z.infer<typeof accessRequestSchema>;

export const organizationSchema = z.strictObject({
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
    /** Time-bound access for ServiceAccounts of the organization, issued only while approved (docs/delivery.md "Access requests"). */
    accessRequests: z.array(accessRequestSchema, { error: "expected a list of access requests" }).optional(),
});

export const stackConfigSchema = z.strictObject({
    database: databaseSchema,
    vault: vaultSchema.optional(),
    aws: awsSchema.optional(),
    /** At least one, except in a platform stack (`split.part: platform`), which holds none (rules.ts). */
    organizations: z.array(organizationSchema, { error: "expected a list of organizations" }).optional(),
    accessPolicy: accessPolicySchema.optional(),
    /** One environment across a platform stack and organizations stacks (stackSplit.ts). */
    split: stackSplitSchema.optional(),
});

/** The config keys the program reads, as `postgres-access:<key>`. */
export const CONFIG_KEYS = ["database", "vault", "aws", "organizations", "accessPolicy", "split"] as const satisfies readonly (keyof typeof stackConfigSchema.shape)[];

type ParsedConfig = z.infer<typeof stackConfigSchema>;
export type DatabaseConfig = ParsedConfig["database"];
export type StatefulSetConfig = z.infer<typeof statefulsetSchema>;
export type RdsConfig = z.infer<typeof rdsSchema>;
export type SpiffeConfig = z.infer<typeof spiffeSchema>;
export type AdminEndpointConfig = z.infer<typeof adminEndpointSchema>;
export type AwsConfig = z.infer<typeof awsSchema>;
export type VaultConfig = z.infer<typeof vaultSchema> & { mount: string };

/** What zod makes of a field's absence: its declared default. */
function defaultOf<T extends z.ZodType>(field: T): z.output<T> {
    return field.parse(undefined);
}

/**
 * The defaults the program needs outside a successful parse (the rules run on raw input too), read from the
 * schema above so they cannot drift from what a parse applies.
 */
export const SCHEMA_DEFAULTS = {
    database: { version: defaultOf(databaseSchema.shape.version), tls: defaultOf(databaseSchema.shape.tls) },
    /** The in-cluster server's settings when `database.statefulset` is absent. */
    statefulset: statefulsetSchema.parse({}),
    rds: { allocatedStorage: defaultOf(rdsSchema.shape.allocatedStorage) },
    vault: { defaultTtl: defaultOf(vaultSchema.shape.defaultTtl), maxTtl: defaultOf(vaultSchema.shape.maxTtl) },
    app: { credentials: defaultOf(appSchema.shape.credentials), access: defaultOf(appSchema.shape.access) },
    accessPolicy: accessPolicySchema.parse({}),
};

/** The in-cluster server's settings when `database.statefulset` is absent (the schema's defaults). */
export const DEFAULT_STATEFULSET = SCHEMA_DEFAULTS.statefulset;

/** One app after defaults are applied. */
export type AppConfig = AppSpec;
/** One organization after defaults are applied. */
export type OrganizationConfig = OrganizationSpec;

/** The validated, defaulted stack configuration. */
export interface StackConfig {
    /** The environment: the stack name, or `split.environment` in a split environment. */
    env: string;
    database: DatabaseConfig & { statefulset?: StatefulSetConfig; rds?: RdsConfig };
    vault?: VaultConfig;
    aws?: AwsConfig;
    organizations: OrganizationConfig[];
    /** `postgres-access:accessPolicy` with its defaults (maxDuration in seconds). */
    accessPolicy: AccessPolicy;
    /** `postgres-access:split`: the part of a split environment this stack holds; absent: the whole environment. */
    split?: StackSplit;
}
