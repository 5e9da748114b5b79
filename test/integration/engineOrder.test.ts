/**
 * The database layer in the orders the Pulumi engine may really use. The engine creates resources in
 * parallel, each as soon as what its registration waits for exists (test/support/engineOrder.ts), so a
 * missing dependency shows up only in some orders. Here the whole program (every app kind, Vault included)
 * is applied to one real server per version in several seeded engine orders, by a superuser and by an
 * RDS-like admin (not a superuser, a member of nothing but what the provider grants it), each time from a
 * clean server. After each order the server must hold exactly what the resources declare, and every login
 * may connect (by the server's own privilege check) to its own organization's database and no other.
 */
import * as assert from "assert";
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";
import { renderPgHba } from "../../components/database/serverConfig";
import { startPostgres, TestServer, PostgresMajor } from "../support/realPostgres";
import { serverCertificates } from "../support/certificates";
import { applyProviderResources, createRdsLikeAdmin, resetServer, T } from "../support/postgresqlProviderSql";
import { dependencyGraph, engineOrderSeeds } from "../support/engineOrder";

const organizations = [
    {
        name: "acme",
        apps: [
            { name: "billing", access: "owner" },
            { name: "storefront", access: "readwrite", credentials: "vault-static", delivery: "vault-secrets-operator" },
            { name: "analytics", access: "readonly", credentials: "vault-dynamic", delivery: "csi" },
            { name: "reporting", access: "readonly", connectionLimit: 3 },
        ],
    },
    { name: "globex", apps: [{ name: "ledger", access: "readwrite", credentials: "vault-dynamic", delivery: "vault-secrets-operator" }] },
];
const vault = { address: "https://vault.example.com:8200", kubernetesNamespace: "vault" };

type Admin = "superuser" | "rds";

async function recordProgram(version: PostgresMajor, admin: Admin): Promise<RecordedResource[]> {
    const staging = readStackFile("staging");
    const { stack, config } = admin === "superuser"
        ? { stack: "dev", config: { database: { engine: "statefulset", version, tls: "require" }, vault, organizations } }
        : { stack: "staging", config: { ...staging, database: { ...(staging.database as object), version }, vault, organizations } };
    const run = await runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.createStack();
    }, { stack, config });
    return run.resources;
}

/** Roles a login acts through: itself, its `roles`, GrantRoles to it, transitively. */
function rolesOf(login: string, resources: RecordedResource[]): Set<string> {
    const out = new Set([login]);
    for (let grew = true; grew;) {
        grew = false;
        for (const r of resources) {
            const memberships: [string, string[]][] = r.type === T.role ? [[r.inputs.name, r.inputs.roles ?? []]] : r.type === T.grantRole ? [[r.inputs.role, [r.inputs.grantRole]]] : [];
            for (const [member, groups] of memberships) {
                if (!out.has(member)) continue;
                for (const g of groups) if (!out.has(g)) grew = out.add(g) !== undefined;
            }
        }
    }
    return out;
}

/** The databases a login may connect to, by the declared resources: owner, or CONNECT granted to one of its roles. */
function declaredConnect(login: string, resources: RecordedResource[], databases: string[]): string[] {
    const roles = rolesOf(login, resources);
    return databases.filter((db) =>
        resources.some((r) => r.type === T.database && r.inputs.name === db && roles.has(r.inputs.owner)) ||
        resources.some((r) => r.type === T.grant && r.inputs.objectType === "database" && r.inputs.database === db && roles.has(r.inputs.role) && (r.inputs.privileges ?? []).includes("CONNECT")));
}

for (const version of ["15", "17"] as PostgresMajor[]) {
    describe(`engine-legal orders on real PostgreSQL ${version}`, function () {
        this.timeout(180000);
        let server: TestServer;
        before(async () => {
            const certs = serverCertificates();
            server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba: renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 100 }),
                // durability is not under test: every order creates and drops databases
                settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } });
        });
        after(async () => {
            await server?.stop();
        });

        for (const admin of ["superuser", "rds"] as Admin[]) {
            describe(`${admin === "rds" ? "an RDS-like (non-superuser) admin" : "the superuser"} applies the program`, () => {
                let resources: RecordedResource[];
                before(async () => {
                    resources = await recordProgram(version, admin);
                });

                it("waits for each login's group role and, on RDS, for the admin's owner membership before revoking PUBLIC", () => {
                    const graph = dependencyGraph(resources);
                    const roles = resources.filter((r) => r.type === T.role);
                    for (const login of roles.filter((r) => (r.inputs.roles ?? []).length)) {
                        for (const group of login.inputs.roles) {
                            const groupRole = roles.find((r) => r.inputs.name === group);
                            assert.ok(groupRole && graph.precedes(groupRole, login), `${login.name} is created after ${group} in every order`);
                        }
                    }
                    const revokes = resources.filter((r) => r.type === T.grant && r.inputs.role === "public" && r.inputs.objectType === "database" && resources.some((d) => d.type === T.database && d.inputs.name === r.inputs.database));
                    assert.strictEqual(revokes.length, 2);
                    for (const revoke of revokes) {
                        const database = resources.find((d) => d.type === T.database && d.inputs.name === revoke.inputs.database)!;
                        const adminAsOwner = resources.filter((g) => g.type === T.grantRole && g.inputs.grantRole === database.inputs.owner);
                        assert.strictEqual(adminAsOwner.length, admin === "rds" ? 1 : 0);
                        for (const g of adminAsOwner) assert.ok(graph.precedes(g, revoke), `${revoke.name} waits for ${g.name}`);
                    }
                });

                for (const seed of engineOrderSeeds()) {
                    it(`engine order seed ${seed}: the server holds what is declared; every login may connect to its own database only`, async () => {
                        await resetServer(server);
                        const login = admin === "rds" ? await createRdsLikeAdmin(server) : undefined;
                        await applyProviderResources(server, resources, login, { seed });
                        const databases = ["postgres", "template1", ...resources.filter((r) => r.type === T.database).map((r) => r.inputs.name as string)];
                        const logins = resources.filter((r) => r.type === T.role && r.inputs.login).map((r) => r.inputs.name as string);
                        assert.ok(logins.length >= 5);
                        // the server's own judgement of CONNECT (what it checks at login), through every membership
                        const { rows } = await server.query(
                            "SELECT u AS login, array(SELECT d FROM unnest($2::text[]) d WHERE has_database_privilege(u, d, 'CONNECT')) AS reached FROM unnest($1::text[]) u",
                            [logins, databases]);
                        for (const { login, reached } of rows) {
                            const expected = declaredConnect(login, resources, databases);
                            assert.strictEqual(expected.length, 1, `${login} is declared to reach exactly one database: ${expected}`);
                            assert.deepStrictEqual(reached, expected, `${login} (seed ${seed})`);
                        }
                    });
                }
            });
        }
    });
}
