import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { DatabaseEngine, PostgresServer, ServerTlsMode } from "./postgresServer";
import { rdsIdentifier } from "../naming";
import { rdsStorageKeyPolicy } from "../aws/policies";

/** TLS modes RDS supports (no client certificates in its pg_hba, so no mtls). */
export const RdsTlsMode = {
    /** TLS required (rds.force_ssl), the server not verified by the apps. */
    Require: "require",
    /** TLS, clients verify the server against the RDS CA bundle (caBundlePem). */
    VerifyFull: "verify-full",
} as const;
export type RdsTlsMode = (typeof RdsTlsMode)[keyof typeof RdsTlsMode];

/** The AWS account a resource is deployed to, as the stack looked it up. */
export interface AwsAccountFacts {
    /** AWS partition, e.g. "aws". */
    partition: pulumi.Input<string>;
    /** 12-digit account id. */
    accountId: pulumi.Input<string>;
    /** Region, e.g. "eu-west-1". */
    region: pulumi.Input<string>;
}

export interface RdsPostgresArgs {
    /** Environment (stack) name: part of every identifier (`<env>-postgres`). */
    env: string;
    /** PostgreSQL major version, e.g. "17" (the parameter group family is `postgres<version>`). */
    version: string;
    /** TLS mode clients use: `require` or `verify-full` (mtls is impossible on RDS: no client certificates in its pg_hba). */
    tls: RdsTlsMode;
    /**
     * The AWS account the instance lives in (partition, account id, region), for the storage key's policy.
     * Absent: looked up through the resource's provider (one getPartition/getCallerIdentity/getRegion each).
     */
    account?: AwsAccountFacts;
    /** Instance class, e.g. db.t4g.medium. */
    instanceClass: string;
    /** Storage in GiB. */
    allocatedStorage: number;
    /** Storage autoscaling ceiling in GiB (absent: no autoscaling). */
    maxAllocatedStorage?: number;
    /** gp3, gp2, io1 or io2. */
    storageType: string;
    /** A standby in a second availability zone. */
    multiAz: boolean;
    /** VPC of the subnets and the security group. */
    vpcId: string;
    /** Private subnets in at least two availability zones. */
    subnetIds: string[];
    /** Security groups of the clients (EKS nodes / pods) allowed on 5432. */
    allowedSecurityGroupIds: string[];
    /** CIDR blocks allowed on 5432 (never 0.0.0.0/0). */
    allowedCidrBlocks: string[];
    /** Days of automated backups (1-35; 7 or more outside throw-away environments). */
    backupRetentionDays: number;
    /** RDS deletion protection; also `protect`s the instance in Pulumi. */
    deletionProtection: boolean;
    /** Skip the final snapshot on deletion (throw-away environments only). */
    skipFinalSnapshot: boolean;
    /** CA of the server certificate, e.g. rds-ca-rsa2048-g1. */
    caCertIdentifier: string;
    /** Performance Insights, encrypted with the instance's KMS key. */
    performanceInsights: boolean;
    /** Master user name (the admin login `pulumi up` uses; never given to apps). */
    masterUsername: string;
    /** Bump to generate and set a new master password. Default 1. */
    masterPasswordVersion?: number;
    /** Enable IAM database authentication (`rds_iam` logins). */
    iamDatabaseAuthentication: boolean;
    /**
     * PEM bundle of the RDS CAs (https://truststore.pki.rds.amazonaws.com/<region>/<region>-bundle.pem);
     * required for `verify-full`. Without it `caCertPem` is empty and clients cannot verify the server.
     */
    caBundlePem?: string;
}

