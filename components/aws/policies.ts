/**
 * IAM and KMS policy documents for the AWS path, as pure functions (evaluated by iam-simulate in tests).
 */

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: Record<string, unknown>[];
}

/** The issuer as IAM condition keys spell it: without `https://`. */
export function issuerHost(issuerUrl: string): string {
    return issuerUrl.replace(/^https:\/\//, "").replace(/\/$/, "");
}

/**
 * IRSA trust: only the app's exact ServiceAccount, only with the STS audience, only through the cluster's
 * OIDC provider (StringEquals on both `sub` and `aud`; never StringLike, never a wildcard).
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

/** The ARN pattern of a secret by name: Secrets Manager appends `-` and exactly 6 characters. */
export function secretArnPattern(partition: string, region: string, accountId: string, secretName: string): string {
    return `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${secretName}-??????`;
}

/** The app role's permissions: read its own secret, decrypt with its organization's key only via Secrets Manager. */
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
                Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } },
            },
        ],
    };
}

/**
 * The secret's resource policy: deny every principal except the app's role and the platform admins
 * (the deploying role must be among them to keep managing the secret).
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
 * The organization's KMS key policy: the account administers it through IAM (the standard root statement);
 * the organization's app roles may only decrypt, and only through Secrets Manager in this region.
 */
export function organizationKeyPolicy(partition: string, accountId: string, region: string, appRoleArns: string[], platformAdminRoleArns: string[]): PolicyDocument {
    const statements: Record<string, unknown>[] = [
        { Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
    ];
    if (platformAdminRoleArns.length) {
        statements.push({ Sid: "PlatformAdminsUseViaSecretsManager", Effect: "Allow", Principal: { AWS: platformAdminRoleArns }, Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"], Resource: "*", Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } } });
    }
    if (appRoleArns.length) {
        statements.push({ Sid: "OrganizationAppsDecryptViaSecretsManager", Effect: "Allow", Principal: { AWS: appRoleArns }, Action: "kms:Decrypt", Resource: "*", Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } } });
    }
    return { Version: "2012-10-17", Statement: statements };
}
