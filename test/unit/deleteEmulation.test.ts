/**
 * What the delete emulation (test/support/postgresqlProviderDelete.ts) takes from the offline runner's
 * records: which resources the engine deletes between two runs (retainOnDelete as the engine resolves it,
 * inherited from the parent when unset; `deletedWith`) and in which order (the engine-order graph, reversed).
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { runPulumi, RunResult } from "../../testing/offlineRun";
import { deleteSteps, deletedResources, deletionOrder, retainedOnDelete } from "../support/postgresqlProviderDelete";
import { dependencyGraph, engineOrderSeeds } from "../support/engineOrder";

class Kept extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Kept", name, {}, opts);
        new postgresql.Role(`${name}-role`, { name: `${name}_role` }, { parent: this });
        new postgresql.Role(`${name}-dropped`, { name: `${name}_dropped` }, { parent: this, retainOnDelete: false });
        this.registerOutputs({});
    }
}

/** An organization-like set of postgresql resources; `withApps` false removes all but `base`. */
function program(withApps: boolean) {
    const base = new postgresql.Role("base", { name: "base" });
    if (!withApps) return;
    new Kept("kept", { retainOnDelete: true });
    const group = new postgresql.Role("group", { name: "group" });
    const database = new postgresql.Database("db", { name: "db", owner: group.name }, { retainOnDelete: true });
    const login = new postgresql.Role("login", { name: "login", login: true, roles: [group.name] });
    new postgresql.Grant("connect", { database: database.name, role: login.name, objectType: "database", privileges: ["CONNECT"] });
    new postgresql.GrantRole("member", { role: login.name, grantRole: base.name }, { deletedWith: login });
}

describe("the delete emulation reads the engine's view of each registration", function () {
    this.timeout(60000);
    let full: RunResult<void>;
    let removed: RunResult<void>;
    before(async () => {
        full = await runPulumi(() => program(true));
        removed = await runPulumi(() => program(false));
    });

    it("resolves retainOnDelete as the engine does: the resource's own, else inherited from its parent", () => {
        assert.strictEqual(retainedOnDelete(full.byName("postgresql:index/role:Role", "kept-role"), full), true);
        assert.strictEqual(retainedOnDelete(full.byName("postgresql:index/role:Role", "kept-dropped"), full), false);
        assert.strictEqual(retainedOnDelete(full.byName("postgresql:index/database:Database", "db"), full), true);
        assert.strictEqual(retainedOnDelete(full.byName("postgresql:index/role:Role", "group"), full), false);
    });

    it("deletes what the second run no longer registers, minus retained resources and those deleted with another", () => {
        assert.deepStrictEqual(deletedResources(full, removed).map((r) => r.name).sort(), ["connect", "group", "kept-dropped", "login"]);
    });

    it("deletes in the engine's reverse dependency order, in every seed", () => {
        const graph = dependencyGraph(full.resources);
        const deleted = deletedResources(full, removed);
        for (const seed of [...engineOrderSeeds(), 0, 3, -3]) {
            const order = deletionOrder(deleted, full, seed);
            assert.deepStrictEqual(order.map((r) => r.urn).sort(), deleted.map((r) => r.urn).sort(), `seed ${seed}: exactly the deleted resources`);
            for (const [i, r] of order.entries()) {
                for (const d of graph.dependents(r)) if (order.includes(d)) assert.ok(order.indexOf(d) < i, `seed ${seed}: delete ${d.name} full ${r.name}`);
            }
            assert.ok(order.indexOf(full.byName("postgresql:index/role:Role", "login")) < order.indexOf(full.byName("postgresql:index/role:Role", "group")), `seed ${seed}: the login full its group`);
        }
        const steps = deleteSteps(full, removed, "admin");
        assert.deepStrictEqual(steps.find((s) => s.resource === "login")!.statements, ['REASSIGN OWNED BY "login" TO "admin"', 'DROP OWNED BY "login"', 'DROP ROLE "login"']);
    });
});
