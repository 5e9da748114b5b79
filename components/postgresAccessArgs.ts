/**
 * The args of `PostgresAccess`: the stack config contract (`postgres-access:*` keys of Pulumi.<env>.yaml)
 * as plain data, one named interface per nested shape and an enumeration per closed set of values, so
 * Pulumi's component analyzer can publish it to every language. Validated (and defaulted) by the same
 * rules as the stack config (`components/config/stackConfig.ts`, `parseStackConfig`).
 */
import * as pulumi from "@pulumi/pulumi";
import { AccessLevel, CredentialSource, DeliveryMode } from "./types";
import { DatabaseEngine, ServerTlsMode } from "./database/postgresServer";

export { AccessLevel, CredentialSource, DeliveryMode, DatabaseEngine, ServerTlsMode };

/** Supported PostgreSQL major versions. */
export const PostgresVersion = {
    /** PostgreSQL 15. */
    V15: "15",
    /** PostgreSQL 16. */
    V16: "16",
    /** PostgreSQL 17. */
    V17: "17",
    /** PostgreSQL 18 (the default). */
    V18: "18",
} as const;
export type PostgresVersion = (typeof PostgresVersion)[keyof typeof PostgresVersion];

/** Majors an in-cluster server's data may be upgraded from. */
export const UpgradeSourceVersion = {
    /** Data written by PostgreSQL 14. */
    V14: "14",
    /** Data written by PostgreSQL 15. */
    V15: "15",
    /** Data written by PostgreSQL 16. */
    V16: "16",
    /** Data written by PostgreSQL 17. */
    V17: "17",
} as const;
export type UpgradeSourceVersion = (typeof UpgradeSourceVersion)[keyof typeof UpgradeSourceVersion];

/** What one run creates. */
export const DeploymentPhase = {
    /** Everything: the server, then every organization. */
    Full: "full",
    /** The server only (first run of a stack whose admin endpoint is a tunnel to the server it creates). */
    Server: "server",
} as const;
export type DeploymentPhase = (typeof DeploymentPhase)[keyof typeof DeploymentPhase];

/** EBS volume type of an RDS instance's storage. */
export const RdsStorageType = {
    /** General purpose SSD, gp3. */
    Gp3: "gp3",
    /** General purpose SSD, gp2. */
    Gp2: "gp2",
    /** Provisioned IOPS SSD, io1. */
    Io1: "io1",
    /** Provisioned IOPS SSD, io2. */
    Io2: "io2",
} as const;
export type RdsStorageType = (typeof RdsStorageType)[keyof typeof RdsStorageType];

/** CPU and memory quantities of a container. */
export interface ComputeQuantities {
    /** CPU as a Kubernetes quantity, e.g. "250m" or "1". */
    cpu?: string;
    /** Memory as a Kubernetes quantity, e.g. "512Mi". */
    memory?: string;
}

/** Requests and limits of the in-cluster server's container. */
export interface ServerResources {
    /** What the scheduler reserves. @default {cpu: "250m", memory: "512Mi"} */
    requests?: ComputeQuantities;
    /** The ceiling. @default {cpu: "1", memory: "1Gi"} */
    limits?: ComputeQuantities;
}

/** The in-cluster server (`database.engine` "statefulset"). */
export interface StatefulSetSettings {
    /** Namespace the server runs in (created, Pod Security "restricted"). @default "postgres" */
    namespace?: string;
    /** Container image. @default the official postgres:<version>-bookworm image */
    image?: string;
    /** Size of the data volume. @default "20Gi" */
    storageSize?: string;
    /** StorageClass of the data volume (prefer one with reclaimPolicy Retain). @default the cluster's default class */
    storageClassName?: string;
    /** Container requests and limits. */
    resources?: ServerResources;
    /** PostgreSQL max_connections (10-10000). @default 200 */
    maxConnections?: number;
    /** Set only while following the major upgrade procedure: the major the data was written by. */
    upgradeFrom?: UpgradeSourceVersion;
}

