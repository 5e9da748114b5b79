import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsConnection } from "../platformConnection";
import { platformAdmins } from "./awsPlatform";
import { organizationKeyPolicy } from "./policies";
import { organizationKeyAlias } from "../naming";

export interface OrganizationSecretsKeyArgs {
    /** The organization's name (alias and tags). */
    organization: string;
    /** IRSA role ARNs of the organization's secretsmanager apps (may decrypt, only via Secrets Manager). */
    appRoleArns: pulumi.Input<string>[];
    /** Environment (stack) name (alias, tags). */
    env: string;
    /** The shared AWS account (the AWS provider comes from the parent's `providers`). */
    aws: AwsConnection;
}

/**
 * One customer-managed KMS key per organization for its Secrets Manager entries: rotation on, a 30-day
 * deletion window, and a key policy that lets only that organization's app roles decrypt, and only
 * through Secrets Manager (see `organizationKeyPolicy`). Alias `alias/postgres-access/<env>/<org>`.
 */
export class OrganizationSecretsKey extends pulumi.ComponentResource {
    /** ARN of the key. */
    public readonly keyArn: pulumi.Output<string>;
    /** Id of the key. */
    public readonly keyId: pulumi.Output<string>;

    constructor(name: string, args: OrganizationSecretsKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:OrganizationSecretsKey", name, {}, opts);
        const p = args.aws;
        const env = args.env;
        const child = { parent: this };
        // The admins once the deployer is verified among them: no key (and so no secret) exists before that.
        const policy = pulumi.all([p.partition, p.accountId, pulumi.all(args.appRoleArns), platformAdmins(p)]).apply(([partition, account, roles, admins]) =>
            JSON.stringify(organizationKeyPolicy(partition, account, p.region, roles, admins)));
        const key = new aws.kms.Key(`${name}`, {
            description: `postgres-access ${env}: database credentials of organization ${args.organization}`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy,
            tags: { "managed-by": "postgres-access", organization: args.organization, environment: env },
        }, child);
        new aws.kms.Alias(`${name}-alias`, { name: organizationKeyAlias(env, args.organization), targetKeyId: key.keyId }, child);
        this.keyArn = key.arn;
        this.keyId = key.keyId;
        this.registerOutputs({ keyArn: this.keyArn });
    }
}
