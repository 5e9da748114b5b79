/**
 * Access requests under mocks: the state decision, the config checks (each naming its field), and the same
 * config evaluated at different POSTGRES_ACCESS_NOW values, which issues access exactly while a request is
 * approved and unexpired and registers nothing for pending, denied and expired requests.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { runPulumi, RecordedResource, valueOf } from "../../testing/offlineRun";
import { ConfigError, parseStackConfig } from "../../components/config";
import { NOW_VARIABLE } from "../../components/clock";
import { accessRequestState, formatDuration, postgresValidUntil, requestLeaseTtls } from "../../components/accessRequests";
import { parseDuration } from "../../components/duration";
import { describeAccessRequests } from "../../stacks/accessRequestPlan";
import { assertKubernetesValid } from "./helpers";

const T0 = "2026-12-20T12:00:00Z";
const EXPIRES = "2026-12-24T18:00:00Z";

const incident = { name: "incident-4711", serviceAccount: "oncall", access: "readonly", credentials: "kubernetes", expires: EXPIRES, reason: "INC-4711: investigate stuck orders", approvedBy: ["alice@example.com"] };
const baseConfig = {
    database: { engine: "statefulset", tls: "require" },
    organizations: [
        {
            name: "acme",
            apps: [{ name: "billing", access: "owner" }],
            accessRequests: [
                incident,
                { name: "backfill", serviceAccount: "billing", access: "readwrite", credentials: "kubernetes", expires: EXPIRES, approvedBy: [] },
                { name: "rejected", serviceAccount: "oncall", access: "readonly", credentials: "kubernetes", expires: EXPIRES, approvedBy: ["alice@example.com"], deniedBy: ["bob@example.com"] },
                { name: "old", serviceAccount: "oncall", access: "readonly", credentials: "kubernetes", expires: "2026-12-19T00:00:00Z", approvedBy: ["alice@example.com"] },
            ],
        },
        { name: "globex" },
    ],
};

/** Runs `fn` (sync or async) with POSTGRES_ACCESS_NOW set to `now`. */
function at<T>(now: string, fn: () => T): T {
    const before = process.env[NOW_VARIABLE];
    const restore = () => {
        if (before === undefined) delete process.env[NOW_VARIABLE];
        else process.env[NOW_VARIABLE] = before;
    };
    process.env[NOW_VARIABLE] = now;
    let result: T;
    try {
        result = fn();
    } catch (err) {
        restore();
        throw err;
    }
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
}

function runStack(config: Record<string, unknown>, now: string, stack = "dev") {
    return at(now, () => runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.createStack();
    }, { stack, config }));
}

function problemsOf(config: unknown, now = T0): { path: string; message: string }[] {
    try {
        at(now, () => parseStackConfig(config, "dev"));
    } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
    }
    return [];
}

function withRequest(request: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return { ...baseConfig, ...extra, organizations: [{ name: "acme", apps: [{ name: "billing" }], accessRequests: [{ ...incident, ...request }] }, { name: "globex" }] };
}

const requestResources = (resources: RecordedResource[]) => resources.filter((r) => r.name.includes("-request-"));

describe("access requests: state", () => {
    const policy = { requiredApprovals: 2, maxDurationSeconds: 3600 };
    const now = new Date(T0);
    it("is denied if anyone denied, expired once expires is not in the future, approved with enough distinct approvers, else pending", () => {
        const r = (approvedBy: string[], deniedBy: string[] = [], expires = EXPIRES) => accessRequestState({ expires, approvedBy, deniedBy }, policy, now);
        assert.strictEqual(r(["a", "b"]), "approved");
        assert.strictEqual(r(["a", "A "]), "pending", "the same approver twice counts once");
        assert.strictEqual(r(["a"]), "pending");
        assert.strictEqual(r(["a", "b"], ["c"]), "denied");
        assert.strictEqual(r(["a", "b"], ["c"], "2020-01-01T00:00:00Z"), "denied", "a denial wins over everything");
        assert.strictEqual(r(["a", "b"], [], T0), "expired", "expires == now is expired");
        assert.strictEqual(r([], [], "2020-01-01T00:00:00Z"), "expired");
    });
    it("parses durations and caps Vault lease TTLs at the expiry", () => {
        assert.strictEqual(parseDuration("168h"), 604800);
        assert.strictEqual(parseDuration("1h30m"), 5400);
        assert.strictEqual(parseDuration("7"), undefined);
        assert.strictEqual(parseDuration("0h"), undefined);
        assert.strictEqual(formatDuration(4 * 86400 + 6 * 3600 + 5), "4d 6h");
        assert.deepStrictEqual(requestLeaseTtls("2026-12-20T12:30:00Z", now, 86400), { defaultTtl: 1800, maxTtl: 1800 });
        assert.deepStrictEqual(requestLeaseTtls(EXPIRES, now, 86400), { defaultTtl: 86400, maxTtl: 86400 });
        assert.strictEqual(postgresValidUntil("2026-12-24T19:00:00+01:00"), "2026-12-24 18:00:00+00");
        assert.strictEqual(postgresValidUntil("2026-12-24T18:00:00.250Z"), "2026-12-24 18:00:00.25+00");
    });
});

