/**
 * Removing apps and organizations on a real PostgreSQL (15 and 17), as a superuser admin (in-cluster) and
 * as an RDS-like admin (not a superuser: CREATEROLE, CREATEDB): the program runs under mocks before and
 * after each config change, and the provider's deletes for what the change removed are executed as the
 * provider executes them (test/support/postgresqlProviderDelete.ts): in its connection's database, one
 * transaction per resource, retained resources only forgotten.
 *
 * 1. Apps whose logins own a large object, default privileges (granted to PUBLIC) and a table are removed.
 * 2. The organization is removed: its logins and group roles are dropped, its database, data, owner role
 *    and namespace are kept, and no login of it (a Vault dynamic user left behind included) can connect.
 * 3. It is re-added with `adoptExisting`: the kept database, owner and namespace are imported and the new
 *    apps read the old data.
 */
import * as assert from "assert";
import { Client } from "pg";
import { runPulumi, RecordedResource, RunResult } from "../../testing/offlineRun";
import { startPostgres, TestServer, PostgresMajor } from "../support/realPostgres";
import { serverCertificates } from "../support/certificates";
import { AdminLogin, applyProviderResources, createRdsLikeAdmin } from "../support/postgresqlProviderSql";
import { applyProviderDeletes, removedResources, retainedOnDelete } from "../support/postgresqlProviderDelete";
import { readStackFile } from "../../tools/plan/stackFile";
import { renderPgHba } from "../../components/database/serverConfig";

const acmeApps = [
    { name: "billing", access: "owner" },
    { name: "storefront", access: "readwrite" },
    { name: "reporting", access: "readonly" },
];
/** Apps that leave something behind in the organization's database, then are removed. */
const leavingApps = [
    { name: "scratch", access: "readwrite" }, // SELECT lo_create(0)
    { name: "peek", access: "readonly" }, // ALTER DEFAULT PRIVILEGES … TO PUBLIC
    { name: "migrator", access: "owner" }, // SET ROLE NONE; CREATE TABLE …
];
const globex = { name: "globex" };

const DYNAMIC_USER = "v-acme-storefront-dyn";
const DYNAMIC_PASSWORD = "Dynamic-Passw0rd-4711";

type Mode = "superuser" | "rds-like";
type RecordedRun = RunResult<unknown>;

function stackConfig(mode: Mode, version: PostgresMajor, organizations: unknown[]): { stack: string; config: Record<string, unknown> } {
    if (mode === "superuser") {
        return { stack: "dev", config: { database: { engine: "statefulset", version, tls: "require" }, organizations } };
    }
    const raw = readStackFile("staging");
    return { stack: "staging", config: { ...raw, database: { ...(raw.database as object), version }, organizations } };
}

async function record(mode: Mode, version: PostgresMajor, organizations: unknown[]): Promise<RecordedRun> {
    const { stack, config } = stackConfig(mode, version, organizations);
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.createStack();
    }, { stack, config });
}

/** Every app's delivered credentials (Kubernetes Secrets), by login name. */
function credentials(resources: RecordedResource[]): Map<string, { username: string; password: string; database: string }> {
    const out = new Map<string, { username: string; password: string; database: string }>();
    for (const r of resources.filter((x) => x.type === "kubernetes:core/v1:Secret" && x.inputs.stringData?.username)) {
        out.set(r.inputs.stringData.username, r.inputs.stringData);
    }
    return out;
}

