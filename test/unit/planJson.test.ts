/**
 * `npm run plan -- <stack> --json`, run in child processes as a user runs it: byte-identical output for
 * the same config and code, the same in preview wherever preview knows the value, no secret in clear; and
 * the command line itself (`--help`, unknown flags, `--now`).
 */
import * as assert from "assert";
import * as path from "path";
import { spawnSync } from "child_process";
import { PLAN_FORMAT, PlanJson, SECRET_MARK, UNKNOWN_MARK } from "../../tools/plan/planData";
import { readStackFile } from "../../tools/plan/stackFile";
import { parseStackConfig } from "../../components/config";

const ROOT = path.resolve(__dirname, "../..");

/** What `npm run plan -- <args>` runs. */
function plan(...args: string[]) {
    return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/plan/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 300000, env: { ...process.env, ...progressEvery } });
}
/** Progress lines set per test (the default, every 2 s, depends on how fast this machine runs the plan). */
let progressEvery: Record<string, string> = {};

/** Both values with every place either side does not know (`[unknown]`) set to `[unknown]` on both. */
function maskUnknowns(a: unknown, b: unknown): [unknown, unknown] {
    if (a === UNKNOWN_MARK || b === UNKNOWN_MARK) return [UNKNOWN_MARK, UNKNOWN_MARK];
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
        const pairs = a.map((x, i) => maskUnknowns(x, b[i]));
        return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
    }
    if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
        const pairs = keys.map((k) => [k, maskUnknowns((a as any)[k], (b as any)[k])] as const);
        return [Object.fromEntries(pairs.map(([k, p]) => [k, p[0]])), Object.fromEntries(pairs.map(([k, p]) => [k, p[1]]))];
    }
    return [a, b];
}

/** Every string value of a JSON document. */
function strings(value: unknown, out: string[] = []): string[] {
    if (typeof value === "string") out.push(value);
    else if (value && typeof value === "object") Object.values(value).forEach((v) => strings(v, out));
    return out;
}

