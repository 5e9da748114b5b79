/**
 * The offline main job: `npm run plan -- <env>` runs the stack program of Pulumi.<env>.yaml in-process
 * under Pulumi's mocks (no Pulumi CLI, no cloud account) and prints what `pulumi up` would create: a
 * tree by organization and app, the grants each app gets, how it authenticates, resource counts, and
 * config errors. Exit code 1 on invalid config, 2 for a usage error or a stack file that does not exist.
 * `--preview` runs it as `pulumi preview` does (computed values unknown); `--dir <folder>` reads the stack
 * file from another folder than the project's; `--json` prints the deterministic JSON plan (planData.ts);
 * `diff <base.json> <head.json>` the Markdown access diff of two JSON plans (planDiff.ts); `--help` the
 * usage (planArgs.ts). `--policy` runs the policy pack over what the program
 * registers instead of printing the plan, `--program <file.ts> … --policy` over another program
 * (tools/policy/cli.ts).
 */
import { runPulumi, RecordedResource, valueOf } from "../../testing/offlineRun";
import { ConfigError } from "../../components/config";
import * as path from "path";
import { PROJECT_ROOT, readStackFile, listStacks } from "./stackFile";
import { StackOutputs } from "../../stacks/program";
import { describePlan } from "./planReport";
import { buildPlan, stableStringify } from "./planData";
import { DEFAULT_DIFF_LIMIT, diffPlans, parsePlan } from "./planDiff";
import { PlanArgs, USAGE, UsageError, parsePlanArgs } from "./planArgs";
import { NOW_VARIABLE } from "../../components/clock";
import { PlatformStackFile, platformStackReferences } from "./platformOutputs";
import * as fs from "fs";

/** The policy modes, loaded only when asked for. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const policyCli = () => require("../policy/cli") as typeof import("../policy/cli");

/**
 * Who runs the offline plan, as far as AWS is concerned: the stack's first platform admin role, in the
 * account of its EKS OIDC provider (what `pulumi up` would run as, if the stack file is right).
 */
function deployerCalls(raw: Record<string, unknown>): Record<string, (inputs: any) => any> | undefined {
    const aws = raw.aws as { eksOidcProviderArn?: unknown; platformAdminRoleArns?: unknown } | undefined;
    const admin = Array.isArray(aws?.platformAdminRoleArns) ? aws!.platformAdminRoleArns[0] : undefined;
    if (typeof aws?.eksOidcProviderArn !== "string" || typeof admin !== "string") return undefined;
    const account = aws.eksOidcProviderArn.split(":")[4];
    const session = `arn:aws:sts::${account}:assumed-role/${admin.split("/").pop()}/plan`;
    return {
        "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: account, arn: session, userId: "AROAPLAN:plan" }),
        "aws:iam/getSessionContext:getSessionContext": (inputs: { arn: string }) => ({ arn: inputs.arn, issuerArn: inputs.arn === session ? admin : inputs.arn }),
    };
}

/**
 * Progress on stderr while a long run registers resources: a line every 2 s, written from the registrations
 * themselves (the program's promise chains keep timers from firing), after a first line saying what runs.
 */
function progressReporter(env: string): { onRegister(n: number): void; done(): void } {
    const seconds = (() => {
        const started = process.hrtime.bigint();
        return () => Number(process.hrtime.bigint() - started) / 1e9;
    })();
    let registered = 0;
    let reportedAt = 0;
    // seconds between progress lines (POSTGRES_ACCESS_PLAN_PROGRESS_SECONDS; 0: a line per registration)
    const interval = Number(process.env.POSTGRES_ACCESS_PLAN_PROGRESS_SECONDS ?? 2);
    // Building a large stack's resources takes seconds before the first registration: say what runs.
    process.stderr.write(`plan ${env}: running the stack program under mocks\n`);
    return {
        onRegister: (n) => {
            registered = n;
            if (seconds() - reportedAt < interval) return;
            reportedAt = seconds();
            process.stderr.write(`plan ${env}: ${registered} resources registered (${reportedAt.toFixed(0)} s)\n`);
        },
        done: () => {
            if (reportedAt > 0) process.stderr.write(`plan ${env}: ${registered} resources registered in ${seconds().toFixed(1)} s\n`);
        },
    };
}

