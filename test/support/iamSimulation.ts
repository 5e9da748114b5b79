/**
 * IAM evaluation with @cloud-copilot/iam-simulate.
 *
 * Why the trust-policy path is special: the simulator's strict mode validates condition keys against its
 * catalogue, which lacks the EKS OIDC keys (`oidc.eks.<region>.amazonaws.com/id/<id>:sub` / `:aud`); it drops
 * them and every IRSA request comes back ImplicitlyDenied — a test that cannot fail the other way. Its
 * `runUnsafeSimulation` skips that key validation, but loads resource policies without the metadata its
 * parser requires. We supply that default in-process (wrapping the parser's `loadPolicy` at runtime; no
 * file in node_modules is changed), so trust policies are evaluated with their real StringEquals
 * conditions. The test proves the evaluation discriminates: the exact ServiceAccount is Allowed, and a
 * wrong namespace, ServiceAccount, audience or OIDC provider is denied.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parser = require(require.resolve("@cloud-copilot/iam-policy").replace(/index\.js$/, "parser.js"));
if (!parser.__postgresAccessPatched) {
    const loadPolicy = parser.loadPolicy;
    parser.loadPolicy = (document: unknown, metadata?: unknown) => loadPolicy(document, metadata ?? { name: "ResourcePolicy" });
    parser.__postgresAccessPatched = true;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const simulator = require("@cloud-copilot/iam-simulate") as { runSimulation(s: any, o: any): Promise<any>; runUnsafeSimulation(s: any, o: any): Promise<any> };

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

function accountOf(arn: string): string {
    return arn.split(":")[4];
}

/** An identity (and optionally resource) policy decision for a role session, in strict mode. */
export async function simulate(request: { identityPolicy: any; resourcePolicy?: any; principal: string; action: string; resource: string; context?: Record<string, string> }): Promise<Decision> {
    const roleName = request.principal.split("/").pop();
    const sessionArn = `arn:aws:sts::${accountOf(request.principal)}:assumed-role/${roleName}/session`;
    const result = await simulator.runSimulation({
        identityPolicies: [{ name: "identity", policy: request.identityPolicy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
        request: {
            principal: sessionArn,
            action: request.action,
            resource: { accountId: accountOf(request.resource) || accountOf(request.principal), resource: request.resource },
            contextVariables: { "aws:PrincipalArn": request.principal, ...(request.context ?? {}) },
        },
    }, {});
    if (result.resultType === "error") throw new Error(`simulation error: ${JSON.stringify(result.errors ?? result)}`);
    return result.overallResult as Decision;
}

/** Whether a web identity from `principal` (an OIDC provider) may assume the role, per its trust policy. */
export async function simulateTrust(request: { trustPolicy: any; principal: string; roleArn: string; context: Record<string, string> }): Promise<Decision> {
    const result = await simulator.runUnsafeSimulation({
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: request.trustPolicy,
        request: {
            principal: request.principal,
            action: "sts:AssumeRoleWithWebIdentity",
            resource: { accountId: accountOf(request.roleArn), resource: request.roleArn },
            contextVariables: request.context,
        },
    }, {});
    return (typeof result === "string" ? result : result.overallResult) as Decision;
}
