/** The offline main job (`npm run plan -- <stack>`), run in a child process as a user runs it. */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { parseStackConfig } from "../../components/config";
import { readStackFile } from "../../tools/plan/stackFile";
import { appNames, organizationNames } from "../../components/naming";
import { TABLE_PRIVILEGES } from "../../components/postgres/organizationDatabase";

const ROOT = path.resolve(__dirname, "../..");

/** What `npm run plan -- <args>` runs. */
function plan(...args: string[]) {
    return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/plan/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120000 });
}

describe("offline plan", function () {
    this.timeout(120000);
    // Stack files the tests write go to a folder of their own (`--dir`), never into the project.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-test-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("is what `npm run plan` runs", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.strictEqual(pkg.scripts.plan, "node -r ts-node/register/transpile-only tools/plan/plan.ts");
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
                    assert.ok(block.includes(`${TABLE_PRIVILEGES[app.access].join(", ")} on all tables in ${names.database}.public and on future ones ${names.ownerRole} creates`), `${org.name}/${app.name} tables and default privileges\n${block}`);
                } else {
                    assert.ok(block.includes(`owns:         database ${names.database} and the objects created in it, as ${names.ownerRole} (SET ROLE on login)`), `${org.name}/${app.name} owner\n${block}`);
                    assert.ok(block.includes(`grant:        CREATE, USAGE on schema ${names.database}.public`), `${org.name}/${app.name} owner schema`);
                }
            }
        }
        assert.match(out, /Resource counts \(\d+ resources, \d+ components\):/);
        assert.match(out, /^\s+\d+\s+postgresql:index\/role:Role$/m);
        assert.match(out, /\d+ resources receive secret inputs/);
    });

    for (const env of ["staging", "prod"]) {
        it(`prints the ${env} stack (RDS, Secrets Manager), run as its own deployer, in up and preview mode`, () => {
            for (const mode of [[], ["--preview"]]) {
                const r = plan(env, ...mode);
                assert.strictEqual(r.status, 0, r.stderr);
                assert.match(r.stdout, /^Server: rds, PostgreSQL/m);
                assert.match(r.stdout, /credentials secretsmanager, delivery csi/);
                assert.match(r.stdout, /aws:secretsmanager\/secret:Secret/);
            }
        });
    }

    it("runs in preview mode (computed values unknown) too", () => {
        const r = plan("dev", "--preview");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /preview: computed values unknown/);
        assert.match(r.stdout, /organization acme /);
    });

    it("reports every config error with its field path, registers nothing and exits 1", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.brokentest.yaml"), [
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
        const r = plan("brokentest", "--dir", dir);
        assert.strictEqual(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /Pulumi\.brokentest\.yaml: invalid postgres-access configuration \(3 problems\)/);
        assert.match(r.stderr, /database\.tls: expected one of "require" \| "verify-full" \| "mtls"/);
        assert.match(r.stderr, /organizations\[0\]\.name: expected a DNS-1123 label/);
        assert.match(r.stderr, /organizations\[1\]\.apps\[0\]\.access: expected one of "owner" \| "readwrite" \| "readonly"/);
        assert.match(r.stderr, /No resources were registered/);
        assert.strictEqual(r.stdout, "", "no plan printed");
    });

    it("counts each organization's and app's own resources, also when one name is a prefix of another", () => {
        const stack = (orgs: string[]) => ["config:", "  postgres-access:database:", "    engine: statefulset", "  postgres-access:organizations:", ...orgs, ""].join("\n");
        fs.writeFileSync(path.join(dir, "Pulumi.alone.yaml"), stack(["    - name: acme", "      apps: [{ name: web }]"]));
        fs.writeFileSync(path.join(dir, "Pulumi.prefixed.yaml"), stack(["    - name: acme", "      apps: [{ name: web }]", "    - name: acme-web", "    - name: acme-corp", "      apps: [{ name: api }, { name: web }]"]));
        const count = (out: string, org: string) => Number(new RegExp(`^organization ${org}  \\(.*, (\\d+) resources\\)`, "m").exec(out)?.[1]);
        const alone = plan("alone", "--dir", dir);
        const prefixed = plan("prefixed", "--dir", dir);
        assert.strictEqual(alone.status, 0, alone.stderr);
        assert.strictEqual(prefixed.status, 0, prefixed.stderr);
        assert.ok(count(alone.stdout, "acme") > 10, alone.stdout);
        assert.strictEqual(count(prefixed.stdout, "acme"), count(alone.stdout, "acme"), "acme's count does not take in acme-web's or acme-corp's resources");
        assert.strictEqual(count(prefixed.stdout, "acme-web"), count(alone.stdout, "acme"), "an organization with one app registers as many resources as acme");
        const creates = [...prefixed.stdout.matchAll(/^ {4}creates: {6}(.*)$/gm)].map((m) => m[1]);
        assert.strictEqual(creates.length, 4);
        assert.ok(creates.every((c) => c === creates[0]), `every app creates the same: ${creates.join(" | ")}`);
        const total = Number(/Resource counts \((\d+) resources/.exec(prefixed.stdout)?.[1]);
        // each organization's resources are its component's children (its own admin provider `<org>-postgres-admin` too)
        const server = Number(/Resource counts \((\d+) resources/.exec(alone.stdout)?.[1]) - count(alone.stdout, "acme");
        assert.strictEqual(count(prefixed.stdout, "acme") + count(prefixed.stdout, "acme-web") + count(prefixed.stdout, "acme-corp"), total - server, "every organization resource is counted once");
    });

    it("prints each group role's grants once per organization, not under every app, and the server's settings", () => {
        const apps = ["a", "b", "c"].map((name) => `{ name: ${name}, access: readonly }`).join(", ");
        fs.writeFileSync(path.join(dir, "Pulumi.groups.yaml"), ["config:", "  postgres-access:database:", "    engine: statefulset", "  postgres-access:organizations:", "    - name: acme", `      apps: [${apps}]`, ""].join("\n"));
        const r = plan("groups", "--dir", dir);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout.split("\n").filter((l) => l.startsWith("    grant:        SELECT on all tables in acme.public")).length, 1, r.stdout);
        assert.match(r.stdout, /^ {2}group acme_readonly {2}\(apps: a, b, c\)\n {4}grant: {8}CONNECT on database acme$/m);
        for (const app of ["a", "b", "c"]) assert.match(r.stdout, new RegExp(`^ {2}app ${app}: readonly.*\n {4}login: {8}acme_${app} \\(LOGIN, member of acme_readonly, .*\n {4}authenticates: .*\n {4}creates: `, "m"));
        assert.match(r.stdout, /^ {8}class \S+ CPU, \S+ memory \(requests\), Multi-AZ no, replicas 1, storage \S+, backups none managed here, deletion protection volumes retained, TLS require$/m);
    });

    it("names the stacks that exist when asked for one that does not (exit 2)", () => {
        const r = plan("nope");
        assert.strictEqual(r.status, 2);
        assert.match(r.stderr, /no stack file Pulumi\.nope\.yaml \(stacks here: .*dev/);
    });
});
