/**
 * The server's admin login stays with the platform: no stack export carries the in-cluster admin password
 * or the RDS master password, whether as a plain value or wrapped as a secret (`--show-secrets` rights must
 * not grant the admin login). Every export value is resolved, secrets unwrapped, and searched.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { RunResult, runPulumi, valueOf } from "../../testing/offlineRun";
import { mockOutputs } from "../../testing/mockOutputs";
import { readStackFile } from "../../tools/plan/stackFile";

const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

/** Every export leaf, resolved (secrets unwrapped: `valueOf` reads the plain value of a secret Output). */
async function resolvedExports(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) return resolvedExports(await valueOf(value as pulumi.Output<unknown>));
    if (Array.isArray(value)) return Promise.all(value.map(resolvedExports));
    if (value && typeof value === "object") {
        return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolvedExports(v)] as const)));
    }
    return value;
}

function runStack(env: string): Promise<RunResult<Record<string, unknown>>> {
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.stackExports(program.createStack());
    }, { stack: env, config: readStackFile(env) });
}

for (const [env, passwordResource] of [["dev", "postgres-admin-password"], ["staging", "postgres-master-password"]] as const) {
    describe(`stack exports (${env}): no admin password`, function () {
        this.timeout(60000);
        it(`no export value contains the ${passwordResource} password, secret or not`, async () => {
            const run = await runStack(env);
            const generator = run.byName(RANDOM_PASSWORD, passwordResource);
            const adminPassword = mockOutputs(generator.type, generator.name, generator.inputs).result as string;
            assert.ok(adminPassword.length >= 32);
            // the search works: the admin password does reach the server (the admin connection's provider)
            const provider = run.ofType("pulumi:providers:postgresql")[0];
            assert.strictEqual(provider.inputs.password, adminPassword);
            const exported = JSON.stringify(await resolvedExports(run.result));
            assert.ok(exported.includes("organizations"), "the exports were resolved");
            assert.ok(!exported.includes(adminPassword), "an export carries the admin password");
            assert.ok(!("adminPassword" in run.result));
        });
    });
}
