/**
 * The benchmark's wired SDK floor (bench/replay.ts): replaying the recorded resources of a fleet of 3
 * organizations (every credential source and delivery mode) through the provider SDK classes with the
 * recorded options reaches the engine as the program did (inputs, provider, dependencies, property
 * dependencies, options), and the replay check notices a registration that differs in any of them: the
 * floor without options (`sdk`), and a record that says something else than what was sent.
 */
import * as assert from "assert";
import { runPulumi } from "../../testing/offlineRun";
import { fleetConfig } from "../../bench/fleet";
import { mismatches, prepareReplay, recordOf, type RecordedRegistration } from "../../bench/replay";

describe("bench: the wired SDK floor replays the program's wiring", function () {
    let recorded: RecordedRegistration[];
    let wired: RecordedRegistration[];

    before(async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        const run = await runPulumi(() => program.stackExports(program.createStack()), { stack: "bench", config: fleetConfig(3) });
        recorded = JSON.parse(JSON.stringify(recordOf(run.resources))) as RecordedRegistration[];
        wired = recordOf((await runPulumi(prepareReplay("wired", recorded), { stack: "bench" })).resources);
    });

    it("registers every resource with the program's inputs, provider, dependencies and options", () => {
        assert.ok(recorded.some((r) => r.provider) && recorded.some((r) => r.dependencies.length > 0), "the fleet wires its resources");
        assert.ok(recorded.some((r) => r.protect !== undefined || r.retainOnDelete !== undefined), "the fleet sets lifecycle options");
        assert.deepStrictEqual(mismatches("wired", recorded, wired), []);
    });

    it("the wiring check fails the floor without options (sdk)", async () => {
        const sdk = recordOf((await runPulumi(prepareReplay("sdk", recorded), { stack: "bench" })).resources);
        assert.deepStrictEqual(mismatches("sdk", recorded, sdk), []);
        const problems = mismatches("wired", recorded, sdk);
        for (const field of ["provider", "dependencies", "propertyDependencies", "retainOnDelete"]) {
            assert.ok(problems.some((p) => p.includes(`: ${field} `)), `no ${field} difference among ${problems.length}`);
        }
    });

    it("names each field a registration differs in from the record", () => {
        const wrong = JSON.parse(JSON.stringify(recorded)) as RecordedRegistration[];
        const providers = wrong.filter((r) => r.type === "pulumi:providers:postgresql");
        const onProvider = wrong.find((r) => r.provider?.startsWith(`${providers[1].urn}::`))!;
        onProvider.provider = `${providers[2].urn}::x`;
        const withInputDependency = wrong.find((r) => !r.type.startsWith("pulumi:") && Object.values(r.propertyDependencies).some((u) => u.length > 0) && r !== onProvider)!;
        const [property] = Object.entries(withInputDependency.propertyDependencies).find(([, urns]) => urns.length > 0)!;
        withInputDependency.propertyDependencies[property] = [];
        const grant = wrong.find((r) => r.type === "postgresql:index/grant:Grant" && r !== onProvider && r !== withInputDependency)!;
        grant.protect = !grant.protect;
        grant.rawInputs = { ...grant.rawInputs, role: "someone-else" };
        const problems = mismatches("wired", wrong, wired);
        assert.ok(problems.some((p) => p.startsWith(`${onProvider.type}::${onProvider.name}: provider "pulumi:providers:postgresql::${providers[1].name}"`)), problems.join("\n"));
        assert.ok(problems.some((p) => p.startsWith(`${withInputDependency.type}::${withInputDependency.name}: propertyDependencies`)), problems.join("\n"));
        assert.ok(problems.includes(`${grant.type}::${grant.name}: inputs differ`), problems.join("\n"));
        assert.ok(problems.some((p) => p.startsWith(`${grant.type}::${grant.name}: protect`)), problems.join("\n"));
        assert.strictEqual(problems.length, 4, problems.join("\n"));
        assert.ok(mismatches("wired", wrong.slice(1), wired).includes(`${recorded[0].type}::${recorded[0].name}: not registered by the program`));
    });
});
