/**
 * `engine: rds` changes nothing downstream: the organization/role layer of the staging stack (RDS,
 * Secrets Manager) is applied to a real PostgreSQL by an admin that is NOT a superuser — like the RDS
 * master user, a CREATEROLE/CREATEDB member of rds_superuser — with the provider's temporary owner grants.
 * Then every app logs in with the credentials from its Secrets Manager JSON, and the access matrix holds.
 */
import * as assert from "assert";
import { Client } from "pg";
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { startPostgres, TestServer, PostgresMajor, TESTED_MAJORS } from "../support/realPostgres";
import { serverCertificates } from "../support/certificates";
import { applyProviderResources, createRdsLikeAdmin } from "../support/postgresqlProviderSql";
import { readStackFile } from "../../tools/plan/stackFile";
import { renderPgHba } from "../../components/database/serverConfig";

for (const version of TESTED_MAJORS) {
    describe(`RDS role layer with a non-superuser admin on real PostgreSQL ${version}`, function () {
        this.timeout(120000);
        let server: TestServer;
        let resources: RecordedResource[];
        const creds = new Map<string, { username: string; password: string; database: string }>();
        const open: Client[] = [];
        const login = async (user: string, database?: string) => {
            const c = creds.get(user)!;
            const client = await server.connect({ user: c.username, password: c.password, database: database ?? c.database });
            open.push(client);
            return client;
        };

        before(async () => {
            const raw = readStackFile("staging");
            const run = await runPulumi(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require("../../stacks/program") as typeof import("../../stacks/program");
                return program.createStack();
            }, { stack: "staging", config: { ...raw, database: { ...(raw.database as object), version } } });
            resources = run.resources;
            for (const v of run.ofType("aws:secretsmanager/secretVersion:SecretVersion")) {
                const json = JSON.parse(v.inputs.secretString);
                creds.set(json.username, json);
            }
            const provider = run.ofType("pulumi:providers:postgresql")[0].inputs;
            assert.strictEqual(provider.superuser, "false");
            const certs = serverCertificates();
            server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba: renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 100 }) });
            // the RDS master user: not a superuser; CREATEROLE, CREATEDB; owns postgres and template1. The
            // resources go in an engine order (seeded; test/integration/engineOrder.test.ts runs several).
            await applyProviderResources(server, resources, await createRdsLikeAdmin(server));
        });
        after(async () => {
            for (const c of open) await c.end().catch(() => undefined);
            await server?.stop();
        });

        it("creates the databases owned by the owner roles; the admin is a member of the owner roles only", async () => {
            const dbs = await server.query("SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname IN ('acme','globex') ORDER BY 1");
            assert.deepStrictEqual(dbs.rows, [{ datname: "acme", owner: "acme_owner" }, { datname: "globex", owner: "globex_owner" }]);
            const hasSet = version !== "15";
            const memberships = await server.query(`SELECT pg_get_userbyid(roleid)::text AS role FROM pg_auth_members WHERE member = 'pgadmin'::regrole${hasSet ? " AND (set_option OR inherit_option)" : ""} ORDER BY 1`);
            // Without this membership the admin's REVOKE ALL ON DATABASE … FROM PUBLIC would be a silent no-op
            // (PostgreSQL only warns), and every login could connect to every organization's database.
            assert.deepStrictEqual(memberships.rows.map((r) => r.role), ["acme_owner", "globex_owner"], "temporary grants were revoked; the owner memberships stay");
            const publicConnect = await server.query("SELECT datname, has_database_privilege('public', datname, 'CONNECT') AS c FROM pg_database WHERE datname IN ('acme','globex') ORDER BY 1");
            assert.deepStrictEqual(publicConnect.rows.map((r) => r.c), [false, false], "PUBLIC lost CONNECT");
        });

        it("gives every app exactly its access level", async () => {
            const billing = await login("acme_billing");
            await billing.query("CREATE TABLE orders (id serial PRIMARY KEY, total int)");
            await billing.query("INSERT INTO orders (total) VALUES (5)");
            const storefront = await login("acme_storefront");
            await storefront.query("INSERT INTO orders (total) VALUES (7)");
            await assert.rejects(storefront.query("DROP TABLE orders"), /must be owner of table orders/);
            const reporting = await login("acme_reporting");
            assert.strictEqual((await reporting.query("SELECT sum(total)::int AS s FROM orders")).rows[0].s, 12);
            await assert.rejects(reporting.query("DELETE FROM orders"), /permission denied for table orders/);
            await assert.rejects(login("globex_globex", "acme"), /permission denied for database "acme"/);
            await assert.rejects(login("acme_storefront", "globex"), /permission denied for database "globex"/);
        });

        it("keeps the apps out of the maintenance database the master user owns", async () => {
            const connect = await server.query("SELECT has_database_privilege('public', 'postgres', 'CONNECT') AS c, has_database_privilege('public', 'postgres', 'TEMPORARY') AS t");
            assert.deepStrictEqual(connect.rows[0], { c: false, t: false });
            for (const user of creds.keys()) await assert.rejects(login(user, "postgres"), /permission denied for database "postgres"/, user);
        });
    });
}
