/**
 * `postgres-access:split`: one environment across several stacks. A `platform` stack holds what every
 * organization shares (the server, the maintenance databases, the Vault mount) and exports it as its
 * `platform` output; any number of `organizations` stacks each hold some of the environment's
 * organizations and read the platform through a StackReference. Without the key, one stack holds the whole
 * environment (the stack's name is the environment).
 */
import { z } from "zod";
import { ENV_NAME_MAX, ENV_NAME_PATTERN } from "../naming";
import { valuesOf } from "../types";
import { ConfigProblem } from "./problems";

import { StackPart } from "../postgresAccessArgs";

export { StackPart };

/** `<organization>/<project>/<stack>`, as `pulumi stack ls --all` and StackReference name stacks. */
export const STACK_NAME_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export const stackSplitSchema = z.strictObject({
    /** `platform` or `organizations`. */
    part: z.enum(valuesOf(StackPart), { error: `expected one of: ${valuesOf(StackPart).join(", ")}` }),
    /**
     * The environment every stack of the split shares (part of every cloud-side name, as the stack name is
     * in a whole stack): the same in the platform stack and all its organizations stacks.
     */
    environment: z
        .string({ error: "expected the environment's name (lowercase letters and digits, starting with a letter)" })
        .regex(ENV_NAME_PATTERN, { error: "expected lowercase letters and digits, starting with a letter (it is part of every cloud-side name)" })
        .max(ENV_NAME_MAX, { error: `expected at most ${ENV_NAME_MAX} characters` }),
    /** organizations part: the platform stack, `<organization>/<project>/<stack>`. */
    platformStack: z
        .string({ error: "expected <organization>/<project>/<stack>" })
        .regex(STACK_NAME_PATTERN, { error: "expected <organization>/<project>/<stack> (e.g. acme/postgres-access/prod-platform)" })
        .optional(),
});
export type StackSplit = z.infer<typeof stackSplitSchema>;

/** Checks that span `split` and the other keys (the raw config; the schema checks each field). */
export function stackSplitProblems(raw: Record<string, unknown>): ConfigProblem[] {
    const split = raw.split as Partial<StackSplit> | undefined;
    if (!split || typeof split !== "object") return [];
    const problems: ConfigProblem[] = [];
    const database = (raw.database ?? {}) as Record<string, unknown>;
    const organizations = raw.organizations;
    if (split.part === StackPart.Platform) {
        if (split.platformStack !== undefined) problems.push({ path: "split.platformStack", message: "a platform stack reads no other platform; leave platformStack out (it belongs to organizations stacks)" });
        if (Array.isArray(organizations) && organizations.length > 0) {
            problems.push({ path: "organizations", message: "a platform stack holds no organizations: put them in organizations stacks (split.part: organizations) that name this stack as their platformStack" });
        }
        if (raw.accessPolicy !== undefined) problems.push({ path: "accessPolicy", message: "access requests belong to organizations: set accessPolicy in the organizations stacks" });
    }
    if (split.part === StackPart.Organizations) {
        if (split.platformStack === undefined) problems.push({ path: "split.platformStack", message: "an organizations stack needs its platform stack: <organization>/<project>/<stack>" });
        if (database.phase === "server") problems.push({ path: "database.phase", message: "\"server\" creates the server only, which an organizations stack does not hold; set it in the platform stack" });
    }
    if (database.tls === "mtls") {
        problems.push({ path: "database.tls", message: "mtls cannot be split: the server's certificate map names every app's identity, so the server and all organizations stay in one stack (leave split out, or use verify-full)" });
    }
    return problems;
}
