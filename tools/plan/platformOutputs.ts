/** `--platform-outputs`: the outputs an organizations stack reads from its platform stack, offline. */
import * as fs from "fs";
import * as path from "path";

/**
 * An organizations stack (`split.part: organizations`) reads its platform stack's outputs: from the file
 * given with --platform-outputs (`pulumi stack output --json --show-secrets` of the platform stack), under
 * the StackReference name the config gives. Other stacks take no such file.
 */
export function platformStackReferences(raw: Record<string, unknown>, file: string | undefined, env: string): Record<string, Record<string, unknown>> | undefined {
    const split = (raw["postgres-access:split"] ?? raw.split) as { part?: unknown; platformStack?: unknown } | undefined;
    const organizationsStack = split && typeof split === "object" && split.part === "organizations" && typeof split.platformStack === "string";
    if (!organizationsStack) {
        if (file !== undefined) throw new Error(`--platform-outputs: Pulumi.${env}.yaml is not an organizations stack (postgres-access:split.part: organizations)`);
        return undefined;
    }
    const platformStack = split.platformStack as string;
    if (file === undefined) {
        throw new Error(`Pulumi.${env}.yaml is an organizations stack on the platform of ${platformStack}: give that stack's outputs with --platform-outputs <file.json> (\`pulumi stack output --json --show-secrets --stack ${platformStack} > file.json\`)`);
    }
    let outputs: unknown;
    try {
        outputs = JSON.parse(fs.readFileSync(path.resolve(file), "utf8"));
    } catch (err) {
        throw new Error(`--platform-outputs ${file}: ${(err as Error).message}`);
    }
    if (!outputs || typeof outputs !== "object" || Array.isArray(outputs)) throw new Error(`--platform-outputs ${file}: expected the JSON object \`pulumi stack output --json\` prints`);
    return { [platformStack]: outputs as Record<string, unknown> };
}
