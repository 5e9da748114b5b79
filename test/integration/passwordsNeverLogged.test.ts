/**
 * No password the program sets ever reaches the server log (issue 10, defect 1). On real PostgreSQL 15 and
 * 17, logging every statement (`log_statement = all`, what the RDS parameter group's `ddl` logs and more)
 * and every failed one (`log_min_error_statement = error`), the program's database resources are applied
 * through the provider emulation (test/support/postgresqlProviderSql.ts) as `pulumi up` would:
 *
 * 1. create: every login (kubernetes, secretsmanager, vault-static apps; each organization's Vault admin);
 * 2. update: a config change (connection limits) updates the logins in place;
 * 3. a failed create: each login's CREATE ROLE runs again while the role exists;
 * 4. Vault's statements run as Vault runs them (static rotation, dynamic creation);
 * 5. rotation: `pulumi up --replace` of every app's RandomPassword (the mocks then give new values).
 *
 * Then the log holds none of the app, Vault admin or Vault-generated passwords, while it does show the
 * statements (with SCRAM-SHA-256 verifiers); PostgreSQL stored each verifier as sent; and every app logs
 * in over TLS (server verified) with the plaintext it was delivered, after the rotation with the new one.
 * Both with the superuser as the provider's admin (in-cluster) and with an RDS-like master user.
 */
import * as assert from "assert";
import { Client } from "pg";
import { TLSSocket } from "tls";
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { fakeRandom, mockRandomSeed, replacedRandomResources } from "../../testing/mockOutputs";
import { readStackFile } from "../../tools/plan/stackFile";
import { startPostgres, TestServer, PostgresMajor } from "../support/realPostgres";
import { serverCertificates, Issued } from "../support/certificates";
import { AdminLogin, applyProviderResources, applyRoleCreate, applyRoleUpdate } from "../support/postgresqlProviderSql";
import { connectAsConnection, runAsVault, vaultExpiration, vaultPassword } from "../vault/vaultEmulation";
import { renderPgHba } from "../../components/database/serverConfig";
import { isScramSha256Verifier, scramParameters, scramSha256Verifier } from "../../components/postgres/scramVerifier";

const T = {
    role: "postgresql:index/role:Role",
    randomPassword: "random:index/randomPassword:RandomPassword",
    randomBytes: "random:index/randomBytes:RandomBytes",
    secret: "kubernetes:core/v1:Secret",
    secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
    connection: "vault:database/secretBackendConnection:SecretBackendConnection",
    staticRole: "vault:database/secretBackendStaticRole:SecretBackendStaticRole",
    dynamicRole: "vault:database/secretBackendRole:SecretBackendRole",
};

type Engine = "statefulset" | "rds";

function organizations(connectionLimit: number) {
    return [
        {
            name: "acme",
            apps: [
                { name: "billing", access: "owner", credentials: "kubernetes", connectionLimit },
                { name: "storefront", access: "readwrite", credentials: "secretsmanager", connectionLimit },
                { name: "payroll", access: "readwrite", credentials: "vault-static", delivery: "vault-secrets-operator", connectionLimit },
                { name: "analytics", access: "readonly", credentials: "vault-dynamic", delivery: "csi" },
            ],
        },
        { name: "globex", credentials: "kubernetes" },
    ];
}

function stackConfig(engine: Engine, version: PostgresMajor, connectionLimit: number): { stack: string; config: Record<string, unknown> } {
    const staging = readStackFile("staging");
    const vault = { address: "https://vault.example.com:8200", kubernetesNamespace: "vault" };
    if (engine === "statefulset") {
        return { stack: "dev", config: { database: { engine: "statefulset", version, tls: "require" }, aws: staging.aws, vault, organizations: organizations(connectionLimit) } };
    }
    return { stack: "staging", config: { ...staging, database: { ...(staging.database as object), version }, vault, organizations: organizations(connectionLimit) } };
}

async function runProgram(engine: Engine, version: PostgresMajor, connectionLimit: number): Promise<RecordedResource[]> {
    const { stack, config } = stackConfig(engine, version, connectionLimit);
    const run = await runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.createStack();
    }, { stack, config });
    return run.resources;
}

