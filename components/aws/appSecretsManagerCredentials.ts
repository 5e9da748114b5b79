import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsConnection } from "../platformConnection";
import { platformAdmins } from "./awsPlatform";
import { appSecretAccessPolicy, irsaTrustPolicy, secretArnPattern, secretResourcePolicy } from "./policies";
import { ConnectionSettings, connectionFieldsOutput } from "../connectionInfo";

export interface AppSecretsManagerCredentialsArgs {
    /** Secrets Manager secret name (`{org}-{env}-database-credentials` for a default app). */
    secretName: string;
    /** IAM role name of the app (IRSA). */
    roleName: string;
    /** The app's namespace (its organization's). */
    namespace: string;
    /** The app's ServiceAccount, the only identity its role trusts. */
    serviceAccount: string;
    /** ARN of the organization's KMS key for Secrets Manager entries. */
    keyArn: pulumi.Input<string>;
    /** Connection settings (no password). */
    settings: pulumi.Input<ConnectionSettings>;
    /** The app login's password (a secret); absent when a client certificate is its credential. */
    password?: pulumi.Input<string>;
    /** Environment (stack) name (tags). */
    env: string;
    /** The shared AWS account (the AWS provider comes from the parent's `providers`). */
    aws: AwsConnection;
    /** An access request's expiry (RFC 3339): the role's permissions hold only before it (`DateLessThan aws:CurrentTime`). */
    notAfter?: string;
}

/**
 * Delivery via AWS Secrets Manager: the app's secret (RDS-style JSON plus DATABASE_URL) encrypted with its
 * organization's KMS key, a resource policy that denies everyone but the app's role and the platform
 * admins, and the app's IRSA role, trusted only by its exact ServiceAccount and allowed only to read that
 * secret and to decrypt through Secrets Manager.
 */
export class AppSecretsManagerCredentials extends pulumi.ComponentResource {
    /** ARN of the secret (with Secrets Manager's 6-character suffix). */
    public readonly secretArn: pulumi.Output<string>;
    /** ARN of the app's IRSA role. */
    public readonly roleArn: pulumi.Output<string>;
    /** The secret's name. */
    public readonly secretName: string;

    constructor(name: string, args: AppSecretsManagerCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:AppSecretsManagerCredentials", name, {}, opts);
        const p = args.aws;
        const child = { parent: this };
        const tags = { "managed-by": "postgres-access", environment: args.env, namespace: args.namespace, app: args.serviceAccount };

        const role = new aws.iam.Role(`${name}-role`, {
            name: args.roleName,
            description: `IRSA: ${args.namespace}/${args.serviceAccount} reads its database credentials (postgres-access)`,
            assumeRolePolicy: JSON.stringify(irsaTrustPolicy(p.eksOidcProviderArn, p.eksOidcIssuerUrl, args.namespace, args.serviceAccount)),
            maxSessionDuration: 3600,
            permissionsBoundary: p.permissionsBoundaryArn,
            tags,
        }, child);

        const secret = new aws.secretsmanager.Secret(`${name}-secret`, {
            name: args.secretName,
            description: `Database credentials of ${args.namespace}/${args.serviceAccount} (postgres-access)`,
            kmsKeyId: args.keyArn,
            // 0 by default: removing the app deletes the secret at once. Its content names a login that the
            // removal revokes, so nothing worth recovering is lost, and the app can be added back at once
            // (CreateSecret fails on the name of a secret scheduled for deletion).
            recoveryWindowInDays: p.secretRecoveryWindowDays,
            tags,
        }, child);
        new aws.secretsmanager.SecretPolicy(`${name}-secret-policy`, {
            secretArn: secret.arn,
            blockPublicPolicy: true,
            policy: pulumi.all([role.arn, platformAdmins(p)]).apply(([arn, admins]) => JSON.stringify(secretResourcePolicy(arn, admins))),
        }, child);
        new aws.secretsmanager.SecretVersion(`${name}-secret-value`, {
            secretId: secret.id,
            // connectionFieldsOutput is a Pulumi secret; the SDK also marks secretString secret.
            secretString: connectionFieldsOutput(args.settings, args.password).apply((fields) => JSON.stringify(fields)),
        }, { ...child, additionalSecretOutputs: ["secretString"] });

        const pattern = pulumi.all([p.partition, p.accountId]).apply(([partition, account]) => secretArnPattern(partition, p.region, account, args.secretName));
        new aws.iam.RolePolicy(`${name}-read-secret`, {
            name: "read-own-database-secret",
            role: role.id,
            policy: pulumi.all([pattern, args.keyArn]).apply(([arn, key]) => JSON.stringify(appSecretAccessPolicy(arn, key, p.region, args.notAfter))),
        }, child);

        this.secretArn = secret.arn;
        this.roleArn = role.arn;
        this.secretName = args.secretName;
        this.registerOutputs({ secretArn: this.secretArn, roleArn: this.roleArn });
    }
}
