import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsAppPlatform } from "./awsPlatform";
import { organizationKeyPolicy } from "./policies";
import { organizationKeyAlias } from "../naming";

export interface OrganizationSecretsKeyArgs {
    /** The organization's name (alias and tags). */
    organization: string;
    /** IRSA role ARNs of the organization's secretsmanager apps (may decrypt, only via Secrets Manager). */
    appRoleArns: pulumi.Input<string>[];
    /** Shared AWS facts (provider, account, platform admins). */
    platform: AwsAppPlatform;
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
        const p = args.platform;
        const child = { parent: this, provider: p.provider };
        // The admins once the deployer is verified among them: no key (and so no secret) exists before that.
        const policy = pulumi.all([p.partition, p.accountId, pulumi.all(args.appRoleArns), p.verifiedPlatformAdminRoleArns()]).apply(([partition, account, roles, admins]) =>
            JSON.stringify(organizationKeyPolicy(partition, account, p.region, roles, admins)));
        const key = new aws.kms.Key(`${name}`, {
            description: `postgres-access ${p.env}: database credentials of organization ${args.organization}`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy,
            tags: { "managed-by": "postgres-access", organization: args.organization, environment: p.env },
        }, child);
        new aws.kms.Alias(`${name}-alias`, { name: organizationKeyAlias(p.env, args.organization), targetKeyId: key.keyId }, child);
        this.keyArn = key.arn;
        this.keyId = key.keyId;
        this.registerOutputs({ keyArn: this.keyArn });
    }
}
