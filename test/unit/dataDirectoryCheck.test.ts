/**
 * The in-cluster server's data layout per major (PostgreSQL 18's image moved PGDATA and its VOLUME) and the
 * `data-directory-check` init container: its script, run here with the system's sh on real directories,
 * refuses a pod of one major on another major's data unless `upgradeFrom` names it, and then keeps the old
 * directory. The StatefulSet registers exactly that script with the layout of its version.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { runPulumi } from "../../testing/offlineRun";
import { DATA_DIRECTORY_CHECK, dataDirectoryCheckScript, dataLayout } from "../../components/database/dataDirectory";

/** Runs the script against a fake volume (its paths rebased into a temp dir); returns exit code and output. */
function check(version: string, volume: Record<string, string>, upgradeFrom?: string): { code: number; output: string; root: string } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pa-datadir-"));
    const layout = dataLayout(version);
    const rebase = (p: string) => path.join(root, p);
    for (const [dir, major] of Object.entries(volume)) {
        fs.mkdirSync(path.join(rebase(layout.mountPath), dir), { recursive: true });
        fs.writeFileSync(path.join(rebase(layout.mountPath), dir, "PG_VERSION"), `${major}\n`);
    }
    fs.mkdirSync(rebase(layout.mountPath), { recursive: true });
    const script = dataDirectoryCheckScript().split("/dev/termination-log").join(path.join(root, "termination-log"));
    const result = spawnSync("sh", ["-c", script], {
        env: { PATH: process.env.PATH, PGDATA: rebase(layout.pgdata), DATA_VOLUME: rebase(layout.mountPath), EXPECTED_MAJOR: version, ...(upgradeFrom ? { UPGRADE_FROM: upgradeFrom } : {}) },
        encoding: "utf8",
    });
    return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}`, root };
}

describe("in-cluster data directory per major", () => {
    it("uses the official image's layout: 15-17 below /var/lib/postgresql/data, 18 in /var/lib/postgresql/18/docker", () => {
        assert.deepStrictEqual(dataLayout("17"), { mountPath: "/var/lib/postgresql/data", pgdata: "/var/lib/postgresql/data/pgdata" });
        assert.deepStrictEqual(dataLayout("18"), { mountPath: "/var/lib/postgresql", pgdata: "/var/lib/postgresql/18/docker" });
    });

    it("starts on a fresh volume and on its own major's data", () => {
        assert.strictEqual(check("18", {}).code, 0);
        assert.strictEqual(check("17", { pgdata: "17" }).code, 0);
        assert.strictEqual(check("18", { "18/docker": "18" }).code, 0);
    });

    it("refuses PostgreSQL 17 on a 16 data directory (the pod would never become ready), naming the upgrade procedure", () => {
        const r = check("17", { pgdata: "16" });
        assert.strictEqual(r.code, 1);
        assert.match(r.output, /holds PostgreSQL 16, but this pod runs PostgreSQL 17/);
        assert.match(r.output, /upgradeFrom/);
        assert.match(fs.readFileSync(path.join(r.root, "termination-log"), "utf8"), /PostgreSQL 16/, "kubectl describe shows why");
    });

    it("refuses PostgreSQL 18 beside a 17 data directory on the same PVC (an empty database otherwise)", () => {
        const r = check("18", { pgdata: "17" });
        assert.strictEqual(r.code, 1);
        assert.match(r.output, /holds a PostgreSQL 17 data directory .*pgdata.* is empty/);
    });

    it("with upgradeFrom: keeps the old major's directory and lets initdb create the new cluster", () => {
        const moved = check("17", { pgdata: "16" }, "16");
        assert.strictEqual(moved.code, 0, moved.output);
        const mount = path.join(moved.root, dataLayout("17").mountPath);
        assert.strictEqual(fs.readFileSync(path.join(mount, "pgdata-16-before-upgrade", "PG_VERSION"), "utf8"), "16\n", "the old data is kept");
        assert.ok(!fs.existsSync(path.join(mount, "pgdata")), "PGDATA is free for initdb");
        assert.strictEqual(check("18", { pgdata: "17" }, "17").code, 0);
        assert.strictEqual(check("18", { pgdata: "17" }, "16").code, 1, "upgradeFrom must name the data's major");
    });
});

describe("StatefulSetPostgres: data layout and check per version", function () {
    this.timeout(60000);
    for (const version of ["17", "18"]) {
        it(`PostgreSQL ${version}: the PVC at ${dataLayout(version).mountPath}, PGDATA ${dataLayout(version).pgdata}, the check before initdb`, async () => {
            const run = await runPulumi(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const { StatefulSetPostgres } = require("../../components/database/statefulSetPostgres") as typeof import("../../components/database/statefulSetPostgres");
                new StatefulSetPostgres("postgres", {
                    namespace: "postgres", version, tls: "require", storageSize: "1Gi", maxConnections: 100, clientNamespaces: ["acme"],
                    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
                    upgradeFrom: version === "18" ? "17" : undefined,
                });
            });
            const pod = run.ofType("kubernetes:apps/v1:StatefulSet")[0].inputs.spec.template.spec;
            const layout = dataLayout(version);
            assert.deepStrictEqual(pod.initContainers.map((c: any) => c.name), [DATA_DIRECTORY_CHECK, "initdb"]);
            for (const c of [...pod.initContainers, ...pod.containers]) {
                assert.deepStrictEqual(c.volumeMounts.filter((m: any) => m.name === "data").map((m: any) => m.mountPath), [layout.mountPath], c.name);
                assert.strictEqual(c.env.find((e: any) => e.name === "PGDATA").value, layout.pgdata, c.name);
            }
            const guard = pod.initContainers[0];
            assert.deepStrictEqual(guard.command, ["sh", "-c", dataDirectoryCheckScript()]);
            const env = Object.fromEntries(guard.env.map((e: any) => [e.name, e.value]));
            assert.deepStrictEqual(env, { PGDATA: layout.pgdata, DATA_VOLUME: layout.mountPath, EXPECTED_MAJOR: version, ...(version === "18" ? { UPGRADE_FROM: "17" } : {}) });
        });
    }
});
