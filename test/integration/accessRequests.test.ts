/**
 * Access requests on a real PostgreSQL (TESTED_MAJORS): the program runs under mocks at a given
 * POSTGRES_ACCESS_NOW, what its @pulumi/postgresql resources mean is executed as the provider executes it
 * (test/support/postgresqlProviderSql.ts), and the Vault role's statements as Vault runs them
 * (test/vault/vaultEmulation.ts). Shown: an approved readonly request's login reads and cannot write, is
 * VALID UNTIL the expiry, and is refused once that has passed, by PostgreSQL alone; a Vault user is valid
 * until the earlier of its lease end and the expiry; after the request is removed or expires the next run
 * registers no login, dropping it as the provider does succeeds, and the organization's data is intact.
 */
import * as assert from "assert";
import { Client } from "pg";
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { NOW_VARIABLE } from "../../components/clock";
import { startPostgres, TestServer, TESTED_MAJORS } from "../support/realPostgres";
import { serverCertificates } from "../support/certificates";
import { applyProviderResources, applyRoleCreate, quoteIdent } from "../support/postgresqlProviderSql";
import { connectAsConnection, runAsVault, vaultExpiration, vaultPassword } from "../vault/vaultEmulation";

const LOGIN = "acme_request_incident_4711";
/** Whole seconds, as a config would write them. */
const rfc3339 = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");

function config(version: string, now: number, requests: Record<string, unknown>[]) {
    return {
        database: { engine: "statefulset", version, tls: "require" },
        vault: { address: "https://vault.example.com:8200", kubernetesNamespace: "vault" },
        organizations: [
            { name: "acme", apps: [{ name: "billing", access: "owner" }], accessRequests: requests },
            { name: "globex" },
        ],
        _now: rfc3339(now),
    };
}

async function runAt(cfg: ReturnType<typeof config>): Promise<RecordedResource[]> {
    const { _now, ...stackConfig } = cfg;
    const before = process.env[NOW_VARIABLE];
    process.env[NOW_VARIABLE] = _now;
    try {
        const run = await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: "dev", config: stackConfig });
        return run.resources;
    } finally {
        if (before === undefined) delete process.env[NOW_VARIABLE];
        else process.env[NOW_VARIABLE] = before;
    }
}

/**
 * What terraform-provider-postgresql runs when a Role leaves the program (resourcePostgreSQLRoleDelete,
 * skip_reassign_owned and skip_drop_role unset): in every database that accepts connections
 * `REASSIGN OWNED BY <role> TO CURRENT_USER` and `DROP OWNED BY <role>`, then `DROP ROLE <role>`.
 */
async function providerDropRole(server: TestServer, role: string): Promise<void> {
    const { rows } = await server.query("SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1");
    for (const { datname } of rows) {
        await server.query(`REASSIGN OWNED BY ${quoteIdent(role)} TO CURRENT_USER`, [], datname);
        await server.query(`DROP OWNED BY ${quoteIdent(role)}`, [], datname);
    }
    await server.query(`DROP ROLE ${quoteIdent(role)}`);
}

