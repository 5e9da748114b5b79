/**
 * The floors of the benchmark (bench/measure.ts): what the program's run records of each custom resource,
 * how a floor registers the same resources again with no components, and the check that every replayed
 * registration reached the engine as the program's did.
 * - `baseline`: each a plain `pulumi.CustomResource(type, name, inputs)`, no options.
 * - `sdk`: each through its provider SDK class (bench/providerClasses.ts), no options.
 * - `wired`: through the same classes, in the recorded order, with every option the program sent except
 *   what the component layer adds (parent, aliases): `provider` (the replayed provider resource, itself
 *   replayed through its package's Provider class), the dependencies, each input that carried property
 *   dependencies as an Output depending on exactly those replayed resources, `additionalSecretOutputs`,
 *   `ignoreChanges`, `protect`, `retainOnDelete`, `deletedWith` and `import`: what a flat program that
 *   wires the same resources together pays. Dependencies that no input carries are passed as `dependsOn`
 *   (the SDK sends their union with the inputs' as the resource's dependencies, as it did for the program).
 * A record is found in the replay by type and name: URNs differ, the replay has no parents.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RecordedResource } from "./offlineRun";
import { jsonEncodedInputs, providerClass, type Construct } from "./providerClasses";

export type ReplayMode = "baseline" | "sdk" | "wired";

/** What the program's run records of each custom resource it registered (providers included). */
export type RecordedRegistration = Pick<RecordedResource,
    "type" | "name" | "urn" | "rawInputs" | "provider" | "dependencies" | "propertyDependencies" | "protect"
    | "retainOnDelete" | "deletedWith" | "ignoreChanges" | "additionalSecretOutputs" | "importId">;

/** The record of a run: its custom resources, in the order they reached the engine. */
export function recordOf(resources: RecordedResource[]): RecordedRegistration[] {
    return resources.filter((r) => r.custom).map((r) => ({
        type: r.type, name: r.name, urn: r.urn, rawInputs: r.rawInputs, provider: r.provider || undefined,
        dependencies: r.dependencies, propertyDependencies: r.propertyDependencies, protect: r.protect,
        retainOnDelete: r.retainOnDelete, deletedWith: r.deletedWith, ignoreChanges: r.ignoreChanges,
        additionalSecretOutputs: r.additionalSecretOutputs, importId: r.importId,
    }));
}

const keyOf = (r: { type: string; name: string }) => `${r.type}::${r.name}`;
/** The URN in a provider reference (`<urn>::<id>`). */
const providerUrn = (ref: string) => ref.slice(0, ref.lastIndexOf("::"));

/** Wire values back to program values: secrets as secret Outputs, resource references as their URN. */
function revive(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(revive);
    if (value && typeof value === "object") {
        const v = value as Record<string, unknown>;
        if (v[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return pulumi.secret(revive(v.value));
        if (v[pulumi.runtime.specialSigKey] === pulumi.runtime.specialResourceSig) return v.urn;
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
    }
    return value;
}

/** A recorded provider's inputs for its Provider class, which JSON-encodes its non-string inputs itself. */
function decodedProviderInputs(type: string, raw: Record<string, unknown>): Record<string, unknown> {
    const encoded = jsonEncodedInputs(type);
    const decode = (v: unknown): unknown => {
        if (typeof v === "string") return JSON.parse(v);
        const secret = v as Record<string, unknown>;
        return { ...secret, value: JSON.parse(secret.value as string) };
    };
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, encoded.has(k) && v !== undefined ? decode(v) : v]));
}

// The SDK's Output constructor (exported, typed as an interface only): an Output of a known value that
// depends on the given resources, the least a program can build to pass a dependency with an input.
const OutputOf = pulumi.Output as unknown as new (
    resources: pulumi.Resource[], value: Promise<unknown>, isKnown: Promise<boolean>, isSecret: Promise<boolean>, allResources: undefined,
) => pulumi.Output<unknown>;
const KNOWN = Promise.resolve(true);
const NOT_SECRET = Promise.resolve(false);

/** One wired registration, prepared before the clock starts: all but the references to replayed resources. */
interface WiredStep {
    construct: Construct;
    record: RecordedRegistration;
    inputs: Record<string, unknown>;
    options: pulumi.CustomResourceOptions;
    /** Inputs that carry dependencies, with the URNs (the program's) they depend on. */
    dependentInputs: Array<[string, string[]]>;
    /** The dependencies no input carries. */
    dependsOn: string[];
}

/**
 * Prepares a floor's replay of `recorded` (inputs revived, classes loaded) and returns the registration
 * loop to time.
 */
