/**
 * The offline main job: `npm run plan -- <env>` runs the stack program of Pulumi.<env>.yaml in-process
 * under Pulumi's mocks (no Pulumi CLI, no cloud account) and prints what `pulumi up` would create: a
 * tree by organization and app, the grants each app gets, how it authenticates, resource counts, and
 * config errors. Exit code 1 on invalid config.
 */
import { runPulumi, RecordedResource } from "../test/support/harness";
import { ConfigError } from "./config";
import { readStackFile, listStacks } from "./stackFile";
import { StackOutputs } from "./program";
import { describePlan } from "./planReport";

async function main(): Promise<number> {
    const env = process.argv[2] ?? "dev";
    const preview = process.argv.includes("--preview");
    let raw: Record<string, unknown>;
    try {
        raw = readStackFile(env);
    } catch (err) {
        console.error(String((err as Error).message));
        return 2;
    }
    // setMocks must run before the program's modules are loaded; runPulumi does that, then we import.
    let outputs: StackOutputs | undefined;
    let resources: RecordedResource[] = [];
    try {
        const run = await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("./program") as typeof import("./program");
            return program.createStack();
        }, { stack: env, preview, config: raw });
        outputs = run.result;
        resources = run.resources;
    } catch (err) {
        if (err instanceof ConfigError) {
            console.error(`Pulumi.${env}.yaml: ${err.message}`);
            console.error("\nNo resources were registered.");
            return 1;
        }
        throw err;
    }
    console.log(describePlan(env, outputs, resources, { preview, stacks: listStacks() }));
    return 0;
}

main().then((code) => process.exit(code), (err) => {
    console.error(err);
    process.exit(3);
});
