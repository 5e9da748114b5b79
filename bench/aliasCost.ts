/**
 * What a component level costs against the alias that replaces it (docs/operations.md "Performance and
 * large stacks"): `node -r ts-node/register/transpile-only bench/aliasCost.ts <variant> [count]` registers
 * `count` (default 2000) items under one parent component, each as
 * - `nested`: its own one-child component (`bench:index:Wrap`) holding the resource;
 * - `alias-spec`: the resource directly under the parent, aliased to its old URN by a spec
 *   (`{ parent: <the old component's URN> }`, an Output the SDK resolves per resource);
 * - `alias-string`: the same with the old URN written out as a string;
 * - `alias-root`: the same aliased by the spec `{ parent: pulumi.rootStackResource }` (formerly top-level);
 * - `flat`: the resource directly under the parent, no alias (a resource that never existed elsewhere).
 * Time and peak memory are the whole process's: compare variants with paired runs of one command each
 * (e.g. `/usr/bin/time -v`), not the line it prints. The line also gives the promises created per item
 * during the run, a count of the SDK's work that does not depend on the machine's load.
 */
import * as asyncHooks from "async_hooks";
import * as pulumi from "@pulumi/pulumi";
import { performance } from "perf_hooks";
import { runPulumi } from "./offlineRun";

const RESOURCE = "random:index/randomBytes:RandomBytes";
type Plain = new (type: string, name: string, inputs: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;
const Plain = pulumi.CustomResource as unknown as Plain;

class Wrap extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("bench:index:Wrap", name, {}, opts);
        const child = new Plain(RESOURCE, `${name}-r`, { length: 32 }, { parent: this });
        this.registerOutputs({ id: child.id });
    }
}

async function main(): Promise<void> {
    const variant = process.argv[2];
    const count = Number(process.argv[3] ?? 2000);
    if (!["nested", "alias-spec", "alias-string", "alias-root", "flat"].includes(variant) || !(count > 0)) {
        throw new Error("usage: bench/aliasCost.ts nested|alias-spec|alias-string|alias-root|flat [count]");
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("../stacks/stackTraces") as typeof import("../stacks/stackTraces")).limitStackTraces();
    let promises = 0;
    asyncHooks.createHook({ init: (_id, type) => { if (type === "PROMISE") promises++; } }).enable();
    const start = performance.now();
    await runPulumi(() => {
        const parent = new pulumi.ComponentResource("bench:index:Holder", "holder", {}, {});
        for (let i = 0; i < count; i++) {
            const name = `item${i}`;
            if (variant === "nested") new Wrap(name, { parent });
            else if (variant === "flat") new Plain(RESOURCE, `${name}-r`, { length: 32 }, { parent });
            else if (variant === "alias-spec") new Plain(RESOURCE, `${name}-r`, { length: 32 }, { parent, aliases: [{ parent: pulumi.createUrn(name, "bench:index:Wrap", parent) }] });
            else if (variant === "alias-root") new Plain(RESOURCE, `${name}-r`, { length: 32 }, { parent, aliases: [{ parent: pulumi.rootStackResource }] });
            else new Plain(RESOURCE, `${name}-r`, { length: 32 }, { parent, aliases: [`urn:pulumi:bench::postgres-access::bench:index:Holder$bench:index:Wrap$${RESOURCE}::${name}-r`] });
        }
    }, { stack: "bench" });
    console.log(`${variant} ${count}: ${(performance.now() - start).toFixed(0)} ms, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB, ${(promises / count).toFixed(0)} promises per item`);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
