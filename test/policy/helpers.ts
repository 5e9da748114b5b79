/** Runs one policy of the pack over hand-made resources through the offline runner (tools/policy). */
import type { Policies } from "@pulumi/policy";
import type { RecordedResource } from "../../testing/offlineRun";
import { runPolicyPack, PolicyViolation } from "../../tools/policy/runPolicies";

/** A recorded resource as the mock monitor would have it (inputs as given, nothing secret or unknown). */
export function resource(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<RecordedResource> = {}): RecordedResource {
    return {
        type, name, inputs, rawInputs: inputs, secretPaths: [], custom: true,
        urn: `urn:pulumi:prod::team::${type}::${name}`, dependencies: [], propertyDependencies: {}, ignoreChanges: [], additionalSecretOutputs: [],
        ...extra,
    };
}

/** The violations one policy reports over `resources` in stack `stack`. */
export async function violations(policy: Policies[number], resources: RecordedResource[], stack = "prod", config?: Record<string, any>): Promise<PolicyViolation[]> {
    // hand-made resources (`resource`) are registered in the stack the policies run on: their URNs say so
    const inStack = resources.map((r) => ({ ...r, urn: r.urn.replace(/^urn:pulumi:prod::team::/, `urn:pulumi:${stack}::team::`) }));
    const result = await runPolicyPack([policy], inStack, { stack, project: "team", config });
    return result.violations;
}

/** Just the messages. */
export async function messages(policy: Policies[number], resources: RecordedResource[], stack = "prod", config?: Record<string, any>): Promise<string[]> {
    return (await violations(policy, resources, stack, config)).map((v) => v.message);
}
