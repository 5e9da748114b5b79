/**
 * The `--policy` modes of the offline plan CLI:
 *  - `npm run plan -- <stack> --policy`: the pack over what this project's stack program registers;
 *  - `npm run plan -- --program <file.ts> [--stack S] [--config Pulumi.S.yaml] [--preview] --policy`: the pack
 *    over any other Pulumi TypeScript program (a team's own stack built from the components), loaded under
 *    the same mocks.
 * `--policy-pack-config <file.json>` reads policy config as `pulumi preview --policy-pack-config` does.
 * Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 bad arguments or files.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { POLICY_PACK_NAME, policies } from "../../policy/policies";
import { PolicyRunOptions, mandatory, runPolicyPack } from "./runPolicies";
import { describePolicyRun } from "./report";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as { _setProject(project: string): void };

const USAGE = "usage: npm run plan -- <stack> --policy | npm run plan -- --program <file.ts> [--stack S] [--config Pulumi.S.yaml] [--preview] --policy [--policy-pack-config <file.json>]";

class UsageError extends Error {}

function flagValue(args: string[], flag: string): string | undefined {
    const at = args.indexOf(flag);
    if (at < 0) return undefined;
    const value = args[at + 1];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value\n${USAGE}`);
    return value;
}

function readPackConfig(args: string[]): PolicyRunOptions["config"] {
    const file = flagValue(args, "--policy-pack-config");
    if (!file) return undefined;
    if (!fs.existsSync(file)) throw new UsageError(`no policy pack config ${file}`);
    return JSON.parse(fs.readFileSync(file, "utf8"));
}

/** Runs the pack over recorded resources, prints the report, returns the exit code. */
export async function reportPolicies(resources: RecordedResource[], options: { stack: string; project: string; preview?: boolean; config?: PolicyRunOptions["config"] }): Promise<number> {
    const result = await runPolicyPack(policies, resources, options);
    console.log(describePolicyRun(POLICY_PACK_NAME, options.stack, result, { preview: options.preview }));
    return mandatory(result).length ? 1 : 0;
}

/** `npm run plan -- <stack> --policy`, after plan.ts has run the stack program. */
export async function checkStackPolicies(stack: string, resources: RecordedResource[], args: string[], preview: boolean): Promise<number> {
    try {
        return await reportPolicies(resources, { stack, project: "postgres-access", preview, config: readPackConfig(args) });
    } catch (err) {
        if (err instanceof UsageError) {
            console.error(err.message);
            return 2;
        }
        throw err;
    }
}

/** The Pulumi project a program belongs to: `name` of the nearest Pulumi.yaml above it. */
export function projectOf(file: string): string {
    for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
        const project = path.join(dir, "Pulumi.yaml");
        if (fs.existsSync(project)) return String((yaml.load(fs.readFileSync(project, "utf8")) as { name?: string })?.name ?? "project");
        if (path.dirname(dir) === dir) return "project";
    }
}

/** A stack config file's `config:` as fully qualified keys (`<project>:<key>`). */
export function readConfigFile(file: string, project: string): Record<string, unknown> {
    const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    return Object.fromEntries(Object.entries(doc.config ?? {}).map(([key, value]) => [key.includes(":") ? key : `${project}:${key}`, value]));
}

/**
 * Runs a Pulumi TypeScript program under the mocks and returns what it registered. The program's module is
 * loaded as `pulumi up` loads it: a function it exports (or default-exports) is called.
 */
export async function runProgram(file: string, options: { stack: string; project: string; config: Record<string, unknown>; preview: boolean }): Promise<RecordedResource[]> {
    const program = path.resolve(file);
    const run = await runPulumi(async () => {
        settings._setProject(options.project);
        delete require.cache[require.resolve(program)];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const loaded = require(program);
        const main = typeof loaded === "function" ? loaded : typeof loaded?.default === "function" ? loaded.default : undefined;
        return main ? await main() : loaded;
    }, { stack: options.stack, preview: options.preview, config: options.config });
    return run.resources;
}

/** `npm run plan -- --program <file.ts> … --policy`. */
export async function programPolicyMain(args: string[]): Promise<number> {
    try {
        if (!args.includes("--policy")) throw new UsageError(`--program runs the policy pack only: add --policy\n${USAGE}`);
        const known = new Set(["--program", "--stack", "--config", "--policy-pack-config", "--preview", "--policy"]);
        const unknown = args.filter((a, i) => a.startsWith("--") ? !known.has(a) : !["--program", "--stack", "--config", "--policy-pack-config"].includes(args[i - 1]));
        if (unknown.length) throw new UsageError(`unknown argument${unknown.length > 1 ? "s" : ""} ${unknown.join(" ")}\n${USAGE}`);
        const file = flagValue(args, "--program")!;
        if (!fs.existsSync(file)) throw new UsageError(`no program ${file}`);
        const configFile = flagValue(args, "--config");
        if (configFile && !fs.existsSync(configFile)) throw new UsageError(`no stack config ${configFile}`);
        const stack = flagValue(args, "--stack") ?? (configFile ? /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(configFile))?.[1] : undefined) ?? "dev";
        const project = projectOf(file);
        const preview = args.includes("--preview");
        const packConfig = readPackConfig(args);
        const resources = await runProgram(file, { stack, project, preview, config: configFile ? readConfigFile(configFile, project) : {} });
        return await reportPolicies(resources, { stack, project, preview, config: packConfig });
    } catch (err) {
        if (err instanceof UsageError) {
            console.error(err.message);
            return 2;
        }
        throw err;
    }
}
