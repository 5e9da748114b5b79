/** The stack trace limit the program runs with (stacks/stackTraces.ts): cheap promises, source positions kept. */
import * as assert from "assert";
import * as path from "path";
import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { STACK_TRACE_LIMIT_VARIABLE, limitStackTraces, programStackTraceLimit } from "../../stacks/stackTraces";

const ROOT = path.resolve(__dirname, "../..");

describe("stack trace limit", function () {
    this.timeout(120000);
    const before = Error.stackTraceLimit;
    afterEach(() => {
        Error.stackTraceLimit = before;
    });

    it("is 0 unless the variable asks for frames, and refuses a value that is not a count", () => {
        assert.strictEqual(programStackTraceLimit({}), 0);
        assert.strictEqual(programStackTraceLimit({ [STACK_TRACE_LIMIT_VARIABLE]: "50" }), 50);
        assert.throws(() => programStackTraceLimit({ [STACK_TRACE_LIMIT_VARIABLE]: "all" }), /POSTGRES_ACCESS_STACK_TRACE_LIMIT: expected a whole number/);
    });

    it("leaves the source positions Pulumi sends with each registration as they were", () => {
        const sdk = pulumi.Resource as unknown as { stackTrace(skip: number): Array<{ uri: string; line: number } | undefined> };
        const stackTrace = (skip: number) => sdk.stackTrace(skip).filter((f) => f !== undefined);
        const full = stackTrace(0);
        limitStackTraces({});
        assert.strictEqual(new Error().stack, "Error", "no frames in other errors");
        const limited = stackTrace(0);
        assert.ok(limited.length > 0);
        assert.deepStrictEqual(limited.map((f) => f.uri), full.map((f) => f.uri));
        assert.ok(limited.some((f) => f.uri.endsWith("stackTraces.test.ts")), "the caller's own file is among the positions");
    });

    it("is set by the entry point `pulumi up` runs, before the program registers anything", () => {
        const script = `
            const { runPulumi } = require("./testing/offlineRun");
            runPulumi(() => { require("./stacks/index"); return Error.stackTraceLimit; }, {
                config: { database: { engine: "statefulset", version: "18", tls: "require" }, organizations: [{ name: "acme" }] },
            }).then((run) => console.log(JSON.stringify({ limit: run.result, resources: run.resources.length })));`;
        const child = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
            cwd: ROOT, encoding: "utf8", timeout: 120000, env: { ...process.env, [STACK_TRACE_LIMIT_VARIABLE]: "" },
        });
        assert.strictEqual(child.status, 0, child.stderr);
        const out = JSON.parse(child.stdout.trim().split("\n").pop()!);
        assert.strictEqual(out.limit, 0);
        assert.ok(out.resources > 10);
    });
});
