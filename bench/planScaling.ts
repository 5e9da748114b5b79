/**
 * Benchmark: how the cost of building a stack grows with the number of organizations.
 * Runs the real program under Pulumi mocks for a small and a large fleet in one process and reports
 * ratios (per-organization cost at the large size over the small size; resources per organization),
 * never absolute times as a pass/fail figure. Run: `npm run bench`.
 */
import { performance } from "perf_hooks";
import { runPulumi } from "../testing/offlineRun";

function fleet(organizations: number): Record<string, unknown> {
    return {
        database: { engine: "statefulset", version: "17", tls: "require" },
        organizations: Array.from({ length: organizations }, (_, i) => ({
            name: `org-${i}`,
            apps: [
                { name: "api", access: "owner" },
                { name: "web", access: "readwrite" },
                { name: "reports", access: "readonly" },
            ],
        })),
    };
}

async function measure(organizations: number): Promise<{ ms: number; resources: number }> {
    const start = performance.now();
    const run = await runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../stacks/program") as typeof import("../stacks/program");
        return program.createStack();
    }, { stack: "bench", config: fleet(organizations) });
    return { ms: performance.now() - start, resources: run.resources.filter((r) => r.custom).length };
}

async function main(): Promise<void> {
    const small = Number(process.env.BENCH_SMALL ?? 5);
    const large = Number(process.env.BENCH_LARGE ?? 50);
    await measure(2); // warm-up: module loading and JIT
    const a = await measure(small);
    const b = await measure(large);
    const perOrgSmall = a.ms / small;
    const perOrgLarge = b.ms / large;
    console.log(`organizations: ${small} vs ${large} (3 apps each), measured in one run`);
    console.log(`resources per organization: ${((b.resources - a.resources) / (large - small)).toFixed(1)}`);
    console.log(`per-organization cost ratio (large/small): ${(perOrgLarge / perOrgSmall).toFixed(2)}  (≈1 means linear scaling)`);
    console.log(`total time ratio: ${(b.ms / a.ms).toFixed(2)} for ${large / small}x the organizations`);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
