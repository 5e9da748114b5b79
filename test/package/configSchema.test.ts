/**
 * The stack files' JSON Schema (for editors): committed and current, referenced by every stack file, and
 * in agreement with the program's own validation on the shipped stacks and on broken copies of them.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import Ajv from "ajv";
import { CONFIG_SCHEMA_FILE, renderStackFileSchema, stackFileSchema } from "../../tools/configSchema";
import { PROJECT_ROOT, listStacks, stackFilePath } from "../../tools/plan/stackFile";
import { parseStackConfig } from "../../components/config";

const MODELINE = `# yaml-language-server: $schema=./${CONFIG_SCHEMA_FILE}`;

function stackDocument(env: string): any {
    return yaml.load(fs.readFileSync(stackFilePath(env), "utf8"));
}

function validator() {
    const ajv = new Ajv({ allErrors: true, strict: true });
    return ajv.compile(stackFileSchema());
}

/** ajv's errors as `instancePath message` lines, for assertion messages. */
function errorsOf(validate: ReturnType<typeof validator>): string[] {
    return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe("stack file JSON Schema", function () {
    this.timeout(30000);
    const stacks = listStacks();

    it("is committed and current (regenerate with `npm run config-schema`)", () => {
        const committed = fs.readFileSync(path.join(PROJECT_ROOT, CONFIG_SCHEMA_FILE), "utf8");
        assert.strictEqual(committed, renderStackFileSchema(), `${CONFIG_SCHEMA_FILE} is stale: run npm run config-schema`);
    });

    it("is referenced by every stack file's first line, for yaml-language-server", () => {
        assert.deepStrictEqual(stacks.sort(), ["dev", "prod", "staging"]);
        for (const env of stacks) {
            const first = fs.readFileSync(stackFilePath(env), "utf8").split("\n")[0];
            assert.strictEqual(first, MODELINE, `Pulumi.${env}.yaml`);
            assert.ok(fs.existsSync(path.resolve(path.dirname(stackFilePath(env)), CONFIG_SCHEMA_FILE)), "the modeline's path exists");
        }
    });

    it("accepts the three stack files (ajv), as the program does", () => {
        const validate = validator();
        for (const env of stacks) {
            const doc = stackDocument(env);
            assert.ok(validate(doc), `Pulumi.${env}.yaml: ${errorsOf(validate).join("; ")}`);
        }
    });

    it("accepts the split example (a platform stack without organizations) and refuses an organizations stack without them", () => {
        const validate = validator();
        const dir = path.join(__dirname, "..", "..", "examples", "split");
        for (const stack of ["dev-platform", "dev-orgs-a", "dev-orgs-b"]) {
            const doc = yaml.load(fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8"));
            assert.ok(validate(doc), `examples/split/Pulumi.${stack}.yaml: ${errorsOf(validate).join("; ")}`);
        }
        const orgs = yaml.load(fs.readFileSync(path.join(dir, "Pulumi.dev-orgs-a.yaml"), "utf8")) as any;
        delete orgs.config["postgres-access:organizations"];
        assert.strictEqual(validate(orgs), false);
        assert.ok(errorsOf(validate).some((e) => /must have required property 'postgres-access:organizations'/.test(e)), errorsOf(validate).join("; "));
    });

    it("refuses what the program refuses field by field, at the field's path", () => {
        const validate = validator();
        const dev = stackDocument("dev");
        const broken: Array<[string, (config: any) => void, RegExp]> = [
            ["a misspelt field", (c) => { c["postgres-access:database"].statefulset.storagesize = "10Gi"; }, /\/config\/postgres-access:database\/statefulset must NOT have additional properties/],
            ["an unknown engine", (c) => { c["postgres-access:database"].engine = "aurora"; }, /\/config\/postgres-access:database\/engine must be equal to one of the allowed values/],
            ["an unknown access level", (c) => { c["postgres-access:organizations"][0].apps[0].access = "admin"; }, /\/config\/postgres-access:organizations\/0\/apps\/0\/access must be equal to one of the allowed values/],
            ["an organization name that is no DNS label", (c) => { c["postgres-access:organizations"][0].name = "Acme_Corp"; }, /\/config\/postgres-access:organizations\/0\/name must match pattern/],
            ["no organization", (c) => { c["postgres-access:organizations"] = []; }, /\/config\/postgres-access:organizations must NOT have fewer than 1 items/],
            ["a quantity that is not one", (c) => { c["postgres-access:database"].statefulset.storageSize = "ten gigs"; }, /storageSize must match pattern/],
            ["a TTL as a string", (c) => { c["postgres-access:vault"].maxTtl = "86400"; }, /\/config\/postgres-access:vault\/maxTtl must be integer/],
            ["an unknown key of the project", (c) => { c["postgres-access:organisations"] = []; }, /\/config must NOT be valid|boolean schema is false/],
            ["no database", (c) => { delete c["postgres-access:database"]; }, /\/config must have required property 'postgres-access:database'/],
        ];
        for (const [what, breakIt, expected] of broken) {
            const doc = structuredClone(dev);
            breakIt(doc.config);
            assert.strictEqual(validate(doc), false, `${what}: the schema accepted it`);
            assert.ok(errorsOf(validate).some((e) => expected.test(e)), `${what}: ${errorsOf(validate).join("; ")}`);
            const raw = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^postgres-access:/, ""), v]));
            assert.throws(() => parseStackConfig(raw, "dev"), Error, `${what}: the program refuses it too`);
        }
    });

    it("leaves other projects' keys alone", () => {
        const validate = validator();
        const doc = stackDocument("staging");
        doc.config["aws:region"] = "eu-west-1";
        doc.config["kubernetes:context"] = "staging";
        assert.ok(validate(doc), errorsOf(validate).join("; "));
    });
});