for (const version of ["15", "17"] as PostgresMajor[]) {
    for (const mode of ["superuser", "rds-like"] as Mode[]) {
        describe(`removing apps and organizations on real PostgreSQL ${version}, ${mode} admin`, function () {
            this.timeout(180000);
            let server: TestServer;
            let admin: AdminLogin | undefined;
            let runs: { full: RecordedRun; appsRemoved: RecordedRun; orgRemoved: RecordedRun };
            const creds = new Map<string, { username: string; password: string; database: string }>();
            const open: Client[] = [];
            const login = async (user: string, database?: string, password?: string) => {
                const c = creds.get(user);
                const client = await server.connect({ user, password: password ?? c?.password, database: database ?? c?.database ?? "acme" });
                open.push(client);
                return client;
            };

            before(async () => {
                const full = await record(mode, version, [{ name: "acme", apps: [...acmeApps, ...leavingApps] }, globex]);
                const appsRemoved = await record(mode, version, [{ name: "acme", apps: acmeApps }, globex]);
                const orgRemoved = await record(mode, version, [globex]);
                runs = { full, appsRemoved, orgRemoved };
                for (const [k, v] of credentials(full.resources)) creds.set(k, v);

                const certs = serverCertificates();
                server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba: renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 100 }) });
                if (mode === "rds-like") {
                    const provider = full.ofType("pulumi:providers:postgresql").find((p) => p.name === "postgres-admin")!.inputs;
                    assert.strictEqual(provider.superuser, "false");
                    // the RDS master user: not a superuser; CREATEROLE, CREATEDB; it owns postgres and template1
                    admin = await createRdsLikeAdmin(server, provider.username);
                }
                await applyProviderResources(server, full.resources, admin);

                // What the apps do with their own login, needing no grant:
                const billing = await login("acme_billing");
                await billing.query("CREATE TABLE orders (id serial PRIMARY KEY, total int)");
                await billing.query("INSERT INTO orders (total) VALUES (5), (7)");
                await (await login("acme_scratch")).query("SELECT lo_create(0)");
                await (await login("acme_peek")).query("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC");
                const migrator = await login("acme_migrator");
                await migrator.query("SET ROLE NONE");
                await migrator.query("CREATE TABLE audit AS SELECT 'kept' AS note");
                // A Vault dynamic user (as the connection's creation statements make it), still around at removal.
                await server.query(`CREATE ROLE "${DYNAMIC_USER}" LOGIN PASSWORD '${DYNAMIC_PASSWORD}' IN ROLE acme_readwrite`);
                await (await login(DYNAMIC_USER, "acme", DYNAMIC_PASSWORD)).query("SELECT count(*) FROM orders");
                for (const c of open.splice(0)) await c.end();
            });

            after(async () => {
                for (const c of open) await c.end().catch(() => undefined);
                await server?.stop();
            });

            it("removes apps whose logins own a large object, default privileges and a table", async () => {
                const steps = await applyProviderDeletes(server, runs.full, runs.appsRemoved, admin);
                const dropped = steps.filter((s) => s.statements.some((q) => q.startsWith("DROP ROLE"))).map((s) => `${s.statements.at(-1)} in ${s.database}`);
                assert.deepStrictEqual(dropped.sort(), ['DROP ROLE "acme_migrator" in acme', 'DROP ROLE "acme_peek" in acme', 'DROP ROLE "acme_scratch" in acme']);
                const roles = await server.query("SELECT rolname FROM pg_roles WHERE rolname IN ('acme_scratch','acme_peek','acme_migrator')");
                assert.deepStrictEqual(roles.rows, []);
                for (const app of ["acme_scratch", "acme_peek", "acme_migrator"]) await assert.rejects(login(app), /password authentication failed|does not exist/, app);
                // the organization's data stays: the table the removed owner app created is the admin's now
                const audit = await server.query("SELECT note, pg_get_userbyid(c.relowner) AS owner FROM audit, pg_class c WHERE c.relname = 'audit'", [], "acme");
                assert.deepStrictEqual(audit.rows, [{ note: "kept", owner: admin?.user ?? server.superuser }]);
                const storefront = await login("acme_storefront");
                assert.strictEqual((await storefront.query("SELECT sum(total)::int AS s FROM orders")).rows[0].s, 12);
            });

            it("removes the organization: logins and grants gone, database, data, owner and namespace kept", async () => {
                await applyProviderDeletes(server, runs.appsRemoved, runs.orgRemoved, admin);
                const removed = removedResources(runs.appsRemoved, runs.orgRemoved);
                const retained = (type: string) => removed.filter((r) => r.type === type).map((r) => [r.name, retainedOnDelete(r, runs.appsRemoved)]);
                assert.deepStrictEqual(retained("kubernetes:core/v1:Namespace"), [["acme-namespace", true]], "the tenant's namespace (workloads, Secrets, PVCs) is kept");
                assert.deepStrictEqual(retained("postgresql:index/database:Database"), [["acme-database-database", true]]);

                const roles = await server.query("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'acme%' OR rolname LIKE 'v-acme%' ORDER BY 1");
                assert.deepStrictEqual(roles.rows, [
                    { rolname: "acme_owner", rolcanlogin: false },
                    { rolname: DYNAMIC_USER, rolcanlogin: true },
                ], "only the NOLOGIN owner and Vault's leftover dynamic user remain");
                // (PostgreSQL 16+: a CREATEROLE admin keeps the ADMIN-only row it got when it created the role:
                // it can manage the role, not act as it)
                const usable = version === "15" ? "" : " AND (set_option OR inherit_option)";
                const memberships = await server.query(`SELECT pg_get_userbyid(roleid) AS role, pg_get_userbyid(member) AS member FROM pg_auth_members WHERE (roleid = 'acme_owner'::regrole OR member = $1::regrole)${usable}`, [DYNAMIC_USER]);
                assert.deepStrictEqual(memberships.rows, [], "nobody acts as the owner any more; the dynamic user belongs to nothing");
                const db = await server.query("SELECT pg_get_userbyid(datdba) AS owner, has_database_privilege('public', 'acme', 'CONNECT') AS public_connect FROM pg_database WHERE datname = 'acme'");
                assert.deepStrictEqual(db.rows, [{ owner: "acme_owner", public_connect: false }]);
                const orders = await server.query("SELECT sum(total)::int AS s, pg_get_userbyid(c.relowner) AS owner FROM orders, pg_class c WHERE c.relname = 'orders' GROUP BY 2", [], "acme");
                assert.deepStrictEqual(orders.rows, [{ s: 12, owner: "acme_owner" }]);
                for (const user of ["acme_billing", "acme_storefront", "acme_reporting"]) await assert.rejects(login(user), /password authentication failed|does not exist/, user);
                for (const database of ["acme", "postgres", "globex"]) {
                    await assert.rejects(login(DYNAMIC_USER, database, DYNAMIC_PASSWORD), /permission denied for database/, `dynamic user into ${database}`);
                }
                // the other organization is untouched
                await (await login("globex_globex", "globex")).query("SELECT 1");
            });

            it("re-adds the organization with adoptExisting: imports what was kept, the apps read the old data", async () => {
                const readded = await record(mode, version, [{ name: "acme", apps: acmeApps, adoptExisting: true }, globex]);
                const imports = readded.resources.filter((r) => r.importId).map((r) => [r.type, r.importId]).sort();
                assert.deepStrictEqual(imports, [
                    ["kubernetes:core/v1:Namespace", "acme"],
                    ["postgresql:index/database:Database", "acme"],
                    ["postgresql:index/role:Role", "acme_owner"],
                ]);
                // an import reads the existing resource (and fails when it is absent); the rest is created
                const database = readded.byName("postgresql:index/database:Database", "acme-database-database").inputs;
                assert.deepStrictEqual((await server.query("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1", [database.name])).rows, [{ owner: database.owner }]);
                assert.strictEqual((await server.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'acme_owner'")).rows[0].rolcanlogin, false);
                // what the re-adding update creates: what was not there before (the imported ones are only read)
                const created = new Set(removedResources(readded, runs.orgRemoved));
                await applyProviderResources(server, readded.resources, admin, { creates: (r) => created.has(r) });

                creds.clear();
                for (const [k, v] of credentials(readded.resources)) creds.set(k, v);
                const storefront = await login("acme_storefront");
                await storefront.query("INSERT INTO orders (total) VALUES (30)");
                const reporting = await login("acme_reporting");
                assert.strictEqual((await reporting.query("SELECT sum(total)::int AS s FROM orders")).rows[0].s, 42);
                await assert.rejects(reporting.query("DELETE FROM orders"), /permission denied for table orders/);
                const billing = await login("acme_billing");
                await billing.query("ALTER TABLE orders ADD COLUMN note text");
                await assert.rejects(login(DYNAMIC_USER, "acme", DYNAMIC_PASSWORD), /permission denied for database/, "the old dynamic user stays out");
            });
        });
    }
}

