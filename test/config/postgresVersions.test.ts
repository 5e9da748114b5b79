/**
 * Supported PostgreSQL majors: 15-18 (14 reached end of life in November 2026); the default is the newest,
 * and it is the newest major the real-PostgreSQL suites run (TESTED_MAJORS), so the default is proven.
 * An RDS server of 18 gets its own parameter group family.
 */
import * as assert from "assert";
import { ConfigError, POSTGRES_VERSIONS, parseStackConfig } from "../../components/config";
import { TESTED_MAJORS } from "../support/realPostgres";
import { readStackFile } from "../../tools/plan/stackFile";
import { runPulumi } from "../../testing/offlineRun";

const organizations = [{ name: "acme" }];

describe("PostgreSQL versions", function () {
    this.timeout(60000);
    it("allows 15-18 and refuses 14 with the allowed list", () => {
        assert.deepStrictEqual([...POSTGRES_VERSIONS], ["15", "16", "17", "18"]);
        for (const version of POSTGRES_VERSIONS) parseStackConfig({ database: { engine: "statefulset", version }, organizations }, "dev");
        assert.throws(() => parseStackConfig({ database: { engine: "statefulset", version: "14" }, organizations }, "dev"),
            (err: Error) => err instanceof ConfigError && /database\.version: expected one of "15" \| "16" \| "17" \| "18"/.test(err.message));
    });

    it("defaults to the newest supported major, which the real-PostgreSQL tests run; they run the oldest too", () => {
        const config = parseStackConfig({ database: { engine: "statefulset" }, organizations }, "dev");
        assert.strictEqual(config.database.version, "18");
        assert.strictEqual(TESTED_MAJORS[TESTED_MAJORS.length - 1], config.database.version);
        assert.strictEqual(TESTED_MAJORS[0], POSTGRES_VERSIONS[0]);
    });

    it("RDS 18: engine version 18 and a postgres18 parameter group", async () => {
        const raw = readStackFile("staging");
        const run = await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack().server!.majorVersion;
        }, { stack: "staging", config: { ...raw, database: { ...(raw.database as object), version: "18" } } });
        assert.strictEqual(run.ofType("aws:rds/instance:Instance")[0].inputs.engineVersion, "18");
        assert.strictEqual(run.ofType("aws:rds/parameterGroup:ParameterGroup")[0].inputs.family, "postgres18");
    });
});
