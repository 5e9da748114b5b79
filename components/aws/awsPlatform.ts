import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AppSpec, OrganizationSpec } from "../types";
import { appNames } from "../naming";
import { accountOfArn, deployerLockoutProblem, issuerHost } from "./policies";

/**
 * Shared AWS facts and settings, built once per stack (not per organization): one explicit provider, the
 * account and partition looked up once, the EKS OIDC provider for IRSA.
 */
export interface AwsAppPlatform {
    /** Explicit provider every AWS resource of the stack uses (region from config, account pinned). */
    provider: aws.Provider;
    /** Account the provider deploys to (getCallerIdentity, looked up once). */
    accountId: pulumi.Output<string>;
    /** `aws`, `aws-cn` or `aws-us-gov` (getPartition, looked up once). */
    partition: pulumi.Output<string>;
    /** Region of the secrets (and of the RDS instance). */
    region: string;
    /** Environment (stack) name. */
    env: string;
    /** ARN of the EKS cluster's IAM OIDC provider (the federated principal of every IRSA trust). */
    oidcProviderArn: string;
    /** The cluster's OIDC issuer URL (`https://oidc.eks.<region>.amazonaws.com/id/<id>`). */
    oidcIssuerUrl: string;
    /** Roles that administer the secrets besides the apps (must include the one running `pulumi up`). */
    platformAdminRoleArns: string[];
    /**
     * `platformAdminRoleArns`, once the identity running `pulumi up` (its role looked up with its path, as
     * `aws:PrincipalArn` reports it) has been found among them; fails the run otherwise, so no secret
     * policy that would lock the deployer out is ever written. Looked up once, on first use.
     */
    verifiedPlatformAdminRoleArns(): pulumi.Output<string[]>;
    /**
     * Days a deleted secret stays recoverable; 0 deletes at once (the default), so a removed app can be added
     * back at once.
     */
    recoveryWindowInDays: number;
    /** Permissions boundary attached to every app role, if the account requires one. */
    permissionsBoundaryArn?: string;
    /** The IRSA role ARN of an app (derived from its name, so ServiceAccounts can carry it up front). */
    appRoleArn(organization: OrganizationSpec, app: AppSpec): pulumi.Output<string>;
    /** Annotations of an app's ServiceAccount: the IRSA role ARN for secretsmanager apps, else none. */
    serviceAccountAnnotations(organization: OrganizationSpec, app: AppSpec): pulumi.Input<Record<string, pulumi.Input<string>>> | undefined;
}

export interface AwsPlatformSettings {
    env: string;
    region: string;
    eksOidcProviderArn: string;
    eksOidcIssuerUrl: string;
    platformAdminRoleArns: string[];
    secretRecoveryWindowDays: number;
    permissionsBoundaryArn?: string;
}

/** Problems with the AWS settings that would make IRSA silently fail (exported for tests). */
export function awsPlatformProblems(settings: AwsPlatformSettings): string[] {
    const problems: string[] = [];
    const host = issuerHost(settings.eksOidcIssuerUrl);
    if (!settings.eksOidcProviderArn.endsWith(`:oidc-provider/${host}`)) {
        problems.push(`eksOidcProviderArn ${settings.eksOidcProviderArn} is not the IAM OIDC provider of issuer ${settings.eksOidcIssuerUrl} (expected …:oidc-provider/${host})`);
    }
    return problems;
}

/**
 * Builds the shared AWS platform. The provider is pinned to the account of the EKS OIDC provider
 * (`allowedAccountIds`): IRSA roles must live in that account, and credentials for any other account
 * (a prod stack run with staging credentials) fail before anything is created.
 */
export function createAwsPlatform(settings: AwsPlatformSettings, opts?: pulumi.CustomResourceOptions): AwsAppPlatform {
    const problems = awsPlatformProblems(settings);
    if (problems.length) throw new Error(`AWS settings: ${problems.join("; ")}`);
    const provider = new aws.Provider("aws", {
        region: settings.region as aws.Region,
        allowedAccountIds: [accountOfArn(settings.eksOidcProviderArn)],
    }, opts);
    const identity = aws.getCallerIdentityOutput({}, { provider });
    const partition = aws.getPartitionOutput({}, { provider });
    const accountId = identity.accountId;
    const partitionName = partition.partition;
    let verifiedAdmins: pulumi.Output<string[]> | undefined;
    const verifiedPlatformAdminRoleArns = () => {
        // The session's source role with its path, as aws:PrincipalArn reports it (other ARNs pass through).
        verifiedAdmins ??= aws.iam.getSessionContextOutput({ arn: identity.arn }, { provider }).issuerArn.apply((principalArn) => {
            const problem = deployerLockoutProblem(principalArn, settings.platformAdminRoleArns);
            if (problem) throw new Error(problem);
            return settings.platformAdminRoleArns;
        });
        return verifiedAdmins;
    };
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
        verifiedPlatformAdminRoleArns,
        recoveryWindowInDays: settings.secretRecoveryWindowDays,
        permissionsBoundaryArn: settings.permissionsBoundaryArn,
        appRoleArn,
        serviceAccountAnnotations: (organization, app) =>
            app.credentials === "secretsmanager" ? { "eks.amazonaws.com/role-arn": appRoleArn(organization, app) } : undefined,
    };
}
