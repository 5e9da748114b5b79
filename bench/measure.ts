/**
 * One measurement, in its own process (so its peak RSS is its own): `node bench/measure.js '<json>'`,
 * where the JSON is a {@link MeasureRequest}. Prints one line of JSON, a {@link Measurement}.
 * - `program`: the stack program (stacks/program.ts `createStack`) under the mock runner, for a fleet
 *   of `organizations` organizations; with `record`, writes the custom resources it registered there.
 * - `baseline`: replays a `record` file: the same resources with the same inputs (secrets as secrets),
 *   each a plain `new pulumi.CustomResource(type, name, inputs)`, no components, no parents, no options.
 * - `sdk`: replays it through each resource's provider SDK class (bench/providerClasses.ts), no components,
 *   no parents, no options of our own: what any program registering these resources pays. It checks that
 *   every registration reached the monitor with the inputs the program sent (`mismatches`).
 * With `sourcePositions: false` the SDK's per-registration stack capture is skipped, to show its cost (a
 * measurement switch only: the SDK has no setting for it).
 */
import * as fs from "fs";
import { performance } from "perf_hooks";

export interface MeasureRequest {
    /** `platform` / `organizations`: one stack of the fleet's environment split (`split`), see `stackOrganizations`. */
    mode: "program" | "baseline" | "sdk" | "platform" | "organizations";
    organizations: number;
    /** mode organizations: how many of the environment's `organizations` this stack holds. */
    stackOrganizations?: number;
    record?: string;
    sourcePositions?: boolean;
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
    /** The process's peak resident set, MB (getrusage maxrss). */
    peakRssMb: number;
    /** Replays: registrations whose type, name or inputs differ from the program's (must be 0). */
    mismatches?: number;
}

interface RecordedRegistration {
    type: string;
    name: string;
    rawInputs: unknown;
}

const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_REFERENCE = "5cf8f73096256a8f31e491e813e4eb8e";

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
        const recorded = JSON.parse(fs.readFileSync(request.record!, "utf8")) as RecordedRegistration[];
        const revive = (value: unknown): unknown => {
            if (Array.isArray(value)) return value.map(revive);
            if (value && typeof value === "object") {
                const v = value as Record<string, unknown>;
                if (v[runner.SECRET_SIG] === SECRET_VALUE) return pulumi.secret(revive(v.value));
                if (v[runner.SECRET_SIG] === RESOURCE_REFERENCE) return v.urn;
                return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
            }
            return value;
        };
        // inputs prepared before the clock starts: the program's own inputs are built inside its time
        const replay = recorded.map((r) => ({ type: r.type, name: r.name, inputs: revive(r.rawInputs) as Record<string, unknown> }));
        // CustomResource is abstract in the typings only: any type token can be registered through it
        const Plain = pulumi.CustomResource as unknown as new (type: string, name: string, inputs: Record<string, unknown>) => unknown;
        if (request.mode === "baseline") {
            evaluate = () => {
                for (const r of replay) new Plain(r.type, r.name, r.inputs);
            };
        } else {
            // classes (and their modules) resolved before the clock starts, as the program's are at load
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { providerClass } = require("./providerClasses") as typeof import("./providerClasses");
            const classes = new Map(replay.map((r) => [r.type, providerClass(r.type)]));
            evaluate = () => {
                for (const r of replay) classes.get(r.type)!(r.name, r.inputs);
            };
        }
    }
    // as the entry point (stacks/index.ts) does; the baseline gets the same process setting
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("../stacks/stackTraces") as typeof import("../stacks/stackTraces")).limitStackTraces();
    if (request.stackTraceLimit !== undefined) Error.stackTraceLimit = request.stackTraceLimit;
    const loadMs = performance.now() - loadStart;
    const start = performance.now();
    const run = await runner.runPulumi(evaluate, { stack: "bench", config, stackReferences });
    const evalMs = performance.now() - start;
    const registered = () => run.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, rawInputs: r.rawInputs }));
    let mismatches: number | undefined;
    if (request.mode === "program" && request.record) {
        fs.writeFileSync(request.record, JSON.stringify(registered()));
    } else if (request.mode === "baseline" || request.mode === "sdk") {
        const key = (r: RecordedRegistration) => `${r.type}::${r.name}`;
        const sent = new Map(registered().map((r) => [key(r), JSON.stringify(r.rawInputs)]));
        const expected = JSON.parse(fs.readFileSync(request.record!, "utf8")) as RecordedRegistration[];
        mismatches = Math.abs(sent.size - expected.length) + expected.filter((r) => sent.get(key(r)) !== JSON.stringify(r.rawInputs)).length;
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
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        ...(mismatches !== undefined ? { mismatches } : {}),
    };
    process.stdout.write(JSON.stringify(measurement) + "\n");
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
