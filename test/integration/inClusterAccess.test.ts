/**
 * The in-cluster path against a real PostgreSQL (15 and 17): the program runs under mocks, then what the
 * registered @pulumi/postgresql resources mean (the provider's own statements) is executed on a real
 * server started with the pg_hba.conf and settings StatefulSetPostgres generates. Every app then logs in
 * over TLS with the credentials from its Kubernetes Secret (its DATABASE_URL) and the access matrix is
 * proved: each app does exactly what its access level allows, in its own organization only.
 */
import * as assert from "assert";
import { Client } from "pg";
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { startPostgres, TestServer, PostgresMajor, TESTED_MAJORS } from "../support/realPostgres";
import { serverCertificates, Issued } from "../support/certificates";
import { applyProviderResources } from "../support/postgresqlProviderSql";
import { renderPgHba, serverSettings } from "../../components/database/serverConfig";

const config = {
    database: { engine: "statefulset", version: "17", tls: "require" },
    organizations: [
        {
            name: "acme",
            apps: [
                { name: "billing", access: "owner" },
                { name: "storefront", access: "readwrite" },
                { name: "reporting", access: "readonly", connectionLimit: 3 },
            ],
        },
        { name: "globex" },
    ],
};

interface AppCredentials {
    username: string;
    password: string;
    database: string;
    url: URL;
}

/** The credentials each app receives, read back from its registered Kubernetes Secret. */
function secretsByApp(resources: RecordedResource[]): Map<string, AppCredentials> {
    const out = new Map<string, AppCredentials>();
    for (const r of resources.filter((x) => x.type === "kubernetes:core/v1:Secret" && x.inputs.stringData?.DATABASE_URL)) {
        const data = r.inputs.stringData;
        const url = new URL(data.DATABASE_URL);
        assert.strictEqual(decodeURIComponent(url.password), data.password, "DATABASE_URL carries the password");
        assert.ok(r.secretPaths.some((p) => p.startsWith("stringData")), `${r.name}: stringData is secret`);
        out.set(`${r.inputs.metadata.namespace}/${data.username}`, { username: data.username, password: data.password, database: data.database, url });
    }
    return out;
}

async function expectRefused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
    await assert.rejects(promise, (err: Error) => {
        assert.match(err.message, pattern);
        return true;
    });
}

