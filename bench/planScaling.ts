/**
 * Benchmark (`npm run bench [-- --sizes 10,100 --runs 3 --runtime js|ts --startup N --stack-trace-limit F --split K --counts N]`):
 * the stack program under the mock runner against three floors, for fleets of N organizations (3 apps
 * each, every access level, credential source and delivery mode; bench/fleet.ts). Each measurement runs in
 * its own child process (bench/measure.ts), the floors replaying what the program registered (bench/replay.ts):
 * 1. the program (records the custom resources it registered and how: provider, dependencies, options),
 * 2. the wired SDK floor (`wired`): the same resources with the same inputs through their provider SDK
 *    classes, no components, with every option the program sent except the component layer's own (parent,
 *    aliases): explicit providers, dependencies, inputs as Outputs carrying the same property dependencies,
 *    additionalSecretOutputs, ignoreChanges, protect, retainOnDelete, deletedWith, import. What a flat
 *    program registering and wiring these resources pays: the component layer's cost is the program's over this;
 * 3. the SDK floor (`sdk`): the same through the classes with no options at all;
 * 4. the plain floor (`baseline`): the same as plain `pulumi.CustomResource`s, no options.
 * Every replay checks it registered what the program did (type, name, inputs; `wired` also provider,
 * dependencies, property dependencies and options, by type and name); a difference fails the bench.
 * The machine is shared and one run varies by ±15%: each size runs `--runs` rounds (default 3) of
 * program, wired, SDK, plain in turn (P W S B P W S B …), so load hits them alike; the table shows the
 * median evaluation time, CPU time (user + system during evaluation) and peak RSS of each, and the median
 * of each round's program/floor ratios. Growth between sizes uses the medians.
 * `--split K` adds the evaluation of one organizations stack holding K of the organizations (a split
 * environment, `postgres-access:split`) and of its platform stack, per size (medians of `--runs`);
 * `--startup N` adds precompiled JavaScript vs transpile-only TypeScript, with and without the SDK's
 * per-registration source positions, and with node's default stack trace limit instead of the program's
 * (stacks/stackTraces.ts), for the program at N organizations (one run each); `--counts N` adds, for the
 * program and the wired floor at N organizations, the promises created and the stack frames captured per
 * registration (counted, so independent of the machine's load) and the evaluation time with the SDK's
 * source positions captured and skipped. `--stack-trace-limit F` runs
 * the table with `Error.stackTraceLimit = F` in the program and the floors (10: as before that setting).
 * Printed as Markdown (docs/operations.md "Performance and large stacks" keeps the latest), with the load
 * averages: compare ratios from one run.
 *
 * Runtimes: `js` (default, what `pulumi up` runs: Pulumi.yaml `main: dist/stacks/index.js`) transpiles
 * components/, stacks/ and bench/ to .bench-build/ with TypeScript (no type check: the same JavaScript
 * `npm run build` emits) and runs it with plain node plus source-map-support, as Pulumi's language host
 * does; `ts` runs the TypeScript through ts-node transpile-only (Pulumi.yaml `typescript: true`).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import type { Measurement, MeasureRequest } from "./measure";

type Runtime = "js" | "ts";
const ROOT = path.resolve(__dirname, "..");
const BUILD = path.join(ROOT, ".bench-build");
/** Folders the measurement needs, transpiled for the `js` runtime (testing/: the runner's future home). */
const SOURCE_DIRS = ["components", "stacks", "bench", "testing"];

function option(name: string): string | undefined {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Transpiles the sources to .bench-build/ (CommonJS, as tsconfig's node16 emits for this package). */
function buildJavaScript(): void {
    fs.rmSync(BUILD, { recursive: true, force: true });
    for (const dir of SOURCE_DIRS) {
        const base = path.join(ROOT, dir);
        if (!fs.existsSync(base)) continue;
        for (const file of fs.readdirSync(base, { recursive: true, encoding: "utf8" })) {
            if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue;
            const source = fs.readFileSync(path.join(base, file), "utf8");
            const out = ts.transpileModule(source, {
                fileName: file,
                compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, strict: true },
            });
            const target = path.join(BUILD, dir, file.replace(/\.ts$/, ".js"));
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, out.outputText);
        }
    }
}

function measure(runtime: Runtime, request: MeasureRequest): Measurement {
    const args = runtime === "js"
        ? ["-r", "source-map-support/register", path.join(BUILD, "bench", "measure.js")]
        : ["-r", "ts-node/register/transpile-only", path.join(ROOT, "bench", "measure.ts")];
    const out = execFileSync(process.execPath, [...args, JSON.stringify(request)], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, POSTGRES_ACCESS_NOW: process.env.POSTGRES_ACCESS_NOW ?? "2026-12-01T00:00:00Z" },
    });
    return JSON.parse(out.trim().split("\n").pop()!) as Measurement;
}

const s = (ms: number) => (ms / 1000).toFixed(1);
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(" / ");
const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The measured modes of one size, in the order each round runs them. */
const MODES = ["program", "wired", "sdk", "baseline"] as const;
type Mode = (typeof MODES)[number];
type Round = Record<Mode, Measurement>;
type Metric = "evalMs" | "peakRssMb" | "cpuMs";

