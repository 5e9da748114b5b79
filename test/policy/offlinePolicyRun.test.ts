/**
 * The offline policy run (tools/policy): the adapter hands policies what the policy engine would (secrets
 * unwrapped, unknown values failing as under `pulumi preview`, isType/asType, provider, config, levels), and
 * `npm run plan -- <stack> --policy` / `--program <file> --policy` run the whole pack (policy/) and exit 1
 * on a mandatory violation.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { runPulumi } from "../../testing/offlineRun";
import { runPolicyPack } from "../../tools/policy/runPolicies";
import { policies } from "../../policy/policies";
import { projectOf, readConfigFile, runProgram } from "../../tools/policy/cli";
import { resource } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");
const INSECURE = "test/policy/insecureStack";

/** What `npm run plan -- <args>` runs. */
function plan(...args: string[]) {
    return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/plan/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 180000 });
}

/** `policy name → resource names` of the violations of one level in a report. */
function reported(stdout: string, level: "mandatory" | "advisory"): Map<string, Set<string>> {
    const found = new Map<string, Set<string>>();
    for (const m of stdout.matchAll(new RegExp(`^${level} +(\\S+)\\n +\\S+ +(\\S+)$`, "gm"))) {
        found.set(m[1], (found.get(m[1]) ?? new Set()).add(m[2]));
    }
    return found;
}

/** Mandatory violations our own stacks may have: none (the RDS storage key has an explicit policy). */
const KNOWN_VIOLATIONS: Record<string, string[]> = {
    dev: [],
    staging: [],
    prod: [],
};