describe("offline plan as JSON (npm run plan -- <stack> --json)", function () {
    this.timeout(900000);

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: byte-identical across two runs, and equal to the preview wherever the preview knows the value`, () => {
            const first = plan(stack, "--json");
            const second = plan(stack, "--json");
            const preview = plan(stack, "--json", "--preview");
            for (const r of [first, second, preview]) assert.strictEqual(r.status, 0, r.stderr);
            assert.ok(first.stdout.length > 10_000, "a whole plan");
            assert.strictEqual(second.stdout, first.stdout, "two runs print the same bytes");
            assert.ok(!first.stdout.includes(`${ROOT}${path.sep}`), "paths in the project are relative: a checkout elsewhere (the base branch's) plans the same");

            const up = JSON.parse(first.stdout) as PlanJson;
            const pre = JSON.parse(preview.stdout) as PlanJson;
            assert.strictEqual(up.format, PLAN_FORMAT);
            assert.deepStrictEqual([up.mode, pre.mode], ["up", "preview"]);
            const [a, b] = maskUnknowns({ ...up, mode: "-" }, { ...pre, mode: "-" });
            assert.deepStrictEqual(b, a, "up and preview agree on every value both know");
            // the access part is fully known in preview: it comes from names and config, not from the cloud
            assert.deepStrictEqual(Object.keys(pre.organizations), Object.keys(up.organizations));
            for (const [org, o] of Object.entries(up.organizations)) {
                for (const [app, plan] of Object.entries(o.apps)) assert.deepStrictEqual(pre.organizations[org].apps[app].privileges, plan.privileges, `${org}/${app}`);
            }

            // sorted keys: re-serializing with sorted keys gives the same text
            const config = parseStackConfig(readStackFile(stack), stack);
            assert.deepStrictEqual(Object.keys(up.organizations), config.organizations.map((o) => o.name).sort());
            for (const org of config.organizations) {
                assert.deepStrictEqual(Object.keys(up.organizations[org.name].apps), org.apps.map((a) => a.name).sort());
                for (const app of org.apps) {
                    const planned = up.organizations[org.name].apps[app.name];
                    assert.strictEqual(planned.access, app.access);
                    assert.deepStrictEqual(planned.privileges, [...planned.privileges].sort(), "privileges sorted");
                    if (app.access !== "owner") assert.ok(planned.privileges.includes(`database ${up.organizations[org.name].database}: CONNECT`), `${org.name}/${app.name} CONNECT`);
                    if (app.credentials === "secretsmanager") assert.ok(planned.iam.length === 1 && typeof planned.iam[0].statements !== "string" && planned.iam[0].statements.some((s) => s.actions.includes("secretsmanager:GetSecretValue")), `${org.name}/${app.name} IAM`);
                    if (app.credentials.startsWith("vault-")) assert.ok(planned.vault.length > 0 && planned.vault.every((v) => v.capabilities.join() === "read"), `${org.name}/${app.name} Vault`);
                    assert.ok(planned.kubernetes.includes(`ServiceAccount ${org.name}/${app.name}`), `${org.name}/${app.name} ServiceAccount`);
                }
            }
        });
    }

    it("shows secrets only as [secret]: no password, key or connection URL with a password in clear", () => {
        const r = plan("dev", "--json");
        assert.strictEqual(r.status, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as PlanJson;
        const values = strings(doc);
        assert.ok(values.includes(SECRET_MARK));
        assert.ok(!values.some((v) => /PRIVATE KEY/.test(v)), "no private key");
        assert.ok(!values.some((v) => /postgresql:\/\/[^{:@]+:[^{@]+@/.test(v)), "no URL with a password");
        const passwords = Object.values(doc.resources).filter((res) => res.type === "postgresql:index/role:Role").map((res) => (res.inputs as any).password ?? (res.inputs as any).passwordWo);
        assert.ok(passwords.length > 0 && passwords.every((p) => p === undefined || p === SECRET_MARK), JSON.stringify(passwords));
    });

    it("--help prints the usage and exits 0 without running a stack", () => {
        const r = plan("--help");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^usage:/);
        assert.match(r.stdout, /npm run plan -- diff <base\.json> <head\.json>/);
        assert.doesNotMatch(r.stdout, /postgres-access plan for stack/);
    });

    it("refuses an unknown flag, naming it (exit 2), and a --now that is not RFC 3339", () => {
        const r = plan("dev", "--jsn");
        assert.strictEqual(r.status, 2, r.stdout + r.stderr);
        assert.match(r.stderr, /unknown flag --jsn/);
        assert.match(r.stderr, /usage:/);
        assert.strictEqual(r.stdout, "");
        const bad = plan("dev", "--now", "yesterday");
        assert.strictEqual(bad.status, 2);
        assert.match(bad.stderr, /--now: expected an RFC 3339 date-time/);
    });

    it("--now sets the run's time (POSTGRES_ACCESS_NOW): in 2100 the prod RDS CA bundle has expired", () => {
        const r = plan("prod", "--now", "2100-01-01T00:00:00Z");
        assert.strictEqual(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /database\.rds\.caBundleFile: .*expired/);
    });

    it("prints the server's settings, and progress of the run on stderr, not in the plan", () => {
        progressEvery = { POSTGRES_ACCESS_PLAN_PROGRESS_SECONDS: "0" };
        let r: ReturnType<typeof plan>;
        try {
            r = plan("staging");
        } finally {
            progressEvery = {};
        }
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^ {8}class db\.\S+, Multi-AZ (yes|no), backups \d+ days, deletion protection yes, storage encrypted yes, public no, TLS \S+ \(rds\.force_ssl\)$/m);
        assert.doesNotMatch(r.stdout, /resources registered/);
        assert.match(r.stderr, /^plan staging: running the stack program under mocks\n/);
        assert.match(r.stderr, /^plan staging: \d+ resources registered \(\d+ s\)$/m);
        assert.match(r.stderr, /^plan staging: \d+ resources registered in [\d.]+ s$/m);
    });
});
