/** Reads a `Pulumi.<env>.yaml` stack file into the raw `postgres-access:*` config objects. */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { CONFIG_KEYS } from "../../components/config";

export const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** Path of the stack file of `env` (in the project, or in `dir`). */
export function stackFilePath(env: string, dir = PROJECT_ROOT): string {
    return path.join(dir, `Pulumi.${env}.yaml`);
}

/** The raw config of a stack file, keyed without the `postgres-access:` prefix. */
export function readStackFile(env: string, dir = PROJECT_ROOT): Record<string, unknown> {
    const file = stackFilePath(env, dir);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack file ${path.relative(process.cwd(), file)} (stacks here: ${listStacks(dir).join(", ") || "none"})`);
    }
    const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        const [project, name] = key.includes(":") ? key.split(":", 2) : ["postgres-access", key];
        if (project === "postgres-access" && (CONFIG_KEYS as readonly string[]).includes(name)) raw[name] = value;
        else if (project === "postgres-access") raw[name] = value; // unknown keys are reported by validation
    }
    return raw;
}

/** Environments that have a stack file (in the project, or in `dir`). */
export function listStacks(dir = PROJECT_ROOT): string[] {
    return fs.readdirSync(dir).map((f) => /^Pulumi\.([a-z0-9-]+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s);
}
