/** The command line of the offline plan (`npm run plan -- ...`): usage, flags, and their checks. */
import { NOW_VARIABLE, parseRfc3339 } from "../../components/clock";

export const USAGE = `usage:
  npm run plan -- [<stack>] [--preview] [--json] [--dir <folder>] [--now <RFC3339>] [--platform-outputs <file.json>]
      the offline plan of Pulumi.<stack>.yaml (default dev): text, or with --json the deterministic JSON plan
  npm run plan -- diff <base.json> <head.json> [--fail-on-access-change] [--max-chars <n>]
      Markdown of what changed between two JSON plans (access first, then resources); exit 2 with
      --fail-on-access-change when any access changed
  npm run plan -- <stack> --policy [--preview] [--policy-pack-config <file.json>]
  npm run plan -- --program <file.ts> [--stack S] [--config Pulumi.S.yaml] [--preview] --policy [--policy-pack-config <file.json>]
      run the policy pack (policy/) over what the program registers; exit 1 on a mandatory violation
  npm run plan -- --help

  --preview     run as \`pulumi preview\` does (computed values unknown)
  --json        print the plan as JSON (sorted keys and lists, secrets as "[secret]", unknowns as "[unknown]")
  --dir         read the stack file from this folder instead of the project's
  --now         the run's current time (sets ${NOW_VARIABLE}), e.g. 2026-12-24T18:00:00Z
  --platform-outputs  an organizations stack (split.part: organizations): its platform stack's outputs, as
                \`pulumi stack output --json --show-secrets --stack <platformStack>\` prints them
Exit codes: 0 ok, 1 invalid config (or mandatory policy violation), 2 usage error, missing stack file or
(diff --fail-on-access-change) access changed.`;

/** A command line the plan refuses (exit 2). */
export class UsageError extends Error {}

export interface PlanArgs {
    command: "help" | "plan" | "diff";
    stack: string;
    preview: boolean;
    json: boolean;
    policy: boolean;
    dir?: string;
    now?: string;
    /** An organizations stack: the file with its platform stack's outputs. */
    platformOutputs?: string;
    /** diff: the two plan files. */
    files: string[];
    failOnAccessChange: boolean;
    maxChars?: number;
}

const BOOLEAN_FLAGS = new Set(["--preview", "--json", "--policy", "--fail-on-access-change", "--help", "-h"]);
const VALUE_FLAGS = new Set(["--dir", "--now", "--max-chars", "--policy-pack-config", "--platform-outputs"]);
const DIFF_ONLY = new Set(["--fail-on-access-change", "--max-chars"]);

/** Parses `npm run plan -- ...` (without `--program`, which the policy CLI parses). */
export function parsePlanArgs(args: string[]): PlanArgs {
    const parsed: PlanArgs = { command: "plan", stack: "dev", preview: false, json: false, policy: false, files: [], failOnAccessChange: false };
    const positional: string[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (!arg.startsWith("-")) {
            positional.push(arg);
            continue;
        }
        const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        if (BOOLEAN_FLAGS.has(flag) && inline === undefined) {
            seen.add(flag);
            continue;
        }
        if (!VALUE_FLAGS.has(flag)) throw new UsageError(`unknown flag ${flag}`);
        const value = inline ?? args[++i];
        if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value`);
        seen.add(flag);
        if (flag === "--dir") parsed.dir = value;
        if (flag === "--platform-outputs") parsed.platformOutputs = value;
        if (flag === "--now") {
            if (!parseRfc3339(value)) throw new UsageError(`--now: expected an RFC 3339 date-time such as 2026-12-24T18:00:00Z, got "${value}"`);
            parsed.now = value;
        }
        if (flag === "--max-chars") {
            const n = Number(value);
            if (!Number.isInteger(n) || n < 1000) throw new UsageError(`--max-chars: expected a whole number of at least 1000, got "${value}"`);
            parsed.maxChars = n;
        }
    }
    if (seen.has("--help") || seen.has("-h")) return { ...parsed, command: "help" };
    parsed.preview = seen.has("--preview");
    parsed.json = seen.has("--json");
    parsed.policy = seen.has("--policy");
    parsed.failOnAccessChange = seen.has("--fail-on-access-change");
    if (positional[0] === "diff") {
        if (positional.length !== 3) throw new UsageError("diff needs two plan files: diff <base.json> <head.json>");
        const misplaced = [...seen].filter((f) => !DIFF_ONLY.has(f));
        if (misplaced.length > 0) throw new UsageError(`${misplaced[0]} does not apply to diff`);
        return { ...parsed, command: "diff", files: positional.slice(1) };
    }
    const misplaced = [...seen].find((f) => DIFF_ONLY.has(f));
    if (misplaced) throw new UsageError(`${misplaced} applies to diff only`);
    if (positional.length > 1) throw new UsageError(`one stack at a time (got ${positional.join(", ")})`);
    if (parsed.json && parsed.policy) throw new UsageError("--json and --policy do not go together");
    if (positional[0]) parsed.stack = positional[0];
    return parsed;
}
