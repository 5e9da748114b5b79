/**
 * What the offline runner records of each registration (what the engine receives: URN, parent,
 * dependencies with components expanded to their custom children, property dependencies, protect,
 * retainOnDelete, deletedWith) and the engine orders derived from it (test/support/engineOrder.ts).
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { dependencyGraph, engineOrder, engineOrderSeeds, describeOrder } from "../support/engineOrder";

class Bundle extends pulumi.ComponentResource {
    public readonly first: random.RandomPet;
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Bundle", name, {}, opts);
        this.first = new random.RandomPet(`${name}-first`, {}, { parent: this });
        const inner = new Inner(`${name}-inner`, { parent: this });
        new random.RandomPet(`${name}-second`, { prefix: inner.pet.id }, { parent: this, protect: true });
        this.registerOutputs({});
    }
}

class Inner extends pulumi.ComponentResource {
    public readonly pet: random.RandomPet;
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Inner", name, {}, opts);
        this.pet = new random.RandomPet(`${name}-pet`, {}, { parent: this, retainOnDelete: true });
        this.registerOutputs({});
    }
}

/** A small program: a component tree, a resource that depends on the component, one on an Output. */
function program() {
    const bundle = new Bundle("bundle");
    const anchor = new random.RandomPet("anchor", {});
    const consumer = new random.RandomPet("consumer", { prefix: bundle.first.id }, { dependsOn: [bundle], deletedWith: anchor });
    new random.RandomPet("adopted", {}, { import: "adopted-pet" });
    return { bundle, consumer };
}

const byName = (resources: RecordedResource[], name: string) => resources.find((r) => r.name === name)!;

describe("what the offline runner records of each registration", function () {
    this.timeout(60000);
    let resources: RecordedResource[];
    before(async () => {
        resources = (await runPulumi(program)).resources;
    });

    it("records URNs as the engine forms them, with the parent's whole type chain", () => {
        assert.strictEqual(byName(resources, "bundle").urn, "urn:pulumi:dev::postgres-access::test:index:Bundle::bundle");
        const pet = byName(resources, "bundle-inner-pet");
        assert.strictEqual(pet.urn, "urn:pulumi:dev::postgres-access::test:index:Bundle$test:index:Inner$random:index/randomPet:RandomPet::bundle-inner-pet");
        assert.strictEqual(pet.parent, byName(resources, "bundle-inner").urn);
        assert.strictEqual(byName(resources, "anchor").parent, undefined);
    });

    it("expands a component in dependsOn to its custom descendants, as the SDK sends it", () => {
        const consumer = byName(resources, "consumer");
        const expected = ["bundle-first", "bundle-inner-pet", "bundle-second"].map((n) => byName(resources, n).urn);
        assert.deepStrictEqual([...consumer.dependencies].sort(), expected.sort());
        assert.ok(!consumer.dependencies.includes(byName(resources, "bundle").urn), "not the component itself");
        assert.deepStrictEqual(consumer.propertyDependencies.prefix, [byName(resources, "bundle-first").urn], "the Output input's resource");
        assert.strictEqual(consumer.deletedWith, byName(resources, "anchor").urn);
    });

    it("records protect and retainOnDelete only where they were set", () => {
        assert.strictEqual(byName(resources, "bundle-second").protect, true);
        assert.strictEqual(byName(resources, "bundle-inner-pet").retainOnDelete, true);
        assert.strictEqual(byName(resources, "bundle-first").protect, undefined);
        assert.strictEqual(byName(resources, "bundle-first").retainOnDelete, undefined);
        assert.deepStrictEqual(byName(resources, "bundle-second").dependencies, [byName(resources, "bundle-inner-pet").urn]);
    });

    it("records the import ID of an adopted resource, and none elsewhere", () => {
        assert.strictEqual(byName(resources, "adopted").importId, "adopted-pet");
        assert.deepStrictEqual(resources.filter((r) => r.importId).map((r) => r.name), ["adopted"]);
    });

    it("derives what each resource waits for: dependencies, parent chain, deletedWith", () => {
        const graph = dependencyGraph(resources);
        const names = (rs: RecordedResource[]) => rs.map((r) => r.name).sort();
        assert.deepStrictEqual(names(graph.customWaitsFor(byName(resources, "consumer"))), ["anchor", "bundle-first", "bundle-inner-pet", "bundle-second"]);
        assert.deepStrictEqual(names(graph.customWaitsFor(byName(resources, "bundle-second"))), ["bundle-inner-pet"]);
        assert.ok(graph.precedes(byName(resources, "bundle"), byName(resources, "bundle-inner-pet")), "a child after its parent");
        assert.ok(!graph.precedes(byName(resources, "bundle-first"), byName(resources, "bundle-second")), "siblings in any order");
        assert.deepStrictEqual(names([...graph.dependents(byName(resources, "bundle-inner-pet"))]), ["bundle-second", "consumer"]);
    });

    it("gives orders that respect every wait, both ways for unordered pairs, and reversed for deletes", () => {
        const graph = dependencyGraph(resources);
        const firsts = new Set<string>();
        for (const seed of [0, 1, -1, 2, -2, 3, -3]) {
            const order = engineOrder(resources, seed);
            assert.strictEqual(order.length, resources.length);
            for (const [i, r] of order.entries()) {
                for (const p of graph.waitsFor(r)) assert.ok(order.indexOf(p) < i, `${describeOrder(seed, order)}: ${p.name} before ${r.name}`);
            }
            const deletes = engineOrder(resources, seed, { reverse: true });
            for (const [i, r] of deletes.entries()) {
                for (const d of graph.dependents(r)) assert.ok(deletes.indexOf(d) < i, `delete ${d.name} before ${r.name}`);
            }
            const pets = order.filter((r) => r.name === "bundle-first" || r.name === "bundle-inner-pet");
            firsts.add(pets[0].name);
        }
        assert.strictEqual(firsts.size, 2, "independent siblings come in both orders");
        assert.deepStrictEqual(engineOrder(resources, 0).map((r) => r.name), resources.map((r) => r.name), "seed 0: the registration order");
        assert.deepStrictEqual(engineOrder(resources, 1, { include: (r) => r.custom }).map((r) => r.name), engineOrder(resources, 1).filter((r) => r.custom).map((r) => r.name));
    });

    it("takes its seeds from ENGINE_ORDER_SEEDS", () => {
        const saved = process.env.ENGINE_ORDER_SEEDS;
        try {
            delete process.env.ENGINE_ORDER_SEEDS;
            assert.deepStrictEqual(engineOrderSeeds(), [1, -1, 2, -2]);
            process.env.ENGINE_ORDER_SEEDS = "7, -7";
            assert.deepStrictEqual(engineOrderSeeds(), [7, -7]);
            process.env.ENGINE_ORDER_SEEDS = "x";
            assert.throws(() => engineOrderSeeds(), /ENGINE_ORDER_SEEDS: expected integers/);
        } finally {
            if (saved === undefined) delete process.env.ENGINE_ORDER_SEEDS;
            else process.env.ENGINE_ORDER_SEEDS = saved;
        }
    });
});
