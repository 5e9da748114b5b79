/**
 * Every component the program registers carries the type token multi-language component packages need
 * (`postgres-access:index:<ClassName>`, the class exported from components/index.ts), and the one
 * server-wide component, MaintenanceDatabases, registers what it promises in up and preview mode.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, runPulumi } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";
import { runAwsStack } from "../support/awsStacks";
import { MAINTENANCE_DATABASES } from "../../components/postgres/maintenanceDatabases";
import * as components from "../../components";

function devRun(preview: boolean) {
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.createStack();
    }, { stack: "dev", preview, config: readStackFile("dev") });
}

describe("component type tokens", function () {
    this.timeout(60000);

    it("names every registered component postgres-access:index:<an exported ComponentResource class>", async () => {
        const resources: RecordedResource[] = [...(await devRun(false)).resources, ...(await runAwsStack("staging")).resources];
        const tokens = new Set(resources.filter((r) => !r.custom && !r.type.startsWith("pulumi:")).map((r) => r.type));
        assert.ok(tokens.size >= 12, [...tokens].join(", "));
        for (const token of tokens) {
            const m = /^postgres-access:index:([A-Z][A-Za-z0-9]+)$/.exec(token);
            assert.ok(m, `${token} is not postgres-access:index:<ClassName>`);
            const exported = (components as Record<string, unknown>)[m[1]];
            assert.ok(typeof exported === "function" && (exported as { prototype: unknown }).prototype instanceof pulumi.ComponentResource, `${m[1]} is an exported ComponentResource class`);
        }
    });
});

for (const preview of [false, true]) {
    describe(`MaintenanceDatabases (${preview ? "preview" : "up"})`, function () {
        this.timeout(60000);
        it("takes every privilege of PUBLIC away on postgres and template1, through the admin provider, after the server", async () => {
            const run = await devRun(preview);
            const grants = run.ofType("postgresql:index/grant:Grant").filter((g) => g.name.startsWith("maintenance-databases-"));
            assert.deepStrictEqual(grants.map((g) => [g.inputs.database, g.inputs.role, g.inputs.objectType, g.inputs.privileges]).sort(), MAINTENANCE_DATABASES.map((d) => [d, "public", "database", []]).sort());
            assert.deepStrictEqual([...MAINTENANCE_DATABASES].sort(), ["postgres", "template1"]);
            for (const g of grants) assert.ok(g.provider?.includes("pulumi:providers:postgresql::postgres-admin"), `${g.name}: the admin provider`);
        });
    });
}