/** One size's rounds, summarized: medians of each mode's measurements and of the per-round ratios. */
interface Row {
    rounds: Round[];
    /** The program's first measurement (counts, invokes, depth: the same every round). */
    program: Measurement;
    median(mode: Mode, metric: Metric): number;
    /** Median over the rounds of program/`floor` for `metric`. */
    ratio(floor: Mode, metric: Metric): number;
    spread(mode: Mode, metric: Metric): [number, number];
}

function summarize(rounds: Round[]): Row {
    const values = (mode: Mode, metric: Metric) => rounds.map((r) => r[mode][metric]);
    return {
        rounds,
        program: rounds[0].program,
        median: (mode, metric) => median(values(mode, metric)),
        ratio: (floor, metric) => median(rounds.map((r) => r.program[metric] / r[floor][metric])),
        spread: (mode, metric) => [Math.min(...values(mode, metric)), Math.max(...values(mode, metric))],
    };
}

/** `runs` rounds of program, wired floor, SDK floor and plain floor in turn (P W S B P W S B …). */
function measureSize(runtime: Runtime, organizations: number, runs: number, record: string, stackTraceLimit: number | undefined): Row {
    const rounds: Round[] = [];
    for (let i = 0; i < runs; i++) {
        const round = {} as Round;
        for (const mode of MODES) {
            round[mode] = measure(runtime, { mode, organizations, record: record, stackTraceLimit });
            const m = round[mode];
            if (m.mismatches !== undefined && m.mismatches !== 0) {
                throw new Error(`bench: the ${mode} replay registered ${m.mismatches} resources differently from the program, e.g.\n${m.mismatchExamples!.join("\n")}`);
            }
        }
        rounds.push(round);
    }
    return summarize(rounds);
}

