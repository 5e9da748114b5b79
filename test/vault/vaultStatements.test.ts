/**
 * What Vault's PostgreSQL plugin does with our connections and roles, on a real PostgreSQL 15 and 17: the
 * role layer and every organization's Vault admin login are created exactly as the program registers
 * them (the provider's statements, see test/support/postgresqlProviderSql.ts), by the server's superuser
 * (in-cluster) and by a non-superuser CREATEROLE/CREATEDB admin (the RDS master user). Then the static
 * rotation, dynamic creation, renewal, revocation and root rotation statements the program registered in
 * Vault run as Vault runs them (test/vault/vaultEmulation.ts): as the organization's admin, in the database
 * of its connection URL, with SCRAM-SHA-256 verifiers for {{password}}; the apps log in with the plaintext.
 */
import * as assert from "assert";
import { Client } from "pg";
import { runPulumi, RecordedResource, fakeRandom } from "../../testing/offlineRun";
import { scramParameters, scramSha256Verifier } from "../../components/postgres/scramVerifier";
import { startPostgres, TestServer, PostgresMajor, TESTED_MAJORS } from "../support/realPostgres";
import { serverCertificates } from "../support/certificates";
import { applyProviderResources } from "../support/postgresqlProviderSql";
import { renderPgHba } from "../../components/database/serverConfig";
import { readStackFile } from "../../tools/plan/stackFile";
import { connectAsConnection, runAsVault, vaultDefaultUsername, vaultExpiration, vaultPassword } from "./vaultEmulation";

const V = {
    connection: "vault:database/secretBackendConnection:SecretBackendConnection",
    staticRole: "vault:database/secretBackendStaticRole:SecretBackendStaticRole",
    dynamicRole: "vault:database/secretBackendRole:SecretBackendRole",
    grantRole: "postgresql:index/grantRole:GrantRole",
    role: "postgresql:index/role:Role",
};

const organizations = [
    {
        name: "acme",
        apps: [
            { name: "migrator", access: "owner" },
            { name: "payroll", access: "readwrite", credentials: "vault-static", delivery: "vault-secrets-operator" },
            { name: "analytics", access: "readonly", credentials: "vault-dynamic", delivery: "csi", defaultTtl: 600, maxTtl: 3600 },
            // a second dynamic app on the same group: still one ADMIN OPTION grant for it
            { name: "dashboards", access: "readonly", credentials: "vault-dynamic", delivery: "vault-agent" },
        ],
    },
    { name: "globex", apps: [{ name: "ledger", access: "readwrite", credentials: "vault-dynamic", delivery: "vault-secrets-operator" }] },
];
const vaultConfig = { address: "https://vault.example.com:8200", kubernetesNamespace: "vault" };

/** The in-cluster server (superuser admin) or RDS (the master user is not a superuser). */
type Admin = "superuser" | "rds";

function stackConfig(version: PostgresMajor, admin: Admin): { stack: string; config: Record<string, unknown> } {
    if (admin === "superuser") {
        return { stack: "dev", config: { database: { engine: "statefulset", version, tls: "require" }, vault: vaultConfig, organizations } };
    }
    const staging = readStackFile("staging");
    return { stack: "staging", config: { ...staging, database: { ...(staging.database as object), version }, vault: vaultConfig, organizations } };
}

const cases: [PostgresMajor, Admin][] = (["superuser", "rds"] as Admin[]).flatMap((admin) => TESTED_MAJORS.map((version): [PostgresMajor, Admin] => [version, admin]));