for (const version of TESTED_MAJORS) {
    describe(`access requests on real PostgreSQL ${version}`, function () {
        this.timeout(180000);
        let server: TestServer;
        let resources: RecordedResource[];
        const open: Client[] = [];
        const track = (c: Client) => (open.push(c), c);
        // The program's time is the real time here: PostgreSQL compares VALID UNTIL with its own clock.
        const now = Date.now();
        const expires = rfc3339(now + 2 * 3600 * 1000);
        const incident = { name: "incident-4711", serviceAccount: "oncall", access: "readonly", credentials: "kubernetes", expires, approvedBy: ["alice@example.com"] };
        const backfill = { name: "backfill", serviceAccount: "data-team", access: "readwrite", credentials: "vault-dynamic", expires, approvedBy: ["alice@example.com"] };
        const secretOf = (records: RecordedResource[], name: string) => records.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata?.name === name)!.inputs.stringData;
        const loginAs = async (user: string, password: string) => track(await server.connect({ user, password, database: "acme" }));

        before(async () => {
            resources = await runAt(config(version, now, [incident, backfill]));
            const certs = serverCertificates();
            const hba = resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.data?.["pg_hba.conf"])!.inputs.data["pg_hba.conf"];
            server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba });
            await applyProviderResources(server, resources);
            const billing = secretOf(resources, "billing-database");
            const owner = await loginAs(billing.username, billing.password);
            await owner.query("CREATE TABLE orders (id serial PRIMARY KEY, state text NOT NULL)");
            await owner.query("INSERT INTO orders (state) VALUES ('stuck'), ('shipped')");
        });

        after(async () => {
            for (const c of open) await c.end().catch(() => undefined);
            await server?.stop();
        });

        it("lets the approved readonly request's login read and not write, VALID UNTIL the expiry, in exactly its group", async () => {
            const creds = secretOf(resources, "request-incident-4711-database");
            assert.strictEqual(creds.username, LOGIN);
            const client = await loginAs(creds.username, creds.password);
            assert.deepStrictEqual((await client.query("SELECT state FROM orders ORDER BY id")).rows.map((r) => r.state), ["stuck", "shipped"]);
            await assert.rejects(client.query("INSERT INTO orders (state) VALUES ('new')"), /permission denied for table orders/);
            await assert.rejects(client.query("UPDATE orders SET state = 'fixed'"), /permission denied for table orders/);
            await assert.rejects(client.query("CREATE TABLE mine (x int)"), /permission denied for schema public/);
            const { rows } = await server.query(`SELECT r.rolvaliduntil = $2::timestamptz AS valid_until_is_expiry, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
                array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS groups
                FROM pg_roles r WHERE r.rolname = $1`, [LOGIN, expires]);
            assert.deepStrictEqual(rows[0], { valid_until_is_expiry: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false, groups: ["acme_readonly"] });
            // what the provider reads back (`COALESCE(rolvaliduntil::TEXT, 'infinity')`, lib/pq's DateStyle ISO,
            // the server's TimeZone UTC) is what the program set: the next run has nothing to change
            const login = resources.find((r) => r.type === "postgresql:index/role:Role" && r.inputs.name === LOGIN)!;
            const admin = track(await server.connect({ user: server.superuser, password: server.superuserPassword }));
            await admin.query("SET datestyle = 'ISO, MDY'");
            await admin.query("SET timezone = 'UTC'");
            const readBack = await admin.query("SELECT COALESCE(rolvaliduntil::TEXT, 'infinity') AS v FROM pg_catalog.pg_roles WHERE rolname = $1", [LOGIN]);
            assert.strictEqual(readBack.rows[0].v, login.inputs.validUntil);
            await assert.rejects(server.connect({ user: creds.username, password: creds.password, database: "globex" }), /permission denied for database "globex"/);
        });

        it("has PostgreSQL refuse a request login whose expiry has passed", async () => {
            // the same request, approved an hour before it expired an hour ago: the program issued its login then
            const past = { ...incident, name: "yesterday", expires: rfc3339(now - 3600 * 1000) };
            const earlier = await runAt(config(version, now - 2 * 3600 * 1000, [past]));
            const role = earlier.find((r) => r.type === "postgresql:index/role:Role" && r.inputs.name === "acme_request_yesterday")!;
            assert.strictEqual(new Date(role.inputs.validUntil.replace(" ", "T").replace("+00", "Z")).getTime(), Date.parse(past.expires));
            await applyRoleCreate(server, role.inputs);
            const creds = secretOf(earlier, "request-yesterday-database");
            await assert.rejects(loginAs(creds.username, creds.password), /password authentication failed for user "acme_request_yesterday"/);
            assert.match(server.serverLog(), /User "acme_request_yesterday" has an expired password/);
            // and the program at the real time registers nothing for it
            const nowRun = await runAt(config(version, now, [past]));
            assert.strictEqual(nowRun.filter((r) => r.name.includes("-request-")).length, 0);
            await providerDropRole(server, "acme_request_yesterday");
        });

        it("creates Vault users valid until the earlier of their lease end and the expiry, with TTLs capped at it", async () => {
            const role = resources.find((r) => r.type === "vault:database/secretBackendRole:SecretBackendRole" && r.inputs.name === "acme_dev_request_backfill")!.inputs;
            const left = Math.floor((Date.parse(expires) - Math.floor(now / 1000) * 1000) / 1000);
            assert.deepStrictEqual([role.defaultTtl, role.maxTtl], [left, left], "no lease issued now outlives the request");
            const connection = resources.find((r) => r.type === "vault:database/secretBackendConnection:SecretBackendConnection" && r.inputs.name === "acme")!.inputs;
            assert.ok(connection.allowedRoles.includes("acme_dev_request_backfill"));
            const admin = track(await connectAsConnection(server, connection, connection.postgresql.passwordWo));
            const cases = [
                // a lease issued now: its end is the expiry (TTL capped)
                { name: "v-request-a", lease: new Date(Date.parse(expires)), validUntil: expires },
                // a lease issued later whose end would pass the expiry: cut at the expiry
                { name: "v-request-b", lease: new Date(Date.parse(expires) + 86400 * 1000), validUntil: expires },
                // a short lease: its own end
                { name: "v-request-c", lease: new Date(Math.floor(now / 1000) * 1000 + 600 * 1000), validUntil: rfc3339(now + 600 * 1000) },
            ];
            for (const c of cases) {
                const password = vaultPassword();
                await runAsVault(admin, "creation", role.creationStatements, { name: c.name, password, expiration: vaultExpiration(c.lease) });
                const { rows } = await server.query(`SELECT rolvaliduntil = $2::timestamptz AS ok, rolvaliduntil::text AS v,
                    array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS groups, rolcanlogin, rolsuper, rolcreaterole
                    FROM pg_roles r WHERE rolname = $1`, [c.name, c.validUntil]);
                assert.ok(rows[0].ok, `${c.name}: VALID UNTIL ${rows[0].v}, expected ${c.validUntil}`);
                assert.deepStrictEqual([rows[0].groups, rows[0].rolcanlogin, rolFlags(rows[0])], [["acme_readwrite"], true, [false, false]]);
                const user = await loginAs(c.name, password);
                await user.query("INSERT INTO orders (state) VALUES ('backfilled')");
                await user.end();
                // renewal moves nothing, so it cannot carry the user past the expiry
                await runAsVault(admin, "renewal", role.renewStatements, { name: c.name, expiration: vaultExpiration(new Date(Date.parse(expires) + 7 * 86400 * 1000)) });
                assert.ok((await server.query("SELECT rolvaliduntil = $2::timestamptz AS ok FROM pg_roles WHERE rolname = $1", [c.name, c.validUntil])).rows[0].ok, `${c.name} after renewal`);
                await runAsVault(admin, "revocation", role.revocationStatements, { name: c.name });
                assert.strictEqual((await server.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1", [c.name])).rows[0].n, 0, `${c.name} revoked`);
            }
            await server.query("DELETE FROM orders WHERE state = 'backfilled'", [], "acme");
        });

        it("drops the login once the request is removed or expired, keeping the organization's data", async () => {
            const creds = secretOf(resources, "request-incident-4711-database");
            // whatever the login created meanwhile (a large object needs no privilege) must not block the drop
            const client = await loginAs(creds.username, creds.password);
            await client.query("SELECT lo_create(0)");
            await client.end();
            for (const next of [config(version, now, [backfill]), config(version, Date.parse(expires), [incident, backfill])]) {
                const later = await runAt(next);
                assert.strictEqual(later.find((r) => r.type === "postgresql:index/role:Role" && r.inputs.name === LOGIN), undefined, "the next run no longer registers the login");
                assert.strictEqual(later.filter((r) => r.name.startsWith("acme-request-incident-4711")).length, 0);
            }
            await providerDropRole(server, LOGIN);
            assert.strictEqual((await server.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1", [LOGIN])).rows[0].n, 0);
            await assert.rejects(loginAs(creds.username, creds.password), /password authentication failed/);
            const billing = secretOf(resources, "billing-database");
            const owner = await loginAs(billing.username, billing.password);
            assert.deepStrictEqual((await owner.query("SELECT state FROM orders ORDER BY id")).rows.map((r) => r.state), ["stuck", "shipped"]);
            assert.strictEqual((await server.query("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'", [], "acme")).rows[0].tableowner, "acme_owner");
        });
    });
}

function rolFlags(row: { rolsuper: boolean; rolcreaterole: boolean }): boolean[] {
    return [row.rolsuper, row.rolcreaterole];
}
