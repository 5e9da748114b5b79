/**
 * IAM evaluation with @cloud-copilot/iam-simulate (a dev dependency, used as installed by a clean `npm ci`).
 *
 * Identity, KMS key and secret resource policies go through `runSimulation` in its default Strict mode:
 * it validates the policies, action names and ARNs, and evaluates the conditions with the context keys
 * AWS would send. The caller supplies the keys AWS derives from the caller itself (`aws:PrincipalArn`,
 * `aws:PrincipalAccount`), because the simulator does not derive them.
 *
 * IRSA trust policies need another path. Strict mode only keeps context keys its catalogue (iam-data)
 * lists for the action, and that catalogue has no EKS OIDC keys (`oidc.eks.<region>.amazonaws.com/id/<id>:sub`
 * / `:aud`): it drops them, so every StringEquals on them fails and every web identity is ImplicitlyDenied
 * — a test that could never fail the other way (`strictTrustDecision` shows it). So trust policies are
 * evaluated with `runUnsafeSimulation`, which keeps every supplied key. That function loads the resource
 * policy without the metadata (`{ name }`) its engine later reads and crashes; iam-policy's public
 * `createValidatedPolicy` carries metadata with the document (and `loadPolicy` takes it from there), so we
 * hand it a trust policy validated by iam-policy's own `validateTrustPolicy` together with its name.
 * Nothing in node_modules is patched or wrapped; both functions are public API of the installed versions.
 * The tests prove the evaluation discriminates: the exact ServiceAccount is Allowed; another namespace,
 * ServiceAccount, audience or OIDC provider is denied; a StringLike wildcard policy would admit another
 * namespace.
 */
import * as path from "path";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const simulator = require("@cloud-copilot/iam-simulate") as {
    runSimulation(simulation: any, options: any): Promise<any>;
    runUnsafeSimulation(simulation: any, options: any): any;
};
// The copy of iam-policy that iam-simulate itself loads (a dependency of it, not of ours).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const iamPolicy = require(require.resolve("@cloud-copilot/iam-policy", { paths: [path.dirname(require.resolve("@cloud-copilot/iam-simulate"))] })) as {
    createValidatedPolicy(document: any, validate: (p: any) => { path: string; message: string }[], metadata?: { name: string }): { errors: { path: string; message: string }[] };
    validateTrustPolicy(document: any): { path: string; message: string }[];
    validateIdentityPolicy(document: any): { path: string; message: string }[];
    validateResourcePolicy(document: any): { path: string; message: string }[];
};

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

export function accountOf(arn: string): string {
    return arn.split(":")[4];
}

/** iam-policy's validation errors of a document, by kind (empty = valid). */
export function policyErrors(kind: "trust" | "identity" | "resource", document: any): string[] {
    const validate = { trust: iamPolicy.validateTrustPolicy, identity: iamPolicy.validateIdentityPolicy, resource: iamPolicy.validateResourcePolicy }[kind];
    return validate(document).map((e) => `${e.path}: ${e.message}`);
}

export interface RoleRequest {
    /** Identity policies of the role (inline and attached). */
    identityPolicies: any[];
    /** The resource's policy (secret resource policy, KMS key policy), if any. */
    resourcePolicy?: any;
    /** The role's ARN (`arn:aws:iam::<account>:role/<name>`); the request comes from a session of it. */
    roleArn: string;
    action: string;
    resource: string;
    /** Request context beyond what AWS derives from the caller (e.g. `kms:ViaService`). */
    context?: Record<string, string>;
}

