import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AppSpec, OrganizationSpec } from "../types";
import { appNames } from "../naming";

/** Shared AWS facts and settings, fetched once per stack (not per organization). */
export interface AwsAppPlatform {
    provider: aws.Provider;
    accountId: pulumi.Output<string>;
    partition: pulumi.Output<string>;
    region: string;
    env: string;
    oidcProviderArn: string;
    oidcIssuerUrl: string;
    platformAdminRoleArns: string[];
    recoveryWindowInDays: number;
    /** The IRSA role ARN of an app (derived from its name, so ServiceAccounts can carry it up front). */
    appRoleArn(organization: OrganizationSpec, app: AppSpec): pulumi.Output<string>;
    /** Annotations of an app's ServiceAccount: the IRSA role ARN for secretsmanager apps. */
    serviceAccountAnnotations(organization: OrganizationSpec, app: AppSpec): pulumi.Input<Record<string, pulumi.Input<string>>> | undefined;
}

export interface AwsPlatformSettings {
    env: string;
    region: string;
    eksOidcProviderArn: string;
    eksOidcIssuerUrl: string;
    platformAdminRoleArns: string[];
    secretRecoveryWindowDays: number;
}

/** Builds the shared AWS platform: one explicit provider, account and partition looked up once. */
export function createAwsPlatform(settings: AwsPlatformSettings): AwsAppPlatform {
    const provider = new aws.Provider("aws", { region: settings.region as aws.Region });
    const identity = aws.getCallerIdentityOutput({}, { provider });
    const partition = aws.getPartitionOutput({}, { provider });
    const accountId = identity.accountId;
    const partitionName = partition.partition;
    const appRoleArn = (organization: OrganizationSpec, app: AppSpec) => {
        const role = appNames(organization.name, app.name, settings.env, app.isDefaultApp).iamRole;
        return pulumi.interpolate`arn:${partitionName}:iam::${accountId}:role/${role}`;
    };
    return {
        provider,
        accountId,
        partition: partitionName,
        region: settings.region,
        env: settings.env,
        oidcProviderArn: settings.eksOidcProviderArn,
        oidcIssuerUrl: settings.eksOidcIssuerUrl,
        platformAdminRoleArns: settings.platformAdminRoleArns,
        recoveryWindowInDays: settings.secretRecoveryWindowDays,
        appRoleArn,
        serviceAccountAnnotations: (organization, app) =>
            app.credentials === "secretsmanager" ? { "eks.amazonaws.com/role-arn": appRoleArn(organization, app) } : undefined,
    };
}
