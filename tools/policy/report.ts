/** Text report of an offline policy run: every violation with its level, policy, resource and message. */
import type { PolicyRunResult, PolicyViolation } from "./runPolicies";

const order = (v: PolicyViolation): string => `${v.enforcementLevel === "mandatory" ? 0 : 1}\u0000${v.policyName}\u0000${v.resource?.type ?? ""}\u0000${v.resource?.name ?? ""}\u0000${v.message}`;

export function describePolicyRun(packName: string, stack: string, result: PolicyRunResult, options: { preview?: boolean } = {}): string {
    const lines: string[] = [];
    const mode = options.preview ? " (preview: computed values unknown)" : "";
    lines.push(`Policy pack ${packName}: ${result.policiesRun} policies on stack ${stack}${mode}, ${result.resourcesChecked} resources checked`);
    const violations = [...result.violations].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
    for (const v of violations) {
        lines.push("");
        lines.push(`${v.enforcementLevel.padEnd(9)} ${v.policyName}`);
        lines.push(`          ${v.resource ? `${v.resource.type}  ${v.resource.name}` : "(the stack)"}`);
        lines.push(`          ${v.message}`);
    }
    const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
    lines.push("");
    lines.push(violations.length === 0
        ? "No policy violations."
        : `${mandatory} mandatory, ${violations.length - mandatory} advisory violation${violations.length === 1 ? "" : "s"}${mandatory ? ": `pulumi preview --policy-pack policy` would fail" : ""}.`);
    return lines.join("\n");
}