for (const version of TESTED_MAJORS) {
    describe(`in-cluster access on real PostgreSQL ${version}`, function () {
        this.timeout(120000);
        let server: TestServer;
        let certs: { ca: Issued; server: Issued };
        let creds: Map<string, AppCredentials>;
        const open: Client[] = [];

        /** Logs in as an app with the URL from its Secret (host/port pointed at the test server), verifying the server. */
        const login = async (key: string, overrides: { password?: string; database?: string; ssl?: false } = {}) => {
            const c = creds.get(key);
            assert.ok(c, `no credentials for ${key}`);
            const client = await server.connect({
                user: decodeURIComponent(c.url.username),
                password: overrides.password ?? decodeURIComponent(c.url.password),
                database: overrides.database ?? decodeURIComponent(c.url.pathname.slice(1)),
                ssl: overrides.ssl === false ? false : { ca: certs.ca.certPem, servername: "localhost" },
            });
            open.push(client);
            return client;
        };

        before(async () => {
            const run = await runPulumi(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require("../../stacks/program") as typeof import("../../stacks/program");
                return program.createStack();
            }, { stack: "dev", config: { ...config, database: { ...config.database, version } } });
            creds = secretsByApp(run.resources);
            assert.deepStrictEqual([...creds.keys()].sort(), ["acme/acme_billing", "acme/acme_reporting", "acme/acme_storefront", "globex/globex_globex"]);

            const sts = run.resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")!;
            const hba = run.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.data?.["pg_hba.conf"])!.inputs.data["pg_hba.conf"];
            assert.strictEqual(hba, renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 200 }));
            // The settings the pod runs with (its -c flags), minus file locations that differ in the test.
            const podArgs: string[] = sts.inputs.spec.template.spec.containers[0].args;
            const podSettings = Object.fromEntries(podArgs.filter((_, i) => i % 2 === 1).map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
            assert.deepStrictEqual(podSettings, serverSettings({ tls: "require", adminUser: "postgres", maxConnections: 200 }));
            const portable = Object.fromEntries(Object.entries(podSettings).filter(([k]) => !/_file$|^listen_addresses$/.test(k)));

            certs = serverCertificates();
            server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba, settings: portable });
            await applyProviderResources(server, run.resources);
        });

        after(async () => {
            for (const c of open) await c.end().catch(() => undefined);
            await server?.stop();
        });

        it("creates each login with no elevated attribute, a connection limit and exactly one group", async () => {
            const { rows } = await server.query(`
                SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, r.rolcanlogin, r.rolconnlimit,
                       array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS groups
                FROM pg_roles r WHERE r.rolname IN ('acme_billing', 'acme_storefront', 'acme_reporting', 'globex_globex') ORDER BY 1`);
            assert.deepStrictEqual(rows.map((r) => [r.rolname, r.groups, r.rolconnlimit]), [
                ["acme_billing", ["acme_owner"], 20],
                ["acme_reporting", ["acme_readonly"], 3],
                ["acme_storefront", ["acme_readwrite"], 20],
                ["globex_globex", ["globex_readwrite"], 20],
            ]);
            for (const r of rows) {
                assert.deepStrictEqual([r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, r.rolcanlogin], [false, false, false, false, false, true], r.rolname);
            }
        });

        it("lets the owner app create the schema's objects, owned by the owner group", async () => {
            const billing = await login("acme/acme_billing");
            assert.strictEqual((await billing.query("SELECT current_user")).rows[0].current_user, "acme_owner", "the login acts as its group (SET ROLE)");
            await billing.query("CREATE TABLE invoices (id serial PRIMARY KEY, amount numeric NOT NULL)");
            await billing.query("INSERT INTO invoices (amount) VALUES (10), (20)");
            const owner = await server.query("SELECT tableowner FROM pg_tables WHERE tablename = 'invoices'", [], "acme");
            assert.strictEqual(owner.rows[0].tableowner, "acme_owner");
        });

        it("lets the readwrite app read and write rows but not change the schema", async () => {
            const storefront = await login("acme/acme_storefront");
            await storefront.query("INSERT INTO invoices (amount) VALUES (30)"); // needs the sequence too
            await storefront.query("UPDATE invoices SET amount = amount + 1 WHERE amount = 30");
            await storefront.query("DELETE FROM invoices WHERE amount = 31");
            assert.strictEqual((await storefront.query("SELECT count(*)::int AS n FROM invoices")).rows[0].n, 2);
            await expectRefused(storefront.query("CREATE TABLE mine (x int)"), /permission denied for schema public/);
            await expectRefused(storefront.query("DROP TABLE invoices"), /must be owner of table invoices/);
            await expectRefused(storefront.query("TRUNCATE invoices"), /permission denied for table invoices/);
            await expectRefused(storefront.query("ALTER TABLE invoices ADD COLUMN note text"), /must be owner of table invoices/);
        });

        it("lets the readonly app only read", async () => {
            const reporting = await login("acme/acme_reporting");
            assert.strictEqual((await reporting.query("SELECT sum(amount)::int AS s FROM invoices")).rows[0].s, 30);
            await expectRefused(reporting.query("INSERT INTO invoices (amount) VALUES (1)"), /permission denied for table invoices/);
            await expectRefused(reporting.query("UPDATE invoices SET amount = 0"), /permission denied for table invoices/);
            await expectRefused(reporting.query("DELETE FROM invoices"), /permission denied for table invoices/);
            await expectRefused(reporting.query("SELECT nextval('invoices_id_seq')"), /permission denied for sequence invoices_id_seq/);
            await expectRefused(reporting.query("CREATE TABLE mine (x int)"), /permission denied for schema public/);
        });

        it("keeps every organization out of the other's database", async () => {
            await expectRefused(login("globex/globex_globex", { database: "acme" }), /permission denied for database "acme"/);
            for (const app of ["acme/acme_billing", "acme/acme_storefront", "acme/acme_reporting"]) {
                await expectRefused(login(app, { database: "globex" }), /permission denied for database "globex"/);
            }
            // and the other organization works in its own database
            const globex = await login("globex/globex_globex");
            await expectRefused(globex.query("CREATE TABLE t (x int)"), /permission denied for schema public/);
            assert.strictEqual((await globex.query("SELECT current_database()")).rows[0].current_database, "globex");
        });

        it("keeps every app out of the maintenance databases and out of every other role", async () => {
            const ownGroup: Record<string, string> = { "acme/acme_billing": "acme_owner", "acme/acme_storefront": "acme_readwrite", "acme/acme_reporting": "acme_readonly", "globex/globex_globex": "globex_readwrite" };
            const groups = ["acme_owner", "acme_readwrite", "acme_readonly", "globex_owner", "globex_readwrite", "globex_readonly"];
            for (const [app, own] of Object.entries(ownGroup)) {
                for (const database of ["postgres", "template1"]) {
                    await expectRefused(login(app, { database }), new RegExp(`permission denied for database "${database}"`));
                }
                const client = await login(app);
                for (const role of groups.filter((g) => g !== own)) {
                    await expectRefused(client.query(`SET ROLE ${role}`), new RegExp(`permission denied to set role "${role}"`));
                }
            }
            const admin = await server.connect({ user: "postgres", password: server.superuserPassword, database: "postgres", ssl: { ca: certs.ca.certPem, servername: "localhost" } });
            open.push(admin);
            assert.strictEqual((await admin.query("SELECT current_database()")).rows[0].current_database, "postgres", "the admin still reaches it");
        });

        it("lets no app create roles or databases or read another login's settings", async () => {
            for (const app of ["acme/acme_billing", "acme/acme_storefront", "acme/acme_reporting", "globex/globex_globex"]) {
                const client = await login(app);
                await expectRefused(client.query("CREATE ROLE intruder LOGIN"), /permission denied to create role/);
                await expectRefused(client.query("CREATE ROLE intruder SUPERUSER"), /permission denied to create role|must be superuser to create superusers/);
                await expectRefused(client.query("CREATE DATABASE mine"), /permission denied to create database/);
                await expectRefused(client.query("ALTER ROLE acme_billing PASSWORD 'x'"), /permission denied|must have CREATEROLE/);
                await expectRefused(client.query("SET ROLE postgres"), /permission denied to set role "postgres"/);
            }
        });

        it("enforces the connection limit", async () => {
            const connected = await server.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'acme_reporting'");
            const limit = 3;
            for (let i = connected.rows[0].n; i < limit; i++) await login("acme/acme_reporting");
            await expectRefused(login("acme/acme_reporting"), /too many connections for role "acme_reporting"/);
        });

        it("refuses plaintext connections and wrong passwords", async () => {
            await expectRefused(login("acme/acme_storefront", { ssl: false }), /pg_hba.conf rejects connection .* no encryption/);
            await expectRefused(server.connect({ user: "postgres", password: server.superuserPassword, ssl: false }), /no encryption/);
            await expectRefused(login("acme/acme_storefront", { password: "wrong-password" }), /password authentication failed for user "acme_storefront"/);
            await expectRefused(login("acme/acme_storefront", { password: creds.get("globex/globex_globex")!.password }), /password authentication failed/);
        });

        it("stores passwords as SCRAM-SHA-256 verifiers", async () => {
            const { rows } = await server.query("SELECT rolname, left(rolpassword, 14) AS p FROM pg_authid WHERE rolname LIKE 'acme\\_%' AND rolcanlogin");
            assert.ok(rows.length === 3 && rows.every((r) => r.p === "SCRAM-SHA-256$"), JSON.stringify(rows));
        });
    });
}