/** Every problem with the args, each a sentence (empty = valid). Exported for tests. */
export function rdsPostgresProblems(args: RdsPostgresArgs): string[] {
    const problems: string[] = [];
    if (!/^\d+$/.test(args.version)) problems.push(`version "${args.version}" must be a PostgreSQL major version such as "17"`);
    if (new Set(args.subnetIds).size < 2) problems.push("subnetIds: at least 2 private subnets in different availability zones");
    if (args.allowedSecurityGroupIds.length === 0 && args.allowedCidrBlocks.length === 0) {
        problems.push("allowedSecurityGroupIds / allowedCidrBlocks: at least one client security group or CIDR block, or nothing can connect");
    }
    for (const cidr of args.allowedCidrBlocks) {
        if (/\/0$/.test(cidr)) problems.push(`allowedCidrBlocks: ${cidr} admits the whole internet; name the clients' security groups or CIDRs`);
    }
    if (!Number.isInteger(args.backupRetentionDays) || args.backupRetentionDays < 1 || args.backupRetentionDays > 35) {
        problems.push("backupRetentionDays: 1 to 35 (0 would turn automated backups off)");
    }
    if (args.maxAllocatedStorage !== undefined && args.maxAllocatedStorage < args.allocatedStorage) {
        problems.push(`maxAllocatedStorage (${args.maxAllocatedStorage}) must be at least allocatedStorage (${args.allocatedStorage})`);
    }
    if (args.tls === "verify-full" && !args.caBundlePem) problems.push("caBundlePem: required with tls verify-full (the RDS CA bundle clients verify against)");
    if (args.deletionProtection && args.skipFinalSnapshot) problems.push("skipFinalSnapshot: a deletion-protected instance keeps its final snapshot");
    return problems;
}

/**
 * The parameters postgres-access sets on every instance. `rds.force_ssl` is applied at the next reboot
 * (RDS marks it pending-reboot on older engines); the others are dynamic.
 */
