import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsAppPlatform } from "./awsPlatform";
import { organizationKeyPolicy } from "./policies";

export interface OrganizationSecretsKeyArgs {
    organization: string;
    /** IRSA role ARNs of the organization's secretsmanager apps (decrypt via Secrets Manager only). */
    appRoleArns: pulumi.Input<string>[];
    platform: AwsAppPlatform;
}

/** One customer-managed KMS key per organization for its Secrets Manager entries (rotation on). */
export class OrganizationSecretsKey extends pulumi.ComponentResource {
    public readonly keyArn: pulumi.Output<string>;
    public readonly keyId: pulumi.Output<string>;

    constructor(name: string, args: OrganizationSecretsKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:OrganizationSecretsKey", name, {}, opts);
        const p = args.platform;
        const policy = pulumi.all([p.partition, p.accountId, pulumi.all(args.appRoleArns)]).apply(([partition, account, roles]) =>
            JSON.stringify(organizationKeyPolicy(partition, account, p.region, roles, p.platformAdminRoleArns)));
        const key = new aws.kms.Key(`${name}`, {
            description: `postgres-access ${p.env}: database credentials of organization ${args.organization}`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy,
            tags: { "managed-by": "postgres-access", organization: args.organization, environment: p.env },
        }, { parent: this, provider: p.provider });
        new aws.kms.Alias(`${name}-alias`, { name: `alias/postgres-access/${p.env}/${args.organization}`, targetKeyId: key.keyId }, { parent: this, provider: p.provider });
        this.keyArn = key.arn;
        this.keyId = key.keyId;
        this.registerOutputs({ keyArn: this.keyArn });
    }
}
