/**
 * Zero-downtime rotation on real PostgreSQL (every TESTED_MAJORS), bounded load on loopback. The program runs
 * under mocks at successive POSTGRES_ACCESS_NOW values across three periods; each run is applied to a real
 * server as the provider would (first run: every resource; later runs: an in-place update of each Role whose
 * inputs changed, then the delivered credentials change, as the Secret / Secrets Manager entry depends on the
 * logins). Meanwhile client loops keep opening TLS connections with the credentials as delivered, re-read
 * every second (as a reloader or a file watch would): no connection may fail. A client that read its
 * credentials once keeps working through the grace period and is refused after it.
 *
 * Two deliveries: in-cluster (Kubernetes Secret, superuser admin) and RDS (the staging stack with its apps
 * rotating: Secrets Manager JSON, an admin that is not a superuser, like the RDS master user).
 */
import * as assert from "assert";
import { RecordedResource, runPulumi } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";
import { NOW_VARIABLE } from "../../components/clock";
import { renderPgHba } from "../../components/database/serverConfig";
import { TESTED_MAJORS, TestServer, startPostgres } from "../support/realPostgres";
import { serverCertificates } from "../support/certificates";
import { AdminLogin, applyProviderResources, applyRoleUpdate, createRdsLikeAdmin } from "../support/postgresqlProviderSql";

const DAY = 86400_000;
const ANCHOR = "2026-01-01T00:00:00Z";
const ROTATION = { every: "30d", anchor: ANCHOR };
const t0 = Date.parse(ANCHOR) + 5 * DAY;
/** The runs: start, a run within the period, then one run in each of the next three periods. */
const STEPS = [
    { label: "t", now: t0 },
    { label: "t + 20d (same period)", now: t0 + 20 * DAY },
    { label: "t + every", now: t0 + 30 * DAY },
    { label: "t + 2·every", now: t0 + 60 * DAY },
    { label: "t + 3·every", now: t0 + 90 * DAY },
];
/** How long the clients run between two applies. */
const LOAD_MS = 2500;
const REREAD_MS = 1000;

interface Credentials {
    username: string;
    password: string;
    database: string;
}

interface Scenario {
    name: string;
    stack: string;
    config(): Record<string, unknown>;
    /** The credentials each rotating app gets, as delivered, keyed by app. */
    delivered(resources: RecordedResource[]): Map<string, Credentials>;
    hba(resources: RecordedResource[]): string;
    /** Creates the admin login the provider uses (undefined: the superuser). */
    admin(server: TestServer): Promise<AdminLogin | undefined>;
}

const inCluster: Scenario = {
    name: "in-cluster, Kubernetes Secret, superuser admin",
    stack: "dev",
    config: () => ({
        database: { engine: "statefulset", tls: "require" },
        organizations: [{ name: "acme", apps: [{ name: "billing", access: "owner", rotation: ROTATION }, { name: "storefront", rotation: ROTATION }] }],
    }),
    delivered(resources) {
        const out = new Map<string, Credentials>();
        for (const s of resources.filter((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.stringData?.DATABASE_URL)) {
            const url = new URL(s.inputs.stringData.DATABASE_URL);
            out.set(s.inputs.metadata.name.replace(/-database$/, ""), { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1) });
        }
        return out;
    },
    hba: (resources) => resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.data?.["pg_hba.conf"])!.inputs.data["pg_hba.conf"],
    admin: async () => undefined,
};

const rds: Scenario = {
    name: "RDS, Secrets Manager, non-superuser admin",
    stack: "staging",
    config() {
        const raw = readStackFile("staging") as { organizations: { name: string; apps?: { name: string; credentials?: string }[] }[] };
        const organizations = raw.organizations.filter((o) => o.name === "acme").map((o) => ({
            ...o,
            apps: o.apps!.filter((a) => a.name === "billing" || a.name === "storefront").map((a) => ({ ...a, rotation: ROTATION })),
        }));
        return { ...raw, organizations };
    },
    delivered(resources) {
        const out = new Map<string, Credentials>();
        for (const v of resources.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion")) {
            const json = JSON.parse(v.inputs.secretString);
            out.set(v.name.replace(/^acme-/, "").replace(/-aws-secret-value$/, ""), { username: json.username, password: json.password, database: json.dbname });
        }
        return out;
    },
    hba: () => renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 100 }),
    async admin(server) {
        // the RDS master user: not a superuser; CREATEROLE, CREATEDB; owns `postgres` and `template1`
        return createRdsLikeAdmin(server);
    },
};

