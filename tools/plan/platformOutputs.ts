/** `--platform-outputs`: the outputs an organizations stack reads from its platform stack, offline. */
import * as fs from "fs";
import * as path from "path";

/** The platform stack's own stack file, to evaluate offline for its outputs. */
export class PlatformStackFile {
    constructor(public readonly platformStack: string, public readonly stackName: string) {}
}

/**
 * An organizations stack (`split.part: organizations`) reads its platform stack's outputs: from the file
 * given with --platform-outputs (`pulumi stack output --json --show-secrets` of the platform stack), under
 * the StackReference name the config gives, or, without the file, from its own stack file in the same
 * folder, evaluated offline (the result names that stack: the caller runs it). Other stacks take no such file.
 */
export function platformStackReferences(raw: Record<string, unknown>, file: string | undefined, env: string, platformFileDir?: string): Record<string, Record<string, unknown>> | PlatformStackFile | undefined {
    const split = raw.split as { part?: unknown; platformStack?: unknown } | undefined;
    const organizationsStack = split && typeof split === "object" && split.part === "organizations" && typeof split.platformStack === "string";
    if (!organizationsStack) {
        if (file !== undefined) throw new Error(`--platform-outputs: Pulumi.${env}.yaml is not an organizations stack (postgres-access:split.part: organizations)`);
        return undefined;
    }
    const platformStack = split.platformStack as string;
    // The platform's stack file beside this one (…/<stack> → Pulumi.<stack>.yaml): the plan evaluates it
    // offline first (pull requests, where no stack's real outputs can be read).
    const stackName = platformStack.split("/").pop()!;
    if (file === undefined && platformFileDir !== undefined && fs.existsSync(path.join(platformFileDir, `Pulumi.${stackName}.yaml`))) {
        return new PlatformStackFile(platformStack, stackName);
    }
    if (file === undefined) {
        throw new Error(`Pulumi.${env}.yaml is an organizations stack on the platform of ${platformStack}: give that stack's outputs with --platform-outputs <file.json> (\`pulumi stack output --json --show-secrets --stack ${platformStack} > file.json\`), or put its stack file Pulumi.${stackName}.yaml beside this one`);
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
