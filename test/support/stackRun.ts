/**
 * Runs a shipped stack (`Pulumi.<env>.yaml`) in preview under the mocks and returns what it registered: the
 * URN-safety tests (test/unit/postgresAccess.test.ts) and the script that records their fixtures
 * (test/support/recordStackUrns.ts) share it, so a fixture is exactly what the test would see.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import { RecordedResource, runPulumi } from "../../testing/offlineRun";
import { stackFilePath } from "../../tools/plan/stackFile";
import type { StackOutputs } from "../../stacks/program";

/** The `config:` of a shipped stack file. */
export function stackConfig(env: string): Record<string, unknown> {
    return (yaml.load(fs.readFileSync(stackFilePath(env), "utf8")) as { config: Record<string, unknown> }).config;
}

/** Every resource a preview of the stack registers (and its outputs when the run completes). */
export async function runStack(env: string): Promise<{ resources: RecordedResource[]; outputs?: StackOutputs }> {
    try {
        const run = await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: env, preview: true, config: stackConfig(env) });
        return { resources: run.resources, outputs: run.result };
    } catch (err) {
        // prod's deployer check fails under the default mocks once the secrets are planned; every resource
        // registered until then is still recorded.
        const resources = (err as { resources?: RecordedResource[] }).resources;
        if (!resources) throw err;
        return { resources };
    }
}
