/**
 * The multi-language package: Pulumi's component analyzer (@pulumi/pulumi/provider/experimental, the one
 * behind `pulumi package add`) accepts PostgresAccess and the building blocks, the committed schema.json is
 * what it infers today, every arg, output and enum value is described, PostgresAccess's args are the
 * config contract field for field, and a call with plain JSON args (as a YAML, Python or Go program sends
 * them) through the provider's `construct` registers exactly what the TypeScript call does.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { z } from "zod";
import { RecordedResource, runPulumi } from "../../testing/offlineRun";
import { stackFilePath } from "../../tools/plan/stackFile";
import { stackConfigSchema } from "../../components/config";
import { PACKAGE_SCHEMA_FILE, renderPackageSchema } from "../../tools/packageSchema";
import { componentProvider, PROVIDED_COMPONENTS } from "../../provider";

const ROOT = path.resolve(__dirname, "..", "..");
/** The analyzer type-checks the components and their SDKs' types: ~1 min on a quiet machine. */
const ANALYZER_LIMIT_MS = 600_000;

type Property = { type?: string; $ref?: string; items?: Property; additionalProperties?: Property; description?: string; optional?: boolean; plain?: boolean };
type TypeDefinition = { type: string; properties?: Record<string, Property>; required?: string[]; enum?: { name: string; value: string | number; description?: string }[] };
interface PackageSchema {
    name: string;
    resources: Record<string, { description?: string; inputProperties: Record<string, Property>; requiredInputs: string[]; properties: Record<string, Property> }>;
    types: Record<string, TypeDefinition>;
}

function devConfig(): Record<string, unknown> {
    const config = (yaml.load(fs.readFileSync(stackFilePath("dev"), "utf8")) as { config: Record<string, unknown> }).config;
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^postgres-access:/, ""), v]));
}

