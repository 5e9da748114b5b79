import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { PostgresServer, ServerTlsMode } from "./postgresServer";
import { rdsIdentifier } from "../naming";

export interface RdsPostgresArgs {
    /** Environment (stack) name: part of every identifier. */
    env: string;
    /** PostgreSQL major version. */
    version: string;
    /** TLS mode clients use (require or verify-full; mtls is impossible on RDS). */
    tls: Exclude<ServerTlsMode, "mtls">;
    instanceClass: string;
    allocatedStorage: number;
    maxAllocatedStorage?: number;
    storageType: string;
    multiAz: boolean;
    vpcId: string;
    /** Private subnets in at least two availability zones. */
    subnetIds: string[];
    /** Security groups of the clients (EKS nodes/pods) allowed on 5432. */
    allowedSecurityGroupIds: string[];
    /** CIDR blocks allowed on 5432. */
    allowedCidrBlocks: string[];
    backupRetentionDays: number;
    deletionProtection: boolean;
    skipFinalSnapshot: boolean;
    caCertIdentifier: string;
    performanceInsights: boolean;
    masterUsername: string;
    iamDatabaseAuthentication: boolean;
    /** PEM bundle of the RDS CAs (for verify-full). */
    caBundlePem?: string;
}

/** Static RDS parameters postgres-access sets on every instance. */
export function rdsParameters(): { name: string; value: string; applyMethod: string }[] {
    return [
        { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
        { name: "password_encryption", value: "scram-sha-256", applyMethod: "immediate" },
        { name: "log_connections", value: "1", applyMethod: "immediate" },
        { name: "log_statement", value: "ddl", applyMethod: "immediate" },
    ];
}

/**
 * PostgreSQL on Amazon RDS, hardened: private subnets, a security group admitting 5432 only from the
 * configured client security groups / CIDRs, TLS forced (`rds.force_ssl=1`), scram-sha-256, storage and
 * Performance Insights encrypted with its own KMS key (rotation on), not publicly accessible, deletion
 * protection, backups and a final snapshot, CloudWatch log exports.
 *
 * The master password is a secret RandomPassword sent write-only (`passwordWo`): the postgresql provider
 * needs it during `pulumi up`, and an RDS-managed master secret would rotate underneath that provider.
 * The master user is only a member of `rds_superuser` (adminIsSuperuser false), which the role layer
 * handles (the provider grants itself membership where it must act as a role's owner).
 */
export class RdsPostgres extends pulumi.ComponentResource implements PostgresServer {
    public readonly engine = "rds" as const;
    public readonly majorVersion: string;
    public readonly host: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    public readonly adminUsername: pulumi.Output<string>;
    public readonly adminPassword: pulumi.Output<string>;
    public readonly adminIsSuperuser = false;
    public readonly caCertPem: pulumi.Output<string>;
    public readonly tls: ServerTlsMode;
    public readonly instance: aws.rds.Instance;
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly kmsKeyArn: pulumi.Output<string>;

    constructor(name: string, args: RdsPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:RdsPostgres", name, {}, opts);
        const child = { parent: this };
        const identifier = rdsIdentifier(args.env, "postgres");
        this.majorVersion = args.version;
        this.tls = args.tls;
        const tags = { "managed-by": "postgres-access", environment: args.env };

        const key = new aws.kms.Key(`${name}-storage-key`, {
            description: `postgres-access ${args.env}: RDS storage and Performance Insights`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            tags,
        }, child);
        new aws.kms.Alias(`${name}-storage-key-alias`, { name: `alias/${identifier}-storage`, targetKeyId: key.keyId }, child);

        const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, {
            name: identifier,
            subnetIds: args.subnetIds,
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

        const password = new random.RandomPassword(`${name}-master-password`, { length: 40, special: false }, child);
        this.adminPassword = pulumi.secret(password.result);
        this.instance = new aws.rds.Instance(`${name}-instance`, {
            identifier,
            engine: "postgres",
            engineVersion: args.version,
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
            passwordWoVersion: 1,
            backupRetentionPeriod: args.backupRetentionDays,
            backupWindow: "02:00-03:00",
            maintenanceWindow: "sun:03:30-sun:04:30",
            copyTagsToSnapshot: true,
            deletionProtection: args.deletionProtection,
            skipFinalSnapshot: args.skipFinalSnapshot,
            finalSnapshotIdentifier: args.skipFinalSnapshot ? undefined : `${identifier}-final`,
            caCertIdentifier: args.caCertIdentifier,
            performanceInsightsEnabled: args.performanceInsights,
            performanceInsightsKmsKeyId: args.performanceInsights ? key.arn : undefined,
            performanceInsightsRetentionPeriod: args.performanceInsights ? 7 : undefined,
            enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
            autoMinorVersionUpgrade: true,
            iamDatabaseAuthenticationEnabled: args.iamDatabaseAuthentication,
            applyImmediately: false,
            tags,
        }, {
            ...child,
            // The data outlives a mistaken `pulumi destroy` or rename: Pulumi refuses to delete it while
            // deletion protection is configured.
            protect: args.deletionProtection,
            additionalSecretOutputs: ["password", "passwordWo"],
        });

        this.host = this.instance.address;
        this.port = this.instance.port;
        this.adminUsername = pulumi.output(args.masterUsername);
        this.caCertPem = pulumi.output(args.caBundlePem ?? "");
        this.securityGroupId = securityGroup.id;
        this.kmsKeyArn = key.arn;
        this.registerOutputs({ host: this.host, port: this.port });
    }
}
