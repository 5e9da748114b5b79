/**
 * A split environment (`postgres-access:split`): the platform stack and the organizations stacks of
 * examples/split together register exactly what the whole dev stack registers (same URNs apart from the
 * stack, same inputs), so organizations can move between stacks with `pulumi state move` without
 * replacing anything; the platform's export is a secret that fits what the organizations stacks read; a
 * config that does not fit its platform fails before anything changes; and the config errors of a split.
 */
import * as assert from "assert";
import * as path from "path";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, runPulumi, valueOf, isSecret } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";
import { PlatformStackFile, platformStackReferences } from "../../tools/plan/platformOutputs";
import { ConfigError, parseStackConfig } from "../../components/config";
import { PlatformStackOutput, platformMismatches } from "../../components/platformStack";
import { runPolicyPack } from "../../tools/policy/runPolicies";
import { policies } from "../../policy/policies";

const ROOT = path.resolve(__dirname, "..", "..");
const SPLIT_DIR = path.join(ROOT, "examples", "split");
const PLATFORM_STACK = "organization/postgres-access/dev-platform";

type Program = typeof import("../../stacks/program");
function program(): Program {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("../../stacks/program") as Program;
}

async function runStack(stack: string, raw: Record<string, unknown>, stackReferences?: Record<string, Record<string, unknown>>) {
    // the exports resolve after the run (a run that fails, as pulumi up would, rejects instead)
    const run = await runPulumi(() => ({ exports: program().stackExports(program().createStack()) }), { stack, config: raw, stackReferences });
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(run.result.exports)) resolved[key] = await valueOf(value as pulumi.Output<unknown>);
    return { ...run, result: { ...run.result, resolved } };
}

/** URN without its stack, so the same resource in two stacks compares equal. */
function portable(urn: string): string {
    return urn.replace(/^urn:pulumi:[^:]+::/, "");
}

/** Resources as `pulumi state move` sees them: portable URN → type and inputs (StackReferences aside). */
function byUrn(resources: RecordedResource[]): Map<string, RecordedResource> {
    return new Map(resources.filter((r) => r.type !== "pulumi:pulumi:StackReference").map((r) => [portable(r.urn!), r]));
}