/** Every password the program generated in a run (as the mocks give them). */
function generatedPasswords(resources: RecordedResource[]): string[] {
    return resources.filter((r) => r.type === T.randomPassword).map((r) => fakeRandom(mockRandomSeed(r.name), r.inputs.length));
}

interface Delivered { username: string; password: string; database: string }

/** What each kubernetes and secretsmanager app was handed: its Secret's fields or its Secrets Manager JSON. */
function deliveredCredentials(resources: RecordedResource[]): Map<string, Delivered> {
    const out = new Map<string, Delivered>();
    for (const r of resources.filter((x) => x.type === T.secret && x.inputs.stringData?.password)) {
        const d = r.inputs.stringData;
        out.set(d.username, { username: d.username, password: d.password, database: d.database });
    }
    for (const r of resources.filter((x) => x.type === T.secretVersion)) {
        const d = JSON.parse(r.inputs.secretString);
        out.set(d.username, { username: d.username, password: d.password, database: d.database });
    }
    return out;
}

const loginRoles = (resources: RecordedResource[]) => resources.filter((r) => r.type === T.role && r.inputs.login);
const inputsOf = (resources: RecordedResource[], name: string) => resources.find((r) => r.type === T.role && r.name === name)!.inputs;

const cases: [PostgresMajor, Engine][] = [["15", "statefulset"], ["17", "statefulset"], ["15", "rds"], ["17", "rds"]];

