/** The offline main job (`npm run plan -- <stack>`), run in a child process as a user runs it. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { parseStackConfig } from "../../stacks/config";
import { readStackFile } from "../../stacks/stackFile";
import { appNames, organizationNames } from "../../components/naming";
import { TABLE_PRIVILEGES } from "../../components/postgres/organizationDatabase";

const ROOT = path.resolve(__dirname, "../..");

/** What `npm run plan -- <args>` runs. */
function plan(...args: string[]) {
    return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "stacks/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120000 });
}

describe("offline plan", function () {
    this.timeout(120000);
    const broken = path.join(ROOT, "Pulumi.broken-test.yaml");
    after(() => fs.rmSync(broken, { force: true }));

    it("is what `npm run plan` runs", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.strictEqual(pkg.scripts.plan, "node -r ts-node/register/transpile-only stacks/plan.ts");
    });

    it("prints every organization and app of the dev stack with its login, grants and counts", () => {
        const r = plan("dev");
        assert.strictEqual(r.status, 0, r.stderr);
        const out = r.stdout;
        const config = parseStackConfig(readStackFile("dev"), "dev");
        for (const org of config.organizations) {
            const names = organizationNames(org.name);
            assert.match(out, new RegExp(`^organization ${org.name}  \\(namespace ${org.name}, database ${names.database}, \\d+ resources\\)`, "m"));
            // the org's block: from its header to the next organization (or the counts)
            const block = out.slice(out.indexOf(`organization ${org.name} `)).split(/\n(?=organization |Resource counts)/)[0];
            for (const app of org.apps) {
                assert.ok(block.includes(`app ${app.name}: ${app.access}, credentials ${app.credentials}, delivery ${app.delivery}`), `${org.name}/${app.name}\n${block}`);
                if (app.credentials !== "vault-dynamic") {
                    const login = appNames(org.name, app.name, "dev", app.isDefaultApp).loginRole;
                    assert.ok(block.includes(`${login} (LOGIN, member of ${names[`${app.access}Role`]}, connection limit ${app.connectionLimit})`), `${login}\n${block}`);
                }
                if (app.access !== "owner") {
                    assert.ok(block.includes(`grant:        CONNECT on database ${names.database}`), `${org.name}/${app.name} CONNECT`);
                    assert.ok(block.includes(`${TABLE_PRIVILEGES[app.access].join(", ")} on all tables in ${names.database}.public`), `${org.name}/${app.name} tables`);
                    assert.ok(block.includes(`${TABLE_PRIVILEGES[app.access].join(", ")} on future tables ${names.ownerRole} creates in ${names.database}.public`), `${org.name}/${app.name} default privileges`);
                } else {
                    assert.ok(block.includes(`owns database objects as ${names.ownerRole}`), `${org.name}/${app.name} owner`);
                }
            }
        }
        assert.match(out, /Resource counts \(\d+ resources, \d+ components\):/);
        assert.match(out, /^\s+\d+\s+postgresql:index\/role:Role$/m);
        assert.match(out, /\d+ resources receive secret inputs/);
    });

    it("runs in preview mode (computed values unknown) too", () => {
        const r = plan("dev", "--preview");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /preview: computed values unknown/);
        assert.match(r.stdout, /organization acme /);
    });

    it("reports every config error with its field path, registers nothing and exits 1", () => {
        fs.writeFileSync(broken, [
            "config:",
            "  postgres-access:database:",
            "    engine: statefulset",
            "    tls: off",
            "  postgres-access:organizations:",
            "    - name: Acme",
            "    - name: globex",
            "      apps:",
            "        - name: web",
            "          access: superuser",
            "",
        ].join("\n"));
        const r = plan("broken-test");
        assert.strictEqual(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /Pulumi\.broken-test\.yaml: invalid postgres-access configuration \(3 problems\)/);
        assert.match(r.stderr, /database\.tls: expected one of "require" \| "verify-full" \| "mtls"/);
        assert.match(r.stderr, /organizations\[0\]\.name: expected a DNS-1123 label/);
        assert.match(r.stderr, /organizations\[1\]\.apps\[0\]\.access: expected one of "owner" \| "readwrite" \| "readonly"/);
        assert.match(r.stderr, /No resources were registered/);
        assert.strictEqual(r.stdout, "", "no plan printed");
    });

    it("names the stacks that exist when asked for one that does not (exit 2)", () => {
        const r = plan("nope");
        assert.strictEqual(r.status, 2);
        assert.match(r.stderr, /no stack file Pulumi\.nope\.yaml \(stacks here: .*dev/);
    });
});