describe("split environment (platform stack + organizations stacks)", function () {
    this.timeout(600_000);
    let platformOutputs: Record<string, unknown>;
    let platformRun: Awaited<ReturnType<typeof runStack>>;

    before(async () => {
        platformRun = await runStack("dev-platform", readStackFile("dev-platform", SPLIT_DIR));
        platformOutputs = platformRun.result.resolved;
    });

    it("the platform stack holds the server, the maintenance databases and the Vault mount, and no organization", () => {
        const types = platformRun.resources.map((r) => r.type);
        assert.ok(types.includes("kubernetes:apps/v1:StatefulSet"));
        assert.ok(types.includes("vault:index/mount:Mount"), "the mount exists for the organizations stacks' Vault apps");
        assert.ok(!types.includes("postgresql:index/role:Role"), "no organization's role");
        assert.ok(!types.includes("kubernetes:core/v1:Namespace") || platformRun.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace").every((r) => r.inputs.metadata.name === "postgres"));
        assert.deepStrictEqual(platformOutputs.organizations, {});
    });

    it("the server admits the environment's organization namespaces by label, and Vault's by name", () => {
        const policy = platformRun.resources.find((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")!;
        const from = policy.inputs.spec.ingress[0].from;
        assert.deepStrictEqual(from[0].namespaceSelector.matchExpressions[0].values, ["vault"]);
        assert.deepStrictEqual(from[1].namespaceSelector.matchLabels, { "postgres-access/environment": "dev" });
    });

    it("exports `platform` as a secret that holds what the organizations stacks read", async () => {
        const exported = platformRun.result.exports.platform as pulumi.Output<PlatformStackOutput>;
        assert.ok(await isSecret(exported), "the admin login inside it stays a secret");
        const platform = platformOutputs.platform as PlatformStackOutput;
        assert.strictEqual(platform.environment, "dev");
        assert.strictEqual(platform.vaultMount, "database-dev");
        assert.strictEqual(platform.database.majorVersion, "17");
        assert.ok(platform.database.adminPassword.length >= 20);
        // the committed example has the same fields (it is what `npm run plan -- dev-orgs-a --platform-outputs` reads)
        const example = (platformStackReferences(readStackFile("dev-orgs-a", SPLIT_DIR), path.join(SPLIT_DIR, "dev-platform.outputs.json"), "dev-orgs-a") as Record<string, Record<string, unknown>>)[PLATFORM_STACK];
        const shape = (value: unknown): unknown => (value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]).sort()) : typeof value);
        assert.deepStrictEqual(shape(example), shape(platformOutputs));
    });

    it("platform + organizations stacks register what the whole stack does: same URNs apart from the stack, same inputs", async () => {
        const references = { [PLATFORM_STACK]: platformOutputs };
        const a = await runStack("dev-orgs-a", readStackFile("dev-orgs-a", SPLIT_DIR), references);
        const b = await runStack("dev-orgs-b", readStackFile("dev-orgs-b", SPLIT_DIR), references);
        const whole = byUrn((await runStack("dev", readStackFile("dev"))).resources);
        const parts = [byUrn(platformRun.resources), byUrn(a.resources), byUrn(b.resources)];
        // every resource of the whole stack is in exactly one part, except what each stack needs of its own
        // (the root stack, the admin providers and components above the organizations)
        const perStack = (urn: string) => /(::|\$)pulumi:providers:|postgres-access:index:PostgresAccess::postgres-access$/.test(urn);
        // the one resource whose inputs change: the server's ingress admits the environment's namespaces by label
        const ingress = "postgres-access::postgres-access:index:PostgresAccess$postgres-access:index:StatefulSetPostgres$kubernetes:networking.k8s.io/v1:NetworkPolicy::postgres-ingress";
        const missing: string[] = [];
        const differing: string[] = [];
        for (const [urn, resource] of whole) {
            const holders = parts.filter((p) => p.has(urn));
            if (holders.length === 0) missing.push(urn);
            else if (!perStack(urn) && holders.length > 1) differing.push(`${urn}: in ${holders.length} stacks`);
            else if (!perStack(urn) && urn !== ingress && resource.custom && JSON.stringify(holders[0].get(urn)!.inputs) !== JSON.stringify(resource.inputs)) {
                differing.push(`${urn}: inputs differ`);
            }
        }
        const extra = parts.flatMap((p) => [...p.keys()].filter((urn) => !whole.has(urn)));
        assert.deepStrictEqual(missing, [], "resources of the whole stack no part registers");
        assert.deepStrictEqual(differing, []);
        assert.deepStrictEqual(extra, [], "resources only a split registers");
        // every organizations stack makes the admin providers a whole stack makes, with the same names
        for (const part of parts.slice(1)) assert.ok(part.has("postgres-access::postgres-access:index:PostgresAccess$pulumi:providers:postgresql::postgres-admin"));
        assert.deepStrictEqual(Object.keys(a.result.resolved.organizations as object).sort(), ["acme", "globex"]);
        assert.deepStrictEqual(Object.keys(b.result.resolved.organizations as object), ["initech"]);
        assert.strictEqual(a.result.exports.platform, undefined, "only the platform stack exports the admin login");
        // the policy pack passes every stack of the split, as it passes the whole stack
        for (const [stack, run] of [["dev-platform", platformRun], ["dev-orgs-a", a], ["dev-orgs-b", b]] as const) {
            const report = await runPolicyPack(policies, run.resources, { stack, project: "postgres-access" });
            assert.deepStrictEqual(report.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => `${v.policyName}: ${v.resource?.name}`), [], stack);
        }
    });

    it("a config that does not fit its platform stack fails the run, naming the field", async () => {
        const raw = readStackFile("dev-orgs-b", SPLIT_DIR);
        const database = { ...(raw.database as object), version: "16" };
        await assert.rejects(runStack("dev-orgs-b", { ...raw, database }, { [PLATFORM_STACK]: platformOutputs }), /database\.version: this stack says "16", platform stack organization\/postgres-access\/dev-platform serves "17"/);
        const config = parseStackConfig(raw, "dev");
        assert.deepStrictEqual(platformMismatches(undefined, config), [`stack ${PLATFORM_STACK} has no "platform" output: it must be a platform stack (split.part: platform) that has been deployed`]);
        assert.deepStrictEqual(platformMismatches(platformOutputs.platform as PlatformStackOutput, config), []);
    });

    it("the offline plan of an organizations stack needs the platform's outputs, and only it takes them", () => {
        const orgs = readStackFile("dev-orgs-a", SPLIT_DIR);
        assert.throws(() => platformStackReferences(orgs, undefined, "dev-orgs-a"), /--platform-outputs <file\.json> \(`pulumi stack output --json --show-secrets --stack organization\/postgres-access\/dev-platform/);
        assert.throws(() => platformStackReferences(readStackFile("dev"), "x.json", "dev"), /not an organizations stack/);
        assert.throws(() => platformStackReferences(orgs, path.join(SPLIT_DIR, "missing.json"), "dev-orgs-a"), /--platform-outputs .*missing\.json/);
        // without the file, the platform's stack file beside this one is evaluated offline (pull requests)
        assert.deepStrictEqual(platformStackReferences(orgs, undefined, "dev-orgs-a", SPLIT_DIR), new PlatformStackFile(PLATFORM_STACK, "dev-platform"));
        assert.throws(() => platformStackReferences(orgs, undefined, "dev-orgs-a", path.join(SPLIT_DIR, "..")), /or put its stack file Pulumi\.dev-platform\.yaml beside this one/);
    });

    it("`npm run plan` of an organizations stack evaluates the platform's stack file beside it, or reads --platform-outputs", () => {
        const plan = (...args: string[]) => spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/plan/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
        for (const extra of [[], ["--platform-outputs", path.join(SPLIT_DIR, "dev-platform.outputs.json")]]) {
            const run = plan("dev-orgs-a", "--dir", SPLIT_DIR, "--json", ...extra);
            assert.strictEqual(run.status, 0, run.stderr);
            assert.deepStrictEqual(Object.keys(JSON.parse(run.stdout).organizations).sort(), ["acme", "globex"]);
            assert.strictEqual(/evaluated offline/.test(run.stderr), extra.length === 0, run.stderr);
        }
        const lonely = fs.mkdtempSync(path.join(os.tmpdir(), "split-"));
        fs.copyFileSync(path.join(SPLIT_DIR, "Pulumi.dev-orgs-a.yaml"), path.join(lonely, "Pulumi.dev-orgs-a.yaml"));
        const alone = plan("dev-orgs-a", "--dir", lonely);
        fs.rmSync(lonely, { recursive: true, force: true });
        assert.strictEqual(alone.status, 2, alone.stderr);
        assert.match(alone.stderr, /is an organizations stack on the platform of organization\/postgres-access\/dev-platform: give that stack's outputs with --platform-outputs/);
    });

    describe("config errors", () => {
        const parse = (raw: Record<string, unknown>, env = "dev") => {
            try {
                parseStackConfig(raw, env);
                return [];
            } catch (err) {
                if (!(err instanceof ConfigError)) throw err;
                return err.problems.map((p) => `${p.path}: ${p.message}`);
            }
        };
        const platform = () => readStackFile("dev-platform", SPLIT_DIR);
        const orgs = () => readStackFile("dev-orgs-a", SPLIT_DIR);

        it("accepts the examples", () => {
            assert.deepStrictEqual(parse(platform()), []);
            assert.deepStrictEqual(parse(orgs()), []);
        });
        it("a platform stack holds no organizations, an organizations stack needs its platform", () => {
            const withOrgs = { ...platform(), organizations: orgs().organizations };
            assert.ok(parse(withOrgs).some((p) => /^organizations: a platform stack holds no organizations/.test(p)));
            const noPlatform = { ...orgs(), split: { part: "organizations", environment: "dev" } };
            assert.ok(parse(noPlatform).some((p) => /^split\.platformStack: an organizations stack needs its platform stack/.test(p)));
            assert.ok(parse({ ...orgs(), organizations: [] }).some((p) => /^organizations: expected at least one organization/.test(p)));
        });
        it("names the field of a bad split", () => {
            const problems = parse({ ...orgs(), split: { part: "both", environment: "Dev-1", platformStack: "dev-platform" } });
            assert.ok(problems.some((p) => p.startsWith("split.part: expected one of: platform, organizations")), problems.join("\n"));
            assert.ok(problems.some((p) => p.startsWith("split.environment: expected lowercase letters and digits")), problems.join("\n"));
            assert.ok(problems.some((p) => p.startsWith("split.platformStack: expected <organization>/<project>/<stack>")), problems.join("\n"));
        });
        it("the environment is the one the program builds, and mtls is not split", () => {
            assert.ok(parse(orgs(), "staging").some((p) => /^split\.environment: .*expected "staging"/.test(p)));
            const mtls = { ...platform(), database: { ...(platform().database as object), tls: "mtls", spiffe: { trustDomain: "example.org" } } };
            assert.ok(parse(mtls).some((p) => /^database\.tls: mtls cannot be split/.test(p)));
        });
        it("the stack's name is not the environment in a split (dev-platform is a valid stack name there)", () => {
            assert.strictEqual(program().environmentOf(platform(), "dev-platform"), "dev");
            assert.strictEqual(program().environmentOf(readStackFile("dev"), "dev"), "dev");
        });
    });
});
