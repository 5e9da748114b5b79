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
