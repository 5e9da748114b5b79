/**
 * IAM, KMS and Secrets Manager policy documents of the AWS path, as pure functions (unit-tested, and
 * evaluated by @cloud-copilot/iam-simulate in test/aws).
 */

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: Record<string, unknown>[];
}

/** The issuer as IAM condition keys spell it: without `https://` and without a trailing `/`. */
export function issuerHost(issuerUrl: string): string {
    return issuerUrl.replace(/^https:\/\//, "").replace(/\/$/, "");
}

/** The AWS account id inside an ARN (`arn:<partition>:<service>:<region>:<account>:…`). */
export function accountOfArn(arn: string): string {
    return arn.split(":")[4] ?? "";
}

/** The Secrets Manager endpoint name KMS reports in `kms:ViaService` for a region. */
export function secretsManagerViaService(region: string): string {
    return `secretsmanager.${region}.amazonaws.com`;
}

/**
 * IRSA trust: only the app's exact ServiceAccount, only with the STS audience, only through the cluster's
 * OIDC provider (`StringEquals` on both `sub` and `aud`; never `StringLike`, never a wildcard).
 */
export function irsaTrustPolicy(oidcProviderArn: string, issuerUrl: string, namespace: string, serviceAccount: string): PolicyDocument {
    const issuer = issuerHost(issuerUrl);
    return {
        Version: "2012-10-17",
        Statement: [{
            Sid: "AppServiceAccountOnly",
            Effect: "Allow",
            Principal: { Federated: oidcProviderArn },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
                StringEquals: {
                    [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                    [`${issuer}:aud`]: "sts.amazonaws.com",
                },
            },
        }],
    };
}

/**
 * The ARN pattern of a secret by name. Secrets Manager appends `-` and exactly 6 random characters, so
 * `-??????` matches this secret only; `*` would also match `<name>-x-AbCdEf`, another secret's name.
 */
export function secretArnPattern(partition: string, region: string, accountId: string, secretName: string): string {
    return `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${secretName}-??????`;
}

/**
 * The app role's permissions: read (GetSecretValue, DescribeSecret) its own secret, and decrypt with its
 * organization's key only when Secrets Manager in this region asks on its behalf.
 */
export function appSecretAccessPolicy(secretArn: string, keyArn: string, region: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadOwnDatabaseSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: secretArn },
            {
                Sid: "DecryptViaSecretsManager",
                Effect: "Allow",
                Action: "kms:Decrypt",
                Resource: keyArn,
                Condition: { StringEquals: { "kms:ViaService": secretsManagerViaService(region) } },
            },
        ],
    };
}

/**
 * The secret's resource policy: deny every principal except the app's role and the platform admins
 * (the role that runs `pulumi up` must be among them, or it locks itself out of the secret).
 * The exception is a condition on `aws:PrincipalArn`, which names roles, not sessions.
 */
export function secretResourcePolicy(appRoleArn: string, platformAdminRoleArns: string[]): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{
            Sid: "OnlyTheAppAndPlatformAdmins",
            Effect: "Deny",
            Principal: "*",
            Action: "secretsmanager:*",
            Resource: "*",
            Condition: { StringNotEquals: { "aws:PrincipalArn": [appRoleArn, ...platformAdminRoleArns] } },
        }],
    };
}

/**
 * The organization's KMS key policy:
 * - the account administers the key through IAM (the standard root statement, without which a key can
 *   become unmanageable);
 * - the platform admins may use it, only through Secrets Manager (to write the secrets);
 * - the organization's app roles may only decrypt, only through Secrets Manager in this region.
 *
 * The app roles are matched by `aws:PrincipalArn` (plus `aws:PrincipalAccount`), not listed as
 * principals: KMS rejects a policy naming a role that does not exist yet (the roles are created in the
 * same update), and it silently rewrites a named role into its unique id, which stops matching when the
 * role is re-created. A condition on the ARN has neither problem.
 */
export function organizationKeyPolicy(partition: string, accountId: string, region: string, appRoleArns: string[], platformAdminRoleArns: string[]): PolicyDocument {
    const via = secretsManagerViaService(region);
    const statements: Record<string, unknown>[] = [
        { Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
    ];
    if (platformAdminRoleArns.length) {
        statements.push({
            Sid: "PlatformAdminsUseViaSecretsManager",
            Effect: "Allow",
            Principal: { AWS: platformAdminRoleArns },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"],
            Resource: "*",
            Condition: { StringEquals: { "kms:ViaService": via } },
        });
    }
    if (appRoleArns.length) {
        statements.push({
            Sid: "OrganizationAppsDecryptViaSecretsManager",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "kms:Decrypt",
            Resource: "*",
            Condition: {
                StringEquals: { "kms:ViaService": via, "aws:PrincipalAccount": accountId },
                ArnEquals: { "aws:PrincipalArn": appRoleArns },
            },
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}