for (const version of ["15", "17"] as PostgresMajor[]) {
    describe(`removing a Vault organization on real PostgreSQL ${version}`, function () {
        this.timeout(180000);
        let server: TestServer;
        let full: RecordedRun;
        let removed: RecordedRun;
        const DYNAMIC = "v-k8s-initech-analytics-4711";

        before(async () => {
            const raw = readStackFile("dev");
            const organizations = raw.organizations as { name: string }[];
            const stack = (orgs: unknown[]) => runPulumi(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require("../../stacks/program") as typeof import("../../stacks/program");
                return program.createStack();
            }, { stack: "dev", config: { ...raw, database: { ...(raw.database as object), version }, organizations: orgs } });
            full = await stack(organizations);
            removed = await stack(organizations.filter((o) => o.name !== "initech"));
            const certs = serverCertificates();
            server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba: renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 100 }) });
            await applyProviderResources(server, full.resources);
        });
        after(async () => {
            await server?.stop();
        });

        it("drops the Vault admin whose dynamic users are still alive; they can connect nowhere", async () => {
            // Vault creates a dynamic user with the role's creation statements, logged in as the organization's admin
            // (the Role carries only the SCRAM verifier; Vault's connection has the password it logs in with)
            const connection = full.ofType("vault:database/secretBackendConnection:SecretBackendConnection").find((c) => c.inputs.postgresql.username === "initech_vault_admin")!.inputs;
            const role = full.ofType("vault:database/secretBackendRole:SecretBackendRole").find((r) => String(r.inputs.dbName).includes("initech"))!.inputs;
            const vaultAdmin = await server.connect({ user: connection.postgresql.username, password: connection.postgresql.passwordWo, database: "initech" });
            for (const statement of role.creationStatements as string[]) {
                await vaultAdmin.query(statement.replace(/\{\{name\}\}/g, DYNAMIC).replace(/\{\{password\}\}/g, DYNAMIC_PASSWORD).replace(/\{\{expiration\}\}/g, "2099-01-01 00:00:00+00"));
            }
            await vaultAdmin.end();
            const before = await server.connect({ user: DYNAMIC, password: DYNAMIC_PASSWORD, database: "initech" });
            await before.end();

            await applyProviderDeletes(server, full, removed);
            const left = await server.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'initech%' OR rolname = $1 ORDER BY 1", [DYNAMIC]);
            assert.deepStrictEqual(left.rows.map((r) => r.rolname), ["initech_owner", DYNAMIC]);
            const memberships = await server.query("SELECT 1 FROM pg_auth_members WHERE member = $1::regrole", [DYNAMIC]);
            assert.strictEqual(memberships.rowCount, 0, "the dynamic user belongs to nothing");
            for (const database of ["initech", "postgres", "acme"]) {
                await assert.rejects(server.connect({ user: DYNAMIC, password: DYNAMIC_PASSWORD, database }), /permission denied for database/, database);
            }
        });
    });
}
