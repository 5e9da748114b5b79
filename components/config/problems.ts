/** Config problems and how they are reported: each with its path, all at once. */
import { z } from "zod";

/** A config problem: where (`organizations[1].apps[0].access`) and what is allowed. */
export interface ConfigProblem {
    path: string;
    message: string;
}

/** Bad config: every problem at once, each with its path. */
export class ConfigError extends Error {
    constructor(public readonly problems: ConfigProblem[]) {
        super(`invalid postgres-access configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` + problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"));
        this.name = "ConfigError";
    }
}

/** A zod issue path as the messages write it: `organizations[1].apps[0].access`. */
export function formatPath(path: readonly PropertyKey[]): string {
    let out = "";
    for (const part of path) {
        out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
    }
    return out || "(root)";
}

/** zod's issues as config problems (an absent required field says "is required", unknown keys are named). */
export function zodProblems(error: z.ZodError): ConfigProblem[] {
    return error.issues.map((issue) => {
        if (issue.code === "unrecognized_keys") {
            return { path: formatPath(issue.path), message: `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}` };
        }
        const missing = issue.code === "invalid_type" && (issue as { input?: unknown }).input === undefined;
        const message = missing ? `is required (${issue.message})` : issue.message;
        return { path: formatPath(issue.path), message };
    });
}