for (const [version, engine] of cases) {
    describe(`no password in the server log: PostgreSQL ${version}, ${engine === "rds" ? "RDS-like master user" : "superuser"} as the provider's admin`, function () {
        this.timeout(600000);
        let server: TestServer;
        let certs: { ca: Issued; server: Issued };
        let admin: AdminLogin | undefined;
        let created: RecordedResource[];
        let updated: RecordedResource[];
        let rotated: RecordedResource[];
        const statements: string[] = [];
        const failedCreates: string[] = [];
        /** Passwords Vault generated (the emulation), with what they are for. */
        const vaultPasswords = new Map<string, string>();
        const open: Client[] = [];

        const logIn = async (user: string, password: string, database: string) => {
            const client = await server.connect({ user, password, database, ssl: { ca: certs.ca.certPem, servername: "localhost" } });
            open.push(client);
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            const socket = (client as any).connection.stream;
            assert.ok(socket instanceof TLSSocket && socket.authorized, `${user}: over TLS, the server verified`);
            return client;
        };
        /** The server log once everything sent so far is in it (a marker statement is logged last). */
        const flushedLog = async () => {
            const marker = `log-marker-${Math.random().toString(36).slice(2)}`;
            await server.query(`SELECT '${marker}'`);
            for (let i = 0; i < 100 && !server.serverLog().includes(marker); i++) await new Promise((r) => setTimeout(r, 100));
            const log = server.serverLog();
            assert.ok(log.includes(marker), "the server's log is read");
            return log;
        };

        before(async () => {
            created = await runProgram(engine, version, 7);
            updated = await runProgram(engine, version, 9);
            for (const r of updated.filter((x) => x.type === T.randomPassword && x.name.endsWith("-login-password"))) replacedRandomResources.add(r.name);
            for (const r of updated.filter((x) => x.type === T.randomBytes && x.name.endsWith("-login-scram-salt"))) replacedRandomResources.add(r.name);
            try {
                rotated = await runProgram(engine, version, 9);
            } finally {
                replacedRandomResources.clear();
            }

            certs = serverCertificates();
            const hba = engine === "statefulset"
                ? created.find((c) => c.type === "kubernetes:core/v1:ConfigMap" && c.inputs.data?.["pg_hba.conf"])!.inputs.data["pg_hba.conf"]
                : renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 100 });
            server = await startPostgres({
                version,
                tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem },
                hba,
                settings: { log_statement: "all", log_min_error_statement: "error", log_connections: "on" },
            });
            if (engine === "rds") {
                // the RDS master user (CREATEROLE, CREATEDB, not a superuser); the test's own setup is not logged
                const setup = await server.connect({ user: server.superuser, password: server.superuserPassword });
                await setup.query("SET log_statement = 'none'");
                await setup.query("CREATE ROLE pgadmin WITH LOGIN CREATEROLE CREATEDB PASSWORD 'Master-Passw0rd'");
                await setup.query("ALTER DATABASE postgres OWNER TO pgadmin");
                await setup.query("ALTER DATABASE template1 OWNER TO pgadmin");
                await setup.end();
                admin = { user: "pgadmin", password: "Master-Passw0rd" };
            }

            // 1. create
            for (const step of await applyProviderResources(server, created, admin)) statements.push(...step.statements);
            // 2. update in place (connection limits)
            for (const role of loginRoles(updated)) {
                const before = inputsOf(created, role.name);
                if (JSON.stringify(before) !== JSON.stringify(role.inputs)) statements.push(...await applyRoleUpdate(server, before, role.inputs, admin));
            }
            // 3. a failed create: the role exists
            for (const role of loginRoles(created)) {
                await assert.rejects(applyRoleCreate(server, role.inputs, admin), (err: Error) => {
                    assert.match(err.message, /already exists/);
                    return true;
                });
                failedCreates.push(role.inputs.name);
            }
            // 4. Vault: a static rotation and a dynamic user, as the organization's Vault admin
            const connection = updated.find((r) => r.type === T.connection && r.inputs.name === "acme")!.inputs;
            const vaultAdmin = await connectAsConnection(server, connection, connection.postgresql.passwordWo);
            open.push(vaultAdmin);
            const staticRole = updated.find((r) => r.type === T.staticRole)!.inputs;
            vaultPasswords.set(staticRole.username, vaultPassword());
            await runAsVault(vaultAdmin, "rotation", staticRole.rotationStatements, { name: staticRole.username, password: vaultPasswords.get(staticRole.username)! });
            const dynamicRole = updated.find((r) => r.type === T.dynamicRole)!.inputs;
            vaultPasswords.set("v-analytics-user", vaultPassword());
            await runAsVault(vaultAdmin, "creation", dynamicRole.creationStatements, { name: "v-analytics-user", password: vaultPasswords.get("v-analytics-user")!, expiration: vaultExpiration(new Date(Date.now() + 600_000)) });
            // 5. rotation: every app's RandomPassword replaced (and its salt with it)
            for (const role of loginRoles(rotated)) {
                const before = inputsOf(updated, role.name);
                if (JSON.stringify(before) !== JSON.stringify(role.inputs)) statements.push(...await applyRoleUpdate(server, before, role.inputs, admin));
            }
        });

        after(async () => {
            replacedRandomResources.clear();
            for (const c of open) await c.end().catch(() => undefined);
            await server?.stop();
        });

        it("writes no app, Vault admin or Vault-generated password to the log after create, update, a failed create and a rotation", async () => {
            const log = await flushedLog();
            const passwords = new Map<string, string>();
            for (const [run, resources] of [["initial", created], ["rotated", rotated]] as const) {
                for (const [user, d] of deliveredCredentials(resources)) passwords.set(`${run} password of ${user}`, d.password);
                for (const c of resources.filter((r) => r.type === T.connection)) passwords.set(`${run} password of ${c.inputs.postgresql.username}`, c.inputs.postgresql.passwordWo);
                generatedPasswords(resources).forEach((p, i) => passwords.set(`${run} generated password #${i}`, p));
            }
            for (const [user, p] of vaultPasswords) passwords.set(`Vault's password of ${user}`, p);
            assert.ok(passwords.size >= 12, `all kinds of passwords checked (${passwords.size})`);
            const leaked = [...passwords].filter(([, p]) => log.includes(p)).map(([what]) => what);
            assert.deepStrictEqual(leaked, [], "passwords in the server log");
        });

        it("logged the statements themselves, each carrying a SCRAM-SHA-256 verifier where a password goes", async () => {
            const log = await flushedLog();
            const verifierIn = (sql: string) => /PASSWORD '(SCRAM-SHA-256\$[^']+)'/.exec(sql)?.[1];
            const withPassword = statements.filter((s) => /PASSWORD '/.test(s));
            assert.ok(withPassword.length >= loginRoles(created).length, "every login's create sent a password");
            for (const sql of withPassword) {
                const verifier = verifierIn(sql);
                assert.ok(verifier && isScramSha256Verifier(verifier), `a verifier, not a password: ${sql.slice(0, 60)}…`);
                assert.ok(log.includes(sql), `the log shows it: ${sql.slice(0, 60)}…`);
            }
            assert.match(log, /statement: CREATE ROLE "acme_billing" WITH ENCRYPTED PASSWORD 'SCRAM-SHA-256\$4096:/);
            assert.match(log, /statement: ALTER ROLE "acme_billing" PASSWORD 'SCRAM-SHA-256\$4096:/, "the rotation's update");
            assert.match(log, /statement: ALTER ROLE "acme_billing" CONNECTION LIMIT 9/, "the config change's update");
            assert.ok(failedCreates.length >= 4);
            for (const name of failedCreates) {
                assert.match(log, new RegExp(`ERROR:  role "${name}" already exists\\n(.*\\n)*?.*STATEMENT:  CREATE ROLE "${name}" WITH ENCRYPTED PASSWORD 'SCRAM-SHA-256\\$`), `${name}: the failed create is logged with its statement`);
            }
            assert.match(log, /statement: ALTER ROLE "acme_payroll" WITH PASSWORD 'SCRAM-SHA-256\$4096:/, "Vault's static rotation sends a verifier");
        });

        it("stores exactly the verifier each Role was given (so a refresh reads back what the state holds)", async () => {
            const { rows } = await server.query("SELECT rolname, rolpassword FROM pg_authid WHERE rolcanlogin");
            const stored = new Map(rows.map((r) => [r.rolname as string, r.rolpassword as string]));
            for (const role of loginRoles(rotated)) {
                if (role.inputs.password !== undefined) assert.strictEqual(stored.get(role.inputs.name), role.inputs.password, role.inputs.name);
            }
            for (const c of rotated.filter((r) => r.type === T.connection)) {
                const adminRole = loginRoles(rotated).find((r) => r.inputs.name === c.inputs.postgresql.username)!.inputs;
                assert.strictEqual(stored.get(adminRole.name), adminRole.passwordWo, `${adminRole.name}: the write-only verifier`);
            }
        });

        it("computes the verifiers PostgreSQL itself computes (same salt and iterations)", async () => {
            const client = await server.connect({ user: server.superuser, password: server.superuserPassword });
            open.push(client);
            await client.query("SET log_statement = 'none'");
            await client.query("SET password_encryption = 'scram-sha-256'");
            for (const password of [vaultPassword(), "A1a-Zx_9.~!*Tq", "pencil"]) {
                await client.query(`ALTER ROLE postgres PASSWORD '${password}'`);
                const stored = (await client.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'")).rows[0].rolpassword;
                const { salt, iterations } = scramParameters(stored);
                assert.strictEqual(scramSha256Verifier(password, salt, iterations), stored);
            }
            await client.query(`ALTER ROLE postgres PASSWORD '${server.superuserPassword}'`);
        });

        it("lets every app (and each Vault admin) log in over TLS with the plaintext it was delivered, after the rotation the new one only", async () => {
            const before = deliveredCredentials(created);
            const after = deliveredCredentials(rotated);
            assert.deepStrictEqual([...after.keys()].sort(), ["acme_billing", "acme_storefront", "globex_globex"]);
            for (const [user, d] of after) {
                const client = await logIn(user, d.password, d.database);
                assert.strictEqual((await client.query("SELECT current_database() AS db")).rows[0].db, d.database);
                assert.notStrictEqual(before.get(user)!.password, d.password, `${user}: rotated`);
                await assert.rejects(logIn(user, before.get(user)!.password, d.database), /password authentication failed/, `${user}: the old password no longer works`);
            }
            for (const c of rotated.filter((r) => r.type === T.connection)) {
                await logIn(c.inputs.postgresql.username, c.inputs.postgresql.passwordWo, c.inputs.name);
            }
            for (const [user, password] of vaultPasswords) await logIn(user, password, "acme");
        });
    });
}
