/**
 * The mock runner negotiates aliases as the real engine does: the engine advertises alias specs
 * (RESOURCE_MONITOR_FEATURE_ALIAS_SPECS), so the SDK sends each resource only its own aliases as specs and
 * the engine derives the aliases a child inherits from its parent's. Under an engine without that feature
 * the SDK would compute every inherited alias of every descendant itself (its `allAliases`), a cost the
 * benchmark must not charge the program with; this test notices if the mocks ever stop advertising it.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { runPulumi } from "../../testing/offlineRun";

// CustomResource is abstract in the typings only: any type token can be registered through it
const Plain = pulumi.CustomResource as unknown as new (type: string, name: string, inputs: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

class Holder extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Holder", name, {}, opts);
        new Plain("random:index/randomBytes:RandomBytes", `${name}-child`, { length: 4 }, { parent: this });
        this.registerOutputs({});
    }
}

describe("mock runner: aliases as the engine negotiates them", () => {
    it("sends a resource its own aliases as specs and leaves the inherited ones to the engine", async () => {
        const run = await runPulumi(() => {
            new Holder("holder", { aliases: [{ name: "old-holder" }, { parent: pulumi.rootStackResource }] });
        }, { stack: "dev" });
        const holder = run.byName("test:index:Holder", "holder");
        const child = run.byName("random:index/randomBytes:RandomBytes", "holder-child");
        assert.deepStrictEqual(holder.aliases, [{ name: "old-holder" }, { noParent: true }]);
        // without alias specs the SDK would send the child 2 alias URNs derived from its parent's
        assert.deepStrictEqual(child.aliases, []);
        assert.strictEqual(child.parent, holder.urn);
    });
});
