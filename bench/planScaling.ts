/**
 * Benchmark (`npm run bench [-- --sizes 10,100 --runtime js|ts --startup N --stack-trace-limit F --split K]`): the stack program under
 * the mock runner against the SDK floor, for fleets of N organizations (3 apps each, every access level,
 * credential source and delivery mode; bench/fleet.ts). For each N, in its own child process each:
 * 1. the program (records the custom resources it registered),
 * 2. the SDK floor: the same resources with the same inputs, each through its provider SDK class
 *    (`new postgresql.Role(...)`), no components: what any program registering them pays; the
 *    component layer's cost is the program's over this;
 * 3. the registration floor: the same as plain `pulumi.CustomResource`s (no provider classes).
 * Both replays check they registered exactly what the program did (type, name, inputs).
 * Reports registrations, time per registration, peak RSS, program/floor ratios and growth between
 * sizes; `--split K` adds the evaluation of one organizations stack holding K of the organizations (a split
 * environment, `postgres-access:split`) and of its platform stack, per size; `--startup N` adds precompiled JavaScript vs transpile-only TypeScript, with and without the
 * SDK's per-registration source positions, and with node's default stack trace limit instead of the
 * program's (stacks/stackTraces.ts), for the program at N organizations. `--stack-trace-limit F` runs the
 * table with `Error.stackTraceLimit = F` in the program and both floors (10: as before that setting).
 * Printed as Markdown (docs/operations.md "Performance and large stacks" keeps the latest). The machine is shared: compare ratios from one run.
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
const perRegistration = (m: Measurement) => `${((m.evalMs * 1000) / m.registrations).toFixed(0)}`;
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(" / ");

async function main(): Promise<void> {
    const sizes = (option("sizes") ?? "10,100,500").split(",").map(Number);
    const runtime = (option("runtime") ?? "js") as Runtime;
    const startup = option("startup") ? Number(option("startup")) : undefined;
    const stackTraceLimit = option("stack-trace-limit") !== undefined ? Number(option("stack-trace-limit")) : undefined;
    if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !["js", "ts"].includes(runtime)) {
        throw new Error("usage: npm run bench -- [--sizes 10,100,500] [--runtime js|ts] [--startup 100] [--split 100]");
    }
    const loadBefore = load();
    buildJavaScript();
    const record = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-")), "registrations.json");
    const rows: Array<{ program: Measurement; sdk: Measurement; baseline: Measurement }> = [];
    console.log(`Runtime ${runtime}, node ${process.version}, ${os.cpus().length} CPUs, Error.stackTraceLimit ${stackTraceLimit ?? "as the program sets it (0)"}; load average (1/5/15 min) ${loadBefore} at the start.\n`);
    console.log("| orgs | registrations (resources + components) | program s | SDK floor s | plain floor s | time ratio to SDK / plain | peak RSS MB program / SDK / plain | memory ratio to SDK / plain | invokes | deepest resource |");
    console.log("|---:|---|---:|---:|---:|---|---|---|---:|---:|");
    for (const organizations of sizes) {
        const p = measure(runtime, { mode: "program", organizations, record, stackTraceLimit });
        const k = measure(runtime, { mode: "sdk", organizations, record, stackTraceLimit });
        const b = measure(runtime, { mode: "baseline", organizations, record, stackTraceLimit });
        for (const replay of [k, b]) {
            if (replay.mismatches !== 0) throw new Error(`bench: the ${replay.mode} replay registered ${replay.mismatches} resources differently from the program`);
        }
        rows.push({ program: p, sdk: k, baseline: b });
        const invokes = Object.values(p.invokes).reduce((a, n) => a + n, 0);
        console.log(`| ${p.organizations} | ${p.registrations} (${p.resources} + ${p.components}) | ${s(p.evalMs)} | ${s(k.evalMs)} | ${s(b.evalMs)} | ${ratio(p.evalMs, k.evalMs)} / ${ratio(p.evalMs, b.evalMs)} | ${p.peakRssMb.toFixed(0)} / ${k.peakRssMb.toFixed(0)} / ${b.peakRssMb.toFixed(0)} | ${ratio(p.peakRssMb, k.peakRssMb)} / ${ratio(p.peakRssMb, b.peakRssMb)} | ${invokes} | ${p.maxDepth} levels |`);
    }
    console.log(`\nLoad average at the end: ${load()}.`);
    for (let i = 1; i < rows.length; i++) {
        const [a, b] = [rows[i - 1], rows[i]];
        const factor = b.program.organizations / a.program.organizations;
        const marginal = (b.program.evalMs - a.program.evalMs) / (b.sdk.evalMs - a.sdk.evalMs);
        console.log(`\nGrowth ${a.program.organizations} → ${b.program.organizations} organizations (${factor}×): program time ${ratio(b.program.evalMs, a.program.evalMs)}×, SDK floor ${ratio(b.sdk.evalMs, a.sdk.evalMs)}×, plain floor ${ratio(b.baseline.evalMs, a.baseline.evalMs)}×, program peak RSS ${ratio(b.program.peakRssMb, a.program.peakRssMb)}×, registrations ${ratio(b.program.registrations, a.program.registrations)}×; time per added registration, program/SDK floor ${marginal.toFixed(2)}.`);
    }
    const split = option("split") !== undefined ? Number(option("split")) : undefined;
    if (split !== undefined) {
        // One environment of N organizations, split: the platform stack, and one organizations stack that
        // holds `split` of them (the others would be in further organizations stacks).
        console.log(`\nSplit environment (postgres-access:split): one organizations stack holding ${split} organizations, as the environment grows:\n`);
        console.log("| environment orgs | whole stack s / peak RSS MB | platform stack s / peak RSS MB | organizations stack s / peak RSS MB | its registrations |");
        console.log("|---:|---|---|---|---:|");
        const platform = measure(runtime, { mode: "platform", organizations: 0, stackTraceLimit });
        for (const row of rows) {
            const total = row.program.organizations;
            const o = measure(runtime, { mode: "organizations", organizations: total, stackOrganizations: Math.min(split, total), stackTraceLimit });
            console.log(`| ${total} | ${s(row.program.evalMs)} / ${row.program.peakRssMb.toFixed(0)} | ${s(platform.evalMs)} / ${platform.peakRssMb.toFixed(0)} | ${s(o.evalMs)} / ${o.peakRssMb.toFixed(0)} | ${o.registrations} |`);
        }
    }
    const invokeCounts = rows.map((r) => Object.values(r.program.invokes).reduce((a, n) => a + n, 0));
    console.log(`\nProvider invokes per run: ${invokeCounts.join(", ")} (${new Set(invokeCounts).size === 1 ? "the same at every size: none per organization" : "they grow with the organizations"}).`);
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
