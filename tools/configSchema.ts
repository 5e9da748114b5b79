/**
 * JSON Schema of a stack file (`Pulumi.<stack>.yaml`), generated from the zod schema that validates the
 * config (`components/config/schema.ts`), so editors with yaml-language-server complete and check the
 * `postgres-access:*` keys. `npm run config-schema` writes it to `schema/stack-config.schema.json`.
 *
 * The JSON Schema covers what one field says about itself (types, enums, patterns, ranges, defaults,
 * misspelt keys); rules across fields (e.g. Vault apps need `postgres-access:vault`) stay with the
 * program, which reports them before anything is created.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { stackConfigSchema } from "../components/config";

/** The Pulumi project whose config keys the schema describes. */
export const PROJECT = "postgres-access";

/** Where the schema is committed, relative to the project root. */
export const CONFIG_SCHEMA_FILE = "schema/stack-config.schema.json";

type JsonSchema = Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[] };

/** Escapes a string for use inside a regular expression. */
function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The stack file's JSON Schema (draft-07, which every YAML editor supports): each config key of the zod
 * schema as `postgres-access:<key>` (required where the program requires it), other projects' keys
 * (`aws:region`, `kubernetes:context`, ...) free, and any other `postgres-access:` key refused, as the
 * program refuses it.
 */
export function stackFileSchema(): JsonSchema {
    const config = z.toJSONSchema(stackConfigSchema, { target: "draft-7", io: "input", unrepresentable: "any" }) as JsonSchema;
    const keys = Object.keys(config.properties ?? {});
    const properties = Object.fromEntries(keys.map((key) => [`${PROJECT}:${key}`, config.properties![key]]));
    const required = (config.required ?? []).map((key) => `${PROJECT}:${key}`);
    const otherKeysOfProject = `^${escapeRegExp(PROJECT)}:(?!(${keys.map(escapeRegExp).join("|")})$)`;
    return {
        $schema: "http://json-schema.org/draft-07/schema#",
        title: `${PROJECT} stack file`,
        description: `A Pulumi.<stack>.yaml of the ${PROJECT} project. Generated from components/config/schema.ts by \`npm run config-schema\`; do not edit.`,
        type: "object",
        properties: {
            config: {
                description: `Stack configuration: the ${PROJECT}:* keys below, and other projects' keys (aws:region, ...) as they are.`,
                type: "object",
                properties,
                required,
                patternProperties: { [otherKeysOfProject]: false },
                // organizations: at least one, except in a platform stack (components/config/rules.ts)
                if: {
                    properties: { [`${PROJECT}:split`]: { type: "object", properties: { part: { type: "string", const: "platform" } }, required: ["part"] } },
                    required: [`${PROJECT}:split`],
                },
                else: {
                    properties: { [`${PROJECT}:organizations`]: { type: "array", minItems: 1 } },
                    required: [`${PROJECT}:organizations`],
                },
            },
        },
        required: ["config"],
    };
}

/** The schema file's exact text (stable key order, trailing newline). */
export function renderStackFileSchema(): string {
    return `${JSON.stringify(stackFileSchema(), null, 2)}\n`;
}

/** Writes the schema file under `root` and returns its path. */
export function writeStackFileSchema(root = path.resolve(__dirname, "..")): string {
    const file = path.join(root, CONFIG_SCHEMA_FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, renderStackFileSchema());
    return file;
}

if (require.main === module) {
    console.log(`wrote ${path.relative(process.cwd(), writeStackFileSchema())}`);
}
