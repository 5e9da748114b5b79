/**
 * Builds what the policy engine hands a policy — `ResourceValidationArgs` for each resource,
 * `PolicyResource`s for a stack validation — from the resources an offline run recorded
 * (`RecordedResource`s of `runPulumi`), the way `@pulumi/policy`'s server builds them from the engine's
 * requests: secrets unwrapped to plain values, unknown values (preview) behind `unknownCheckingProxy`, so a
 * policy that reads one fails with `UnknownValueError` as it does under `pulumi preview`.
 *
 * URNs, parents, dependencies and the options `protect`, `ignoreChanges` and `additionalSecretOutputs`
 * are the ones the runner recorded from each registration (what the engine receives). What the mocks
 * cannot tell, and so is not here: aliases, custom timeouts and `deleteBeforeReplace` (defaults), stack
 * tags, and a resource's outputs (stack validations see its inputs, which is what the checks of this pack
 * read).
 */
import type { PolicyProviderResource, PolicyResource, PolicyResourceOptions, ResourceValidationArgs } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import type { RecordedResource } from "../../testing/offlineRun";

// Not in the package's type declarations (marked internal), but exported at run time; the server uses them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy<T>(value: T): T;
    UnknownValueError: new (...args: any[]) => Error;
};
export const UnknownValueError = proxy.UnknownValueError;

/** The wire marker of special values (secrets, resource references, assets), as the SDK defines it. */
const SIG = pulumi.runtime.specialSigKey;
const SECRET = pulumi.runtime.specialSecretSig;
const RESOURCE_REFERENCE = pulumi.runtime.specialResourceSig;

/** Inputs as the mock monitor received them → plain properties (unknown sentinels kept, as the server does). */
export function deserializeProperties(value: any): any {
    if (Array.isArray(value)) return value.map(deserializeProperties);
    if (value && typeof value === "object") {
        if (value[SIG] === SECRET) return deserializeProperties(value.value);
        if (value[SIG] === RESOURCE_REFERENCE) return value.id ?? value.urn;
        const out: Record<string, any> = {};
        for (const [k, v] of Object.entries(value)) out[k] = deserializeProperties(v);
        return out;
    }
    return value;
}

/** Thrown by `notApplicable()`; the runner records the reason. */
export class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}

export interface PolicyContext {
    stack: string;
    project: string;
    /** Per-policy config (as `--policy-pack-config` gives it), enforcementLevel removed by the runner. */
    configOf(policyName: string): Record<string, unknown>;
}

/** The options of a registration as the policy engine hands them (`protect` as resolved: unset is false). */
export function optionsOf(r: RecordedResource): PolicyResourceOptions {
    const opts: PolicyResourceOptions = {
        protect: r.protect ?? false,
        ignoreChanges: [...r.ignoreChanges],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [...r.additionalSecretOutputs],
    };
    if (r.parent) opts.parent = r.parent;
    return Object.freeze(opts);
}

const EMPTY_TAGS: ReadonlyMap<string, string> = new Map();

const typeOf = (cls: unknown): string | undefined => (cls as { __pulumiType?: string } | undefined)?.__pulumiType;

/** Everything one offline run recorded, ready to hand to policies. */
export class PolicyInputs {
    private readonly byProviderRef = new Map<string, RecordedResource>();

    constructor(readonly resources: RecordedResource[], readonly context: PolicyContext) {
        for (const r of resources) {
            if (r.type.startsWith("pulumi:providers:")) this.byProviderRef.set(r.urn, r);
        }
    }

    /** The resources the engine would run resource validations on: custom resources, providers excepted. */
    get validated(): RecordedResource[] {
        return this.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
    }

    private provider(r: RecordedResource): PolicyProviderResource | undefined {
        // a provider reference is `<urn>::<id>` (the id unknown in preview)
        const p = r.provider ? this.byProviderRef.get(r.provider.split("::").slice(0, -1).join("::")) : undefined;
        return p ? { type: p.type, name: p.name, urn: p.urn, props: proxy.unknownCheckingProxy(deserializeProperties(p.rawInputs)) } : undefined;
    }

    /** `ResourceValidationArgs` of one resource for one policy. */
    resourceArgs(r: RecordedResource, policyName: string): ResourceValidationArgs {
        const props = proxy.unknownCheckingProxy(deserializeProperties(r.rawInputs ?? {}));
        const args: ResourceValidationArgs = {
            type: r.type,
            name: r.name,
            urn: r.urn,
            props,
            opts: optionsOf(r),
            stackTags: EMPTY_TAGS,
            isType: (cls) => typeOf(cls) === r.type,
            asType: ((cls: unknown) => (typeOf(cls) === r.type ? props : undefined)) as ResourceValidationArgs["asType"],
            getConfig: <T extends object>() => this.context.configOf(policyName) as T,
            notApplicable: (reason?: string): never => {
                throw new NotApplicableError(reason);
            },
        };
        const provider = this.provider(r);
        if (provider) args.provider = provider;
        return args;
    }

    /** The `PolicyResource`s of the whole stack (every registered resource, components included), linked. */
    stackResources(): PolicyResource[] {
        const byUrn = new Map<string, PolicyResource>();
        const out = this.resources.map((r) => {
            const props = proxy.unknownCheckingProxy(deserializeProperties(r.rawInputs ?? {}));
            const resource: PolicyResource = {
                type: r.type,
                name: r.name,
                urn: r.urn,
                props,
                opts: optionsOf(r),
                dependencies: [],
                propertyDependencies: {},
                isType: (cls) => typeOf(cls) === r.type,
                asType: ((cls: unknown) => (typeOf(cls) === r.type ? props : undefined)) as PolicyResource["asType"],
            };
            const provider = this.provider(r);
            if (provider) resource.provider = provider;
            byUrn.set(r.urn, resource);
            return resource;
        });
        // parent, dependencies and property dependencies point at the other resources, as the engine links them
        const linked = (urns: string[]) => urns.flatMap((u) => byUrn.get(u) ?? []);
        this.resources.forEach((r, i) => {
            const resource = out[i];
            if (r.parent && byUrn.has(r.parent)) resource.parent = byUrn.get(r.parent);
            resource.dependencies = linked(r.dependencies);
            resource.propertyDependencies = Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, urns]) => [k, linked(urns)]));
        });
        return out;
    }
}
