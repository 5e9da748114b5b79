/**
 * One measurement, in its own process (so its peak RSS is its own): `node bench/measure.js '<json>'`,
 * where the JSON is a {@link MeasureRequest}. Prints one line of JSON, a {@link Measurement}: load time,
 * evaluation time, CPU time (user + system) during the evaluation, peak RSS, what was registered.
 * - `program`: the stack program (stacks/program.ts `createStack`) under the mock runner, for a fleet
 *   of `organizations` organizations; with `record`, writes the custom resources it registered there
 *   (bench/replay.ts `recordOf`: inputs, provider, dependencies, property dependencies, options).
 * - `platform` / `organizations`: one stack of the fleet's environment split (bench/fleet.ts).
 * - the floors replay a `record` file with no components (bench/replay.ts): `baseline` as plain
 *   `pulumi.CustomResource`s, `sdk` through each resource's provider SDK class (bench/providerClasses.ts),
 *   both without options; `wired` through the classes with the recorded provider, dependencies, property
 *   dependencies and options (all but parent and aliases). Each checks that every registration reached the
 *   monitor as the program's did (`mismatches`, with a few examples).
 * With `sourcePositions: false` the SDK's per-registration stack capture is skipped, to show its cost (a
 * measurement switch only: the SDK has no setting for it). With `counts`, the evaluation also counts the
 * promises created and the stack frames the SDK captures per registration (deterministic measures of the
 * SDK's work, independent of the machine's load; the counting itself slows the run, so its times are not
 * comparable with uncounted runs).
 */
import * as asyncHooks from "async_hooks";
import * as fs from "fs";
import { performance } from "perf_hooks";
import type { RecordedRegistration } from "./replay";

export interface MeasureRequest {
    /** `platform` / `organizations`: one stack of the fleet's environment split (`split`), see `stackOrganizations`. */
    mode: "program" | "baseline" | "sdk" | "wired" | "platform" | "organizations";
    organizations: number;
    /** mode organizations: how many of the environment's `organizations` this stack holds. */
    stackOrganizations?: number;
    record?: string;
    sourcePositions?: boolean;
    /** Count promises and captured stack frames during the evaluation (`promises`, `framesPerRegistration`). */
    counts?: boolean;
    /** `Error.stackTraceLimit` while the program (or baseline) runs; default: what stacks/index.ts sets. */
    stackTraceLimit?: number;
}

export interface Measurement {
    mode: string;
    organizations: number;
    /** Every registration the engine would receive: custom resources (providers included) and components. */
    registrations: number;
    resources: number;
    components: number;
    /** Deepest parent chain of a custom resource (0 = top level). */
    maxDepth: number;
    /** Provider invokes, by token. */
    invokes: Record<string, number>;
    /** Loading the program's (or the SDK's) modules, ms. */
    loadMs: number;
    /** Evaluation: from the program's start until every registration reached the monitor, ms. */
    evalMs: number;
    /** CPU time (user + system, all threads) during the evaluation, ms. */
    cpuMs: number;
    /** The process's peak resident set, MB (getrusage maxrss). */
    peakRssMb: number;
    /** With `counts`: promises created during the evaluation. */
    promises?: number;
    /** With `counts`: stack frames the SDK captured per registration (its source positions), on average. */
    framesPerRegistration?: number;
    /** Replays: how many registrations differ from the program's (bench/replay.ts `mismatches`; must be 0). */
    mismatches?: number;
    /** The first few of those differences. */
    mismatchExamples?: string[];
}

async function main(): Promise<void> {
    const request = JSON.parse(process.argv[2]) as MeasureRequest;
    const loadStart = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runner = require("./offlineRun") as typeof import("./offlineRun");
    if (request.sourcePositions === false) {
        (pulumi.Resource as unknown as { stackTrace(skip: number): unknown[] }).stackTrace = () => [];
    }
    let evaluate: () => unknown;
    let recorded: RecordedRegistration[] | undefined;
    let config: Record<string, unknown> = {};
    let stackReferences: Record<string, Record<string, unknown>> | undefined;
    if (request.mode === "program" || request.mode === "platform" || request.mode === "organizations") {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../stacks/program") as typeof import("../stacks/program");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const fleet = require("./fleet") as typeof import("./fleet");
        config = request.mode === "program"
            ? fleet.fleetConfig(request.organizations)
            : fleet.splitFleetConfig(request.mode, request.organizations, request.stackOrganizations ?? request.organizations);
        if (request.mode === "organizations") stackReferences = { [fleet.BENCH_PLATFORM_STACK]: fleet.benchPlatformOutputs() };
        evaluate = () => program.stackExports(program.createStack());
    } else {
        // inputs revived and classes (and their modules) resolved before the clock starts, as the
        // program's are at load; the program's own inputs are built inside its time
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const replay = require("./replay") as typeof import("./replay");
        recorded = JSON.parse(fs.readFileSync(request.record!, "utf8")) as RecordedRegistration[];
        evaluate = replay.prepareReplay(request.mode as import("./replay").ReplayMode, recorded);
    }
    // as the entry point (stacks/index.ts) does; the baseline gets the same process setting
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("../stacks/stackTraces") as typeof import("../stacks/stackTraces")).limitStackTraces();
    if (request.stackTraceLimit !== undefined) Error.stackTraceLimit = request.stackTraceLimit;
    const loadMs = performance.now() - loadStart;
    const counted = { promises: 0, frames: 0, captures: 0 };
    if (request.counts) {
        asyncHooks.createHook({ init: (_id, type) => { if (type === "PROMISE") counted.promises++; } }).enable();
        const resource = pulumi.Resource as unknown as { callsites(): unknown[] };
        const callsites = resource.callsites.bind(resource);
        resource.callsites = () => {
            const frames = callsites();
            counted.frames += frames.length;
            counted.captures++;
            return frames;
        };
    }
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const run = await runner.runPulumi(evaluate, { stack: "bench", config, stackReferences });
    const evalMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const replay = require("./replay") as typeof import("./replay");
    let problems: string[] | undefined;
    if (request.mode === "program" && request.record) {
        fs.writeFileSync(request.record, JSON.stringify(replay.recordOf(run.resources)));
    } else if (request.mode === "baseline" || request.mode === "sdk" || request.mode === "wired") {
        problems = replay.mismatches(request.mode, recorded!, replay.recordOf(run.resources));
    }
    const invokes: Record<string, number> = {};
    for (const call of run.calls) invokes[call.token] = (invokes[call.token] ?? 0) + 1;
    const depthOf = (urn: string) => (urn.split("::")[2].match(/\$/g) ?? []).length;
    const measurement: Measurement = {
        mode: request.mode,
        organizations: request.organizations,
        registrations: run.resources.length,
        resources: run.resources.filter((r) => r.custom).length,
        components: run.resources.filter((r) => !r.custom).length,
        maxDepth: Math.max(0, ...run.resources.filter((r) => r.custom).map((r) => depthOf(r.urn))),
        invokes,
        loadMs,
        evalMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        ...(request.counts ? { promises: counted.promises, framesPerRegistration: counted.frames / counted.captures } : {}),
        ...(problems !== undefined ? { mismatches: problems.length, mismatchExamples: problems.slice(0, 5) } : {}),
    };
    process.stdout.write(JSON.stringify(measurement) + "\n");
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
