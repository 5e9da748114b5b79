/**
 * The orders in which the Pulumi engine may create (and delete) the resources of a recorded run
 * (`runPulumi`), from what each registration carried to the engine.
 *
 * The Node SDK sends a RegisterResource request only after it has awaited (runtime/resource.js,
 * prepareResource): the URNs of its `dependencies` (explicit `dependsOn` and the resources behind every
 * Output input, components expanded to their custom descendants), its parent's URN, its provider reference
 * (URN and ID) and its `deletedWith` URN. A URN resolves only when the engine has finished that resource's
 * step. So a resource is created after all of those, transitively (a child after everything its parent
 * waited for), and in any order that respects this — the engine runs everything else in parallel. Deletes
 * run the other way round: a resource goes only after everything that waited for it.
 *
 * `engineOrder(resources, seed)` gives one such order: at each step the ready resource with the lowest
 * seeded priority (a hash of seed and URN, so one resource's place does not shift when others are added)
 * goes next. Seed `-n` uses the reversed priorities of seed `n`, so of two resources that become ready
 * together one order of the pair runs the first, the other the second. Seed 0 is the registration order.
 */
import { createHash } from "crypto";
import { RecordedResource } from "../../testing/offlineRun";

/** URN of the provider behind a provider reference (`urn::id`). */
export function providerUrn(reference: string): string {
    return reference.slice(0, reference.lastIndexOf("::"));
}

/** What the SDK awaits before it sends the registration: dependencies, parent, provider, deletedWith (URNs). */
export function prerequisiteUrns(r: RecordedResource): string[] {
    return [...new Set([
        ...r.dependencies,
        ...(r.parent ? [r.parent] : []),
        ...(r.provider ? [providerUrn(r.provider)] : []),
        ...(r.deletedWith ? [r.deletedWith] : []),
    ])];
}

export interface DependencyGraph {
    /** The recorded resource with this URN (throws if none). */
    byUrn(urn: string): RecordedResource;
    /** What the registration directly waits for (see `prerequisiteUrns`). */
    prerequisites(r: RecordedResource): RecordedResource[];
    /** Every resource (components too) created before `r` in every engine order: the transitive prerequisites. */
    waitsFor(r: RecordedResource): Set<RecordedResource>;
    /** The custom resources the engine creates before `r` (transitively), in registration order. */
    customWaitsFor(r: RecordedResource): RecordedResource[];
    /** Whether every engine order creates `first` before `second`. */
    precedes(first: RecordedResource, second: RecordedResource): boolean;
    /** Every resource that waits for `r` (transitively): what the engine deletes before it. */
    dependents(r: RecordedResource): Set<RecordedResource>;
}

/** The creation-order graph of a recorded run. */
export function dependencyGraph(resources: RecordedResource[]): DependencyGraph {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const get = (urn: string, of?: RecordedResource) => {
        const found = byUrn.get(urn);
        if (!found) throw new Error(`${of ? `${of.urn} waits for ` : ""}${urn}, which was not recorded`);
        return found;
    };
    const direct = new Map(resources.map((r) => [r, prerequisiteUrns(r).map((u) => get(u, r))]));
    const closure = new Map<RecordedResource, Set<RecordedResource>>();
    const waitsFor = (r: RecordedResource): Set<RecordedResource> => {
        let out = closure.get(r);
        if (out) return out;
        out = new Set();
        closure.set(r, out);
        for (const p of direct.get(r)!) {
            out.add(p);
            for (const q of waitsFor(p)) out.add(q);
        }
        return out;
    };
    return {
        byUrn: (urn) => get(urn),
        prerequisites: (r) => direct.get(r) ?? [],
        waitsFor,
        customWaitsFor: (r) => {
            const all = waitsFor(r);
            return resources.filter((x) => x.custom && all.has(x));
        },
        precedes: (first, second) => waitsFor(second).has(first),
        dependents: (r) => new Set(resources.filter((x) => waitsFor(x).has(r))),
    };
}

/** A resource's place in the orders of a seed: uniform in [0, 1), stable per URN. */
function priority(seed: number, urn: string): number {
    const digest = createHash("sha256").update(`${Math.abs(seed)}\0${urn}`).digest();
    const p = digest.readUIntBE(0, 6) / 2 ** 48;
    return seed < 0 ? 1 - p : p;
}

export interface OrderOptions {
    /** Only these resources are returned (the order is still taken over all, so indirect waits hold). */
    include?: (r: RecordedResource) => boolean;
    /** A delete order: every resource after everything that waits for it. */
    reverse?: boolean;
}

/** One order in which the engine may create (or, with `reverse`, delete) the recorded resources. */
export function engineOrder(resources: RecordedResource[], seed: number, options: OrderOptions = {}): RecordedResource[] {
    const graph = dependencyGraph(resources);
    const ranks = new Map(resources.map((r, i) => [r, seed === 0 ? (options.reverse ? -i : i) : priority(seed, r.urn)]));
    const rank = (r: RecordedResource) => ranks.get(r)!;
    // blockers: what must be done before a resource may go
    const blockers = new Map<RecordedResource, Set<RecordedResource>>(resources.map((r) => [r, new Set()]));
    for (const r of resources) {
        for (const p of graph.prerequisites(r)) {
            if (options.reverse) blockers.get(p)!.add(r);
            else blockers.get(r)!.add(p);
        }
    }
    const order: RecordedResource[] = [];
    const done = new Set<RecordedResource>();
    while (order.length < resources.length) {
        let next: RecordedResource | undefined;
        for (const r of resources) {
            if (done.has(r) || [...blockers.get(r)!].some((b) => !done.has(b))) continue;
            if (!next || rank(r) < rank(next)) next = r;
        }
        if (!next) throw new Error(`dependency cycle among: ${resources.filter((r) => !done.has(r)).map((r) => r.name).join(", ")}`);
        done.add(next);
        order.push(next);
    }
    return options.include ? order.filter(options.include) : order;
}

/**
 * The seeds every engine-order test runs: `ENGINE_ORDER_SEEDS` (comma-separated, e.g. `7,-7` to replay a
 * failure), by default 1, -1, 2, -2 (two pairs of reversed priorities).
 */
export function engineOrderSeeds(): number[] {
    const fromEnv = process.env.ENGINE_ORDER_SEEDS;
    if (!fromEnv) return [1, -1, 2, -2];
    const seeds = fromEnv.split(",").map((s) => Number(s.trim()));
    if (seeds.some((s) => !Number.isInteger(s))) throw new Error(`ENGINE_ORDER_SEEDS: expected integers separated by commas, got ${fromEnv}`);
    return seeds;
}

/** `seed N: a, b, c` — what a failure names so the order can be replayed (ENGINE_ORDER_SEEDS=N). */
export function describeOrder(seed: number, order: RecordedResource[]): string {
    return `engine order seed ${seed} (replay with ENGINE_ORDER_SEEDS=${seed}): ${order.map((r) => r.name).join(", ")}`;
}
