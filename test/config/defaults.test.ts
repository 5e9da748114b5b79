/**
 * One source for every default of the stack config: the zod schema declares it, the committed JSON Schema for
 * editors (`npm run config-schema`) carries it, README's config tables state it, and the rules use it (read
 * from the schema, `SCHEMA_DEFAULTS`). A default changed in one place and not the others fails here.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { DEFAULT_ACCESS_POLICY } from "../../components/accessRequests";
import { CONFIG_KEYS, DEFAULT_STATEFULSET, SCHEMA_DEFAULTS, accessPolicyOf, parseStackConfig, stackConfigSchema } from "../../components/config";
import { CONFIG_SCHEMA_FILE, PROJECT } from "../../tools/configSchema";
import { ROOT } from "../docText";

/** A field of the zod schema: its path (`organizations[].apps[].access`), its declared default if any, whether it holds fields. */
interface Field {
    path: string;
    hasDefault: boolean;
    default?: unknown;
    isObject: boolean;
}

/** Every field of the zod schema below `schema`, depth first. */
function zodFields(schema: z.ZodType, at: string, out: Field[] = []): Field[] {
    let node = schema;
    let hasDefault = false;
    let value: unknown;
    for (;;) {
        const def = node._zod.def as { type: string; innerType?: z.ZodType; defaultValue?: unknown };
        if (def.type === "default") {
            hasDefault = true;
            value = def.defaultValue;
        }
        if (def.type !== "default" && def.type !== "prefault" && def.type !== "optional") break;
        node = def.innerType!;
    }
    const type = node._zod.def.type;
    const isObject = type === "object";
    if (at) out.push({ path: at, hasDefault: hasDefault && !isObject, default: value, isObject });
    if (isObject) {
        for (const [key, field] of Object.entries((node as z.ZodObject).shape)) zodFields(field as z.ZodType, at ? `${at}.${key}` : key, out);
    } else if (type === "array") {
        const element = (node as z.ZodArray<z.ZodType>).element;
        if (element._zod.def.type === "object") zodFields(element, `${at}[]`, out);
    }
    return out;
}

/** The JSON Schema node of a field path of the config (`organizations[].apps[].access`). */
function jsonSchemaNode(config: Record<string, any>, fieldPath: string): Record<string, any> | undefined {
    const [first, ...rest] = fieldPath.split(".");
    const top = /^(\w+)(\[\])?$/.exec(first)!;
    let node = config.properties[`${PROJECT}:${top[1]}`];
    if (top[2]) node = node?.items;
    for (const part of rest) {
        const m = /^(\w+)(\[\])?$/.exec(part)!;
        node = node?.properties?.[m[1]];
        if (m[2]) node = node?.items;
    }
    return node;
}

/** A README config table row: the field paths it documents and the default cell for each. */
interface Row {
    path: string;
    defaultCell: string;
    line: number;
}

/**
 * The rows of README's tables under `### \`postgres-access:<key>\``, with field paths made absolute: a row
 * "`requests.cpu` / `.memory`" documents two fields, and its default cell "`250m` / `512Mi`" gives each its own.
 */
