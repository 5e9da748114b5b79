/**
 * Records the URN of every resource of each shipped stack (offline preview) into a fixture, before a change
 * that moves resources: `npx ts-node --transpile-only test/support/recordStackUrns.ts test/fixtures/<file>.json`.
 * test/unit/postgresAccess.test.ts then proves every recorded URN is still produced or matched by an alias.
 */
import * as fs from "fs";
import { listStacks } from "../../tools/plan/stackFile";
import { runStack } from "./stackRun";

async function main(file: string): Promise<void> {
    const recorded: Record<string, string[]> = {};
    for (const env of listStacks().sort()) recorded[env] = (await runStack(env)).resources.map((r) => r.urn).sort();
    fs.writeFileSync(file, `${JSON.stringify(recorded, null, 1)}\n`);
}

main(process.argv[2] ?? "urns.json").catch((err) => {
    console.error(err);
    process.exit(1);
});
