/**
 * Runs a policy pack's resource and stack validations over what an offline run registered, as the policy
 * engine does during `pulumi preview --policy-pack`: each resource validation on each custom resource, then
 * each stack validation once over all resources, with a `reportViolation` that collects. Enforcement
 * levels follow the engine: the policy's own level (the pack default is advisory), overridden per policy
 * by config; `disabled` skips, `remediate` counts as mandatory; a policy that reads a value unknown in
 * preview yields an advisory "can't run during preview" instead.
 */
import type { EnforcementLevel, Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { RecordedResource } from "../../testing/offlineRun";
import { NotApplicableError, PolicyInputs, UnknownValueError } from "./policyArgs";

export interface PolicyViolation {
    policyName: string;
    /** `mandatory` fails the run, `advisory` is reported only. */
    enforcementLevel: "mandatory" | "advisory";
    message: string;
    /** The resource the violation is about (absent for a stack-wide one). */
    resource?: { type: string; name: string; urn: string };
}

export interface PolicyRunResult {
    violations: PolicyViolation[];
    /** Policies that declared themselves not applicable, with their reasons. */
    notApplicable: { policyName: string; reason?: string }[];
    /** How many resources the resource validations ran on. */
    resourcesChecked: number;
    policiesRun: number;
}

export interface PolicyRunOptions {
    stack: string;
    project: string;
    /** Policy pack config as for `--policy-pack-config`: policy name → level, or `{enforcementLevel?, ...config}`. */
    config?: Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;
}

const isStackPolicy = (p: Policies[number]): p is StackValidationPolicy => typeof (p as StackValidationPolicy).validateStack === "function";

export async function runPolicyPack(policies: Policies, resources: RecordedResource[], options: PolicyRunOptions): Promise<PolicyRunResult> {
    const config = options.config ?? {};
    const configOf = (name: string): Record<string, unknown> => {
        const c = config[name];
        if (!c || typeof c === "string") return {};
        const { enforcementLevel: _level, ...rest } = c;
        return rest;
    };
    const levelOf = (p: Policies[number]): EnforcementLevel => {
        const c = config[p.name];
        return (typeof c === "string" ? c : c?.enforcementLevel) ?? p.enforcementLevel ?? "advisory";
    };
    const inputs = new PolicyInputs(resources, { stack: options.stack, project: options.project, configOf });
    const result: PolicyRunResult = { violations: [], notApplicable: [], resourcesChecked: inputs.validated.length, policiesRun: 0 };

    const run = async (policy: Policies[number], resource: RecordedResource | undefined, call: (report: (message: string, urn?: string) => void) => Promise<void> | void) => {
        const level = levelOf(policy);
        const enforcementLevel = level === "advisory" ? "advisory" : "mandatory";
        const about = (urn?: string) => {
            const r = resource ?? (urn ? resources.find((x) => x.urn === urn) : undefined);
            return r ? { type: r.type, name: r.name, urn: r.urn } : undefined;
        };
        try {
            await call((message, urn) => result.violations.push({ policyName: policy.name, enforcementLevel, message, resource: about(urn) }));
        } catch (err) {
            if (err instanceof UnknownValueError) {
                result.violations.push({ policyName: policy.name, enforcementLevel: "advisory", message: `can't run policy '${policy.name}' during preview: ${err.message}`, resource: about() });
            } else if (err instanceof NotApplicableError) {
                result.notApplicable.push({ policyName: policy.name, reason: err.reason });
            } else {
                // The engine fails the preview when a policy throws; here that is a mandatory finding.
                result.violations.push({ policyName: policy.name, enforcementLevel: "mandatory", message: `the policy failed: ${(err as Error)?.message ?? String(err)}`, resource: about() });
            }
        }
    };

    for (const policy of policies) {
        if (levelOf(policy) === "disabled") continue;
        result.policiesRun++;
        if (isStackPolicy(policy)) {
            await run(policy, undefined, (report) => policy.validateStack({
                resources: inputs.stackResources(),
                stackTags: new Map(),
                getConfig: <T extends object>() => configOf(policy.name) as T,
                notApplicable: (reason?: string): never => {
                    throw new NotApplicableError(reason);
                },
            }, report));
            continue;
        }
        const validations = (policy as ResourceValidationPolicy).validateResource;
        if (!validations) continue;
        for (const resource of inputs.validated) {
            for (const validate of Array.isArray(validations) ? validations : [validations]) {
                // a resource validation's violation is always about its resource (the urn argument is ignored)
                await run(policy, resource, (report) => validate(inputs.resourceArgs(resource, policy.name), (message) => report(message)));
            }
        }
    }
    return result;
}

/** Mandatory violations (what fails `pulumi preview --policy-pack`). */
export const mandatory = (result: PolicyRunResult): PolicyViolation[] => result.violations.filter((v) => v.enforcementLevel === "mandatory");
