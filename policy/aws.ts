/**
 * AWS IAM and KMS policies: web-identity (IRSA) trust pinned to exactly one ServiceAccount and audience,
 * Secrets Manager read access to at most one secret per policy document, and no key policy that lets the
 * account root (and so any IAM policy in the account) decrypt.
 */
import { ResourceValidationPolicy, ReportViolation } from "@pulumi/policy";
import { asList, hasWildcard, isObject } from "./common";
import { IamStatement, grantsAction, isAccountRoot, isAllow, principalsOf, statementLabel, statementsOf } from "./iamDocuments";

export const IAM_ROLE = "aws:iam/role:Role";
export const IAM_POLICY = "aws:iam/policy:Policy";
export const IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
export const IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy";
export const IAM_GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy";
export const KMS_KEY = "aws:kms/key:Key";
export const KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy";

const WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity";
const STS_AUDIENCE = "sts.amazonaws.com";

/** Checks one trust statement that lets a web identity assume the role. */
function checkWebIdentityStatement(statement: IamStatement, label: string, report: (message: string) => void): void {
    const federated = principalsOf(statement, "Federated");
    if (federated.includes("*") || federated.length === 0) {
        report(`${label} lets any web identity assume the role (Principal ${JSON.stringify(statement.Principal)})`);
        return;
    }
    const condition = isObject(statement.Condition) ? statement.Condition : {};
    for (const [operator, keys] of Object.entries(condition)) {
        if (/Like$/i.test(operator)) {
            report(`${label} uses ${operator} on ${Object.keys(isObject(keys) ? keys : {}).join(", ")}: web-identity trust must use StringEquals with exact values`);
        }
    }
    const equals: Record<string, unknown> = isObject(condition.StringEquals) ? condition.StringEquals : {};
    for (const provider of federated) {
        const issuer = provider.split(":oidc-provider/")[1];
        if (!issuer) {
            report(`${label}: ${provider} is not an OIDC provider ARN`);
            continue;
        }
        const sub = asList(equals[`${issuer}:sub`]).map(String);
        const aud = asList(equals[`${issuer}:aud`]).map(String);
        if (sub.length !== 1) {
            report(`${label} does not pin ${issuer}:sub to exactly one subject with StringEquals (found ${sub.length ? JSON.stringify(sub) : "none"}): any ServiceAccount of the cluster could assume the role`);
        } else if (hasWildcard(sub[0])) {
            report(`${label} has a wildcard in ${issuer}:sub (${JSON.stringify(sub[0])}); name one ServiceAccount, system:serviceaccount:<namespace>:<name>`);
        }
        if (aud.length !== 1 || aud[0] !== STS_AUDIENCE) {
            report(`${label} does not pin ${issuer}:aud to ${STS_AUDIENCE} with StringEquals (found ${aud.length ? JSON.stringify(aud) : "none"})`);
        }
    }
}

export const irsaTrustExact: ResourceValidationPolicy = {
    name: "iam-irsa-trust-exact",
    description: "A role that a web identity (IRSA) may assume pins <issuer>:sub to one ServiceAccount and <issuer>:aud to sts.amazonaws.com with StringEquals; no StringLike, no wildcards.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== IAM_ROLE) return;
        statementsOf(args.props.assumeRolePolicy, "assumeRolePolicy").forEach((statement, i) => {
            if (grantsAction(statement, WEB_IDENTITY)) checkWebIdentityStatement(statement, `assumeRolePolicy ${statementLabel(statement, i)}`, reportViolation);
        });
    },
};

/** The identity policy documents a resource carries, each with a label. */
function identityDocuments(type: string, props: Record<string, any>): [label: string, document: unknown][] {
    if (type === IAM_POLICY || type === IAM_ROLE_POLICY || type === IAM_USER_POLICY || type === IAM_GROUP_POLICY) return [["policy", props.policy]];
    if (type === IAM_ROLE) return asList<Record<string, any>>(props.inlinePolicies).map((p, i) => [`inlinePolicies[${i}] (${p?.name ?? "unnamed"})`, p?.policy]);
    return [];
}

const SECRET_ARN = /^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)$/;

/** The secret a resource ARN names (without the `-??????` suffix), or why it names more than one. */
function secretOf(resource: string): { secret?: string; problem?: string } {
    const m = SECRET_ARN.exec(resource);
    if (!m) return { problem: resource === "*" ? `Resource "*" (every secret)` : `Resource ${JSON.stringify(resource)} is not one secret's ARN` };
    const name = m[1].replace(/-\?{6}$/, "");
    if (hasWildcard(name)) return { problem: `Resource ${JSON.stringify(resource)} has a wildcard in the secret's name` };
    return { secret: name };
}

function checkSecretsRead(label: string, document: unknown, report: ReportViolation): void {
    const secrets = new Set<string>();
    statementsOf(document, label).forEach((statement, i) => {
        if (!grantsAction(statement, "secretsmanager:GetSecretValue")) return;
        const where = `${label} ${statementLabel(statement, i)}`;
        if (statement.NotResource !== undefined) {
            report(`${where} grants secretsmanager:GetSecretValue with NotResource (every secret but some)`);
            return;
        }
        for (const resource of asList(statement.Resource).map(String)) {
            const { secret, problem } = secretOf(resource);
            if (problem) report(`${where} grants secretsmanager:GetSecretValue beyond one secret: ${problem}`);
            if (secret) secrets.add(secret);
        }
    });
    if (secrets.size > 1) report(`${label} lets one identity read ${secrets.size} secrets (${[...secrets].sort().join(", ")}); an app reads only its own`);
}

export const secretsReadSingleSecret: ResourceValidationPolicy = {
    name: "iam-secrets-read-single-secret",
    description: "An identity policy grants secretsmanager:GetSecretValue on at most one secret, named by its ARN (only the -?????? suffix may be a wildcard).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const [label, document] of identityDocuments(args.type, args.props)) checkSecretsRead(label, document, reportViolation);
    },
};

export const kmsNoRootDecrypt: ResourceValidationPolicy = {
    name: "kms-key-no-root-decrypt",
    description: "A KMS key policy does not grant kms:Decrypt to the account root (which delegates it to every IAM policy in the account) or to everyone; a key without a policy gets AWS's default policy, which does.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== KMS_KEY && args.type !== KMS_KEY_POLICY) return;
        const statements = statementsOf(args.props.policy, "policy");
        if (args.type === KMS_KEY && args.props.policy === undefined) {
            reportViolation("no key policy: AWS attaches its default key policy, which allows the account root kms:* (kms:Decrypt included) for any IAM policy in the account to use");
            return;
        }
        statements.forEach((statement, i) => {
            if (!grantsAction(statement, "kms:Decrypt")) return;
            const label = `policy ${statementLabel(statement, i)}`;
            if (isAllow(statement) && statement.NotPrincipal !== undefined) {
                reportViolation(`${label} allows kms:Decrypt to everyone but NotPrincipal`);
                return;
            }
            const principals = principalsOf(statement, "AWS");
            const roots = principals.filter(isAccountRoot);
            if (roots.length) reportViolation(`${label} allows kms:Decrypt to the account root ${roots.join(", ")}: any IAM policy in the account could then decrypt`);
            if (principals.includes("*") && !isObject(statement.Condition)) reportViolation(`${label} allows kms:Decrypt to every principal ("*") without a condition`);
        });
    },
};

export const awsPolicies = [irsaTrustExact, secretsReadSingleSecret, kmsNoRootDecrypt];
