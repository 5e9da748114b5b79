/**
 * PUBLIC holds nothing on schema `public` of any organization database, on a real PostgreSQL 15 and 17,
 * with the role layer applied as the program registers it (the provider's statements) by the server's
 * superuser (in-cluster) and by a non-superuser CREATEROLE/CREATEDB admin (the RDS master user).
 * PostgreSQL 15+ gives PUBLIC USAGE on schema public in a new database (14 and older also CREATE), so
 * without the component's revoke every role that can connect — a login another grant lets in, a future
 * role — could resolve and call what the organization keeps there.
 */
import * as assert from "assert";
import { Client } from "pg";
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { startPostgres, TestServer, PostgresMajor } from "../support/realPostgres";
import { serverCertificates } from "../support/certificates";
import { applyProviderResources, createRdsLikeAdmin } from "../support/postgresqlProviderSql";
import { readStackFile } from "../../tools/plan/stackFile";
import { renderPgHba } from "../../components/database/serverConfig";

const inCluster = {
    database: { engine: "statefulset", tls: "require" },
    organizations: [
        { name: "acme", apps: [{ name: "billing", access: "owner" }, { name: "reporting", access: "readonly" }] },
        { name: "globex" },
    ],
};

const RDS_ADMIN = { user: "pgadmin", password: "Master-Passw0rd" };

for (const version of ["15", "17"] as PostgresMajor[]) {
    for (const admin of ["superuser", "rds"] as const) {
        describe(`schema public on real PostgreSQL ${version} (${admin === "rds" ? "non-superuser RDS-style admin" : "superuser admin"})`, function () {
            this.timeout(120000);
            let server: TestServer;
            let databases: string[];
            let ownerOf: Map<string, string>;
            let groupRoles: string[];
            const open: Client[] = [];

            before(async () => {
                const staging = readStackFile("staging");
                const config = admin === "rds"
                    ? { ...staging, database: { ...(staging.database as object), version } }
                    : { ...inCluster, database: { ...inCluster.database, version } };
                const run = await runPulumi(() => {
                    // eslint-disable-next-line @typescript-eslint/no-require-imports
                    const program = require("../../stacks/program") as typeof import("../../stacks/program");
                    return program.createStack();
                }, { stack: admin === "rds" ? "staging" : "dev", config });
                const resources: RecordedResource[] = run.resources;
                const registered = run.ofType("postgresql:index/database:Database");
                databases = registered.map((d) => d.inputs.name).sort();
                ownerOf = new Map(registered.map((d) => [d.inputs.name, d.inputs.owner]));
                groupRoles = run.ofType("postgresql:index/role:Role").filter((r) => r.inputs.login === false || r.inputs.login === "false").map((r) => r.inputs.name);
                const certs = serverCertificates();
                server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba: renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 100 }) });
                if (admin === "rds") {
                    // the RDS master user: owns the maintenance databases postgres and template1
                    await applyProviderResources(server, resources, await createRdsLikeAdmin(server, RDS_ADMIN.user, RDS_ADMIN.password));
                } else {
                    await applyProviderResources(server, resources);
                }
                // A login nobody granted anything, let into every organization database by an explicit
                // CONNECT (so what stops it below is the schema, not the database's own revoke).
                await server.query("CREATE ROLE outsider LOGIN PASSWORD 'Outsider-Passw0rd'");
                for (const db of databases) {
                    await server.query(`GRANT CONNECT ON DATABASE "${db}" TO outsider`);
                    await server.query(`CREATE TABLE public.probe (id int); ALTER TABLE public.probe OWNER TO "${ownerOf.get(db)}"; CREATE FUNCTION public.probe_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'`, [], db);
                }
            });
            after(async () => {
                for (const c of open) await c.end().catch(() => undefined);
                await server?.stop();
            });

            it("finds one database per configured organization", () => {
                assert.deepStrictEqual(databases, ["acme", "globex"]);
            });

            it("leaves PUBLIC neither USAGE nor CREATE on schema public, in every organization database", async () => {
                for (const db of databases) {
                    const privileges = await server.query("SELECT has_schema_privilege('public', 'public', 'USAGE') AS usage, has_schema_privilege('public', 'public', 'CREATE') AS create", [], db);
                    assert.deepStrictEqual(privileges.rows[0], { usage: false, create: false }, db);
                    const acl = await server.query("SELECT a.privilege_type FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a WHERE n.nspname = 'public' AND a.grantee = 0", [], db);
                    assert.deepStrictEqual(acl.rows, [], `${db}: no ACL entry for PUBLIC`);
                }
            });

            it("keeps a login that may connect but was granted nothing out of schema public", async () => {
                for (const db of databases) {
                    const outsider = await server.connect({ user: "outsider", password: "Outsider-Passw0rd", database: db });
                    open.push(outsider);
                    await assert.rejects(outsider.query("SELECT * FROM public.probe"), /permission denied for schema public/, db);
                    await assert.rejects(outsider.query("SELECT public.probe_fn()"), /permission denied for schema public/, db);
                    await assert.rejects(outsider.query("CREATE TABLE public.planted (id int)"), /permission denied for schema public/, db);
                }
            });

            it("still gives the organization's own group roles their schema privileges (the revoke is PUBLIC's only)", async () => {
                for (const db of databases) {
                    const own = groupRoles.filter((r) => r.startsWith(`${db}_`));
                    assert.ok(own.length >= 3, `${db}: group roles ${own}`);
                    for (const role of own) {
                        const usage = await server.query("SELECT has_schema_privilege($1, 'public', 'USAGE') AS usage", [role], db);
                        assert.strictEqual(usage.rows[0].usage, true, `${db}: ${role}`);
                    }
                }
            });
        });
    }
}