/** `npm run plan -- diff <base.json> <head.json>`: Markdown on stdout. */
function diffMain(args: PlanArgs): number {
    const [base, head] = args.files.map((file) => {
        if (!fs.existsSync(file)) throw new UsageError(`no plan file ${file}`);
        return parsePlan(fs.readFileSync(file, "utf8"), file);
    });
    const diff = diffPlans(base, head, args.maxChars ?? DEFAULT_DIFF_LIMIT);
    process.stdout.write(diff.markdown);
    return args.failOnAccessChange && diff.accessChanged ? 2 : 0;
}

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    if (argv.includes("--program")) return policyCli().programPolicyMain(argv);
    let args: PlanArgs;
    try {
        args = parsePlanArgs(argv);
        if (args.command === "help") {
            console.log(USAGE);
            return 0;
        }
        if (args.command === "diff") return diffMain(args);
    } catch (err) {
        if (err instanceof UsageError || (err as Error).message?.includes("not a plan") || (err as Error).message?.includes("not JSON")) {
            console.error(`${(err as Error).message}\n\n${USAGE}`);
            return 2;
        }
        throw err;
    }
    if (args.now) process.env[NOW_VARIABLE] = args.now;
    const dir = args.dir ? path.resolve(args.dir) : PROJECT_ROOT;
    const env = args.stack;
    const preview = args.preview;
    let raw: Record<string, unknown>;
    try {
        raw = readStackFile(env, dir);
    } catch (err) {
        console.error(String((err as Error).message));
        return 2;
    }
    let stackReferences: Record<string, Record<string, unknown>> | undefined;
    try {
        const references = platformStackReferences(raw, args.platformOutputs, env, dir);
        if (references instanceof PlatformStackFile) {
            // the platform stack's file is beside this one: its outputs as the offline run gives them
            console.error(`plan ${env}: the platform's outputs from Pulumi.${references.stackName}.yaml, evaluated offline (mock values)`);
            stackReferences = { [references.platformStack]: await offlineStackOutputs(references.stackName, readStackFile(references.stackName, dir), preview) };
        } else {
            stackReferences = references;
        }
    } catch (err) {
        if (err instanceof ConfigError) {
            console.error(`platform stack file: ${err.message}`);
            return 1;
        }
        console.error(String((err as Error).message));
        return 2;
    }
    // setMocks must run before the program's modules are loaded; runPulumi does that, then we import.
    let outputs: StackOutputs | undefined;
    let resources: RecordedResource[] = [];
    const progress = progressReporter(env);
    try {
        const run = await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: env, preview, config: raw, calls: deployerCalls(raw), onRegister: progress.onRegister, stackReferences });
        outputs = run.result;
        resources = run.resources;
    } catch (err) {
        if (err instanceof ConfigError) {
            console.error(`Pulumi.${env}.yaml: ${err.message}`);
            console.error("\nNo resources were registered.");
            return 1;
        }
        throw err;
    } finally {
        progress.done();
    }
    if (args.policy) return policyCli().checkStackPolicies(env, resources, argv, preview);
    if (args.json) process.stdout.write(stableStringify(buildPlan(env, outputs, resources, { preview })));
    else console.log(describePlan(env, outputs, resources, { preview, stacks: listStacks(dir) }));
    return 0;
}

/** A stack's exports as the offline run resolves them (`pulumi stack output --json --show-secrets`, mock values). */
async function offlineStackOutputs(stack: string, raw: Record<string, unknown>, preview: boolean): Promise<Record<string, unknown>> {
    const run = await runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return { exports: program.stackExports(program.createStack()) };
    }, { stack, preview, config: raw, calls: deployerCalls(raw) });
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(run.result.exports)) resolved[key] = await valueOf(value as never);
    return resolved;
}

main().then((code) => process.exit(code), (err) => {
    console.error(err);
    process.exit(3);
});