/** A role session's request, in Strict mode. */
export async function simulate(request: RoleRequest): Promise<Decision> {
    const account = accountOf(request.roleArn);
    const roleName = request.roleArn.split("/").pop();
    const result = await simulator.runSimulation({
        identityPolicies: request.identityPolicies.map((policy, i) => ({ name: `identity-${i}`, policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
        request: {
            principal: `arn:aws:sts::${account}:assumed-role/${roleName}/session`,
            action: request.action,
            resource: { accountId: accountOf(request.resource) || account, resource: request.resource },
            // what AWS puts in every request of a role session
            contextVariables: { "aws:PrincipalArn": request.roleArn, "aws:PrincipalAccount": account, "aws:PrincipalType": "AssumedRole", ...(request.context ?? {}) },
        },
    }, {});
    if (result.resultType === "error") throw new Error(`simulation error: ${JSON.stringify(result.errors ?? result)}`);
    return result.overallResult as Decision;
}

export interface TrustRequest {
    trustPolicy: any;
    /** The federated principal presenting the token (an IAM OIDC provider ARN). */
    oidcProviderArn: string;
    roleArn: string;
    /** The token's claims as context keys (`<issuer>:sub`, `<issuer>:aud`). */
    context: Record<string, string>;
}

/**
 * The request context STS evaluates a trust policy with for `AssumeRoleWithWebIdentity`: the token's claims
 * under the issuer's key prefix, and the global keys of an unsigned, federated call. There is no
 * `aws:PrincipalArn`/`aws:PrincipalAccount` here: the caller is no IAM principal (the token authenticates
 * it); `aws:FederatedProvider` names the IAM OIDC provider that vouched for the token. A claim left
 * `undefined` is absent from the token.
 */
export function webIdentityContext(identity: { oidcProviderArn: string; issuer: string; sub?: string; aud?: string }): Record<string, string> {
    const context: Record<string, string> = {
        "aws:FederatedProvider": identity.oidcProviderArn,
        "aws:SecureTransport": "true",
        "aws:RequestedRegion": identity.oidcProviderArn.match(/oidc\.eks\.([a-z0-9-]+)\./)?.[1] ?? "us-east-1",
        "aws:CurrentTime": "2026-06-01T12:00:00Z",
        "aws:EpochTime": "1780315200",
    };
    if (identity.sub !== undefined) context[`${identity.issuer}:sub`] = identity.sub;
    if (identity.aud !== undefined) context[`${identity.issuer}:aud`] = identity.aud;
    return context;
}

/** Who should be able to assume an IRSA role: one ServiceAccount's tokens, from one cluster, for STS. */
export interface IrsaExpectation {
    /** The cluster's IAM OIDC provider ARN (from the stack config, not from the policy). */
    oidcProviderArn: string;
    /** The issuer as condition keys spell it (host and path, no https://). */
    issuer: string;
    namespace: string;
    serviceAccount: string;
    /** Every other ServiceAccount that exists (`<namespace>/<name>`): none of them may get in. */
    otherServiceAccounts: string[];
}

/**
 * Judges a trust policy by what it lets through, whatever operators it is written with: the app's own
 * ServiceAccount token (audience sts.amazonaws.com, from its cluster) must be Allowed; every near miss —
 * another ServiceAccount of the stack, the same name in another namespace, a namespace or name that
 * shares a prefix or differs by one character, a sub that looks like a wildcard, a missing sub, another
 * audience or none, another cluster's provider — must be denied. Returns the violations (empty = right).
 * A harmless rewrite (StringLike with the exact value, a one-element list, ForAnyValue:StringEquals) passes;
 * any widening fails with the claim it lets in.
 */
export function irsaTrustViolations(trustPolicy: any, roleArn: string, expected: IrsaExpectation): string[] {
    const { oidcProviderArn, issuer, namespace, serviceAccount } = expected;
    const sub = (ns: string, sa: string) => `system:serviceaccount:${ns}:${sa}`;
    const own = sub(namespace, serviceAccount);
    const decide = (identity: { provider?: string; issuer?: string; sub?: string; aud?: string }) =>
        simulateTrust({
            trustPolicy,
            oidcProviderArn: identity.provider ?? oidcProviderArn,
            roleArn,
            context: webIdentityContext({ oidcProviderArn: identity.provider ?? oidcProviderArn, issuer: identity.issuer ?? issuer, sub: identity.sub, aud: identity.aud }),
        });
    const problems: string[] = [];
    const allowed = decide({ sub: own, aud: "sts.amazonaws.com" });
    if (allowed !== "Allowed") problems.push(`${own} with audience sts.amazonaws.com: ${allowed}, expected Allowed`);
    const oneOff = (name: string) => name.slice(0, -1) + (name.endsWith("x") ? "y" : "x");
    const deniedSubs = new Set<string>([
        ...expected.otherServiceAccounts.map((key) => sub(key.split("/")[0], key.split("/")[1])),
        sub("other-team", serviceAccount), sub(`${namespace}-x`, serviceAccount), sub(`x${namespace}`, serviceAccount), sub(oneOff(namespace), serviceAccount),
        sub(namespace, "default"), sub(namespace, `${serviceAccount}-x`), sub(namespace, `x${serviceAccount}`), sub(namespace, oneOff(serviceAccount)),
        sub(namespace, "*"), sub("*", serviceAccount), "*", `${own}:extra`, `${own}x`, `system:serviceaccount:${namespace}`, `system:node:${serviceAccount}`, "",
    ]);
    deniedSubs.delete(own);
    const denied: { what: string; identity: Parameters<typeof decide>[0] }[] = [
        ...[...deniedSubs].map((s) => ({ what: `sub ${JSON.stringify(s)}`, identity: { sub: s, aud: "sts.amazonaws.com" } })),
        { what: "a token without sub", identity: { aud: "sts.amazonaws.com" } },
        ...["vault", "sts.amazonaws.com.evil", "", "*"].map((aud) => ({ what: `audience ${JSON.stringify(aud)}`, identity: { sub: own, aud } })),
        { what: "a token without aud", identity: { sub: own } },
    ];
    const otherProvider = oidcProviderArn.replace(/id\/[^/]+$/, "id/0THERC1USTER0000000000000000000");
    denied.push({ what: "another cluster's OIDC provider", identity: { provider: otherProvider, issuer: otherProvider.split(":oidc-provider/")[1], sub: own, aud: "sts.amazonaws.com" } });
    denied.push({ what: "another provider presenting this issuer's claims", identity: { provider: otherProvider, sub: own, aud: "sts.amazonaws.com" } });
    for (const { what, identity } of denied) {
        const decision = decide(identity);
        if (decision === "Allowed") problems.push(`${what} (for ${own}): Allowed`);
    }
    return problems;
}

/** Whether a web identity from `oidcProviderArn` may assume the role, per its trust policy (see the header). */
export function simulateTrust(request: TrustRequest): Decision {
    const trust = iamPolicy.createValidatedPolicy(request.trustPolicy, iamPolicy.validateTrustPolicy, { name: "TrustPolicy" });
    if (trust.errors.length) throw new Error(`invalid trust policy: ${JSON.stringify(trust.errors)}`);
    const result = simulator.runUnsafeSimulation({
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: trust,
        request: {
            principal: request.oidcProviderArn,
            action: "sts:AssumeRoleWithWebIdentity",
            resource: { accountId: accountOf(request.roleArn), resource: request.roleArn },
            contextVariables: request.context,
        },
    }, {});
    return (typeof result === "string" ? result : result.overallResult) as Decision;
}

/** The same trust question in Strict mode, and the context keys Strict mode dropped (the trap). */
export async function strictTrustDecision(request: TrustRequest): Promise<{ decision: Decision; ignoredContextKeys: string[] }> {
    const result = await simulator.runSimulation({
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: request.trustPolicy,
        request: {
            principal: request.oidcProviderArn,
            action: "sts:AssumeRoleWithWebIdentity",
            resource: { accountId: accountOf(request.roleArn), resource: request.roleArn },
            contextVariables: request.context,
        },
    }, {});
    if (result.resultType === "error") throw new Error(`simulation error: ${JSON.stringify(result.errors ?? result)}`);
    return { decision: result.overallResult, ignoredContextKeys: result.result?.ignoredContextKeys ?? [] };
}