for (const [version, adminKind] of cases) {
    describe(`Vault on real PostgreSQL ${version} (${adminKind === "rds" ? "non-superuser RDS-style admin" : "superuser admin"})`, function () {
        this.timeout(120000);
        let server: TestServer;
        let resources: RecordedResource[];
        const open: Client[] = [];
        const byType = (type: string) => resources.filter((r) => r.type === type);
        const connectionOf = (org: string) => byType(V.connection).find((c) => c.inputs.name === org)!.inputs;
        const adminPasswords = new Map<string, string>();
        const admins = new Map<string, Client>();
        const track = (c: Client) => (open.push(c), c);
        const connect = async (user: string, password: string, database = "acme") => track(await server.connect({ user, password, database }));
        const vaultAdmin = (org: string) => admins.get(org)!;
        const dynamicRole = (app: string) => byType(V.dynamicRole).find((r) => r.inputs.name.endsWith(`_${app}`))!.inputs;
        const roleOid = async (name: string) => (await server.query("SELECT oid::int AS oid FROM pg_roles WHERE rolname = $1", [name])).rows[0]?.oid as number | undefined;

        before(async () => {
            const { stack, config } = stackConfig(version, adminKind);
            const run = await runPulumi(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require("../../stacks/program") as typeof import("../../stacks/program");
                return program.createStack();
            }, { stack, config });
            resources = run.resources;
            const certs = serverCertificates();
            const hba = adminKind === "superuser"
                ? run.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.data?.["pg_hba.conf"])!.inputs.data["pg_hba.conf"]
                : renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 100 });
            server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba });
            if (adminKind === "rds") {
                // the RDS master user: CREATEROLE, CREATEDB, not a superuser; it owns the maintenance databases
                await server.query("CREATE ROLE pgadmin WITH LOGIN CREATEROLE CREATEDB PASSWORD 'Master-Passw0rd'");
                await server.query("ALTER DATABASE postgres OWNER TO pgadmin");
                await server.query("ALTER DATABASE template1 OWNER TO pgadmin");
                await applyProviderResources(server, resources, { user: "pgadmin", password: "Master-Passw0rd" });
            } else {
                await applyProviderResources(server, resources);
            }
            for (const org of ["acme", "globex"]) {
                const c = connectionOf(org);
                adminPasswords.set(org, c.postgresql.passwordWo);
                admins.set(org, track(await connectAsConnection(server, c, c.postgresql.passwordWo)));
            }
            // the owner app creates the schema's objects
            const migratorPassword = byType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata?.name === "migrator-database")!.inputs.stringData.password;
            const migrator = await connect("acme_migrator", migratorPassword);
            await migrator.query("CREATE TABLE payslips (id serial PRIMARY KEY, amount int)");
            await migrator.query("INSERT INTO payslips (amount) VALUES (100)");
            // The platform grants no TEMPORARY; a DBA might. Revocation must cope with temporary tables too.
            await server.query("GRANT TEMPORARY ON DATABASE acme TO acme_readonly");
        });
        after(async () => {
            for (const c of open) await c.end().catch(() => undefined);
            await server?.stop();
        });

        it("registers one connection per organization: its own database, its own admin login, exactly its roles", () => {
            const connections = byType(V.connection).map((c) => c.inputs);
            assert.deepStrictEqual(connections.map((c) => c.name).sort(), ["acme", "globex"]);
            const env = adminKind === "rds" ? "staging" : "dev";
            assert.deepStrictEqual(connectionOf("acme").allowedRoles.sort(), [`acme_${env}_analytics`, `acme_${env}_dashboards`, `acme_${env}_payroll`]);
            assert.deepStrictEqual(connectionOf("globex").allowedRoles, [`globex_${env}_ledger`]);
            for (const org of ["acme", "globex"]) {
                const c = connectionOf(org);
                assert.strictEqual(c.postgresql.username, `${org}_vault_admin`);
                assert.strictEqual(new URL(c.postgresql.connectionUrl.replace("{{username}}:{{password}}", "u:p")).pathname, `/${org}`, "the organization's database, not postgres");
                assert.ok(c.postgresql.passwordWo && c.postgresql.password === undefined, "write-only password");
                for (const r of byType(V.staticRole).concat(byType(V.dynamicRole)).filter((x) => x.inputs.name.startsWith(`${org}-`))) {
                    assert.strictEqual(r.inputs.dbName, org, `${r.inputs.name} is served by its organization's connection`);
                }
            }
        });

        it("creates each admin as LOGIN CREATEROLE NOINHERIT, never SUPERUSER, with CONNECT on its own database only", async () => {
            for (const org of ["acme", "globex"]) {
                const { rows } = await server.query("SELECT rolsuper, rolcreaterole, rolinherit, rolcanlogin, rolcreatedb, rolbypassrls, rolreplication FROM pg_roles WHERE rolname = $1", [`${org}_vault_admin`]);
                assert.deepStrictEqual(rows[0], { rolsuper: false, rolcreaterole: true, rolinherit: false, rolcanlogin: true, rolcreatedb: false, rolbypassrls: false, rolreplication: false });
                const connect = await server.query("SELECT datname, has_database_privilege($1, datname, 'CONNECT') AS c FROM pg_database WHERE datallowconn ORDER BY 1", [`${org}_vault_admin`]);
                assert.deepStrictEqual(connect.rows.filter((r) => r.c).map((r) => r.datname), [org], `${org}_vault_admin may connect to its database and no other`);
            }
            await assert.rejects(server.connect({ user: "acme_vault_admin", password: adminPasswords.get("acme")!, database: "globex" }), /permission denied for database "globex"/);
            await assert.rejects(server.connect({ user: "acme_vault_admin", password: adminPasswords.get("acme")!, database: "postgres" }), /permission denied for database "postgres"/);
            const signal = await server.query("SELECT count(*)::int AS n FROM pg_auth_members WHERE roleid = 'pg_signal_backend'::regrole");
            assert.strictEqual(signal.rows[0].n, 0, "nobody needs pg_signal_backend (the RDS master could not grant it on 16+)");
        });

        it("gives each admin ADMIN OPTION on exactly its managed roles on 16+, one grant per role however many apps share it", async () => {
            const expected: Record<string, string[]> = version === "15" ? { acme: [], globex: [] } : { acme: ["acme_payroll", "acme_readonly"], globex: ["globex_readwrite"] };
            for (const org of ["acme", "globex"]) {
                const { rows } = await server.query(`SELECT pg_get_userbyid(roleid)::text AS role, count(*)::int AS n FROM pg_auth_members
                    WHERE member = $1::regrole AND admin_option GROUP BY 1 ORDER BY 1`, [`${org}_vault_admin`]);
                assert.deepStrictEqual(rows.map((r) => r.role), expected[org], org);
                for (const r of rows) assert.strictEqual(r.n, 1, `${r.role}: one membership row`);
                const registered = byType(V.grantRole).filter((g) => g.inputs.role === `${org}_vault_admin`).map((g) => g.inputs.grantRole).sort();
                assert.deepStrictEqual(registered, expected[org], `${org}: exactly one GrantRole per (admin, managed role)`);
            }
        });

        it("rotates a static role with a SCRAM verifier: the new plaintext logs in, the old one no longer does", async () => {
            const staticRole = byType(V.staticRole)[0].inputs;
            assert.strictEqual(staticRole.username, "acme_payroll");
            // the Role got only the verifier of the initial password; the plaintext is the RandomPassword behind it
            const verifier = byType(V.role).find((r) => r.inputs.name === "acme_payroll")!.inputs.passwordWo;
            const initial = byType("random:index/randomPassword:RandomPassword").map((r) => fakeRandom(r.name, r.inputs.length))
                .find((p) => scramSha256Verifier(p, scramParameters(verifier).salt) === verifier)!;
            assert.ok(initial, "the initial verifier is that of a generated password");
            const before = await connect("acme_payroll", initial);
            const rotated = vaultPassword();
            await runAsVault(vaultAdmin("acme"), "rotation", staticRole.rotationStatements, { name: staticRole.username, password: rotated });
            const stored = await server.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'acme_payroll'");
            assert.match(stored.rows[0].rolpassword, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/, "PostgreSQL stored the verifier Vault sent");
            const after = await connect("acme_payroll", rotated);
            assert.strictEqual((await after.query("SELECT count(*)::int AS n FROM payslips")).rows[0].n, 1);
            await assert.rejects(connect("acme_payroll", initial), /password authentication failed for user "acme_payroll"/);
            assert.strictEqual((await before.query("SELECT 1 AS x")).rows[0].x, 1, "sessions opened before rotation keep working");
        });

        it("creates a dynamic user with a SCRAM verifier and exactly its group's privileges, and renews it", async () => {
            const role = dynamicRole("analytics");
            assert.deepStrictEqual([role.defaultTtl, role.maxTtl], [600, 3600]);
            const name = vaultDefaultUsername("kubernetes-acme-analytics", role.name);
            const password = vaultPassword();
            await runAsVault(vaultAdmin("acme"), "creation", role.creationStatements, { name, password, expiration: vaultExpiration(new Date(Date.now() + 600_000)) });
            const user = await connect(name, password);
            assert.strictEqual((await user.query("SELECT amount FROM payslips")).rows[0].amount, 100);
            await assert.rejects(user.query("INSERT INTO payslips (amount) VALUES (1)"), /permission denied for table payslips/);
            await assert.rejects(user.query("CREATE TABLE mine (x int)"), /permission denied for schema public/);
            await assert.rejects(connect(name, password, "globex"), /permission denied for database "globex"/);
            await assert.rejects(connect(name, password, "postgres"), /permission denied for database "postgres"/);
            const privileges = await server.query(`SELECT p, has_table_privilege($1, 'public.payslips', p) AS user_has, has_table_privilege('acme_readonly', 'public.payslips', p) AS group_has
                FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p`, [name], "acme");
            for (const row of privileges.rows) assert.strictEqual(row.user_has, row.group_has, `${row.p}: the user has what its group has`);
            await runAsVault(vaultAdmin("acme"), "renewal", role.renewStatements, { name, expiration: vaultExpiration(new Date(Date.now() + 1_200_000)) });
            const validUntil = await server.query("SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1", [name]);
            assert.ok(new Date(validUntil.rows[0].rolvaliduntil).getTime() > Date.now() + 900_000, "renewal moved the expiry");
            await runAsVault(vaultAdmin("acme"), "revocation", role.revocationStatements, { name });
        });

        it("revokes a dynamic user that left a large object, a default-privileges entry and open sessions with a temp table, leaving nothing", async () => {
            const role = dynamicRole("dashboards");
            const name = vaultDefaultUsername("kubernetes-acme-dashboards", role.name);
            const password = vaultPassword();
            await runAsVault(vaultAdmin("acme"), "creation", role.creationStatements, { name, password, expiration: vaultExpiration(new Date(Date.now() + 600_000)) });
            const user = await connect(name, password);
            await user.query("SELECT lo_create(0)");
            await user.query("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC");
            await user.query("CREATE TEMP TABLE scratch (x int)");
            const busy = await connect(name, password);
            await busy.query("CREATE TEMP TABLE held (x int)");
            await busy.query("BEGIN");
            await busy.query("LOCK TABLE held IN ACCESS EXCLUSIVE MODE"); // idle in transaction, holding a lock
            const oid = (await roleOid(name))!;

            // what the old statements relied on: a bare DROP ROLE fails, so Vault would retry forever
            const admin = vaultAdmin("acme");
            await admin.query("BEGIN");
            await assert.rejects(admin.query(`DROP ROLE "${name}"`), /cannot be dropped because some objects depend on it/);
            await admin.query("ROLLBACK");

            await runAsVault(admin, "revocation", role.revocationStatements, { name });
            const left = await server.query(`SELECT
                (SELECT count(*) FROM pg_roles WHERE oid = $1)::int AS roles,
                (SELECT count(*) FROM pg_auth_members WHERE member = $1 OR roleid = $1)::int AS memberships,
                (SELECT count(*) FROM pg_shdepend WHERE refobjid = $1)::int AS dependencies,
                (SELECT count(*) FROM pg_largeobject_metadata WHERE lomowner = $1)::int AS large_objects,
                (SELECT count(*) FROM pg_default_acl WHERE defaclrole = $1)::int AS default_acls,
                (SELECT count(*) FROM pg_stat_activity WHERE usename = $2)::int AS sessions`, [oid, name], "acme");
            assert.deepStrictEqual(left.rows[0], { roles: 0, memberships: 0, dependencies: 0, large_objects: 0, default_acls: 0, sessions: 0 });
            const ended = await user.query("SELECT 1").then(() => "still open", (err: Error) => err.message);
            assert.match(ended, /not queryable|terminat|Connection terminated|administrator command/i, "the open session is ended");
            // Vault retries a revocation whose result it did not record: the statements are then a no-op
            await runAsVault(admin, "revocation", role.revocationStatements, { name });
        });

        it("revokes in the other organization's database through its own connection, which alone can", async () => {
            const role = dynamicRole("ledger");
            const name = vaultDefaultUsername("kubernetes-globex-ledger", role.name);
            const password = vaultPassword();
            await runAsVault(vaultAdmin("globex"), "creation", role.creationStatements, { name, password, expiration: vaultExpiration(new Date(Date.now() + 600_000)) });
            const user = await connect(name, password, "globex");
            await user.query("SELECT lo_create(0)");
            await assert.rejects(connect(name, password, "acme"), /permission denied for database "acme"/);
            // 16+: another organization's admin cannot touch the user (on 15 CREATEROLE reaches every
            // non-superuser role; only the large object in globex's database stops its DROP ROLE here)
            await assert.rejects(runAsVault(vaultAdmin("acme"), "revocation", dynamicRole("analytics").revocationStatements, { name }),
                version === "15" ? /cannot be dropped because some objects depend on it/ : /permission denied to grant role/);
            await runAsVault(vaultAdmin("globex"), "revocation", role.revocationStatements, { name });
            assert.strictEqual(await roleOid(name), undefined);
        });

        it("reads the admin's memberships the way the provider's refresh does (why its Role ignores `roles`)", async () => {
            // resource_postgresql_role.go: roles = every pg_auth_members row of the role; an update revokes
            // whatever is not in the program's (empty) list.
            const role = dynamicRole("analytics");
            const name = vaultDefaultUsername("kubernetes-acme-analytics", role.name);
            await runAsVault(vaultAdmin("acme"), "creation", role.creationStatements, { name, password: vaultPassword(), expiration: vaultExpiration(new Date(Date.now() + 600_000)) });
            const { rows } = await server.query("SELECT ARRAY(SELECT pg_get_userbyid(roleid)::text FROM pg_catalog.pg_auth_members members WHERE member = pg_roles.oid ORDER BY 1) AS roles FROM pg_catalog.pg_roles WHERE rolname = 'acme_vault_admin'");
            assert.deepStrictEqual(rows[0].roles, version === "15" ? [] : ["acme_payroll", "acme_readonly", name].sort(), "16+: the ADMIN OPTION grants and the ADMIN on every user it created");
            const registered = byType(V.role).find((r) => r.inputs.name === "acme_vault_admin")!.inputs;
            assert.strictEqual(registered.roles, undefined, "the program lists no memberships (they are GrantRoles and Vault's)");
            await runAsVault(vaultAdmin("acme"), "revocation", role.revocationStatements, { name });
        });

        it(version === "15" ? "works with CREATEROLE alone before PostgreSQL 16" : "fails without ADMIN OPTION on PostgreSQL 16+ (why the component grants it)", async () => {
            await server.query("CREATE ROLE vault_admin_plain WITH LOGIN CREATEROLE NOINHERIT PASSWORD 'Plain-Passw0rd'");
            await server.query("GRANT CONNECT ON DATABASE acme TO vault_admin_plain");
            const plain = await connect("vault_admin_plain", "Plain-Passw0rd");
            const staticRole = byType(V.staticRole)[0].inputs;
            const role = dynamicRole("analytics");
            const name = vaultDefaultUsername("kubernetes-acme-analytics", role.name);
            const rotate = runAsVault(plain, "rotation", staticRole.rotationStatements, { name: "acme_payroll", password: vaultPassword() });
            const create = () => runAsVault(plain, "creation", role.creationStatements, { name, password: vaultPassword(), expiration: vaultExpiration(new Date(Date.now() + 600_000)) });
            if (Number(version) >= 16) {
                await assert.rejects(rotate, /permission denied to alter role/);
                await assert.rejects(create(), /permission denied to grant role "acme_readonly"/);
            } else {
                await rotate;
                await create();
                await runAsVault(plain, "revocation", [role.revocationStatements[0].split('"acme_vault_admin"').join('"vault_admin_plain"')], { name });
            }
        });

        it(version === "15" ? "lets CREATEROLE grant itself predefined and other organizations' roles on 15 (near-superuser)" : "refuses CREATEROLE granting itself predefined or other organizations' roles on 16+", async () => {
            const admin = vaultAdmin("acme");
            for (const grant of ["GRANT pg_read_all_data TO acme_vault_admin", "GRANT globex_readwrite TO acme_vault_admin", "GRANT pg_execute_server_program TO acme_vault_admin"]) {
                await admin.query("BEGIN");
                try {
                    if (version === "15") await admin.query(grant);
                    else await assert.rejects(admin.query(grant), /permission denied to grant role/);
                } finally {
                    await admin.query("ROLLBACK");
                }
            }
        });

        it("rotates one organization's root credentials without touching another's", async () => {
            const acme = connectionOf("acme");
            const rotated = vaultPassword();
            await runAsVault(vaultAdmin("acme"), "rotation", acme.rootRotationStatements, { name: acme.postgresql.username, password: rotated });
            await assert.rejects(connectAsConnection(server, acme, adminPasswords.get("acme")!), /password authentication failed for user "acme_vault_admin"/);
            const fresh = track(await connectAsConnection(server, acme, rotated));
            const globex = track(await connectAsConnection(server, connectionOf("globex"), adminPasswords.get("globex")!));
            assert.strictEqual((await globex.query("SELECT current_user AS u")).rows[0].u, "globex_vault_admin", "globex's connection still logs in");
            // the rotated connection still serves its roles
            const role = dynamicRole("analytics");
            const name = vaultDefaultUsername("kubernetes-acme-analytics", role.name);
            const password = vaultPassword();
            await runAsVault(fresh, "creation", role.creationStatements, { name, password, expiration: vaultExpiration(new Date(Date.now() + 600_000)) });
            await (await connect(name, password)).query("SELECT 1");
            await runAsVault(fresh, "revocation", role.revocationStatements, { name });
            assert.strictEqual(await roleOid(name), undefined);
        });
    });
}