describe("component provider (multi-language package)", function () {
    this.timeout(ANALYZER_LIMIT_MS + 120_000);
    let rendered: string;
    let schema: PackageSchema;
    const provider = componentProvider();

    before(async () => {
        rendered = await renderPackageSchema();
        schema = JSON.parse(rendered);
        await provider.getSchema(); // construct needs the analyzed definitions
    });

    it("the analyzer accepts PostgresAccess and the building blocks", () => {
        assert.deepStrictEqual(Object.keys(schema.resources).sort(), PROVIDED_COMPONENTS.map((c) => `postgres-access:index:${c.name}`).sort());
        assert.deepStrictEqual(PROVIDED_COMPONENTS.map((c) => c.name).sort(), ["Organization", "PostgresAccess", "RdsPostgres", "StatefulSetPostgres"]);
    });

    it(`${PACKAGE_SCHEMA_FILE} is committed and current (regenerate with \`npm run schema\`)`, () => {
        const committed = fs.readFileSync(path.join(ROOT, PACKAGE_SCHEMA_FILE), "utf8");
        assert.strictEqual(committed, rendered, `${PACKAGE_SCHEMA_FILE} is stale: run npm run schema`);
    });

    it("describes every component, arg, output, nested field and enum value", () => {
        const undescribed: string[] = [];
        for (const [token, resource] of Object.entries(schema.resources)) {
            if (!resource.description) undescribed.push(token);
            for (const [name, p] of Object.entries(resource.inputProperties)) if (!p.description) undescribed.push(`${token} arg ${name}`);
            for (const [name, p] of Object.entries(resource.properties)) if (!p.description) undescribed.push(`${token} output ${name}`);
            assert.ok(Object.keys(resource.inputProperties).length > 0 && Object.keys(resource.properties).length > 0, `${token} has args and outputs`);
        }
        for (const [token, type] of Object.entries(schema.types)) {
            for (const [name, p] of Object.entries(type.properties ?? {})) if (!p.description) undescribed.push(`${token}.${name}`);
            for (const member of type.enum ?? []) if (!member.description) undescribed.push(`${token} = ${member.value}`);
        }
        assert.deepStrictEqual(undescribed, []);
    });

    it("PostgresAccess's args are the config contract: the same fields, required the same, the same allowed values", () => {
        const contract = z.toJSONSchema(stackConfigSchema, { target: "draft-7", io: "input", unrepresentable: "any" }) as any;
        const args = schema.resources["postgres-access:index:PostgresAccess"];
        const differences: string[] = [];
        const resolve = (p: Property): Property | TypeDefinition => (p.$ref?.startsWith("#/types/") ? schema.types[p.$ref.slice("#/types/".length)] : p);
        const compare = (where: string, json: any, p: Property | TypeDefinition) => {
            const target = resolve(p as Property);
            if (json.enum) {
                const values = ((target as TypeDefinition).enum ?? []).map((m) => m.value);
                if (JSON.stringify([...values].sort()) !== JSON.stringify([...json.enum].sort())) differences.push(`${where}: values ${values} vs ${json.enum}`);
                return;
            }
            if (json.type === "array") return compare(`${where}[]`, json.items, (target as Property).items!);
            if (json.type === "object") {
                const fields = (target as TypeDefinition).properties ?? {};
                const expected = Object.keys(json.properties ?? {}).sort();
                if (JSON.stringify(Object.keys(fields).sort()) !== JSON.stringify(expected)) differences.push(`${where}: fields ${Object.keys(fields).sort()} vs ${expected}`);
                const required = [...(json.required ?? [])].filter((k: string) => json.properties[k].default === undefined).sort();
                const requiredArgs = Object.entries(fields).filter(([, f]) => !f.optional).map(([k]) => k).sort();
                if (JSON.stringify(required) !== JSON.stringify(requiredArgs)) differences.push(`${where}: required ${requiredArgs} vs ${required}`);
                for (const key of expected) if (fields[key]) compare(`${where}.${key}`, json.properties[key], fields[key]);
                return;
            }
            const kind = json.type === "integer" ? "number" : json.type;
            if (kind && (target as Property).type !== kind) differences.push(`${where}: ${(target as Property).type} vs ${kind}`);
        };
        compare("(args)", { ...contract, properties: contract.properties }, { properties: Object.fromEntries(Object.entries(args.inputProperties).filter(([k]) => k !== "env" && k !== "versionCheck")) } as TypeDefinition);
        assert.deepStrictEqual(differences, []);
        // organizations: required except in a platform stack (split.part platform), a cross-field rule
        assert.deepStrictEqual(args.requiredInputs, ["database", "env"]);
    });

    it("plain JSON args through construct (as another language sends them) register what the TypeScript call does", async () => {
        const config = devConfig();
        const view = (resources: RecordedResource[]) => resources.map((r) => ({ type: r.type, name: r.name, parent: r.parent, inputs: r.inputs, provider: r.provider })).sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
        const typescript = await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { PostgresAccess } = require("../../components/postgresAccess") as typeof import("../../components/postgresAccess");
            return new PostgresAccess("platform", { env: "dev", ...config } as never).urn;
        }, { stack: "dev" });
        // The wire form: a protobuf Struct of plain JSON, deserialized as the provider host does.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { deserializeInputs } = require("@pulumi/pulumi/provider/server");
        const wire = JSON.parse(JSON.stringify({ env: "dev", ...config }));
        const inputs = await deserializeInputs(Struct.fromJavaScript(wire), new Map());
        const constructed = await runPulumi(async () => {
            const result = await provider.construct("platform", "postgres-access:index:PostgresAccess", inputs, {});
            return { urn: result.urn, outputs: Object.keys(result.state ?? {}).sort() };
        }, { stack: "dev" });
        assert.ok(typescript.resources.length > 100, `${typescript.resources.length} resources`);
        assert.deepStrictEqual(view(constructed.resources), view(typescript.resources));
        assert.deepStrictEqual(constructed.result.outputs, Object.keys(schema.resources["postgres-access:index:PostgresAccess"].properties).sort());
    });

    it("an Organization from plain JSON args (a platform's connection, as another language sends it) registers what the TypeScript call does", async () => {
        const config = devConfig() as { organizations: unknown[] };
        // The connection as a platform stack would export it: plain values, the admin password a secret.
        const args = {
            env: "dev",
            organization: config.organizations[2], // initech: Vault static and dynamic apps, vault-agent delivery
            connection: {
                database: {
                    engine: "statefulset", majorVersion: "17", tls: "require", host: "postgres.postgres.svc.cluster.local", port: 5432,
                    adminUsername: "postgres", adminPassword: "admin-password", adminIsSuperuser: true, caCertPem: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
                    adminEndpoint: { host: "localhost", port: 15432 }, egress: { namespace: "postgres" },
                },
                vault: {
                    address: "https://vault.dev.example.internal:8200", mount: "database-dev", kubernetesAuthMount: "kubernetes",
                    defaultTtl: 3600, maxTtl: 86400, staticRotationPeriod: 86400, egress: [{ namespace: "vault", port: 8200 }],
                },
            },
        };
        const view = (resources: RecordedResource[]) => resources.map((r) => ({ type: r.type, name: r.name, parent: r.parent, inputs: r.inputs, provider: r.provider, aliases: r.aliases })).sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
        /* eslint-disable @typescript-eslint/no-require-imports */
        const postgresql = require("@pulumi/postgresql") as typeof import("@pulumi/postgresql");
        const vault = require("@pulumi/vault") as typeof import("@pulumi/vault");
        const { Organization } = require("../../components/organization") as typeof import("../../components/organization");
        const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
        const { deserializeInputs } = require("@pulumi/pulumi/provider/server");
        /* eslint-enable @typescript-eslint/no-require-imports */
        const providers = () => ({
            postgresql: new postgresql.Provider("postgres-admin", { host: "localhost", port: 15432, username: "postgres", password: "admin-password", sslmode: "require" }),
            vault: new vault.Provider("vault", { address: args.connection.vault.address }),
        });
        const typescript = await runPulumi(() => new Organization("initech", args as never, { providers: providers() }).urn, { stack: "dev" });
        const inputs = await deserializeInputs(Struct.fromJavaScript(JSON.parse(JSON.stringify(args))), new Map());
        const constructed = await runPulumi(async () => {
            const result = await provider.construct("initech", "postgres-access:index:Organization", inputs, { providers: providers() });
            return Object.keys(result.state ?? {}).sort();
        }, { stack: "dev" });
        const types = typescript.resources.map((r) => r.type);
        for (const expected of ["postgres-access:index:VaultOrganizationConnection", "postgres-access:index:VaultAppCredentials", "pulumi:providers:postgresql"]) assert.ok(types.includes(expected), expected);
        assert.deepStrictEqual(view(constructed.resources), view(typescript.resources));
        assert.deepStrictEqual(constructed.result, Object.keys(schema.resources["postgres-access:index:Organization"].properties).sort());
    });

    it("an Organization's bad args reach the other language as problems with their paths, before anything is registered", async () => {
        let thrown: Error | undefined;
        const run = await runPulumi(async () => {
            try {
                await provider.construct("acme", "postgres-access:index:Organization", {
                    env: "dev",
                    organization: { name: "acme", apps: [{ name: "web", access: "admin" }, { name: "jobs", credentials: "vault-static" }] },
                    connection: { database: { engine: "statefulset", majorVersion: "17", tls: "require", host: "h", port: 5432, adminUsername: "postgres", adminPassword: "p", adminIsSuperuser: true, caCertPem: "", egress: { namespace: "postgres" } } },
                }, {});
            } catch (err) {
                thrown = err as Error;
            }
        }, { stack: "dev" });
        assert.ok(thrown);
        assert.match(thrown.message, /organization\.apps\[0\]\.access: expected one of/);
        assert.match(thrown.message, /organization\.apps\[1\]\.credentials: "vault-static" needs the postgres-access:vault config/);
        assert.deepStrictEqual(run.resources, []);
    });

    it("the README's YAML example is a call the provider accepts", async () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const blocks = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((m) => yaml.load(m[1]) as any);
        const program = blocks.find((b) => b?.resources?.access?.type === "postgres-access:index:PostgresAccess");
        assert.ok(program, "README has a YAML program using PostgresAccess");
        const run = await runPulumi(() => provider.construct("access", "postgres-access:index:PostgresAccess", program.resources.access.properties, {}), { stack: "dev" });
        assert.deepStrictEqual(run.resources.filter((r) => r.type === "postgres-access:index:Organization").map((r) => r.name).sort(), ["acme", "globex"]);
        const outputName = /^\$\{access\.(\w+)\}$/.exec(program.outputs.organizations)?.[1];
        assert.ok(outputName && schema.resources["postgres-access:index:PostgresAccess"].properties[outputName], `${program.outputs.organizations} is an output`);
    });

    it("a config error reaches the other language as the same problems, before anything is registered", async () => {
        let thrown: Error | undefined;
        const run = await runPulumi(async () => {
            try {
                await provider.construct("platform", "postgres-access:index:PostgresAccess", { env: "dev", database: { engine: "aurora" }, organizations: [] }, {});
            } catch (err) {
                thrown = err as Error;
            }
        }, { stack: "dev" });
        assert.ok(thrown);
        assert.match(thrown.message, /database\.engine: expected one of "statefulset" \| "rds"/);
        assert.match(thrown.message, /organizations: expected at least one organization/);
        assert.deepStrictEqual(run.resources, []);
    });
});