export function prepareReplay(mode: ReplayMode, recorded: RecordedRegistration[]): () => void {
    // CustomResource is abstract in the typings only: any type token can be registered through it
    const Plain = pulumi.CustomResource as unknown as new (type: string, name: string, inputs: Record<string, unknown>) => unknown;
    if (mode === "baseline") {
        const replay = recorded.map((r) => ({ type: r.type, name: r.name, inputs: revive(r.rawInputs) as Record<string, unknown> }));
        return () => {
            for (const r of replay) new Plain(r.type, r.name, r.inputs);
        };
    }
    const providerClasses = mode === "wired";
    const classes = new Map(recorded.map((r) => [r.type, providerClass(r.type, { providerClasses })]));
    if (mode === "sdk") {
        const replay = recorded.map((r) => ({ construct: classes.get(r.type)!, name: r.name, inputs: revive(r.rawInputs) as Record<string, unknown> }));
        return () => {
            for (const r of replay) r.construct(r.name, r.inputs);
        };
    }
    const steps: WiredStep[] = recorded.map((r) => {
        const raw = r.type.startsWith("pulumi:providers:") ? decodedProviderInputs(r.type, r.rawInputs) : r.rawInputs;
        const dependentInputs = Object.entries(r.propertyDependencies).filter(([, urns]) => urns.length > 0);
        const carried = new Set(dependentInputs.flatMap(([, urns]) => urns));
        const options: pulumi.CustomResourceOptions = {
            ...(r.additionalSecretOutputs.length ? { additionalSecretOutputs: r.additionalSecretOutputs } : {}),
            ...(r.ignoreChanges.length ? { ignoreChanges: r.ignoreChanges } : {}),
            ...(r.protect !== undefined ? { protect: r.protect } : {}),
            ...(r.retainOnDelete !== undefined ? { retainOnDelete: r.retainOnDelete } : {}),
            ...(r.importId ? { import: r.importId } : {}),
        };
        return { construct: classes.get(r.type)!, record: r, inputs: revive(raw) as Record<string, unknown>, options, dependentInputs, dependsOn: r.dependencies.filter((u) => !carried.has(u)) };
    });
    return () => {
        const replayed = new Map<string, pulumi.Resource>();
        const get = (urn: string, step: WiredStep) => {
            const resource = replayed.get(urn);
            if (!resource) throw new Error(`bench: ${keyOf(step.record)} refers to ${urn}, not replayed before it`);
            return resource;
        };
        for (const step of steps) {
            const { record } = step;
            const inputs = { ...step.inputs };
            for (const [key, urns] of step.dependentInputs) {
                inputs[key] = new OutputOf(urns.map((u) => get(u, step)), Promise.resolve(inputs[key]), KNOWN, NOT_SECRET, undefined);
            }
            const options: pulumi.CustomResourceOptions = { ...step.options };
            if (record.provider) options.provider = get(providerUrn(record.provider), step) as pulumi.ProviderResource;
            if (step.dependsOn.length) options.dependsOn = step.dependsOn.map((u) => get(u, step));
            if (record.deletedWith) options.deletedWith = get(record.deletedWith, step);
            replayed.set(record.urn, step.construct(record.name, inputs, options));
        }
    };
}

/** A record with its URN references written as `type::name` (the names of what it refers to). */
function engineView(r: RecordedRegistration, names: Map<string, string>) {
    const name = (urn: string) => names.get(urn) ?? `(not a recorded resource: ${urn})`;
    const set = (xs: string[]) => [...new Set(xs)].sort();
    return {
        provider: r.provider ? name(providerUrn(r.provider)) : undefined,
        dependencies: set(r.dependencies.map(name)),
        propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies)
            .filter(([, urns]) => urns.length > 0).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, urns]) => [k, set(urns.map(name))])),
        protect: r.protect,
        retainOnDelete: r.retainOnDelete,
        deletedWith: r.deletedWith ? name(r.deletedWith) : undefined,
        ignoreChanges: set(r.ignoreChanges),
        // a class may add its own again (e.g. a Kubernetes Secret's data): the engine reads a set
        additionalSecretOutputs: set(r.additionalSecretOutputs),
        importId: r.importId,
    };
}

/**
 * How the replay's registrations differ from the program's (empty when they match): every floor must
 * register the same resources (type, name) with the same inputs; `wired` also with the same provider (by
 * its type and name), dependencies, property dependencies and the other options it replays.
 */
export function mismatches(mode: ReplayMode, expected: RecordedRegistration[], registered: RecordedRegistration[]): string[] {
    const problems: string[] = [];
    const sent = new Map(registered.map((r) => [keyOf(r), r]));
    const expectedNames = new Map(expected.map((r) => [r.urn, keyOf(r)]));
    const sentNames = new Map(registered.map((r) => [r.urn, keyOf(r)]));
    if (sent.size !== registered.length) problems.push(`the replay registered ${registered.length - sent.size} type and name twice`);
    const known = new Set(expected.map(keyOf));
    for (const r of registered) if (!known.has(keyOf(r))) problems.push(`${keyOf(r)}: not registered by the program`);
    for (const r of expected) {
        const s = sent.get(keyOf(r));
        if (!s) {
            problems.push(`${keyOf(r)}: not replayed`);
            continue;
        }
        if (JSON.stringify(s.rawInputs) !== JSON.stringify(r.rawInputs)) problems.push(`${keyOf(r)}: inputs differ`);
        if (mode !== "wired") continue;
        const [want, got] = [engineView(r, expectedNames), engineView(s, sentNames)];
        for (const field of Object.keys(want) as Array<keyof typeof want>) {
            if (JSON.stringify(want[field]) !== JSON.stringify(got[field])) {
                problems.push(`${keyOf(r)}: ${field} ${JSON.stringify(got[field])}, the program's ${JSON.stringify(want[field])}`);
            }
        }
    }
    return problems;
}
