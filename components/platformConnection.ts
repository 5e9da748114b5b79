/**
 * `PlatformConnection`: everything an organization needs of the shared platform (the server, Vault, AWS,
 * SPIRE), as plain data. It is what `createPlatform` returns and what `Organization` takes, so it can be a
 * stack output of a platform stack and read back through a StackReference by organization stacks, or be
 * written by hand in any language. Values only known once the platform is deployed are `Input`s.
 */
import * as pulumi from "@pulumi/pulumi";
import { DatabaseEngine, ServerTlsMode } from "./database/postgresServer";
import { AdminEndpoint, SpiffeTrust } from "./postgresAccessArgs";

/** Where the organizations' namespaces may open connections to the server (their egress rule). */
export interface DatabaseEgress {
    /** The in-cluster server's namespace (matched by `kubernetes.io/metadata.name`). */
    namespace?: string;
    /** The address blocks of the RDS instance's subnets. */
    cidrBlocks?: pulumi.Input<string>[];
}

/** The PostgreSQL server every organization shares, as its admin reaches it and its apps connect to it. */
export interface DatabaseServerConnection {
    /** Where the server runs. */
    engine: DatabaseEngine;
    /** PostgreSQL major version, e.g. "17". */
    majorVersion: string;
    /** TLS mode the server enforces. */
    tls: ServerTlsMode;
    /** Host name apps connect to. */
    host: pulumi.Input<string>;
    /** Port apps connect to. */
    port: pulumi.Input<number>;
    /** The administrative login `pulumi up` uses (never given to apps). */
    adminUsername: pulumi.Input<string>;
    /** Its password (keep it a Pulumi secret). */
    adminPassword: pulumi.Input<string>;
    /** True when the admin login is a real SUPERUSER (in-cluster server); false on RDS. */
    adminIsSuperuser: boolean;
    /** PEM bundle of the CA(s) the server certificate chains to. */
    caCertPem: pulumi.Input<string>;
    /** Where `pulumi up` reaches the admin login (port-forward, tunnel). @default host and port */
    adminEndpoint?: AdminEndpoint;
    /** Where the organizations' pods reach the server: its namespace (in-cluster) or its subnets' CIDR blocks (RDS). */
    egress: DatabaseEgress;
}

/** Where the Vault agents of an organization's pods reach Vault (an egress rule of its namespace). */
export interface VaultEgressRule {
    /** Vault's namespace when it runs in this cluster. */
    namespace?: string;
    /** Vault's address blocks when it runs outside the cluster. */
    cidrBlocks?: string[];
    /** TCP port. */
    port: number;
}

/** The shared Vault database secrets engine. */
export interface VaultConnection {
    /** Vault's https:// address (the Vault provider's). */
    address: string;
    /** Enterprise namespace. */
    namespace?: string;
    /** PEM CA bundle Vault's certificate chains to. */
    caCertPem?: string;
    /** Mount path of the database secrets engine (one per environment). */
    mount: pulumi.Input<string>;
    /** Mount path of the Kubernetes auth method. */
    kubernetesAuthMount: string;
    /** Default lease TTL of dynamic users, in seconds. */
    defaultTtl: number;
    /** Maximum lease TTL of dynamic users, in seconds. */
    maxTtl: number;
    /** Seconds between rotations of static logins. */
    staticRotationPeriod: number;
    /** Where vault-agent pods reach Vault. */
    egress: VaultEgressRule[];
}

/** The shared AWS account: Secrets Manager, KMS and IRSA. */
export interface AwsConnection {
    /** Region of the secrets. */
    region: string;
    /** Account the AWS provider deploys to. */
    accountId: pulumi.Input<string>;
    /** `aws`, `aws-cn` or `aws-us-gov`. */
    partition: pulumi.Input<string>;
    /** ARN of the EKS cluster's IAM OIDC provider (the federated principal of every IRSA trust). */
    eksOidcProviderArn: string;
    /** The cluster's OIDC issuer URL (https://). */
    eksOidcIssuerUrl: string;
    /**
     * Roles that administer the secrets besides the apps, once the identity running `pulumi up` has been
     * found among them (`createPlatform` verifies it when any organization of its config uses Secrets Manager).
     */
    platformAdminRoleArns: pulumi.Input<string>[];
    /** Days a deleted secret stays recoverable (0: deleted at once). */
    secretRecoveryWindowDays: number;
    /** Permissions boundary attached to every app role. */
    permissionsBoundaryArn?: string;
}

/** What an organization needs of the shared platform. */
export interface PlatformConnection {
    /** The PostgreSQL server. */
    database: DatabaseServerConnection;
    /** Vault, when any organization takes credentials from it. */
    vault?: VaultConnection;
    /** AWS, when configured. */
    aws?: AwsConnection;
    /** The SPIRE installation, with tls "mtls". */
    spiffe?: SpiffeTrust;
}
