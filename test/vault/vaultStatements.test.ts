/**
 * What Vault's PostgreSQL plugin does with our roles, on a real PostgreSQL 15 and 17: vault_admin is created
 * exactly as the program registers it (the provider's statements), then the static rotation, dynamic
 * creation, renewal and revocation statements the program registered in Vault are run as vault_admin with
 * Vault's templating (default username template, `;`-split statements in one transaction).
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { Client } from "pg";
import { runPulumi, RecordedResource } from "../support/harness";
import { startPostgres, TestServer, PostgresMajor } from "../support/realPostgres";
import { serverCertificates } from "../support/certificates";
import { applyProviderResources } from "../support/postgresqlProviderSql";

const config = (version: string) => ({
    database: { engine: "statefulset", version, tls: "require" },
    vault: { address: "https://vault.example.com:8200" },
    organizations: [{
        name: "acme",
        apps: [
            { name: "migrator", access: "owner" },
            { name: "payroll", access: "readwrite", credentials: "vault-static", delivery: "vault-secrets-operator" },
            { name: "analytics", access: "readonly", credentials: "vault-dynamic", delivery: "csi", defaultTtl: 600, maxTtl: 3600 },
        ],
    }],
});

/** Vault's default username template for database credentials, rendered as Vault does. */
export function vaultDefaultUsername(displayName: string, roleName: string, now = new Date()): string {
    const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const random = Array.from(randomBytes(20), (b) => alnum[b % alnum.length]).join("");
    return `v-${displayName.slice(0, 8)}-${roleName.slice(0, 8)}-${random}-${Math.floor(now.getTime() / 1000)}`.slice(0, 63);
}

/** Vault's {{expiration}}: "2006-01-02 15:04:05-0700". */
function vaultExpiration(date: Date): string {
    return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "+0000");
}

function render(statement: string, values: Record<string, string>): string {
    return statement.replace(/\{\{(\w+)\}\}/g, (_, key) => {
        if (!(key in values)) throw new Error(`no value for {{${key}}}`);
        return values[key];
    });
}

/** Runs statements as Vault does: every entry split on ';', all in one transaction. */
async function runAsVault(client: Client, statements: string[], values: Record<string, string>): Promise<void> {
    await client.query("BEGIN");
    try {
        for (const entry of statements) {
            for (const query of entry.split(";").map((q) => q.trim()).filter(Boolean)) await client.query(render(query, values));
        }
        await client.query("COMMIT");
    } catch (err) {
        await client.query("ROLLBACK");
        throw err;
    }
}

