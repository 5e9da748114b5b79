/**
 * The offline main job: `npm run plan -- <env>` runs the stack program of Pulumi.<env>.yaml in-process
 * under Pulumi's mocks (no Pulumi CLI, no cloud account) and prints what `pulumi up` would create: a
 * tree by organization and app, the grants each app gets, how it authenticates, resource counts, and
 * config errors. Exit code 1 on invalid config, 2 for a stack file that does not exist.
 * `--preview` runs it as `pulumi preview` does (computed values unknown); `--dir <folder>` reads the stack
 * file from another folder than the project's. `--policy` runs the policy pack over what the program
 * registers instead of printing the plan, `--program <file.ts> … --policy` over another program
 * (tools/policy/cli.ts).
 */
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { ConfigError } from "../../stacks/config";
import * as path from "path";
import { PROJECT_ROOT, readStackFile, listStacks } from "./stackFile";
import { StackOutputs } from "../../stacks/program";
import { describePlan } from "./planReport";

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

async function main(): Promise<number> {
    const args = process.argv.slice(2);
    if (args.includes("--program")) return policyCli().programPolicyMain(args);
    const dirAt = args.indexOf("--dir");
    const dir = dirAt >= 0 ? path.resolve(args[dirAt + 1] ?? ".") : PROJECT_ROOT;
    const env = args.find((a, i) => !a.startsWith("--") && (dirAt < 0 || i !== dirAt + 1)) ?? "dev";
    const preview = args.includes("--preview");
    let raw: Record<string, unknown>;
    try {
        raw = readStackFile(env, dir);
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
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: env, preview, config: raw, calls: deployerCalls(raw) });
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
    if (args.includes("--policy")) return policyCli().checkStackPolicies(env, resources, args, preview);
    console.log(describePlan(env, outputs, resources, { preview, stacks: listStacks(dir) }));
    return 0;
}

main().then((code) => process.exit(code), (err) => {
    console.error(err);
    process.exit(3);
});
