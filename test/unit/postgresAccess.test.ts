/**
 * `PostgresAccess`, the one top-level component: the stack program is that component, existing stacks keep
 * every resource through aliases (each URN recorded before the component existed is one of the engine's
 * alias URNs of a resource of the new plan), its args are validated like the stack config before anything
 * is registered, and its outputs are plain data.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { RecordedResource, RunResult, isSecret, runPulumi, valueOf } from "../../testing/offlineRun";
import { listStacks } from "../../tools/plan/stackFile";
import { runStack, stackConfig } from "../support/stackRun";

/**
 * URNs of every resource of each shipped stack (offline preview), recorded once before a change that moved
 * resources (test/support/recordStackUrns.ts): before `PostgresAccess` existed, and before `Organization`
 * became a building block of plain data (its provider, Vault connection and KMS key moved into it).
 */
const FIXTURES = ["urnsBeforePostgresAccess.json", "urnsBeforeOrganization.json"];
const URNS_BEFORE: Record<string, Record<string, string[]>> = Object.fromEntries(FIXTURES.map((f) => [f, JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", f), "utf8"))]));

/** The `<parent types>$<type>` part of a URN. */
function typeChain(urn: string): string {
    return urn.split("::")[2];
}

/**
 * Every URN the engine matches a resource's state under: its own URN, its own alias specs resolved (a
 * field left out is the resource's own; `noParent` drops the parent), and for each alias URN of its parent
 * the URN it would have under that parent (aliases are inherited, as the engine computes them).
 */
function engineAliasUrns(resources: RecordedResource[], stack: string): Map<string, Set<string>> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const prefix = `urn:pulumi:${stack}::postgres-access::`;
    const urnOf = (parentUrn: string | undefined, type: string, name: string) => `${prefix}${parentUrn ? `${typeChain(parentUrn)}$` : ""}${type}::${name}`;
    const memo = new Map<string, Set<string>>();
    const aliasesOf = (r: RecordedResource): Set<string> => {
        const known = memo.get(r.urn);
        if (known) return known;
        const all = new Set<string>([r.urn]);
        for (const alias of r.aliases ?? []) {
            if (typeof alias === "string") all.add(alias);
            else all.add(urnOf(alias.noParent ? undefined : alias.parentUrn ?? r.parent, alias.type ?? r.type, alias.name ?? r.name));
        }
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) for (const parentAlias of aliasesOf(parent)) all.add(urnOf(parentAlias, r.type, r.name));
        memo.set(r.urn, all);
        return all;
    };
    return new Map(resources.map((r) => [r.urn, aliasesOf(r)]));
}

describe("PostgresAccess", function () {
    this.timeout(300_000);

    describe("existing stacks keep their resources (aliases)", () => {
        for (const env of listStacks().sort()) {
            it(`${env}: every URN recorded before PostgresAccess and before Organization moved is an alias of a resource now`, async () => {
                const { resources } = await runStack(env);
                const component = resources.filter((r) => r.type === "postgres-access:index:PostgresAccess");
                assert.deepStrictEqual(component.map((r) => [r.name, r.parent]), [["postgres-access", undefined]], "one PostgresAccess at the top");
                const topLevel = resources.filter((r) => r.parent === undefined).map((r) => r.type).sort();
                assert.deepStrictEqual(topLevel, ["postgres-access:index:PostgresAccess", "pulumi:pulumi:StackReference"], "everything else is below the component");
                const aliases = engineAliasUrns(resources, env);
                const covered = new Set([...aliases.values()].flatMap((s) => [...s]));
                for (const fixture of FIXTURES) {
                    const before = URNS_BEFORE[fixture][env];
                    assert.ok(before && before.length > 50, `recorded URNs of ${env} in ${fixture}`);
                    const lost = before.filter((urn) => !covered.has(urn));
                    assert.deepStrictEqual(lost, [], `resources the engine would replace (no alias matches their old URN in ${fixture}); if a resource was deliberately removed, drop it from test/fixtures/${fixture}`);
                    // ... and no old URN is claimed by two resources (the engine refuses that).
                    const claims = new Map<string, number>();
                    for (const set of aliases.values()) for (const urn of set) if (before.includes(urn)) claims.set(urn, (claims.get(urn) ?? 0) + 1);
                    assert.deepStrictEqual([...claims].filter(([, n]) => n > 1), [], fixture);
                }
            });
        }

        it("the component's direct children alias the root stack (organizations by their former URN as a string), their children inherit it", async () => {
            const { resources } = await runStack("dev");
            const component = resources.find((r) => r.type === "postgres-access:index:PostgresAccess")!;
            const children = resources.filter((r) => r.parent === component.urn);
            assert.ok(children.some((r) => r.type === "postgres-access:index:StatefulSetPostgres") && children.some((r) => r.type === "pulumi:providers:postgresql"));
            for (const child of children) {
                const formerly = child.type === "postgres-access:index:Organization" ? `urn:pulumi:dev::postgres-access::${child.type}::${child.name}` : { noParent: true };
                assert.deepStrictEqual(child.aliases, [formerly], `${child.type} ${child.name}`);
            }
            for (const grandchild of resources.filter((r) => r.parent !== undefined && r.parent !== component.urn)) {
                // Resources that moved into an Organization (its provider) alias their former parents themselves.
                const moved = (grandchild.aliases ?? []).some((a) => typeof a !== "string" && a.parentUrn === component.urn);
                if (moved) continue;
                const own = (grandchild.aliases ?? []).filter((a) => typeof a !== "string" && a.noParent);
                assert.deepStrictEqual(own, [], `${grandchild.type} ${grandchild.name}: the alias comes from its parent`);
            }
        });
    });

    describe("validation", () => {
        it("throws every problem with its path before registering anything", async () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { PostgresAccess } = require("../../components/postgresAccess") as typeof import("../../components/postgresAccess");
            let thrown: Error | undefined;
            const run = await runPulumi(() => {
                try {
                    new PostgresAccess("platform", {
                        env: "dev",
                        database: { engine: "statefulset", tls: "mtls" },
                        organizations: [
                            { name: "Acme", apps: [{ name: "web", access: "admin" as never }] },
                            { name: "globex", apps: [{ name: "etl", credentials: "vault-static" }] },
                        ],
                    });
                } catch (err) {
                    thrown = err as Error;
                }
            });
            assert.ok(thrown, "no error");
            assert.strictEqual(thrown.name, "ConfigError");
            const paths = (thrown as unknown as { problems: { path: string }[] }).problems.map((p) => p.path);
            for (const expected of ["organizations[0].name", "organizations[0].apps[0].access", "organizations[1].apps[0].credentials", "database.spiffe", "database.adminEndpoint"]) {
                assert.ok(paths.includes(expected), `${expected} in ${paths.join(", ")}`);
            }
            assert.deepStrictEqual(run.resources, [], "nothing registered, not even the component");
        });
    });

    describe("outputs", () => {
        let run: RunResult<{ exports: Record<string, any>; access: import("../../components/postgresAccess").PostgresAccess }>;
        before(async () => {
            run = await runPulumi(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require("../../stacks/program") as typeof import("../../stacks/program");
                const outputs = program.createStack();
                return { exports: program.stackExports(outputs), access: outputs.access };
            }, { stack: "dev", config: stackConfig("dev") });
        });

        it("organizations: the stack exports' names and delivery, as plain data without passwords", async () => {
            const organizations = await valueOf(run.result.access.organizations);
            const exported = await valueOf(run.result.exports.organizations);
            const withoutPasswords = JSON.parse(JSON.stringify(exported, (k, v) => (k === "password" ? undefined : v)));
            assert.deepStrictEqual(JSON.parse(JSON.stringify(organizations)), withoutPasswords);
            assert.ok(!JSON.stringify(organizations).includes("password\""), "no password field");
            assert.strictEqual(await isSecret(run.result.access.organizations), false, "names are not secret");
        });

        it("appPasswords: the exported app passwords, keyed <organization>/<app>, as a secret", async () => {
            const exported = await valueOf(run.result.exports.organizations) as Record<string, { apps: Record<string, { password?: string }> }>;
            const expected = Object.fromEntries(Object.entries(exported).flatMap(([org, o]) => Object.entries(o.apps)
                .filter(([, app]) => app.password !== undefined).map(([app, a]) => [`${org}/${app}`, a.password])));
            assert.ok(Object.keys(expected).length > 0);
            assert.deepStrictEqual(await valueOf(run.result.access.appPasswords), expected);
            assert.strictEqual(await isSecret(run.result.access.appPasswords), true);
        });

        it("the server connection, never the admin password", async () => {
            const access = run.result.access;
            assert.strictEqual(await valueOf(access.engine), "statefulset");
            assert.strictEqual(await valueOf(access.databaseHost), await valueOf(run.result.exports.databaseHost));
            assert.strictEqual(await valueOf(access.databasePort), 5432);
            assert.match(await valueOf(access.databaseCaCertPem) as string, /BEGIN CERTIFICATE/);
            for (const key of Object.keys(access)) assert.ok(!/password/i.test(key) || key === "appPasswords", key);
        });
    });
});
