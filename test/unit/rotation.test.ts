/**
 * Scheduled rotation with alternating logins: the schedule as pure functions, the config rules, and the
 * whole program under mocks at successive POSTGRES_ACCESS_NOW values (t, within the period, t+every,
 * t+2·every, t+3·every): which login is delivered, which passwords change, and that a run within a period
 * registers exactly the same inputs.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { RecordedResource, RunResult, runPulumi } from "../../testing/offlineRun";
import { ConfigError, parseStackConfig } from "../../components/config";
import { NOW_VARIABLE } from "../../components/clock";
import { rotationEveryProblem, rotationStatus, rotationAnchorMs } from "../../components/rotation";
import { parseDuration } from "../../components/duration";
import { rotationLoginNames } from "../../components/naming";
import { describeRotation } from "../../tools/plan/planReport";
import { scramParameters, scramSha256Verifier } from "../../components/postgres/scramVerifier";
import { mockOutputs } from "../../testing/mockOutputs";
import { valueOf } from "../../testing/offlineRun";

const T = {
    role: "postgresql:index/role:Role",
    password: "random:index/randomPassword:RandomPassword",
    secret: "kubernetes:core/v1:Secret",
};

const DAY = 86400_000;
const ANCHOR = "2026-01-01T00:00:00Z";

export const rotationConfig = {
    database: { engine: "statefulset", tls: "require" },
    organizations: [
        {
            name: "acme",
            apps: [
                { name: "storefront", rotation: { every: "30d", anchor: ANCHOR } },
                { name: "billing", access: "owner", rotation: { every: "30d", anchor: ANCHOR } },
                { name: "reporting", access: "readonly" },
            ],
        },
        { name: "globex" },
    ],
};

function problemsOf(raw: unknown): string[] {
    try {
        parseStackConfig(raw, "dev");
    } catch (err) {
        if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
        throw err;
    }
    return [];
}

async function runAt(now: string, config: Record<string, unknown> = rotationConfig): Promise<RunResult<unknown>> {
    const before = process.env[NOW_VARIABLE];
    process.env[NOW_VARIABLE] = now;
    try {
        return await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: "dev", config });
    } finally {
        if (before === undefined) delete process.env[NOW_VARIABLE];
        else process.env[NOW_VARIABLE] = before;
    }
}

const iso = (ms: number) => new Date(ms).toISOString();
const deliveredOf = (run: RunResult<unknown>, secretName: string) => run.ofType(T.secret).find((s) => s.inputs.metadata.name === secretName)!.inputs.stringData;
const passwordOf = (run: RunResult<unknown>, name: string) => mockOutputs(T.password, name, run.byName(T.password, name).inputs).result as string;
/** Every custom resource's inputs by type and name. */
const inputsByResource = (resources: RecordedResource[]) => new Map(resources.filter((r) => r.custom).map((r) => [`${r.type}::${r.name}`, r.inputs]));