describe("access requests: config", () => {
    it("accepts the issue's example and applies the policy defaults", () => {
        const config = at(T0, () => parseStackConfig(baseConfig, "dev"));
        assert.deepStrictEqual(config.accessPolicy, { requiredApprovals: 1, maxDurationSeconds: 168 * 3600 });
        assert.deepStrictEqual(config.organizations[0].accessRequests![0], { ...incident, deniedBy: [] });
        assert.deepStrictEqual(config.organizations[1].accessRequests, []);
    });

    it("rejects another organization's ServiceAccount, a namespace-qualified name and the namespace's default account", () => {
        for (const [sa, pattern] of [
            ["system:serviceaccount:globex:globex", /namespace "globex" \(organization "globex"\); a request may only name a ServiceAccount of its own organization's namespace "acme"/],
            ["globex/reader", /namespace "globex" \(organization "globex"\)/],
            ["system:serviceaccount:acme:oncall", /bare name \("oncall"\)/],
            ["default", /every pod's ServiceAccount/],
            ["On Call", /bare name of a ServiceAccount/],
        ] as const) {
            const problems = problemsOf(withRequest({ serviceAccount: sa }));
            assert.ok(problems.some((p) => p.path === "organizations[0].accessRequests[0].serviceAccount" && pattern.test(p.message)), `${sa}: ${JSON.stringify(problems)}`);
        }
    });

    it("rejects owner access, a missing or malformed expiry, and an approved request longer than maxDuration", () => {
        const field = (problems: { path: string; message: string }[], path: string) => problems.find((p) => p.path === `organizations[0].accessRequests[0].${path}`)?.message;
        assert.match(field(problemsOf(withRequest({ access: "owner" })), "access") ?? "", /expected one of "readonly" \| "readwrite" \(never "owner"/);
        const { expires: _, ...noExpiry } = incident;
        assert.match(field(problemsOf({ ...baseConfig, organizations: [{ name: "acme", accessRequests: [noExpiry] }] }), "expires") ?? "", /is required \(expected an RFC 3339 date-time/);
        assert.match(field(problemsOf(withRequest({ expires: "2026-12-24 18:00" })), "expires") ?? "", /RFC 3339/);
        // 8 days from now with the default 168h
        assert.match(field(problemsOf(withRequest({ expires: "2026-12-28T12:00:01Z" })), "expires") ?? "", /8d .* at most accessPolicy.maxDuration \(7d\)/);
        assert.match(field(problemsOf(withRequest({ expires: EXPIRES }, { accessPolicy: { maxDuration: "24h" } })), "expires") ?? "", /at most accessPolicy.maxDuration \(1d\)/);
        // the same span is no problem while the request is only pending (nothing is issued) or already denied
        assert.deepStrictEqual(problemsOf(withRequest({ expires: "2026-12-28T12:00:01Z", approvedBy: [] })), []);
        assert.deepStrictEqual(problemsOf(withRequest({ expires: "2026-12-28T12:00:01Z", deniedBy: ["bob"] })), []);
        assert.match(problemsOf(withRequest({}, { accessPolicy: { maxDuration: "a week" } }))[0].message, /expected a duration/);
    });

    it("rejects a requester approving its own request, in any spelling of its ServiceAccount", () => {
        for (const self of ["oncall", "system:serviceaccount:acme:oncall", "acme/oncall", "System:ServiceAccount:acme:oncall"]) {
            const problems = problemsOf(withRequest({ approvedBy: ["alice@example.com", self] }));
            assert.deepStrictEqual(problems.map((p) => p.path), ["organizations[0].accessRequests[0].approvedBy[1]"], self);
            assert.match(problems[0].message, /requester's own ServiceAccount/);
        }
        // with two approvals required, the self-approval does not count either: it is an error, never an approval
        assert.ok(problemsOf(withRequest({ approvedBy: ["alice@example.com", "oncall"] }, { accessPolicy: { requiredApprovals: 2 } })).length > 0);
    });

    it("rejects backends that are not configured, duplicates and names that collide with an app's", () => {
        const paths = (config: unknown) => problemsOf(config).map((p) => `${p.path}: ${p.message}`);
        assert.match(paths(withRequest({ credentials: "secretsmanager" })).join("\n"), /accessRequests\[0\]\.credentials: "secretsmanager" needs the postgres-access:aws config/);
        assert.match(paths(withRequest({ credentials: "vault-dynamic" })).join("\n"), /accessRequests\[0\]\.credentials: "vault-dynamic" needs the postgres-access:vault config/);
        const duplicate = { ...baseConfig, organizations: [{ name: "acme", accessRequests: [incident, incident] }] };
        assert.match(paths(duplicate).join("\n"), /accessRequests\[1\]\.name: duplicate access request "incident-4711"/);
        const collision = { ...baseConfig, organizations: [{ name: "acme", apps: [{ name: "request-incident-4711" }], accessRequests: [incident] }] };
        assert.match(paths(collision).join("\n"), /accessRequests\[0\]\.name: derives the PostgreSQL role "acme_request_incident_4711", which is already the login used by app "request-incident-4711"/);
    });

    it("fails the program before any resource is registered", async () => {
        await assert.rejects(runStack(withRequest({ access: "owner", serviceAccount: "globex/x" }), T0), (err: Error) => {
            assert.ok(err instanceof ConfigError, String(err));
            assert.deepStrictEqual(err.problems.map((p) => p.path).sort(), ["organizations[0].accessRequests[0].access", "organizations[0].accessRequests[0].serviceAccount"]);
            return true;
        });
    });
});

describe("access requests: the same config at different times", function () {
    this.timeout(60000);
    const loginOf = (resources: RecordedResource[], name: string) => resources.find((r) => r.type === "postgresql:index/role:Role" && r.inputs.name === name);

    it("issues the approved request's login, VALID UNTIL its expiry, in exactly the requested group, while it is unexpired", async () => {
        for (const now of [T0, "2026-12-24T17:59:59Z"]) {
            const run = await runStack(baseConfig, now);
            const login = loginOf(run.resources, "acme_request_incident_4711");
            assert.ok(login, `issued at ${now}`);
            assert.strictEqual(login.inputs.validUntil, "2026-12-24 18:00:00+00", "as PostgreSQL prints it back (no diff on the next run)");
            assert.deepStrictEqual(login.inputs.roles, ["acme_readonly"]);
            assert.deepStrictEqual([login.inputs.login, login.inputs.superuser, login.inputs.createRole, login.inputs.createDatabase, login.inputs.replication, login.inputs.bypassRowLevelSecurity, login.inputs.assumeRole], [true, false, false, false, false, false, undefined]);
            assert.match(login.inputs.password, /^SCRAM-SHA-256\$4096:/, "the password travels as its verifier");
            assert.ok(login.secretPaths.includes("password"));
            const secret = run.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata.name === "request-incident-4711-database")!;
            assert.strictEqual(secret.inputs.metadata.namespace, "acme");
            assert.strictEqual(secret.inputs.stringData.username, "acme_request_incident_4711");
            assert.ok(secret.secretPaths.some((p) => p.startsWith("stringData")));
            const binding = run.resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")!;
            assert.deepStrictEqual(binding.inputs.subjects, [{ kind: "ServiceAccount", name: "oncall", namespace: "acme" }]);
            // pending, denied and expired requests register nothing at all
            assert.deepStrictEqual([...new Set(requestResources(run.resources).map((r) => r.name.replace(/^acme-request-(incident-4711|backfill|rejected|old)(-.*)?$/, "$1")))], ["incident-4711"]);
            assert.deepStrictEqual([...await assertKubernetesValid(requestResources(run.resources))].sort(), ["Role", "RoleBinding", "Secret"]);
            // the requester's ServiceAccount exists (it is no app's); billing's is the app's own
            const accounts = run.ofType("kubernetes:core/v1:ServiceAccount").filter((s) => s.inputs.metadata.namespace === "acme").map((s) => s.inputs.metadata.name).sort();
            assert.deepStrictEqual(accounts, ["billing", "oncall"]);
        }
    });

    it("exports where the approved request's credentials are and until when, never its password", async () => {
        const run = await at(T0, () => runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.stackExports(program.createStack());
        }, { stack: "dev", config: baseConfig }));
        const exported = await valueOf((run.result as any).organizations.acme.accessRequests["incident-4711"].delivered);
        assert.deepStrictEqual(exported, { secret: "request-incident-4711-database" });
        const entry = (run.result as any).organizations.acme.accessRequests["incident-4711"];
        assert.deepStrictEqual([entry.username, entry.expires, entry.password], ["acme_request_incident_4711", EXPIRES, undefined]);
        assert.deepStrictEqual(Object.keys((run.result as any).organizations.acme.accessRequests), ["incident-4711"]);
    });

    it("registers the same in preview (pulumi preview of the pull request)", async () => {
        const up = await runStack(baseConfig, T0);
        const preview = await at(T0, () => runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: "dev", config: baseConfig, preview: true }));
        assert.deepStrictEqual(requestResources(preview.resources).map((r) => `${r.type} ${r.name}`).sort(), requestResources(up.resources).map((r) => `${r.type} ${r.name}`).sort());
    });

    it("registers nothing for it once it has expired, and nothing before it is approved", async () => {
        const expired = await runStack(baseConfig, EXPIRES);
        assert.deepStrictEqual(requestResources(expired.resources).map((r) => r.name), []);
        assert.strictEqual(loginOf(expired.resources, "acme_request_incident_4711"), undefined);
        const pending = await runStack(withRequest({ approvedBy: [] }), T0);
        assert.deepStrictEqual(requestResources(pending.resources).map((r) => r.name), []);
        const twoNeeded = await runStack(withRequest({}, { accessPolicy: { requiredApprovals: 2 } }), T0);
        assert.deepStrictEqual(requestResources(twoNeeded.resources).map((r) => r.name), [], "one approval of two required");
        const twoGiven = await runStack(withRequest({ approvedBy: ["alice@example.com", "carol@example.com"] }, { accessPolicy: { requiredApprovals: 2 } }), T0);
        assert.ok(loginOf(twoGiven.resources, "acme_request_incident_4711"));
    });

    it("lists every request in the plan with its state, approvers, time left and grant", () => {
        const config = at(T0, () => parseStackConfig(baseConfig, "dev"));
        const lines = describeAccessRequests(config, new Date(T0));
        assert.deepStrictEqual(lines.map((l) => [l.organization, l.name, l.state, l.timeLeft]), [
            ["acme", "incident-4711", "approved", "4d 6h"],
            ["acme", "backfill", "pending", "4d 6h"],
            ["acme", "rejected", "denied", "4d 6h"],
            ["acme", "old", "expired", "-"],
        ]);
        assert.deepStrictEqual(lines[0].approvedBy, ["alice@example.com"]);
        assert.strictEqual(lines[0].grants, "login acme_request_incident_4711 (member of acme_readonly, VALID UNTIL 2026-12-24T18:00:00Z), credentials kubernetes: Secret acme/request-incident-4711-database for ServiceAccount oncall");
        assert.strictEqual(lines[1].grants, "nothing until 1 approval (has 0)");
        assert.strictEqual(lines[2].grants, "nothing (denied by bob@example.com)");
    });
});