async function main(): Promise<void> {
    const sizes = (option("sizes") ?? "10,100,500").split(",").map(Number);
    const runtime = (option("runtime") ?? "js") as Runtime;
    const runs = Number(option("runs") ?? 3);
    const startup = option("startup") ? Number(option("startup")) : undefined;
    const counts = option("counts") ? Number(option("counts")) : undefined;
    const stackTraceLimit = option("stack-trace-limit") !== undefined ? Number(option("stack-trace-limit")) : undefined;
    if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !["js", "ts"].includes(runtime) || !Number.isInteger(runs) || runs < 1) {
        throw new Error("usage: npm run bench -- [--sizes 10,100,500] [--runs 3] [--runtime js|ts] [--startup 100] [--split 100] [--counts 100] [--stack-trace-limit 10]");
    }
    const loadBefore = load();
    buildJavaScript();
    const record = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-")), "registrations.json");
    const rows: Row[] = [];
    console.log(`Runtime ${runtime}, node ${process.version}, ${os.cpus().length} CPUs, Error.stackTraceLimit ${stackTraceLimit ?? "as the program sets it (0)"}; load average (1/5/15 min) ${loadBefore} at the start.`);
    console.log(`${runs} rounds per size of program (P), wired SDK floor (W), SDK floor (S), plain floor (B) in turn; medians over the rounds, ratios the median of each round's program/floor.\n`);
    console.log("| orgs | registrations (resources + components) | program s (min–max) | wired s | SDK s | plain s | time ratio to wired / SDK / plain | CPU s program / wired | CPU ratio to wired | peak RSS MB program / wired / SDK / plain | memory ratio to wired / SDK / plain | invokes | deepest resource | load 1 min after |");
    console.log("|---:|---|---:|---:|---:|---:|---|---|---:|---|---|---:|---:|---:|");
    for (const organizations of sizes) {
        const row = measureSize(runtime, organizations, runs, record, stackTraceLimit);
        rows.push(row);
        const p = row.program;
        const t = (mode: Mode) => s(row.median(mode, "evalMs"));
        const mb = (mode: Mode) => row.median(mode, "peakRssMb").toFixed(0);
        const [fast, slow] = row.spread("program", "evalMs");
        const invokes = Object.values(p.invokes).reduce((a, n) => a + n, 0);
        console.log(`| ${p.organizations} | ${p.registrations} (${p.resources} + ${p.components}) | ${t("program")} (${s(fast)}–${s(slow)}) | ${t("wired")} | ${t("sdk")} | ${t("baseline")} | ${(["wired", "sdk", "baseline"] as const).map((f) => row.ratio(f, "evalMs").toFixed(2)).join(" / ")} | ${s(row.median("program", "cpuMs"))} / ${s(row.median("wired", "cpuMs"))} | ${row.ratio("wired", "cpuMs").toFixed(2)} | ${MODES.map(mb).join(" / ")} | ${(["wired", "sdk", "baseline"] as const).map((f) => row.ratio(f, "peakRssMb").toFixed(2)).join(" / ")} | ${invokes} | ${p.maxDepth} levels | ${os.loadavg()[0].toFixed(1)} |`);
    }
    console.log(`\nLoad average at the end: ${load()}.`);
    for (let i = 1; i < rows.length; i++) {
        const [a, b] = [rows[i - 1], rows[i]];
        const factor = b.program.organizations / a.program.organizations;
        const growth = (mode: Mode, metric: Metric) => ratio(b.median(mode, metric), a.median(mode, metric));
        const marginal = (floor: Mode) => ((b.median("program", "evalMs") - a.median("program", "evalMs")) / (b.median(floor, "evalMs") - a.median(floor, "evalMs"))).toFixed(2);
        console.log(`\nGrowth ${a.program.organizations} → ${b.program.organizations} organizations (${factor}×), medians: program time ${growth("program", "evalMs")}×, wired floor ${growth("wired", "evalMs")}×, SDK floor ${growth("sdk", "evalMs")}×, plain floor ${growth("baseline", "evalMs")}×, program peak RSS ${growth("program", "peakRssMb")}×, registrations ${ratio(b.program.registrations, a.program.registrations)}×; time per added registration, program/wired floor ${marginal("wired")}, program/SDK floor ${marginal("sdk")}.`);
    }
    const split = option("split") !== undefined ? Number(option("split")) : undefined;
    if (split !== undefined) {
        // One environment of N organizations, split: the platform stack, and one organizations stack that
        // holds `split` of them (the others would be in further organizations stacks).
        console.log(`\nSplit environment (postgres-access:split): one organizations stack holding ${split} organizations, as the environment grows (medians of ${runs} runs):\n`);
        console.log("| environment orgs | whole stack s / peak RSS MB | platform stack s / peak RSS MB | organizations stack s / peak RSS MB | its registrations |");
        console.log("|---:|---|---|---|---:|");
        const repeat = (request: MeasureRequest) => Array.from({ length: runs }, () => measure(runtime, request));
        const cell = (ms: Measurement[]) => `${s(median(ms.map((m) => m.evalMs)))} / ${median(ms.map((m) => m.peakRssMb)).toFixed(0)}`;
        const platform = repeat({ mode: "platform", organizations: 0, stackTraceLimit });
        for (const row of rows) {
            const total = row.program.organizations;
            const o = repeat({ mode: "organizations", organizations: total, stackOrganizations: Math.min(split, total), stackTraceLimit });
            console.log(`| ${total} | ${s(row.median("program", "evalMs"))} / ${row.median("program", "peakRssMb").toFixed(0)} | ${cell(platform)} | ${cell(o)} | ${o[0].registrations} |`);
        }
    }
    const invokeCounts = rows.map((r) => Object.values(r.program.invokes).reduce((a, n) => a + n, 0));
    console.log(`\nProvider invokes per run: ${invokeCounts.join(", ")} (${new Set(invokeCounts).size === 1 ? "the same at every size: none per organization" : "they grow with the organizations"}).`);
    if (counts !== undefined) {
        // The SDK's work, counted (deterministic), and what the per-registration stacks cost in time.
        console.log(`\nThe SDK's work at ${counts} organizations, program against the wired floor (promises and frames counted in one run each; evaluation times medians of ${runs} runs):\n`);
        console.log("| | registrations | promises | stack frames captured per registration | evaluation s, source positions captured / skipped |");
        console.log("|---|---:|---:|---:|---|");
        measure(runtime, { mode: "program", organizations: counts, record, stackTraceLimit });
        const cells: string[] = [];
        for (const mode of ["program", "wired"] as const) {
            const c = measure(runtime, { mode, organizations: counts, record, stackTraceLimit, counts: true });
            const time = (sourcePositions: boolean) => s(median(Array.from({ length: runs }, () => measure(runtime, { mode, organizations: counts, record, stackTraceLimit, sourcePositions }).evalMs)));
            cells.push(`| ${mode === "program" ? "program" : "wired floor"} | ${c.registrations} | ${c.promises} | ${c.framesPerRegistration!.toFixed(1)} | ${time(true)} / ${time(false)} |`);
        }
        console.log(cells.join("\n"));
    }
    if (startup !== undefined) {
        console.log(`\nStart-up and source positions, program at ${startup} organizations:\n`);
        console.log("| runtime | Error.stackTraceLimit | source positions | load s | evaluation s | peak RSS MB |");
        console.log("|---|---|---|---:|---:|---:|");
        const variants: Array<[Runtime, number | undefined, boolean]> = [["js", undefined, true], ["js", undefined, false], ["js", 10, true], ["ts", undefined, true], ["ts", 10, true]];
        for (const [rt, limit, sourcePositions] of variants) {
            const m = measure(rt, { mode: "program", organizations: startup, sourcePositions, stackTraceLimit: limit });
            console.log(`| ${rt === "js" ? "precompiled JavaScript" : "ts-node transpile-only"} | ${limit ?? "0 (program default)"} | ${sourcePositions ? "captured (SDK default)" : "skipped"} | ${s(m.loadMs)} | ${s(m.evalMs)} | ${m.peakRssMb.toFixed(0)} |`);
        }
    }
    fs.rmSync(path.dirname(record), { recursive: true, force: true });
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