export function rdsParameters(): { name: string; value: string; applyMethod: "immediate" | "pending-reboot" }[] {
    return [
        { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
        { name: "password_encryption", value: "scram-sha-256", applyMethod: "immediate" },
        { name: "log_connections", value: "1", applyMethod: "immediate" },
        // ddl, not all: statements with passwords (ALTER ROLE … PASSWORD) stay out of the logs when clients
        // send SCRAM verifiers, and data never lands in CloudWatch.
        { name: "log_statement", value: "ddl", applyMethod: "immediate" },
    ];
}

/**
 * What Pulumi itself must never delete by accident:
 * - the instance is `protect`ed while deletion protection is on (no `pulumi destroy`, no replacement);
 * - the storage key is kept on delete (`retainOnDelete`) while snapshots are kept, because the final
 *   snapshot and retained automated backups are encrypted with it and are useless without it.
 */
export function rdsProtection(args: Pick<RdsPostgresArgs, "deletionProtection" | "skipFinalSnapshot">): { protectInstance: boolean; retainStorageKey: boolean; keepAutomatedBackups: boolean } {
    return {
        protectInstance: args.deletionProtection,
        retainStorageKey: !args.skipFinalSnapshot,
        keepAutomatedBackups: !args.skipFinalSnapshot,
    };
}

/**
 * PostgreSQL on Amazon RDS, hardened: private subnets, a security group admitting 5432 only from the
 * configured client security groups / CIDRs, TLS forced (`rds.force_ssl=1`), scram-sha-256, storage and
 * Performance Insights encrypted with its own KMS key (rotation on), not publicly accessible, deletion
 * protection, backups, a final snapshot, CloudWatch log exports, minor version upgrades.
 *
 * The master password is a secret RandomPassword (in Pulumi state as an encrypted secret, like every input)
 * sent write-only (`passwordWo`: the provider never reads it back from RDS, so a refresh shows no drift and
 * it is only sent when `masterPasswordVersion` changes): the postgresql provider logs in with it on every
 * `pulumi up`, and an RDS-managed master secret would be rotated by RDS underneath that provider.
 *
 * The master user is only a member of `rds_superuser` (adminIsSuperuser false): the postgresql provider
 * runs with `superuser: false` and grants itself membership in a role where it must act as its owner.
 *
 * Pass `{ provider }` (the stack's AWS provider) in opts. Renaming the component needs
 * `aliases: [{ name: "<old name>" }]` on it (aliases of a parent apply to its children).
 */
/** What a DB subnet lookup tells (`aws.ec2.getSubnet`). */
export interface SubnetFacts {
    id: string;
    vpcId: string;
    availabilityZone: string;
    mapPublicIpOnLaunch: boolean;
    cidrBlock: string;
}

/**
 * Why these subnets do not make a private DB subnet group in `vpcId` (exported for tests): a subnet that
 * gives instances public addresses on launch is a public subnet, a subnet of another VPC cannot hold the
 * instance, and RDS needs subnets in at least two availability zones.
 */
export function rdsSubnetProblems(vpcId: string, subnets: SubnetFacts[]): string[] {
    const problems: string[] = [];
    for (const subnet of subnets) {
        if (subnet.vpcId !== vpcId) problems.push(`${subnet.id} is in ${subnet.vpcId}, not in database.rds.vpcId ${vpcId}`);
        if (subnet.mapPublicIpOnLaunch) problems.push(`${subnet.id} assigns public IPs on launch (a public subnet); use private subnets`);
    }
    const zones = new Set(subnets.map((subnet) => subnet.availabilityZone));
    if (zones.size < 2) problems.push(`all subnets are in ${[...zones].join(", ") || "one zone"}; RDS needs subnets in at least two availability zones`);
    return problems;
}

/**
 * Amazon RDS for PostgreSQL: an encrypted instance (its own KMS key) in private subnets, a security group
 * admitting 5432 from the clients only, a parameter group forcing TLS and scram-sha-256, a generated
 * master password (a secret), backups, deletion protection and Performance Insights as configured.
 */
export class RdsPostgres extends pulumi.ComponentResource implements PostgresServer {
    /** Always `rds`. */
    public readonly engine: DatabaseEngine = "rds";
    /** PostgreSQL major version, e.g. "18". */
    public readonly majorVersion: string;
    /** Endpoint address of the instance. */
    public readonly host: pulumi.Output<string>;
    /** Port apps connect to. */
    public readonly port: pulumi.Output<number>;
    /** The admin login `pulumi up` uses (never given to apps). */
    public readonly adminUsername: pulumi.Output<string>;
    /** The master password; a Pulumi secret. */
    public readonly adminPassword: pulumi.Output<string>;
    /** Always false: the master user is only a member of rds_superuser. */
    public readonly adminIsSuperuser: boolean = false;
    /** The configured RDS CA bundle (empty when none is configured: tls must then be require). */
    public readonly caCertPem: pulumi.Output<string>;
    /** TLS mode the server enforces. */
    public readonly tls: ServerTlsMode;
    /** The DB instance. */
    public readonly instance: aws.rds.Instance;
    /** DB instance identifier (`<env>-postgres`). */
    public readonly identifier: string;
    /** The instance's security group (admits 5432 from the clients only). */
    public readonly securityGroupId: pulumi.Output<string>;
    /** The KMS key of storage, snapshots and Performance Insights. */
    public readonly kmsKeyArn: pulumi.Output<string>;
    /** CIDR blocks of the instance's (checked) subnets: the organizations' database egress. */
    public readonly subnetCidrBlocks: pulumi.Output<string[]>;

    constructor(name: string, args: RdsPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:RdsPostgres", name, {}, opts);
        const problems = rdsPostgresProblems(args);
        if (problems.length) throw new Error(`RdsPostgres ${name}: ${problems.join("; ")}`);
        const child = { parent: this };
        const identifier = rdsIdentifier(args.env, "postgres");
        const protection = rdsProtection(args);
        this.identifier = identifier;
        this.majorVersion = args.version;
        this.tls = args.tls;
        const tags = { "managed-by": "postgres-access", environment: args.env };

        // An explicit key policy: AWS's default one would let every IAM policy in the account decrypt.
        const account = args.account ?? {
            partition: aws.getPartitionOutput({}, { parent: this }).partition,
            accountId: aws.getCallerIdentityOutput({}, { parent: this }).accountId,
            region: aws.getRegionOutput({}, { parent: this }).region,
        };
        const keyPolicy = pulumi.all([account.partition, account.accountId, account.region])
            .apply(([partition, accountId, region]) => JSON.stringify(rdsStorageKeyPolicy(partition, accountId, region)));
        const key = new aws.kms.Key(`${name}-storage-key`, {
            description: `postgres-access ${args.env}: RDS storage, snapshots and Performance Insights`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: keyPolicy,
            tags,
        }, { ...child, retainOnDelete: protection.retainStorageKey });
        new aws.kms.Alias(`${name}-storage-key-alias`, { name: `alias/postgres-access/${identifier}-storage`, targetKeyId: key.keyId }, child);

        // Each subnet looked up once: checked (in the VPC, no public IPs on launch, two AZs) before the subnet
        // group uses it, and its CIDR block is where the organizations' namespaces may send database traffic.
        // (A route to an internet gateway is not inspected; the instance is not publicly accessible anyway.)
        const subnets = pulumi.all(args.subnetIds.map((id) => aws.ec2.getSubnetOutput({ id }, { parent: this })));
        const verified = subnets.apply((found) => {
            const problems = rdsSubnetProblems(args.vpcId, found);
            if (problems.length) throw new Error(`RdsPostgres ${name}: database.rds.subnetIds: ${problems.join("; ")}`);
            return found;
        });
        this.subnetCidrBlocks = verified.apply((found) => found.map((subnet) => subnet.cidrBlock));
        const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, {
            name: identifier,
            subnetIds: verified.apply((found) => found.map((subnet) => subnet.id)),
            description: `postgres-access ${args.env}: private subnets`,
            tags,
        }, child);

        const securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
            name: `${identifier}-db`,
            vpcId: args.vpcId,
            description: "PostgreSQL 5432 from the platform's clients only",
            ingress: [
                ...args.allowedSecurityGroupIds.map((sg) => ({ protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: [sg], description: "PostgreSQL from client security group" })),
                ...(args.allowedCidrBlocks.length ? [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: args.allowedCidrBlocks, description: "PostgreSQL from client CIDRs" }] : []),
            ],
            // RDS answers on established connections; it needs no egress rule.
            egress: [],
            tags,
        }, child);

        const parameterGroup = new aws.rds.ParameterGroup(`${name}-params`, {
            name: `${identifier}-pg${args.version}`,
            family: `postgres${args.version}`,
            description: "postgres-access: TLS forced, scram-sha-256",
            parameters: rdsParameters(),
            tags,
        }, child);

        const passwordVersion = args.masterPasswordVersion ?? 1;
        const password = new random.RandomPassword(`${name}-master-password`, {
            length: 40,
            // RDS refuses / " @ and spaces in master passwords; letters and digits are safe everywhere.
            special: false,
            keepers: { version: String(passwordVersion) },
        }, child);
        this.adminPassword = pulumi.secret(password.result);
        this.instance = new aws.rds.Instance(`${name}-instance`, {
            identifier,
            engine: "postgres",
            engineVersion: args.version,
            allowMajorVersionUpgrade: true,
            autoMinorVersionUpgrade: true,
            instanceClass: args.instanceClass,
            allocatedStorage: args.allocatedStorage,
            maxAllocatedStorage: args.maxAllocatedStorage,
            storageType: args.storageType,
            storageEncrypted: true,
            kmsKeyId: key.arn,
            dbSubnetGroupName: subnetGroup.name,
            vpcSecurityGroupIds: [securityGroup.id],
            parameterGroupName: parameterGroup.name,
            publiclyAccessible: false,
            multiAz: args.multiAz,
            port: 5432,
            username: args.masterUsername,
            passwordWo: this.adminPassword,
            passwordWoVersion: passwordVersion,
            backupRetentionPeriod: args.backupRetentionDays,
            backupWindow: "02:00-03:00",
            maintenanceWindow: "sun:03:30-sun:04:30",
            copyTagsToSnapshot: true,
            deletionProtection: args.deletionProtection,
            skipFinalSnapshot: args.skipFinalSnapshot,
            finalSnapshotIdentifier: args.skipFinalSnapshot ? undefined : `${identifier}-final`,
            deleteAutomatedBackups: !protection.keepAutomatedBackups,
            caCertIdentifier: args.caCertIdentifier,
            performanceInsightsEnabled: args.performanceInsights,
            performanceInsightsKmsKeyId: args.performanceInsights ? key.arn : undefined,
            performanceInsightsRetentionPeriod: args.performanceInsights ? 7 : undefined,
            enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
            iamDatabaseAuthenticationEnabled: args.iamDatabaseAuthentication,
            // Changes wait for the maintenance window instead of restarting the database mid-day.
            applyImmediately: false,
            tags,
        }, {
            ...child,
            protect: protection.protectInstance,
            additionalSecretOutputs: ["password"],
        });

        this.host = this.instance.address;
        this.port = this.instance.port;
        this.adminUsername = pulumi.output(args.masterUsername);
        this.caCertPem = pulumi.output(args.caBundlePem ?? "");
        this.securityGroupId = securityGroup.id;
        this.kmsKeyArn = key.arn;
        this.registerOutputs({ host: this.host, port: this.port, securityGroupId: this.securityGroupId, kmsKeyArn: this.kmsKeyArn });
    }
}