describe("scheduled rotation", function () {
    this.timeout(120000);

    describe("schedule (pure)", () => {
        it("reads durations in m, h, d, w and bounds them to 6h..366d", () => {
            assert.deepStrictEqual(["90m", "12h", "30d", "2w"].map(parseDuration), [5400, 43200, 2592000, 1209600]);
            for (const bad of ["30", "1.5d", "d", "-1d", "30 d", "0h", "1y"]) assert.strictEqual(parseDuration(bad), undefined, bad);
            assert.match(rotationEveryProblem("359m")!, /shorter than 6h/);
            assert.match(rotationEveryProblem("367d")!, /longer than 366d/);
            assert.strictEqual(rotationEveryProblem("6h"), undefined);
            assert.strictEqual(rotationEveryProblem("360m"), undefined);
        });

        it("alternates the active login by period and keeps each password from the period its login became active", () => {
            const app = { organization: "acme", name: "storefront", rotation: { every: "30d", anchor: ANCHOR } };
            const t0 = Date.parse(ANCHOR) + 10 * DAY;
            const s0 = rotationStatus(app, new Date(t0));
            assert.deepStrictEqual({ ...s0, activeSince: iso(s0.activeSince.getTime()), nextRotation: iso(s0.nextRotation.getTime()), previousValidUntil: iso(s0.previousValidUntil.getTime()) }, {
                period: 0, activeSlot: "a", previousSlot: "b", slotPeriods: { a: 0, b: -1 },
                activeSince: ANCHOR.replace("Z", ".000Z"), nextRotation: iso(Date.parse(ANCHOR) + 30 * DAY), previousValidUntil: iso(Date.parse(ANCHOR) + 30 * DAY),
            });
            const s1 = rotationStatus(app, new Date(t0 + 30 * DAY));
            assert.deepStrictEqual([s1.period, s1.activeSlot, s1.slotPeriods], [1, "b", { a: 0, b: 1 }], "b becomes active with a fresh password; a keeps its password");
            const s2 = rotationStatus(app, new Date(t0 + 60 * DAY));
            assert.deepStrictEqual([s2.period, s2.activeSlot, s2.slotPeriods], [2, "a", { a: 2, b: 1 }], "a becomes active again with a fresh password");
            // the last instant of a period is still in it
            assert.strictEqual(rotationStatus(app, new Date(Date.parse(ANCHOR) + 30 * DAY - 1)).period, 0);
        });

        it("staggers the default anchors of an organization's apps (whole minutes within the period)", () => {
            const anchors = ["web", "api", "worker", "billing"].map((name) => rotationAnchorMs("acme", name, { every: "1d" }));
            assert.strictEqual(new Set(anchors).size, anchors.length);
            for (const a of anchors) assert.ok(a >= 0 && a < DAY && a % 60_000 === 0, String(a));
            assert.strictEqual(rotationAnchorMs("acme", "web", { every: "1d" }), anchors[0], "deterministic");
        });

        it("renders the plan's lines from the status", () => {
            const status = rotationStatus({ organization: "acme", name: "storefront", rotation: { every: "30d", anchor: ANCHOR } }, new Date(Date.parse(ANCHOR) + 31 * DAY));
            assert.deepStrictEqual(describeRotation("30d", { a: "acme_storefront_a", b: "acme_storefront_b" }, status).map((l) => l.trim()), [
                "rotation:     every 30d, period 1: login acme_storefront_b delivered since 2026-01-31T00:00:00Z",
                "next rotation due 2026-03-02T00:00:00Z (first run after it: acme_storefront_a gets a fresh password and is delivered)",
                "previous login acme_storefront_a stays valid until 2026-03-02T00:00:00Z (grace period)",
            ]);
        });
    });

    describe("config", () => {
        const withApps = (apps: unknown[], database: Record<string, unknown> = { engine: "statefulset" }, extra: Record<string, unknown> = {}) =>
            ({ database, organizations: [{ name: "acme", apps }], ...extra });

        it("accepts rotation for kubernetes and secretsmanager apps", () => {
            const config = parseStackConfig(withApps([{ name: "web", rotation: { every: "30d" } }]), "dev");
            assert.deepStrictEqual(config.organizations[0].apps[0].rotation, { every: "30d" });
        });

        it("reports bad periods, anchors, fields and credentials with their paths, all at once", () => {
            const problems = problemsOf(withApps([
                { name: "a1", rotation: { every: "30" } },
                { name: "a2", rotation: { every: "10m" } },
                { name: "a3", rotation: { every: "30d", anchor: "yesterday" } },
                { name: "a4", rotation: { every: "30d", grace: "1d" } },
                { name: "a5", rotation: "30d" },
                { name: "a6", credentials: "vault-static", rotation: { every: "30d" } },
                { name: "a7", credentials: "vault-dynamic", rotation: { every: "30d" } },
            ], { engine: "statefulset" }, { vault: { address: "https://vault.example.com", kubernetesNamespace: "vault" } }));
            const at = (path: string) => problems.filter((p) => p.startsWith(`${path}:`));
            assert.match(at("organizations[0].apps[0].rotation.every")[0], /expected a duration such as "30d"/);
            assert.match(at("organizations[0].apps[1].rotation.every")[0], /shorter than 6h/);
            assert.match(at("organizations[0].apps[2].rotation.anchor")[0], /RFC 3339/);
            assert.match(at("organizations[0].apps[3].rotation")[0], /unknown field "grace"/);
            assert.match(at("organizations[0].apps[4].rotation")[0], /expected an object such as \{every: 30d\}/);
            assert.match(at("organizations[0].apps[5].rotation")[0], /only applies to credentials "kubernetes" or "secretsmanager"; with "vault-static" Vault rotates/);
            assert.match(at("organizations[0].apps[6].rotation")[0], /only applies to credentials "kubernetes" or "secretsmanager"/);
        });

        it("refuses rotation under mtls, where the login has no password", () => {
            const problems = problemsOf(withApps([{ name: "web", rotation: { every: "30d" } }], { engine: "statefulset", tls: "mtls", spiffe: { trustDomain: "example.org" } }));
            assert.deepStrictEqual(problems.filter((p) => p.includes("rotation")), ["organizations[0].apps[0].rotation: does not apply with database.tls \"mtls\": the login has no password (its SPIFFE certificate, which SPIRE rotates, is its credential)"]);
        });

        it("keeps the alternating logins unambiguous against other apps' logins", () => {
            // app "web" rotating derives acme_web_a / acme_web_b; app "web-a" derives the login acme_web_a
            const problems = problemsOf(withApps([{ name: "web", rotation: { every: "30d" } }, { name: "web-a" }]));
            assert.deepStrictEqual(problems, ["organizations[0].apps[1].name: derives the PostgreSQL role \"acme_web_a\", which is already the rotating login a used by app \"web\" of organization \"acme\"; rename one of them"]);
            assert.deepStrictEqual(problemsOf(withApps([{ name: "web-a" }, { name: "web", rotation: { every: "30d" } }])).length, 1, "reported in either order");
            assert.deepStrictEqual(problemsOf(withApps([{ name: "web" }, { name: "web-a" }])), [], "without rotation nothing changes");
        });

        it("fits long names into 63 bytes, distinct per slot", () => {
            const org = "o".repeat(40);
            const app = "a".repeat(40);
            const names = rotationLoginNames(org, app);
            assert.ok(Buffer.byteLength(names.a) <= 63 && Buffer.byteLength(names.b) <= 63);
            assert.notStrictEqual(names.a, names.b);
            assert.deepStrictEqual(problemsOf({ database: { engine: "statefulset" }, organizations: [{ name: org, apps: [{ name: app, rotation: { every: "1d" } }] }] }), []);
        });
    });

    describe("the program at t, within the period, t+every, t+2·every, t+3·every", () => {
        const t0 = Date.parse(ANCHOR) + 3 * DAY + 3600_000;
        const times = { t0: iso(t0), t0Later: iso(t0 + 20 * DAY), t1: iso(t0 + 30 * DAY), t2: iso(t0 + 60 * DAY), t3: iso(t0 + 90 * DAY) };
        const runs: Record<string, RunResult<unknown>> = {};
        before(async () => {
            for (const [key, now] of Object.entries(times)) runs[key] = await runAt(now);
        });

        it("delivers the alternating logins: a, a, b, a, b", () => {
            for (const secret of ["storefront-database", "billing-database"]) {
                const logins = ["t0", "t0Later", "t1", "t2", "t3"].map((k) => deliveredOf(runs[k], secret).username);
                const app = secret.split("-")[0];
                assert.deepStrictEqual(logins, [`acme_${app}_a`, `acme_${app}_a`, `acme_${app}_b`, `acme_${app}_a`, `acme_${app}_b`], secret);
            }
        });

        it("exports (stack output and PostgresAccess output) the delivered login and its password, not the unused base name", async () => {
            for (const [k, slot] of [["t0", "a"], ["t1", "b"]] as const) {
                process.env[NOW_VARIABLE] = times[k];
                try {
                    const run = await runPulumi(() => {
                        // eslint-disable-next-line @typescript-eslint/no-require-imports
                        const program = require("../../stacks/program") as typeof import("../../stacks/program");
                        const outputs = program.createStack();
                        return { exports: program.stackExports(outputs), access: outputs.access };
                    }, { stack: "dev", config: rotationConfig });
                    const exported = (await valueOf(run.result.exports.organizations as any)) as any;
                    const storefront = exported.acme.apps.storefront;
                    assert.strictEqual(storefront.username, `acme_storefront_${slot}`, k);
                    assert.strictEqual(storefront.password, passwordOf(run, `acme-storefront-login-${slot}-password`), k);
                    const component = (await valueOf(run.result.access!.organizations)) as any;
                    assert.strictEqual(component.acme.apps.storefront.username, `acme_storefront_${slot}`, k);
                    assert.strictEqual(component.acme.apps.storefront.password, undefined, "no password in the component's organizations output");
                } finally {
                    delete process.env[NOW_VARIABLE];
                }
            }
        });

        it("delivers the active login's own password, in the fields and DATABASE_URL", () => {
            for (const k of ["t0", "t1", "t2"]) {
                const d = deliveredOf(runs[k], "storefront-database");
                const slot = d.username.slice(-1);
                assert.strictEqual(d.password, passwordOf(runs[k], `acme-storefront-login-${slot}-password`));
                const url = new URL(d.DATABASE_URL);
                assert.deepStrictEqual([decodeURIComponent(url.username), decodeURIComponent(url.password)], [d.username, d.password]);
            }
        });

        it("changes a login's password only when it becomes active again; the previous one keeps its password through the grace period", () => {
            const pw = (k: string, slot: string) => passwordOf(runs[k], `acme-storefront-login-${slot}-password`);
            assert.strictEqual(pw("t1", "a"), pw("t0", "a"), "a (delivered at t0) keeps its password at t+every");
            assert.notStrictEqual(pw("t1", "b"), pw("t0", "b"), "b gets a fresh password when it becomes active");
            assert.strictEqual(pw("t2", "b"), pw("t1", "b"), "b (delivered at t+every) keeps its password at t+2·every");
            assert.notStrictEqual(pw("t2", "a"), pw("t1", "a"), "a gets a fresh password at t+2·every");
            assert.strictEqual(pw("t3", "a"), pw("t2", "a"));
            assert.notStrictEqual(pw("t3", "b"), pw("t2", "b"));
            assert.strictEqual(new Set(["t0", "t1", "t2", "t3"].map((k) => deliveredOf(runs[k], "storefront-database").password)).size, 4, "every period delivers a new password");
        });

        it("after a whole period without any run, renews the still-delivered login's password (docs/delivery.md: missed runs)", () => {
            // runs at t and t+2·every only: login a was delivered at t and is again, with a new password
            assert.strictEqual(deliveredOf(runs.t2, "storefront-database").username, deliveredOf(runs.t0, "storefront-database").username);
            assert.notStrictEqual(deliveredOf(runs.t2, "storefront-database").password, deliveredOf(runs.t0, "storefront-database").password);
        });

        it("sends the server only SCRAM verifiers of the passwords, one per login", () => {
            for (const k of ["t0", "t1"]) {
                for (const slot of ["a", "b"]) {
                    const role = runs[k].byName(T.role, `acme-storefront-login-${slot}-role`);
                    const params = scramParameters(role.inputs.password)!;
                    assert.ok(params, "a SCRAM-SHA-256 verifier");
                    assert.strictEqual(role.inputs.password, scramSha256Verifier(passwordOf(runs[k], `acme-storefront-login-${slot}-password`), params.salt));
                    assert.ok(role.secretPaths.includes("password"));
                }
            }
        });

        it("makes both logins members of exactly the app's group; owner logins act as the owner group", () => {
            const run = runs.t0;
            for (const slot of ["a", "b"]) {
                const storefront = run.byName(T.role, `acme-storefront-login-${slot}-role`).inputs;
                assert.deepStrictEqual([storefront.name, storefront.roles, storefront.assumeRole, storefront.login, storefront.superuser, storefront.createRole, storefront.createDatabase, storefront.replication, storefront.bypassRowLevelSecurity],
                    [`acme_storefront_${slot}`, ["acme_readwrite"], undefined, true, false, false, false, false, false]);
                const billing = run.byName(T.role, `acme-billing-login-${slot}-role`).inputs;
                assert.deepStrictEqual([billing.roles, billing.assumeRole], [["acme_owner"], "acme_owner"]);
            }
            assert.ok(!run.ofType(T.role).some((r) => r.inputs.name === "acme_storefront"), "no single login beside the alternating ones");
        });

        it("registers exactly the same inputs for every resource on a run within a period (no diff)", () => {
            assert.deepStrictEqual(inputsByResource(runs.t0Later.resources), inputsByResource(runs.t0.resources));
        });

        it("between periods changes only the newly active login, its salt and verifier, and the delivered Secret", () => {
            const before = inputsByResource(runs.t0.resources);
            const after = inputsByResource(runs.t1.resources);
            assert.deepStrictEqual([...after.keys()].sort(), [...before.keys()].sort(), "no resource added or removed");
            const changed = [...after.keys()].filter((k) => JSON.stringify(after.get(k)) !== JSON.stringify(before.get(k))).sort();
            assert.deepStrictEqual(changed, [
                "kubernetes:core/v1:Secret::acme-billing-secret",
                "kubernetes:core/v1:Secret::acme-storefront-secret",
                "postgresql:index/role:Role::acme-billing-login-b-role",
                "postgresql:index/role:Role::acme-storefront-login-b-role",
                "random:index/randomBytes:RandomBytes::acme-billing-login-b-scram-salt",
                "random:index/randomBytes:RandomBytes::acme-storefront-login-b-scram-salt",
                "random:index/randomPassword:RandomPassword::acme-billing-login-b-password",
                "random:index/randomPassword:RandomPassword::acme-storefront-login-b-password",
            ]);
        });

        it("leaves apps without rotation exactly as they were: one login, no keepers, no annotations", async () => {
            const plain = { ...rotationConfig, organizations: rotationConfig.organizations.map((o) => ({ ...o, apps: o.apps?.map(({ rotation: _r, ...a }) => a) })) };
            const [a, b] = [await runAt(times.t0, plain), await runAt(times.t3, plain)];
            assert.deepStrictEqual(inputsByResource(b.resources), inputsByResource(a.resources), "time does not matter without rotation");
            assert.ok(a.ofType(T.password).every((r) => r.inputs.keepers === undefined));
            assert.ok(a.ofType(T.secret).every((s) => s.inputs.metadata.annotations === undefined));
            const reporting = (r: RunResult<unknown>) => r.resources.filter((x) => x.name.includes("reporting") || x.name.startsWith("globex"));
            assert.deepStrictEqual(inputsByResource(reporting(runs.t0)), inputsByResource(reporting(a)), "the other apps of a stack with rotating apps are untouched");
        });

        it("runs in preview mode (passwords unknown) too", async () => {
            const saved = process.env[NOW_VARIABLE];
            process.env[NOW_VARIABLE] = times.t1;
            try {
                const run = await runPulumi(() => {
                    // eslint-disable-next-line @typescript-eslint/no-require-imports
                    const program = require("../../stacks/program") as typeof import("../../stacks/program");
                    return program.createStack();
                }, { stack: "dev", config: rotationConfig, preview: true });
                assert.deepStrictEqual(run.ofType(T.role).filter((r) => /login-[ab]-role$/.test(r.name)).map((r) => r.inputs.name).sort(), ["acme_billing_a", "acme_billing_b", "acme_storefront_a", "acme_storefront_b"]);
            } finally {
                if (saved === undefined) delete process.env[NOW_VARIABLE];
                else process.env[NOW_VARIABLE] = saved;
            }
        });

        it("registers the logins through RotatingAppLogin, an exported component of the package", async () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const pkg = require("../../components") as Record<string, unknown>;
            assert.strictEqual(typeof pkg.RotatingAppLogin, "function");
            assert.strictEqual(typeof pkg.rotationStatus, "function");
            const components = runs.t0.resources.filter((r) => r.type === "postgres-access:index:RotatingAppLogin").map((r) => r.name).sort();
            assert.deepStrictEqual(components, ["acme-billing-login", "acme-storefront-login"]);
        });

        it("annotates a rotating app's Secret for Stakater Reloader", () => {
            const secret = runs.t0.ofType(T.secret).find((s) => s.inputs.metadata.name === "storefront-database")!;
            assert.deepStrictEqual(secret.inputs.metadata.annotations, { "reloader.stakater.com/match": "true" });
        });
    });

    describe("offline plan", () => {
        it("shows per app which login is delivered, when the next rotation is due and until when the previous stays valid", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotation-plan-"));
            try {
                fs.writeFileSync(path.join(dir, "Pulumi.rot.yaml"), [
                    "config:",
                    "  postgres-access:database:",
                    "    engine: statefulset",
                    "  postgres-access:organizations:",
                    "    - name: acme",
                    "      apps:",
                    `        - { name: storefront, rotation: { every: 30d, anchor: "${ANCHOR}" } }`,
                    "        - { name: reporting, access: readonly }",
                    "",
                ].join("\n"));
                const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/plan/plan.ts", "rot", "--dir", dir], {
                    cwd: path.resolve(__dirname, "../.."), encoding: "utf8", timeout: 120000, env: { ...process.env, [NOW_VARIABLE]: "2026-02-15T08:00:00Z" },
                });
                assert.strictEqual(r.status, 0, r.stderr);
                const storefront = r.stdout.slice(r.stdout.indexOf("  app storefront:")).split(/\n(?=  app )/)[0];
                assert.match(storefront, /^    login: +acme_storefront_b \(LOGIN, member of acme_readwrite, connection limit 20\)$/m);
                assert.match(storefront, /^    rotation: +every 30d, period 1: login acme_storefront_b delivered since 2026-01-31T00:00:00Z$/m);
                assert.match(storefront, /next rotation due 2026-03-02T00:00:00Z \(first run after it: acme_storefront_a gets a fresh password and is delivered\)/);
                assert.match(storefront, /previous login acme_storefront_a stays valid until 2026-03-02T00:00:00Z \(grace period\)/);
                const reporting = r.stdout.slice(r.stdout.indexOf("  app reporting:")).split(/\n(?=  app |\n)/)[0];
                assert.doesNotMatch(reporting, /rotation:/);
                // --json: the same schedule as data, for the rotating app only
                const j = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/plan/plan.ts", "rot", "--dir", dir, "--json"], {
                    cwd: path.resolve(__dirname, "../.."), encoding: "utf8", timeout: 120000, env: { ...process.env, [NOW_VARIABLE]: "2026-02-15T08:00:00Z" },
                });
                assert.strictEqual(j.status, 0, j.stderr);
                assert.deepStrictEqual(JSON.parse(j.stdout).rotation, {
                    "acme/storefront": {
                        every: "30d", period: 1, activeLogin: "acme_storefront_b", activeSince: "2026-01-31T00:00:00Z",
                        nextRotation: "2026-03-02T00:00:00Z", previousLogin: "acme_storefront_a", previousValidUntil: "2026-03-02T00:00:00Z",
                    },
                });
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });
});
