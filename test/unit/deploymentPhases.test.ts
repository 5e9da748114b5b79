/**
 * The first run of an RDS stack whose admin endpoint is a tunnel to the server it creates
 * (`database.phase: server`, then `full`), and the guards that read the stack's previous deployment
 * through a StackReference to itself: no return to phase `server` once organizations exist (it would
 * delete them), no major version change of the in-cluster server without `statefulset.upgradeFrom`.
 */
import * as assert from "assert";
import { RecordedResource, RunResult, runPulumi, valueOf } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";

type Exports = Record<string, any>;

function run(env: string, config: Record<string, unknown>, previousOutputs?: Record<string, unknown>, preview = false): Promise<RunResult<Exports>> {
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.stackExports(program.createStack());
    }, { stack: env, config, previousOutputs, preview });
}

/** The stack file with `database` fields replaced. */
function withDatabase(env: string, database: Record<string, unknown>): Record<string, unknown> {
    const raw = readStackFile(env);
    return { ...raw, database: { ...(raw.database as object), ...database } };
}

const isDatabaseResource = (r: RecordedResource) => r.type.startsWith("postgresql:") || r.type === "pulumi:providers:postgresql";

/** What the program exports as `deployment`, resolved (the next run's previous outputs). */
async function deploymentOf(r: RunResult<Exports>): Promise<Record<string, unknown>> {
    return { deployment: await valueOf(r.result.deployment) };
}

describe("first pulumi up of an RDS stack in two phases (staging)", function () {
    this.timeout(120000);
    let phase1: RunResult<Exports>;
    let phase2: RunResult<Exports>;
    let direct: RunResult<Exports>;

    before(async () => {
        phase1 = await run("staging", withDatabase("staging", { phase: "server" }));
        phase2 = await run("staging", readStackFile("staging"), await deploymentOf(phase1));
        direct = await run("staging", readStackFile("staging"));
    });

    it("phase server registers the RDS instance (and its network, key, parameters) but nothing that logs in to it", async () => {
        assert.strictEqual(phase1.ofType("aws:rds/instance:Instance").length, 1);
        for (const type of ["aws:ec2/securityGroup:SecurityGroup", "aws:rds/parameterGroup:ParameterGroup", "aws:rds/subnetGroup:SubnetGroup"]) assert.strictEqual(phase1.ofType(type).length, 1, type);
        assert.deepStrictEqual(phase1.resources.filter(isDatabaseResource).map((r) => r.name), []);
        assert.deepStrictEqual(phase1.ofType("aws:secretsmanager/secret:Secret"), []);
        assert.deepStrictEqual(phase1.ofType("kubernetes:core/v1:Namespace"), []);
        // the endpoint the operator opens the tunnel to
        assert.match(String(await valueOf(phase1.result.databaseHost)), /\S/);
        assert.strictEqual(await valueOf(phase1.result.databasePort), 5432);
        assert.deepStrictEqual(await valueOf(phase1.result.deployment), { phase: "server", engine: "rds", serverMajorVersion: "17", organizations: [] });
    });

    it("phase full, after phase server, registers everything a single full run does", async () => {
        const types = (r: RunResult<Exports>) => r.resources.map((x) => `${x.type} ${x.name}`).sort();
        assert.deepStrictEqual(types(phase2), types(direct));
        assert.ok(phase2.resources.filter(isDatabaseResource).length > 10);
        assert.deepStrictEqual((await valueOf(phase2.result.deployment)).organizations, ["acme", "globex"]);
    });

    it("refuses phase server on a stack whose last update created organizations (it would delete them)", async () => {
        await assert.rejects(run("staging", withDatabase("staging", { phase: "server" }), await deploymentOf(phase2)),
            /database\.phase: "server" .*organizations acme, globex: the run would delete/);
        // and in preview too (Pulumi reads the stack reference then as well)
        await assert.rejects(run("staging", withDatabase("staging", { phase: "server" }), await deploymentOf(phase2), true), /would delete/);
    });

    it("accepts phase server again while no organization was created (a repeated first run)", async () => {
        await run("staging", withDatabase("staging", { phase: "server" }), await deploymentOf(phase1));
    });
});

describe("major version change of the in-cluster server (dev)", function () {
    this.timeout(120000);
    const previous17 = { deployment: { phase: "full", engine: "statefulset", serverMajorVersion: "17", organizations: ["acme"] } };

    it("refuses 17 -> 18 without statefulset.upgradeFrom, before the StatefulSet is changed", async () => {
        const config = withDatabase("dev", { version: "18" });
        const failure = await run("dev", config, previous17).then(() => undefined, (err) => err);
        assert.ok(failure, "the run must fail");
        assert.match(failure.message, /runs PostgreSQL 17; "18" cannot start on its data directory.*upgradeFrom: "17"/s);
        assert.deepStrictEqual((failure.resources as RecordedResource[]).filter((r) => r.type === "kubernetes:apps/v1:StatefulSet"), [], "the StatefulSet is not updated");
    });

    it("refuses a downgrade whatever the settings", async () => {
        await assert.rejects(run("dev", withDatabase("dev", { version: "16" }), previous17), /older than the running server's "17"/);
    });

    it("accepts 17 -> 18 with upgradeFrom \"17\": the pod keeps the old data and starts an empty 18 cluster for the restore", async () => {
        const raw = readStackFile("dev") as any;
        const r = await run("dev", withDatabase("dev", { version: "18", statefulset: { ...raw.database.statefulset, upgradeFrom: "17" } }), previous17);
        const pod = r.ofType("kubernetes:apps/v1:StatefulSet")[0].inputs.spec.template;
        assert.strictEqual(pod.metadata.annotations["postgres-access/major-version"], "18");
        const check = pod.spec.initContainers.find((c: any) => c.name === "data-directory-check");
        assert.deepStrictEqual(check.env.find((e: any) => e.name === "UPGRADE_FROM"), { name: "UPGRADE_FROM", value: "17" });
        assert.strictEqual((await valueOf(r.result.deployment)).serverMajorVersion, "18");
    });

    it("accepts an unchanged version and a fresh stack", async () => {
        await run("dev", readStackFile("dev"), previous17);
        await run("dev", withDatabase("dev", { version: "18" }));
    });
});