/** An Amazon RDS instance (`database.engine` "rds"). */
export interface RdsSettings {
    /** Instance class. @default "db.t4g.medium" */
    instanceClass?: string;
    /** Storage in GiB (20-65536). @default 20 */
    allocatedStorage?: number;
    /** Storage autoscaling ceiling in GiB, at least allocatedStorage. @default no autoscaling */
    maxAllocatedStorage?: number;
    /** Storage type. @default "gp3" */
    storageType?: RdsStorageType;
    /** A standby in a second availability zone. @default false */
    multiAz?: boolean;
    /** VPC of the subnets, e.g. vpc-0abc123. */
    vpcId: string;
    /** At least two private subnets in different availability zones. */
    subnetIds: string[];
    /** Security groups of the clients (EKS nodes or pods) admitted on 5432. @default [] */
    allowedSecurityGroupIds?: string[];
    /** CIDR blocks admitted on 5432 (never /0). @default [] */
    allowedCidrBlocks?: string[];
    /** Days of automated backups (1-35; at least 7 with deletion protection). @default 7 */
    backupRetentionDays?: number;
    /** RDS deletion protection (also Pulumi `protect`). @default true */
    deletionProtection?: boolean;
    /** Skip the final snapshot on deletion (throw-away environments only). @default false */
    skipFinalSnapshot?: boolean;
    /** CA of the server certificate. @default "rds-ca-rsa2048-g1" */
    caCertIdentifier?: string;
    /** Performance Insights, encrypted with the instance's KMS key. @default true */
    performanceInsights?: boolean;
    /** Master user name (the admin login; never given to apps). @default "pgadmin" */
    masterUsername?: string;
    /** IAM database authentication (`rds_iam` logins). @default false */
    iamDatabaseAuthentication?: boolean;
    /** Bump to generate and set a new master password. @default 1 */
    masterPasswordVersion?: number;
    /** PEM bundle of the RDS CAs apps verify against; required with tls "verify-full" (or caBundleFile). */
    caBundlePem?: string;
    /** The same bundle as a file, relative to the working directory; instead of caBundlePem. */
    caBundleFile?: string;
}

/** Where `pulumi up` reaches the server's admin login (port-forward, NodePort, bastion tunnel). */
export interface AdminEndpoint {
    /** Host name (a DNS name with tls "mtls" and a trust bundle). */
    host: string;
    /** TCP port. @default 5432 */
    port?: number;
}

/** The SPIRE installation, with tls "mtls". */
export interface SpiffeTrust {
    /** SPIFFE trust domain, a DNS name such as example.org. */
    trustDomain: string;
    /** spiffe-helper image of the sidecars. @default "ghcr.io/spiffe/spiffe-helper:0.10.0" */
    helperImage?: string;
    /** Workload API socket as the SPIFFE CSI driver mounts it. @default "/spiffe-workload-api/spire-agent.sock" */
    agentSocketPath?: string;
    /** Class name of the SPIRE controller manager that picks up the ClusterSPIFFEIDs. */
    className?: string;
    /** The trust domain's root CA(s) when stable: `pulumi up` then verifies the server (verify-full). */
    trustBundlePem?: string;
}

/** The PostgreSQL server every organization shares. */
export interface DatabaseSettings {
    /** Where the server runs. */
    engine: DatabaseEngine;
    /** PostgreSQL major version. @default "18" */
    version?: PostgresVersion;
    /** TLS mode. @default "require" */
    tls?: ServerTlsMode;
    /** In-cluster server settings (engine "statefulset"). */
    statefulset?: StatefulSetSettings;
    /** RDS settings (engine "rds"; required then). */
    rds?: RdsSettings;
    /** Where `pulumi up` reaches the admin login; required with tls "mtls". @default the server's own host and port */
    adminEndpoint?: AdminEndpoint;
    /** The SPIRE installation (tls "mtls"; required then). */
    spiffe?: SpiffeTrust;
    /** What this run creates. @default "full" */
    phase?: DeploymentPhase;
}