function readmeRows(readme: string, known: Set<string>): Row[] {
    const lines = readme.split("\n");
    const rows: Row[] = [];
    let section: string | undefined;
    lines.forEach((line, i) => {
        const heading = /^#{2,3} /.test(line) ? /^### `postgres-access:(\w+)`/.exec(line) : undefined;
        if (/^#{2,3} /.test(line)) section = heading ? heading[1] : undefined;
        if (!section || !line.startsWith("| `")) return;
        const [fieldCell, defaultCell] = line.split(" | ").map((c) => c.replace(/^\| /, ""));
        const base = known.has(`${section}[]`) ? `${section}[]` : section;
        const names = fieldCell.split(" / ").map((part) => /^`([^`]+)`$/.exec(part.trim())?.[1]);
        assert.ok(names.every((n) => n !== undefined), `README.md:${i + 1}: a field cell of backticked names joined by " / ": ${fieldCell}`);
        const defaults = defaultCell.split(" / ");
        let previous = "";
        names.forEach((name, k) => {
            let full = `${base}.${name}`;
            if (name!.startsWith(".")) full = previous.replace(/\.[^.]+$/, "") + name;
            else if (!known.has(full) && previous.includes(".")) full = previous.replace(/\.[^.]+$/, `.${name}`);
            previous = full;
            rows.push({ path: full, defaultCell: (defaults.length === names.length ? defaults[k] : defaultCell).trim(), line: i + 1 });
        });
    });
    return rows;
}

/** The literal a README default cell states (`` `250m` `` → 250m, `` `"18"` `` → 18), or undefined for prose. */
function literalOf(cell: string): string | undefined {
    const m = /^`([^`]+)`$/.exec(cell);
    return m ? m[1].replace(/^"(.*)"$/, "$1") : undefined;
}

const asLiteral = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/**
 * Defaults README states that the schema does not declare, because code applies them from other fields, and
 * where. Anything else README states as a plain value must be the schema's.
 */
const APPLIED_IN_CODE: Record<string, string> = {
    "vault.mount": "database-<env> (parseStackConfig: it depends on the stack name)",
    "database.statefulset.image": "the official image of database.version (StatefulSetPostgres)",
    "organizations[].apps[].syncSecret": "true: delivery csi syncs unless it is false (the delivery components)",
    "organizations[].accessRequests": "[] (parseStackConfig)",
};

/** Where README's default cells and the schema's defaults disagree. */
function readmeDefaultProblems(fields: Field[], rows: Row[]): string[] {
    const known = new Set(fields.map((f) => f.path));
    const documented = new Map(rows.map((r) => [r.path, r]));
    const problems: string[] = [];
    for (const field of fields) {
        const row = documented.get(field.path);
        if (field.isObject) continue;
        if (field.hasDefault) {
            if (!row) problems.push(`${field.path}: default ${asLiteral(field.default)} is not in README`);
            else if (literalOf(row.defaultCell) !== asLiteral(field.default)) problems.push(`README.md:${row.line} ${field.path}: README says ${row.defaultCell}, the schema ${asLiteral(field.default)}`);
            continue;
        }
        const literal = row && literalOf(row.defaultCell);
        const refersToField = literal !== undefined && [...known].some((p) => p === literal || p.endsWith(`.${literal}`));
        if (literal !== undefined && !refersToField && !(field.path in APPLIED_IN_CODE)) {
            problems.push(`README.md:${row!.line} ${field.path}: README states default ${row!.defaultCell}, which the schema does not declare`);
        }
    }
    return problems;
}

const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

describe("config defaults: zod schema, JSON Schema and README agree", function () {
    const fields = zodFields(stackConfigSchema, "");
    const known = new Set(fields.map((f) => f.path));
    const rows = readmeRows(README, known);
    /** The committed JSON Schema (`npm run config-schema`), which editors read. */
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, CONFIG_SCHEMA_FILE), "utf8")).properties.config;

    it("walks the whole schema (every config key, the defaults the program relies on)", () => {
        for (const key of CONFIG_KEYS) assert.ok(known.has(key), key);
        const withDefault = fields.filter((f) => f.hasDefault).map((f) => f.path);
        for (const p of ["database.version", "database.statefulset.resources.limits.memory", "vault.maxTtl", "organizations[].apps[].connectionLimit", "organizations[].accessRequests[].approvedBy", "accessPolicy.maxDuration"]) {
            assert.ok(withDefault.includes(p), `${p} has a default: ${withDefault.join(", ")}`);
        }
        assert.ok(withDefault.length >= 40, `${withDefault.length} defaults found`);
    });

    it("the JSON Schema carries exactly the zod schema's defaults", () => {
        for (const field of fields) {
            const node = jsonSchemaNode(config, field.path);
            assert.ok(node, `${field.path} is in the JSON Schema`);
            if (field.isObject) continue;
            if (field.hasDefault) assert.deepStrictEqual(node.default, field.default, `${field.path}: JSON Schema default`);
            else assert.strictEqual(node.default, undefined, `${field.path}: the JSON Schema states a default the program does not apply`);
        }
    });

    it("every README row names a field of the schema", () => {
        assert.ok(rows.length >= 80, `${rows.length} rows read from README's config tables`);
        const unknown = rows.filter((r) => !known.has(r.path)).map((r) => `README.md:${r.line} ${r.path}`);
        assert.deepStrictEqual(unknown, []);
    });

    it("README states each default the schema declares, and no other plain value", () => {
        assert.deepStrictEqual(readmeDefaultProblems(fields, rows), []);
    });

    it("a README default that disagrees with the schema is found", () => {
        const row = "| `defaultTtl` / `maxTtl` | `3600` / `86400` |";
        assert.ok(README.includes(row), "the vault TTL row as this test expects it");
        const edited = readmeRows(README.replace(row, "| `defaultTtl` / `maxTtl` | `3600` / `43200` |"), known);
        assert.deepStrictEqual(readmeDefaultProblems(fields, edited).map((p) => p.replace(/^README\.md:\d+ /, "")), ["vault.maxTtl: README says `43200`, the schema 86400"]);
        const undeclared = readmeRows(README.replace("| `egressPort` | port of `address`, else 8200 in-cluster / 443 |", "| `egressPort` | `8200` |"), known);
        assert.deepStrictEqual(readmeDefaultProblems(fields, undeclared).map((p) => p.replace(/^README\.md:\d+ /, "")), ["vault.egressPort: README states default `8200`, which the schema does not declare"]);
    });

    it("the defaults the code applies are the schema's", () => {
        assert.deepStrictEqual(DEFAULT_STATEFULSET, stackConfigSchema.shape.database.shape.statefulset.unwrap().parse({}));
        assert.deepStrictEqual(accessPolicyOf(undefined), DEFAULT_ACCESS_POLICY, "components/accessRequests.ts DEFAULT_ACCESS_POLICY");
        assert.deepStrictEqual(accessPolicyOf(SCHEMA_DEFAULTS.accessPolicy), DEFAULT_ACCESS_POLICY);
        const parsed = parseStackConfig({ database: { engine: "statefulset" }, vault: { address: "https://vault.example:8200", kubernetesNamespace: "vault" }, organizations: [{ name: "acme" }] }, "dev");
        assert.strictEqual(parsed.database.version, SCHEMA_DEFAULTS.database.version);
        assert.strictEqual(parsed.database.tls, SCHEMA_DEFAULTS.database.tls);
        assert.deepStrictEqual([parsed.vault!.defaultTtl, parsed.vault!.maxTtl], [SCHEMA_DEFAULTS.vault.defaultTtl, SCHEMA_DEFAULTS.vault.maxTtl]);
        assert.strictEqual(parsed.vault!.mount, "database-dev", APPLIED_IN_CODE["vault.mount"]);
        assert.deepStrictEqual(parsed.organizations[0].accessRequests, [], APPLIED_IN_CODE["organizations[].accessRequests"]);
        const app = parsed.organizations[0].apps[0];
        assert.deepStrictEqual([app.credentials, app.access], [SCHEMA_DEFAULTS.app.credentials, SCHEMA_DEFAULTS.app.access]);
    });
});