for (const version of ["15", "17"] as PostgresMajor[]) {
    describe(`Vault statements on real PostgreSQL ${version}`, function () {
        this.timeout(120000);
        let server: TestServer;
        let resources: RecordedResource[];
        let vaultAdmin: Client;
        let vaultAdminPassword: string;
        const open: Client[] = [];
        const byType = (type: string) => resources.filter((r) => r.type === type);
        const connect = async (user: string, password: string, database = "acme") => {
            const c = await server.connect({ user, password, database });
            open.push(c);
            return c;
        };

        before(async () => {
            const run = await runPulumi(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require("../../stacks/program") as typeof import("../../stacks/program");
                return program.createStack();
            }, { stack: "dev", config: config(version) });
            resources = run.resources;
            const hba = run.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.data?.["pg_hba.conf"])!.inputs.data["pg_hba.conf"];
            const certs = serverCertificates();
            server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba });
            await applyProviderResources(server, resources);
            vaultAdminPassword = byType("vault:database/secretBackendConnection:SecretBackendConnection")[0].inputs.postgresql.passwordWo;
            vaultAdmin = await connect("vault_admin", vaultAdminPassword, "postgres");
            // the owner app creates the schema's objects
            const migratorPassword = byType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata?.name === "migrator-database")!.inputs.stringData.password;
            const migrator = await connect("acme_migrator", migratorPassword);
            await migrator.query("CREATE TABLE payslips (id serial PRIMARY KEY, amount int)");
            await migrator.query("INSERT INTO payslips (amount) VALUES (100)");
        });
        after(async () => {
            for (const c of open) await c.end().catch(() => undefined);
            await server?.stop();
        });

        it("creates vault_admin as its own login with CREATEROLE, never SUPERUSER, inheriting nothing", async () => {
            const { rows } = await server.query("SELECT rolsuper, rolcreaterole, rolinherit, rolcanlogin, rolcreatedb FROM pg_roles WHERE rolname = 'vault_admin'");
            assert.deepStrictEqual(rows[0], { rolsuper: false, rolcreaterole: true, rolinherit: false, rolcanlogin: true, rolcreatedb: false });
            const admins = await server.query(`SELECT r.rolname::text AS role FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
                WHERE m.member = 'vault_admin'::regrole AND m.admin_option ORDER BY 1`);
            assert.deepStrictEqual(admins.rows.map((r) => r.role), version === "17" ? ["acme_payroll", "acme_readonly"] : [], "ADMIN OPTION on exactly the managed roles (16+)");
            await assert.rejects(vaultAdmin.query("SELECT * FROM acme_data_probe"), /does not exist|permission denied/);
        });

        it("rotates a static role's password: the new one works, the old one no longer does", async () => {
            const staticRole = byType("vault:database/secretBackendStaticRole:SecretBackendStaticRole")[0].inputs;
            assert.strictEqual(staticRole.username, "acme_payroll");
            const initial = byType("postgresql:index/role:Role").find((r) => r.inputs.name === "acme_payroll")!.inputs.passwordWo;
            const before = await connect("acme_payroll", initial);
            const rotated = `A1a-${randomBytes(12).toString("hex")}`;
            await runAsVault(vaultAdmin, staticRole.rotationStatements, { name: staticRole.username, username: staticRole.username, password: rotated });
            const after = await connect("acme_payroll", rotated);
            assert.strictEqual((await after.query("SELECT count(*)::int AS n FROM payslips")).rows[0].n, 1);
            await assert.rejects(connect("acme_payroll", initial), /password authentication failed for user "acme_payroll"/);
            assert.strictEqual((await before.query("SELECT 1 AS x")).rows[0].x, 1, "sessions opened before rotation keep working");
        });

        it("creates a dynamic user with exactly its group's privileges, renews it, and revokes it even with an open session", async () => {
            const role = byType("vault:database/secretBackendRole:SecretBackendRole")[0].inputs;
            assert.deepStrictEqual([role.defaultTtl, role.maxTtl], [600, 3600]);
            const name = vaultDefaultUsername("kubernetes-acme-analytics", role.name);
            const password = `A1a-${randomBytes(12).toString("hex")}`;
            await runAsVault(vaultAdmin, role.creationStatements, { name, username: name, password, expiration: vaultExpiration(new Date(Date.now() + 600_000)) });

            const user = await connect(name, password);
            assert.strictEqual((await user.query("SELECT amount FROM payslips")).rows[0].amount, 100);
            await assert.rejects(user.query("INSERT INTO payslips (amount) VALUES (1)"), /permission denied for table payslips/);
            await assert.rejects(user.query("CREATE TABLE mine (x int)"), /permission denied for schema public/);
            const privileges = await server.query(`SELECT p, has_table_privilege($1, 'public.payslips', p) AS user_has, has_table_privilege('acme_readonly', 'public.payslips', p) AS group_has
                FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p`, [name], "acme");
            for (const row of privileges.rows) assert.strictEqual(row.user_has, row.group_has, `${row.p}: the user has what its group has`);
            const direct = await server.query("SELECT count(*)::int AS n FROM information_schema.role_table_grants WHERE grantee = $1", [name], "acme");
            assert.strictEqual(direct.rows[0].n, 0, "no direct grants");

            await runAsVault(vaultAdmin, role.renewStatements, { name, username: name, expiration: vaultExpiration(new Date(Date.now() + 1_200_000)) });
            const validUntil = await server.query("SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1", [name]);
            assert.ok(new Date(validUntil.rows[0].rolvaliduntil).getTime() > Date.now() + 900_000, "renewal moved the expiry");

            await runAsVault(vaultAdmin, role.revocationStatements, { name, username: name });
            assert.strictEqual((await server.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1", [name])).rows[0].n, 0, "no role left behind");
            await new Promise((r) => setTimeout(r, 200));
            const ended = await user.query("SELECT 1").then(() => "still open", (err: Error) => err.message);
            const sessions = await server.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1", [name]);
            assert.strictEqual(sessions.rows[0].n, 0, "no session of the revoked user remains");
            assert.match(ended, /not queryable|terminat|Connection terminated|administrator command/i, "the open session is ended");
            // revoking again (Vault retries) still succeeds
            await runAsVault(vaultAdmin, role.revocationStatements, { name, username: name });
        });

        it(version === "17" ? "fails without ADMIN OPTION on PostgreSQL 16+ (why the component grants it)" : "works with CREATEROLE alone before PostgreSQL 16", async () => {
            await server.query("CREATE ROLE vault_admin_plain WITH LOGIN CREATEROLE NOINHERIT PASSWORD 'Plain-Passw0rd'");
            const plain = await connect("vault_admin_plain", "Plain-Passw0rd", "postgres");
            const staticRole = byType("vault:database/secretBackendStaticRole:SecretBackendStaticRole")[0].inputs;
            const dynamicRole = byType("vault:database/secretBackendRole:SecretBackendRole")[0].inputs;
            const name = vaultDefaultUsername("kubernetes-acme-analytics", dynamicRole.name);
            const rotate = runAsVault(plain, staticRole.rotationStatements, { name: "acme_payroll", username: "acme_payroll", password: "Other-Passw0rd" });
            const create = () => runAsVault(plain, dynamicRole.creationStatements, { name, username: name, password: "Dyn-Passw0rd1", expiration: vaultExpiration(new Date(Date.now() + 600_000)) });
            if (version === "17") {
                await assert.rejects(rotate, /permission denied to alter role/);
                await assert.rejects(create(), /permission denied to grant role "acme_readonly"/);
            } else {
                await rotate;
                await create();
            }
        });
    });
}
