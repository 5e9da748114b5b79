import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsConnection } from "../platformConnection";
import { accountOfArn, deployerLockoutProblem, issuerHost } from "./policies";

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
export function awsPlatformProblems(settings: Pick<AwsPlatformSettings, "eksOidcProviderArn" | "eksOidcIssuerUrl">): string[] {
    const problems: string[] = [];
    const host = issuerHost(settings.eksOidcIssuerUrl);
    if (!settings.eksOidcProviderArn.endsWith(`:oidc-provider/${host}`)) {
        problems.push(`eksOidcProviderArn ${settings.eksOidcProviderArn} is not the IAM OIDC provider of issuer ${settings.eksOidcIssuerUrl} (expected …:oidc-provider/${host})`);
    }
    return problems;
}

/**
 * The explicit AWS provider of a platform, pinned to the account of the EKS OIDC provider
 * (`allowedAccountIds`): IRSA roles must live in that account, and credentials for any other account (a
 * prod stack run with staging credentials) fail before anything is created.
 */
export function createAwsProvider(settings: Pick<AwsPlatformSettings, "region" | "eksOidcProviderArn" | "eksOidcIssuerUrl">, opts?: pulumi.CustomResourceOptions): aws.Provider {
    const problems = awsPlatformProblems(settings);
    if (problems.length) throw new Error(`AWS settings: ${problems.join("; ")}`);
    return new aws.Provider("aws", {
        region: settings.region as aws.Region,
        allowedAccountIds: [accountOfArn(settings.eksOidcProviderArn)],
    }, opts);
}

/**
 * The AWS part of a platform's connection: the account and partition looked up once through `provider`,
 * and, when `verifyAdmins` (any organization writes secrets), the platform admins once the identity running
 * `pulumi up` (its role with its path, as `aws:PrincipalArn` reports it) has been found among them; the
 * run fails otherwise, so no secret policy that would lock the deployer out is ever written.
 */
export function awsConnection(settings: AwsPlatformSettings, provider: aws.Provider, verifyAdmins: boolean): AwsConnection {
    const identity = aws.getCallerIdentityOutput({}, { provider });
    const partition = aws.getPartitionOutput({}, { provider });
    const verified = verifyAdmins
        ? aws.iam.getSessionContextOutput({ arn: identity.arn }, { provider }).issuerArn.apply((principalArn) => {
            const problem = deployerLockoutProblem(principalArn, settings.platformAdminRoleArns);
            if (problem) throw new Error(problem);
            return settings.platformAdminRoleArns;
        })
        : undefined;
    return {
        region: settings.region,
        accountId: identity.accountId,
        partition: partition.partition,
        eksOidcProviderArn: settings.eksOidcProviderArn,
        eksOidcIssuerUrl: settings.eksOidcIssuerUrl,
        platformAdminRoleArns: settings.platformAdminRoleArns.map((arn, i) => (verified ? verified.apply((all) => all[i]) : arn)),
        secretRecoveryWindowDays: settings.secretRecoveryWindowDays,
        permissionsBoundaryArn: settings.permissionsBoundaryArn,
    };
}

/** The ARN of the IAM role `roleName` in the connection's account (derived, so ServiceAccounts can carry it up front). */
export function iamRoleArn(connection: AwsConnection, roleName: string): pulumi.Output<string> {
    return pulumi.interpolate`arn:${connection.partition}:iam::${connection.accountId}:role/${roleName}`;
}

/** The annotation that binds a ServiceAccount to an IRSA role. */
export function irsaAnnotations(roleArn: pulumi.Input<string>): Record<string, pulumi.Input<string>> {
    return { "eks.amazonaws.com/role-arn": roleArn };
}

/** The platform admins, waiting for the deployer check (`AwsConnection.platformAdminRoleArns`). */
export function platformAdmins(connection: AwsConnection): pulumi.Output<string[]> {
    return pulumi.all(connection.platformAdminRoleArns);
}