/** HashiCorp Vault, for apps with credentials "vault-static" or "vault-dynamic". */
export interface VaultSettings {
    /** Vault's https:// address. */
    address: string;
    /** Enterprise namespace. */
    namespace?: string;
    /** Mount path of the database secrets engine. @default "database-<env>" */
    mount?: string;
    /** Mount path of the Kubernetes auth method. @default "kubernetes" */
    kubernetesAuthMount?: string;
    /** PEM CA bundle Vault's certificate chains to (for the pods and agents). */
    caCertPem?: string;
    /** Default lease TTL of dynamic users, in seconds (at least 60). @default 3600 */
    defaultTtl?: number;
    /** Maximum lease TTL of dynamic users, in seconds (60-86400). @default 86400 */
    maxTtl?: number;
    /** Seconds between rotations of static logins (at least 300). @default 86400 */
    staticRotationPeriod?: number;
    /** Address blocks of Vault's endpoints when it runs outside the cluster (egress of vault-agent pods). @default [] */
    egressCidrBlocks?: string[];
    /** TCP port the agents reach Vault on. @default the port of address, else 8200 in-cluster or 443 */
    egressPort?: number;
    /** The namespace Vault runs in when it runs in this cluster. */
    kubernetesNamespace?: string;
}

/** AWS, for RDS and apps with credentials "secretsmanager". */
export interface AwsSettings {
    /** Region, e.g. eu-west-1. */
    region: string;
    /** ARN of the EKS cluster's IAM OIDC provider (IRSA). */
    eksOidcProviderArn: string;
    /** The EKS cluster's OIDC issuer URL (https://). */
    eksOidcIssuerUrl: string;
    /** Roles that administer the secrets besides the apps (at least the one running `pulumi up`). @default [] */
    platformAdminRoleArns?: string[];
    /** Days a removed app's secret stays recoverable: 0 or 7-30. @default 0 */
    secretRecoveryWindowDays?: number;
    /** Permissions boundary attached to every app IAM role. */
    permissionsBoundaryArn?: string;
}

/** One app of an organization. */
export interface AppSettings {
    /** App name (DNS-1123 label, at most 40 characters): its ServiceAccount and part of its login's name. */
    name: string;
    /** What the app may do in its organization's database. @default "readwrite" */
    access?: AccessLevel;
    /** Where its credentials come from. @default "kubernetes" */
    credentials?: CredentialSource;
    /** How its credentials reach its pods. @default the first mode its credentials allow */
    delivery?: DeliveryMode;
    /** CONNECTION LIMIT of its login (1-1000). @default 20 */
    connectionLimit?: number;
    /** vault-static: seconds between rotations (at least 300). @default vault.staticRotationPeriod */
    rotationPeriod?: number;
    /** vault-static: a cron schedule of rotations instead of rotationPeriod, e.g. "0 3 * * SAT". */
    rotationSchedule?: string;
    /** vault-static with rotationSchedule: seconds the rotation may take (at least 3600). */
    rotationWindow?: number;
    /** vault-dynamic: default lease TTL in seconds. @default vault.defaultTtl */
    defaultTtl?: number;
    /** vault-dynamic: maximum lease TTL in seconds. @default vault.maxTtl */
    maxTtl?: number;
    /** delivery csi: also sync the credentials into a Kubernetes Secret for env vars. @default true */
    syncSecret?: boolean;
    /** delivery vault-agent: the uid the app's container runs as (the agent runs as it). */
    runAsUser?: number;
    /** delivery vault-agent: the gid the agent runs as. @default runAsUser */
    runAsGroup?: number;
    /** kubernetes / secretsmanager: scheduled rotation over two alternating logins. @default no rotation */
    rotation?: AppRotation;
}

/** Scheduled rotation of an app's password over two alternating logins. */
export interface AppRotation {
    /** Period, e.g. "30d", "12h", "2w" (6h-366d): a delivered password is never older than this. */
    every: string;
    /** RFC 3339 instant the periods count from. @default the epoch plus a per-app offset */
    anchor?: string;
}

/** What an access request may grant (never owner). */
export const RequestedAccess = {
    /** SELECT on the organization's tables, sequences. */
    Readonly: "readonly",
    /** SELECT, INSERT, UPDATE, DELETE. */
    Readwrite: "readwrite",
} as const;
export type RequestedAccess = (typeof RequestedAccess)[keyof typeof RequestedAccess];

/** Where an access request's credentials come from. */
export const RequestedCredentials = {
    /** A Kubernetes Secret readable by the requester's ServiceAccount only. */
    Kubernetes: "kubernetes",
    /** AWS Secrets Manager through an IRSA role whose permissions end at the expiry. */
    SecretsManager: "secretsmanager",
    /** A Vault dynamic role whose users and leases end at the expiry. */
    VaultDynamic: "vault-dynamic",
} as const;
export type RequestedCredentials = (typeof RequestedCredentials)[keyof typeof RequestedCredentials];

