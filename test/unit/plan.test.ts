/** The offline main job (`npm run plan -- <stack>`), run as a user runs it. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";

const ROOT = path.resolve(__dirname, "../..");

function plan(...args: string[]) {
    return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "stacks/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120000 });
}

describe("offline plan", function () {
    this.timeout(120000);
    const broken = path.join(ROOT, "Pulumi.broken-plan-test.yaml");
    after(() => fs.rmSync(broken, { force: true }));

    it("prints the tree, grants, authentication and counts of the dev stack", () => {
        const r = plan("dev");
        assert.strictEqual(r.status, 0, r.stderr);
        for (const text of ["organization acme", "organization globex", "app billing: owner", "app storefront: readwrite", "app reporting: readonly",
            "SELECT on all tables in acme.public", "SELECT, INSERT, UPDATE, DELETE on future tables acme_owner creates in acme.public",
            "acme_reporting (LOGIN, member of acme_readonly, connection limit 5)", "authenticates:", "postgresql:index/role:Role"]) {
            assert.ok(r.stdout.includes(text), `missing: ${text}\n${r.stdout}`);
        }
    });

    it("runs in preview mode too", () => {
        const r = plan("dev", "--preview");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /preview: computed values unknown/);
    });

    it("reports config errors with their paths and exits 1", () => {
        fs.writeFileSync(broken, "config:\n  postgres-access:database:\n    engine: statefulset\n    tls: off\n  postgres-access:organizations:\n    - name: Acme\n");
        const r = plan("broken-plan-test");
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /database\.tls: expected one of "require" \| "verify-full" \| "mtls"/);
        assert.match(r.stderr, /organizations\[0\]\.name: expected a DNS-1123 label/);
        assert.match(r.stderr, /No resources were registered/);
    });

    it("names the stacks that exist when asked for one that does not", () => {
        const r = plan("nope");
        assert.strictEqual(r.status, 2);
        assert.match(r.stderr, /no stack file Pulumi\.nope\.yaml \(stacks here: .*dev/);
    });
});