describe("offline policy run", function () {
    this.timeout(180000);

    describe("the adapter", () => {
        it("hands secrets as plain values, with isType/asType, the resource's provider and its policy config", async () => {
            const seen: any[] = [];
            const probe: ResourceValidationPolicy = {
                name: "probe", description: "records its args", enforcementLevel: "mandatory",
                validateResource: (args, report) => {
                    seen.push({ type: args.type, urn: args.urn, password: args.props.password, isRole: args.isType({ __pulumiType: "postgresql:index/role:Role" } as any), asType: (args.asType({ __pulumiType: "postgresql:index/role:Role" } as any) as any)?.name, provider: args.provider?.name, config: args.getConfig() });
                    report("seen");
                },
            };
            const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "pw" };
            const providerRef = "urn:pulumi:prod::team::pulumi:providers:postgresql::admin::admin-id";
            const result = await runPolicyPack([probe], [
                resource("pulumi:providers:postgresql", "admin", { host: "db" }, { id: "admin-id" }),
                resource("postgresql:index/role:Role", "r", { name: "app", password: "pw" }, { rawInputs: { name: "app", password: secret }, provider: providerRef }),
                resource("postgres-access:index:AppLogin", "component", {}, { custom: false }),
            ], { stack: "prod", project: "team", config: { probe: { enforcementLevel: "advisory", flag: true } } });
            assert.deepStrictEqual(seen, [{ type: "postgresql:index/role:Role", urn: "urn:pulumi:prod::team::postgresql:index/role:Role::r", password: "pw", isRole: true, asType: "app", provider: "admin", config: { flag: true } }], "providers and components are not validated as resources");
            assert.deepStrictEqual(result.violations.map((v) => [v.enforcementLevel, v.resource?.name, v.message]), [["advisory", "r", "seen"]], "config overrides the level");
        });

        it("hands the URNs, options, parent and dependencies the engine received, from a recorded run", async () => {
            class Group extends pulumi.ComponentResource {
                constructor(name: string) {
                    super("test:index:Group", name, {});
                    const first = new random.RandomPet(`${name}-first`, {}, { parent: this, protect: true, ignoreChanges: ["prefix"] });
                    new random.RandomPet(`${name}-second`, { prefix: first.id }, { parent: this, additionalSecretOutputs: ["id"] });
                    this.registerOutputs({});
                }
            }
            const run = await runPulumi(() => { new Group("group"); }, { stack: "prod" });
            const seen = new Map<string, any>();
            const probe: ResourceValidationPolicy = { name: "probe", description: "records", enforcementLevel: "advisory", validateResource: (args) => { seen.set(args.name, { urn: args.urn, opts: args.opts }); } };
            let stackSeen: any[] = [];
            const stackProbe: StackValidationPolicy = {
                name: "stack-probe", description: "records", enforcementLevel: "advisory",
                validateStack: (args) => { stackSeen = args.resources.map((r) => ({ name: r.name, parent: r.parent?.name, dependencies: r.dependencies.map((d) => d.name), prefix: r.propertyDependencies.prefix?.map((d) => d.name) })); },
            };
            await runPolicyPack([probe, stackProbe], run.resources, { stack: "prod", project: "postgres-access" });
            const group = run.byName("test:index:Group", "group").urn;
            assert.deepStrictEqual(seen.get("group-first"), {
                urn: "urn:pulumi:prod::postgres-access::test:index:Group$random:index/randomPet:RandomPet::group-first",
                opts: { protect: true, ignoreChanges: ["prefix"], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], parent: group },
            });
            assert.deepStrictEqual([seen.get("group-second").opts.protect, seen.get("group-second").opts.additionalSecretOutputs], [false, ["id"]]);
            assert.deepStrictEqual(stackSeen.find((r) => r.name === "group-second"), { name: "group-second", parent: "group", dependencies: ["group-first"], prefix: ["group-first"] });
        });

        it("turns a read of a value unknown in preview into an advisory \"can't run during preview\", as the engine does", async () => {
            const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
            const result = await runPolicyPack(policies, [
                resource("aws:rds/instance:Instance", "db", {}, { rawInputs: { engine: "postgres", storageEncrypted: true, publiclyAccessible: false, deletionProtection: true, finalSnapshotIdentifier: "f", parameterGroupName: unknown } }),
            ], { stack: "prod", project: "team" });
            const forceSsl = result.violations.filter((v) => v.policyName === "rds-force-ssl");
            assert.deepStrictEqual(forceSsl.map((v) => v.enforcementLevel), ["advisory"]);
            assert.match(forceSsl[0].message, /can't run policy 'rds-force-ssl' during preview: string value at \.parameterGroupName can't be known during preview/);
            assert.deepStrictEqual(result.violations.filter((v) => v.enforcementLevel === "mandatory"), []);
        });

        it("reports a stack validation's violation against the resource it names, and a throwing policy as mandatory", async () => {
            const stackPolicy: StackValidationPolicy = {
                name: "stack-probe", description: "names a resource", enforcementLevel: "mandatory",
                validateStack: (args, report) => report(`saw ${args.resources.length}`, args.resources[1].urn),
            };
            const broken: ResourceValidationPolicy = { name: "broken", description: "throws", enforcementLevel: "advisory", validateResource: () => { throw new Error("boom"); } };
            const result = await runPolicyPack([stackPolicy, broken], [resource("a:b:C", "one", {}), resource("a:b:C", "two", {})], { stack: "s", project: "p" });
            assert.deepStrictEqual(result.violations.map((v) => [v.policyName, v.enforcementLevel, v.resource?.name, v.message]), [
                ["stack-probe", "mandatory", "two", "saw 2"],
                ["broken", "mandatory", "one", "the policy failed: boom"],
                ["broken", "mandatory", "two", "the policy failed: boom"],
            ]);
        });
    });

    for (const stack of ["dev", "staging", "prod"]) {
        // (preview mode too for prod, the stack with the most computed values: IAM and KMS documents)
        it(`runs the whole pack over the ${stack} stack${stack === "prod" ? " (up and preview)" : ""}: no mandatory violation but the known ones`, () => {
            for (const mode of stack === "prod" ? [[], ["--preview"]] : [[]]) {
                const r = plan(stack, "--policy", ...mode);
                const found = [...reported(r.stdout, "mandatory")].flatMap(([policy, names]) => [...names].map((n) => {
                    const type = new RegExp(`^mandatory +${policy}\\n +(\\S+) +${n}$`, "m").exec(r.stdout)?.[1];
                    return `${policy} ${type} ${n}`;
                }));
                assert.deepStrictEqual(found.sort(), KNOWN_VIOLATIONS[stack], r.stdout + r.stderr);
                assert.strictEqual(r.status, found.length ? 1 : 0, r.stderr);
                assert.match(r.stdout, new RegExp(`^Policy pack postgres-access: ${policies.length} policies on stack ${stack}`, "m"));
                assert.deepStrictEqual([...reported(r.stdout, "advisory").keys()], [], `no advisory findings either\n${r.stdout}`);
            }
        });
    }

    it("catches the deliberately insecure team stack through --program with the right policy names, and exits 1", () => {
        const r = plan("--program", `${INSECURE}/index.ts`, "--config", `${INSECURE}/Pulumi.prod.yaml`, "--policy");
        assert.strictEqual(r.status, 1, r.stdout + r.stderr);
        const mandatory = reported(r.stdout, "mandatory");
        assert.deepStrictEqual(Object.fromEntries([...mandatory].map(([p, names]) => [p, [...names].sort()]).sort()), {
            "iam-irsa-trust-exact": ["app-irsa"],
            "iam-secrets-read-single-secret": ["read-secrets"],
            "kms-key-no-root-decrypt": ["secrets-key"],
            "kubernetes-no-credentials-in-configmaps": ["app-config"],
            "kubernetes-no-credentials-in-env": ["app"],
            "kubernetes-pod-security-restricted": ["app"],
            "postgresql-createrole-only-vault-admin": ["migrator"],
            "postgresql-database-revokes-public": ["team-a-db"],
            "postgresql-no-public-privileges": ["public-connect"],
            "postgresql-role-least-privilege": ["app-login"],
            "rds-deletion-protection": ["db"],
            "rds-force-ssl": ["db"],
            "rds-not-publicly-accessible": ["db"],
            "rds-storage-encrypted": ["db"],
            "vault-allowed-roles-no-wildcard": ["team-a-connection"],
            "vault-app-policy-read-only": ["app-policy"],
            "vault-kubernetes-auth-role-single-service-account": ["app-auth"],
        });
        assert.deepStrictEqual([...reported(r.stdout, "advisory").keys()].sort(), ["kubernetes-namespace-enforces-restricted", "rds-final-snapshot"]);
        // every policy of the pack fires on it
        assert.deepStrictEqual([...mandatory.keys(), ...reported(r.stdout, "advisory").keys()].sort(), policies.map((p) => p.name).sort());
        // the program ran as its own project and stack, with its stack file's config
        assert.match(r.stdout, /^Policy pack postgres-access: \d+ policies on stack prod, 14 resources checked$/m);
        assert.match(r.stdout, /iam-irsa-trust-exact\n.*\n.*oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/TEAMA0+:sub/);
    });

    it("runs the insecure program under its own project name and config (Pulumi.yaml beside it)", async () => {
        const project = projectOf(`${ROOT}/${INSECURE}/index.ts`);
        assert.strictEqual(project, (yaml.load(fs.readFileSync(`${ROOT}/${INSECURE}/Pulumi.yaml`, "utf8")) as any).name);
        const config = readConfigFile(`${ROOT}/${INSECURE}/Pulumi.prod.yaml`, project);
        assert.deepStrictEqual(Object.keys(config).sort(), ["insecure-team-stack:namespace", "insecure-team-stack:oidcIssuer"]);
        const resources = await runProgram(`${ROOT}/${INSECURE}/index.ts`, { stack: "prod", project, config, preview: false });
        const ns = resources.find((r) => r.type === "kubernetes:core/v1:Namespace");
        assert.strictEqual(ns?.inputs.metadata.name, "team-a");
        // the next runPulumi starts from the project's defaults again
        await runPulumi(() => undefined);
    });

    it("refuses --program without --policy, and unknown flags (exit 2)", () => {
        for (const args of [["--program", `${INSECURE}/index.ts`], ["--program", "nope.ts", "--policy", "--bogus"]]) {
            const r = plan(...args);
            assert.strictEqual(r.status, 2, `${args.join(" ")}\n${r.stdout}${r.stderr}`);
            assert.match(r.stderr, /usage: npm run plan/);
        }
    });
});