describe("access requests: the offline plan's --now", function () {
    this.timeout(120000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-access-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const plan = (...args: string[]) => spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/plan/plan.ts", ...args], { cwd: path.resolve(__dirname, "../.."), encoding: "utf8", timeout: 120000, env: { ...process.env, [NOW_VARIABLE]: "" } });

    it("plans as of the instant --now names", () => {
        // JSON is YAML
        fs.writeFileSync(path.join(dir, "Pulumi.requests.yaml"), JSON.stringify({ config: Object.fromEntries(Object.entries(baseConfig).map(([k, v]) => [`postgres-access:${k}`, v])) }));
        const before = plan("requests", "--dir", dir, "--now", T0);
        assert.strictEqual(before.status, 0, before.stderr);
        assert.ok(before.stdout.includes(`Access requests at 2026-12-20T12:00:00.000Z (POSTGRES_ACCESS_NOW / --now):
  acme/incident-4711: approved, readonly for ServiceAccount oncall, expires 2026-12-24T18:00:00Z (4d 6h left)
    reason:   INC-4711: investigate stuck orders
    approved: alice@example.com
    grants:   login acme_request_incident_4711 (member of acme_readonly, VALID UNTIL 2026-12-24T18:00:00Z), credentials kubernetes: Secret acme/request-incident-4711-database for ServiceAccount oncall`), before.stdout);
        assert.match(before.stdout, /acme\/rejected: denied, .*\n    approved: alice@example.com; denied: bob@example.com\n    grants:   nothing \(denied by bob@example.com\)/);
        const after = plan("requests", "--dir", dir, "--now", EXPIRES);
        assert.strictEqual(after.status, 0, after.stderr);
        assert.match(after.stdout, /acme\/incident-4711: expired, .*\(past\)\n(.*\n){2}    grants:   nothing \(expired; anything issued earlier is removed by this run\)/);
        const roles = (out: string) => Number(/(\d+)  postgresql:index\/role:Role/.exec(out)?.[1]);
        assert.strictEqual(roles(before.stdout) - roles(after.stdout), 1, "the approved request's login is planned only before the expiry");
        // --json carries every request with its state, approvers, time left and grants
        const json = plan("requests", "--dir", dir, "--now", T0, "--json");
        assert.strictEqual(json.status, 0, json.stderr);
        const entries: any[] = JSON.parse(json.stdout).accessRequests;
        const byName = Object.fromEntries(entries.map((e) => [`${e.organization}/${e.name}`, e]));
        assert.strictEqual(byName["acme/incident-4711"].state, "approved");
        assert.strictEqual(byName["acme/incident-4711"].timeLeft, "4d 6h");
        assert.deepStrictEqual(byName["acme/incident-4711"].approvedBy, ["alice@example.com"]);
        assert.strictEqual(byName["acme/rejected"].state, "denied");
        const jsonLater = JSON.parse(plan("requests", "--dir", dir, "--now", EXPIRES, "--json").stdout).accessRequests;
        assert.strictEqual(jsonLater.find((e: any) => e.name === "incident-4711").state, "expired");
        const bad = plan("requests", "--dir", dir, "--now", "tomorrow");
        assert.strictEqual(bad.status, 2);
        assert.match(bad.stderr, /--now: expected an RFC 3339 date-time/);
    });
});

describe("access requests: vault-dynamic under mocks", function () {
    this.timeout(60000);
    it("registers a dynamic role capped at the expiry, readable only by the requester's ServiceAccount", async () => {
        const config = withRequest({ credentials: "vault-dynamic", access: "readwrite", serviceAccount: "data-team", expires: "2026-12-20T14:30:00Z" }, { vault: { address: "https://vault.example.com:8200", kubernetesNamespace: "vault", maxTtl: 3600 } });
        const run = await runStack(config, T0);
        const role = run.ofType("vault:database/secretBackendRole:SecretBackendRole").find((r) => r.inputs.name === "acme_dev_request_incident-4711")!;
        assert.deepStrictEqual([role.inputs.defaultTtl, role.inputs.maxTtl], [3600, 3600], "vault.maxTtl while the expiry is further away");
        assert.strictEqual(role.inputs.dbName, "acme");
        assert.match(role.inputs.creationStatements[0], /LEAST\('\{\{expiration\}\}'::timestamptz, '2026-12-20T14:30:00Z'::timestamptz\)/);
        assert.match(role.inputs.creationStatements[0], /IN ROLE %I',[\s\S]*'acme_readwrite'\);/);
        assert.deepStrictEqual(role.inputs.renewStatements, ["SELECT 1"]);
        const auth = run.ofType("vault:kubernetes/authBackendRole:AuthBackendRole").find((r) => r.inputs.roleName === "acme_dev_request_incident-4711")!;
        assert.deepStrictEqual([auth.inputs.boundServiceAccountNames, auth.inputs.boundServiceAccountNamespaces, auth.inputs.audience], [["data-team"], ["acme"], "vault"]);
        const policy = run.ofType("vault:index/policy:Policy").find((r) => r.inputs.name === "acme_dev_request_incident-4711")!;
        assert.match(policy.inputs.policy, /path "database-dev\/creds\/acme_dev_request_incident-4711" \{\n  capabilities = \["read"\]/);
        const connection = run.ofType("vault:database/secretBackendConnection:SecretBackendConnection").find((r) => r.inputs.name === "acme")!;
        assert.deepStrictEqual(connection.inputs.allowedRoles, ["acme_dev_request_incident-4711"]);
        // 40 minutes before the expiry: the TTLs shrink to what is left
        const late = await runStack(config, "2026-12-20T13:50:00Z");
        const lateRole = late.ofType("vault:database/secretBackendRole:SecretBackendRole").find((r) => r.inputs.name === "acme_dev_request_incident-4711")!;
        assert.deepStrictEqual([lateRole.inputs.defaultTtl, lateRole.inputs.maxTtl], [2400, 2400]);
        // expired: no role, and the organization's connection stays (outstanding leases are revoked through it)
        const expired = await runStack(config, "2026-12-20T14:30:00Z");
        assert.strictEqual(expired.ofType("vault:database/secretBackendRole:SecretBackendRole").length, 0);
        assert.strictEqual(expired.ofType("vault:database/secretBackendConnection:SecretBackendConnection").length, 1);
    });
});