/** Time-bound database access for a ServiceAccount of the organization, issued only while approved. */
export interface AccessRequestSettings {
    /** DNS label, unique within the organization. */
    name: string;
    /** Who: a ServiceAccount (bare name) in the organization's namespace (created unless it is an app's). */
    serviceAccount: string;
    /** What it may do. */
    access: RequestedAccess;
    /** Where its credentials come from. */
    credentials: RequestedCredentials;
    /** When access ends (RFC 3339, required). */
    expires: string;
    /** Why (shown in the plan). */
    reason?: string;
    /** Who approved (the decision record). @default [] */
    approvedBy?: string[];
    /** Who denied: any denial wins over approvals. @default [] */
    deniedBy?: string[];
}

/** When an access request counts as approved. */
export interface AccessPolicySettings {
    /** Distinct approvals needed before anything is issued. @default 1 */
    requiredApprovals?: number;
    /** Longest allowed span from now to a request's expiry, e.g. "168h". @default "168h" */
    maxDuration?: string;
}

/** ResourceQuota of an organization's namespace. */
export interface NamespaceQuota {
    /** CPU requests and limits. @default "4" */
    cpu?: string;
    /** Memory requests and limits. @default "8Gi" */
    memory?: string;
    /** Pods. @default 50 */
    pods?: number;
}

/** One organization (tenant): its namespace, its database, its apps. */
export interface OrganizationSettings {
    /** Organization name (DNS-1123 label, at most 40 characters): its namespace and its database. */
    name: string;
    /** CONNECTION LIMIT of its database (1-10000). @default 100 */
    connectionLimit?: number;
    /** ResourceQuota of its namespace. */
    quota?: NamespaceQuota;
    /** Access of the default app, when apps is absent. @default "readwrite" */
    access?: AccessLevel;
    /** Credentials of the default app, when apps is absent. @default "kubernetes" */
    credentials?: CredentialSource;
    /** Its apps. @default one app named after the organization */
    apps?: AppSettings[];
    /** Re-adding a removed organization: adopt its kept database, owner role and namespace. @default false */
    adoptExisting?: boolean;
    /** Time-bound access requests, issued only while approved. @default [] */
    accessRequests?: AccessRequestSettings[];
}

/** Which part of a split environment a stack holds. */
export const StackPart = {
    /** The shared platform (server, maintenance databases, Vault mount); exports `platform` for the organizations stacks. */
    Platform: "platform",
    /** Some of the environment's organizations, on the platform of the stack `platformStack`. */
    Organizations: "organizations",
} as const;
export type StackPart = (typeof StackPart)[keyof typeof StackPart];

/** One environment across a platform stack and any number of organizations stacks (docs/operations.md "Splitting an environment"). */
export interface StackSplitSettings {
    /** The part this stack holds. */
    part: StackPart;
    /** The environment every stack of the split shares (lower-case letters and digits): `env` must be it. */
    environment: string;
    /** With part organizations: the platform stack, `<organization>/<project>/<stack>`. */
    platformStack?: string;
}

/** The config contract, as `PostgresAccess` and the stack config take it. */
export interface PostgresAccessArgs {
    /** The environment: a lower-case letter, then letters or digits (the stack name for the stack program). */
    env: string;
    /** The PostgreSQL server. */
    database: DatabaseSettings;
    /** HashiCorp Vault, when any app takes its credentials from Vault. */
    vault?: VaultSettings;
    /** AWS, for RDS and Secrets Manager. */
    aws?: AwsSettings;
    /** The organizations: at least one, except with `split.part` platform, which holds none. */
    organizations?: OrganizationSettings[];
    /** When access requests count as approved. */
    accessPolicy?: AccessPolicySettings;
    /** One environment across several stacks: this one holds its platform or some of its organizations. @default the whole environment */
    split?: StackSplitSettings;
    /**
     * Resolves to database.version once a version change has been checked against the running server (the
     * stack program's guard); the in-cluster server waits for it. @default no check
     */
    versionCheck?: pulumi.Input<string>;
}