const programRuns = new Map<string, Promise<RecordedResource[][]>>();
/** The program's resources at every step (plain data, shared by the versions). */
function runsOf(scenario: Scenario): Promise<RecordedResource[][]> {
    if (!programRuns.has(scenario.stack)) {
        programRuns.set(scenario.stack, (async () => {
            const out: RecordedResource[][] = [];
            const saved = process.env[NOW_VARIABLE];
            try {
                for (const step of STEPS) {
                    process.env[NOW_VARIABLE] = new Date(step.now).toISOString();
                    const run = await runPulumi(() => {
                        // eslint-disable-next-line @typescript-eslint/no-require-imports
                        const program = require("../../stacks/program") as typeof import("../../stacks/program");
                        return program.createStack();
                    }, { stack: scenario.stack, config: scenario.config() });
                    out.push(run.resources);
                }
            } finally {
                if (saved === undefined) delete process.env[NOW_VARIABLE];
                else process.env[NOW_VARIABLE] = saved;
            }
            return out;
        })());
    }
    return programRuns.get(scenario.stack)!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const scenario of [inCluster, rds]) {
    for (const version of TESTED_MAJORS) {
        describe(`rotation under load on real PostgreSQL ${version} (${scenario.name})`, function () {
            this.timeout(180000);
            let server: TestServer | undefined;
            after(async () => server?.stop());

            it("opens every connection with the delivered credentials across three periods; a client that never re-reads works through the grace period only", async () => {
                const runs = await runsOf(scenario);
                const certs = serverCertificates();
                // every statement logged, to show that no password reaches the server in clear text
                server = await startPostgres({ version, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba: scenario.hba(runs[0]), settings: { log_statement: "all" } });
                const srv = server;
                const admin = await scenario.admin(srv);
                await applyProviderResources(srv, runs[0], admin);

                // what the program delivers now: replaced only after the step's role updates (the Secret / the
                // Secrets Manager entry depends on the logins)
                let delivered = scenario.delivered(runs[0]);
                assert.deepStrictEqual([...delivered.keys()].sort(), ["billing", "storefront"]);
                assert.deepStrictEqual([...delivered.values()].map((c) => c.username).sort(), ["acme_billing_a", "acme_storefront_a"]);
                const connectAs = async (c: Credentials) => {
                    const client = await srv.connect({ user: c.username, password: c.password, database: c.database, ssl: { ca: certs.ca.certPem, servername: "localhost" } });
                    try {
                        return (await client.query("SELECT current_user, session_user")).rows[0] as { current_user: string; session_user: string };
                    } finally {
                        await client.end();
                    }
                };

                // the owner app creates a table through slot a; it belongs to the owner group
                const first = delivered.get("billing")!;
                const billingA = await srv.connect({ user: first.username, password: first.password, database: first.database, ssl: { ca: certs.ca.certPem, servername: "localhost" } });
                await billingA.query("CREATE TABLE orders (id serial PRIMARY KEY, total int)");
                await billingA.end();

                // client loops: re-read the delivered credentials every second, open a TLS connection, query, close
                let running = true;
                const stats = { ok: 0, failures: [] as string[], users: new Set<string>() };
                const loop = async (app: string) => {
                    let creds = delivered.get(app)!;
                    let readAt = Date.now();
                    while (running) {
                        if (Date.now() - readAt >= REREAD_MS) {
                            creds = delivered.get(app)!;
                            readAt = Date.now();
                        }
                        try {
                            const row = await connectAs(creds);
                            stats.ok++;
                            stats.users.add(row.session_user);
                            if (app === "billing") assert.strictEqual(row.current_user, "acme_owner", "owner logins act as the owner group");
                        } catch (err) {
                            stats.failures.push(`${app} as ${creds.username}: ${(err as Error).message}`);
                        }
                        await sleep(25);
                    }
                };
                const loops = ["billing", "billing", "storefront", "storefront"].map(loop);
                // a client that read its credentials once, at t
                const stale = delivered.get("storefront")!;
                const staleResults: string[] = [];
                const tryStale = async () => connectAs(stale).then(() => "ok", (err: Error) => (/password authentication failed/.test(err.message) ? "refused" : `error: ${err.message}`));
                const updates: number[] = [];
                try {
                    await sleep(LOAD_MS);
                    for (let i = 1; i < STEPS.length; i++) {
                        const before = new Map(runs[i - 1].filter((r) => r.type === "postgresql:index/role:Role").map((r) => [r.name, r]));
                        let n = 0;
                        for (const role of runs[i].filter((r) => r.type === "postgresql:index/role:Role")) {
                            const old = before.get(role.name)!;
                            if (JSON.stringify(old.inputs) === JSON.stringify(role.inputs)) continue;
                            await applyRoleUpdate(srv, old.inputs, role.inputs, admin);
                            n++;
                        }
                        updates.push(n);
                        delivered = scenario.delivered(runs[i]);
                        await sleep(LOAD_MS);
                        staleResults.push(await tryStale());
                    }
                } finally {
                    running = false;
                    await Promise.all(loops);
                }
                assert.deepStrictEqual(stats.failures, [], "no connection failed");
                assert.deepStrictEqual(updates, [0, 2, 2, 2], "nothing changes within a period; one login per app at each rotation");
                assert.deepStrictEqual([...stats.users].sort(), ["acme_billing_a", "acme_billing_b", "acme_storefront_a", "acme_storefront_b"], "the clients followed the alternation");
                assert.ok(stats.ok >= 100, `connections opened: ${stats.ok}`);
                assert.deepStrictEqual(staleResults, ["ok", "ok", "refused", "refused"], "within the period and through the grace period (t+every) the stale client works; from t+2·every it is refused");

                // objects stay group-owned: the other slot of the owner app (delivered now) changes the table
                const billing = delivered.get("billing")!;
                assert.strictEqual(billing.username, "acme_billing_b");
                const billingB = await srv.connect({ user: billing.username, password: billing.password, database: billing.database, ssl: { ca: certs.ca.certPem, servername: "localhost" } });
                await billingB.query("ALTER TABLE orders ADD COLUMN note text");
                await billingB.end();
                const owner = await srv.query("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'", [], "acme");
                assert.strictEqual(owner.rows[0].tableowner, "acme_owner");
                const members = await srv.query(`SELECT r.rolname, array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS groups,
                    r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolreplication FROM pg_roles r WHERE r.rolname LIKE 'acme\\_%\\__' ORDER BY 1`);
                assert.deepStrictEqual(members.rows.map((r) => [r.rolname, r.groups, r.rolsuper || r.rolcreaterole || r.rolcreatedb || r.rolbypassrls || r.rolreplication]), [
                    ["acme_billing_a", ["acme_owner"], false],
                    ["acme_billing_b", ["acme_owner"], false],
                    ["acme_storefront_a", ["acme_readwrite"], false],
                    ["acme_storefront_b", ["acme_readwrite"], false],
                ]);
                const passwords = runs.flatMap((r) => [...scenario.delivered(r).values()].map((c) => c.password));
                assert.strictEqual(new Set(passwords).size, 8, "per app four distinct passwords over the five runs (one per period)");
                const log = srv.serverLog();
                assert.match(log, /ALTER ROLE "acme_storefront_b" PASSWORD 'SCRAM-SHA-256\$/, "the statements are in the log");
                for (const p of passwords) assert.ok(!log.includes(p), "no delivered password in the server log");
                console.log(`      PostgreSQL ${version}, ${scenario.name}: ${stats.ok} connections, 0 failed, ${STEPS.length} runs`);
            });
        });
    }
}
