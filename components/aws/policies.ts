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
 * organization's key only when Secrets Manager in this region asks on its behalf. With `notAfter` (an
 * access request's expiry, RFC 3339) both hold only while `aws:CurrentTime` is before it: IAM itself ends
 * the access, whether or not anyone runs `pulumi up`.
 */
export function appSecretAccessPolicy(secretArn: string, keyArn: string, region: string, notAfter?: string): PolicyDocument {
    const until = notAfter ? { DateLessThan: { "aws:CurrentTime": notAfter } } : {};
    const read: Record<string, unknown> = { Sid: "ReadOwnDatabaseSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: secretArn };
    if (notAfter) read.Condition = until;
    return {
        Version: "2012-10-17",
        Statement: [
            read,
            {
                Sid: "DecryptViaSecretsManager",
                Effect: "Allow",
                Action: "kms:Decrypt",
                Resource: keyArn,
                Condition: { StringEquals: { "kms:ViaService": secretsManagerViaService(region) }, ...until },
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
 * What the account may do with an organization's key through IAM policies: administer it, never use it.
 * Without the cryptographic actions (Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*) and without
 * `kms:CreateGrant` (a grant would hand them out), a role with `kms:*` on `*` in its IAM policy still cannot
 * decrypt an organization's secrets; only the key policy's own statements below can allow that.
 * `kms:PutKeyPolicy` stays with the account (KMS refuses a policy that would lock its creator out of it),
 * so an account administrator can always change the policy, visibly in CloudTrail.
 */
export const KEY_ADMINISTRATION_ACTIONS = [
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants",
    "kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:CreateAlias",
    "kms:UpdateAlias", "kms:DeleteAlias", "kms:UpdateKeyDescription", "kms:EnableKey", "kms:DisableKey",
    "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:RotateKeyOnDemand", "kms:RevokeGrant", "kms:RetireGrant",
    "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
];

/**
 * The organization's KMS key policy:
 * - the account administers the key through IAM, but cannot use it (`KEY_ADMINISTRATION_ACTIONS`);
 * - the platform admins may use it, only through Secrets Manager in this region (to write the secrets);
 * - the organization's app roles may only decrypt, only through Secrets Manager in this region.
 *
 * Roles are matched by `aws:PrincipalArn` (plus `aws:PrincipalAccount`), not listed as principals: KMS
 * rejects a policy naming a role that does not exist yet (the app roles are created in the same update),
 * and it silently rewrites a named role into its unique id, which stops matching when the role is
 * re-created. A condition on the ARN has neither problem.
 */
export function organizationKeyPolicy(partition: string, accountId: string, region: string, appRoleArns: string[], platformAdminRoleArns: string[]): PolicyDocument {
    const via = secretsManagerViaService(region);
    const usedBy = (roleArns: string[]) => ({
        StringEquals: { "kms:ViaService": via, "aws:PrincipalAccount": accountId },
        ArnEquals: { "aws:PrincipalArn": roleArns },
    });
    const statements: Record<string, unknown>[] = [
        { Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: KEY_ADMINISTRATION_ACTIONS, Resource: "*" },
    ];
    if (platformAdminRoleArns.length) {
        statements.push({
            Sid: "PlatformAdminsUseViaSecretsManager",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"],
            Resource: "*",
            Condition: usedBy(platformAdminRoleArns),
        });
    }
    if (appRoleArns.length) {
        statements.push({
            Sid: "OrganizationAppsDecryptViaSecretsManager",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "kms:Decrypt",
            Resource: "*",
            Condition: usedBy(appRoleArns),
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/**
 * The RDS storage key's policy, as AWS's own `aws/rds` key has it but without the account-wide grant: the
 * account administers the key through IAM (never uses it), and principals of this account may use it only
 * through RDS in this region (`kms:ViaService`, `kms:CallerAccount`): storage, snapshots, Performance
 * Insights. Without an explicit policy AWS attaches its default one, which lets every IAM policy in the
 * account decrypt with it directly.
 */
export function rdsStorageKeyPolicy(partition: string, accountId: string, region: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: KEY_ADMINISTRATION_ACTIONS, Resource: "*" },
            {
                Sid: "AccountUsesOnlyThroughRds",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"],
                Resource: "*",
                Condition: { StringEquals: { "kms:ViaService": `rds.${region}.amazonaws.com`, "kms:CallerAccount": accountId } },
            },
        ],
    };
}

/**
 * Why running `pulumi up` as this principal would lock the deployer out of the secrets it manages (every
 * secret's resource policy denies all but the app and `platformAdminRoleArns`), or undefined when it is
 * one of the admins. `principalArn` is what `aws:PrincipalArn` reports: the role ARN with its path.
 */
export function deployerLockoutProblem(principalArn: string, platformAdminRoleArns: string[]): string | undefined {
    if (platformAdminRoleArns.includes(principalArn)) return undefined;
    const name = principalArn.split("/").pop();
    const account = principalArn.split(":")[4];
    const sameName = platformAdminRoleArns.find((arn) => arn.split("/").pop() === name && principalArn.includes(":role/"));
    const hint = !principalArn.includes(":role/")
        ? " (run `pulumi up` as an IAM role, not a user or the root account)"
        : sameName && sameName.split(":")[4] !== account
            ? ` (${sameName} is a role of account ${sameName.split(":")[4]}; pulumi runs in account ${account})`
            : sameName ? ` (${sameName} names the same role without its path: IAM compares the full ARN)` : "";
    return `aws.platformAdminRoleArns: the identity running pulumi up, ${principalArn}, is not listed${hint}; each secret's resource policy would deny it, so it would lock itself out. Add this ARN to aws.platformAdminRoleArns.`;
}
