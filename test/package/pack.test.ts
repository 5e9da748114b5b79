/**
 * The npm package: `npm run build` emits JavaScript and `.d.ts` for the components and the stack program,
 * the entry points load with plain `node` (no ts-node), and `npm pack` takes exactly the build, the docs,
 * the license and the config schema: no sources, tests, stack files or tools.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import { spawnSync } from "child_process";
import * as yaml from "js-yaml";

const ROOT = path.resolve(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
/** A type-checked build of every component takes ~15 s of CPU; a busy 2-core machine can take minutes. */
const BUILD_LIMIT_MS = 300_000;

function run(command: string, args: string[], timeout: number) {
    const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", timeout, env: process.env });
    assert.strictEqual(result.error, undefined, `${command} ${args.join(" ")}: ${result.error}`);
    assert.strictEqual(result.status, 0, `${command} ${args.join(" ")} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
}

/** Project files below `dir` ending with `.ts` (not `.d.ts`), relative to the project root. */
function sources(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
        .map((f) => path.posix.join(dir, f.split(path.sep).join("/")));
}

describe("npm package", function () {
    this.timeout(BUILD_LIMIT_MS + 60_000);
    let packed: string[];

    before(() => {
        run("npm", ["run", "build"], BUILD_LIMIT_MS);
        const json = run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], 60_000);
        packed = (JSON.parse(json)[0].files as Array<{ path: string }>).map((f) => f.path).sort();
    });

    it("builds JavaScript and declarations of every component, stack and testing module into dist/", () => {
        for (const source of [...sources("components"), ...sources("stacks"), ...sources("testing")]) {
            const base = path.join(ROOT, "dist", source.replace(/\.ts$/, ""));
            assert.ok(fs.existsSync(`${base}.js`) && fs.existsSync(`${base}.d.ts`), `dist/${source} (.js and .d.ts)`);
        }
        assert.ok(!fs.existsSync(path.join(ROOT, "dist", "test")), "tests are not built");
    });

    it("packs exactly the build, README, the docs it links to, LICENSE, CHANGELOG and the config schema", () => {
        const built = [...sources("components"), ...sources("stacks"), ...sources("testing")].flatMap((s) => [`dist/${s.replace(/\.ts$/, ".js")}`, `dist/${s.replace(/\.ts$/, ".d.ts")}`]);
        const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`);
        const expected = [...built, "CHANGELOG.md", "LICENSE", "README.md", ...docs, "package.json", "schema/stack-config.schema.json"].sort();
        assert.deepStrictEqual(packed, expected);
    });

    it("points main, types and exports at files in the package", () => {
        assert.strictEqual(pkg.pulumi, undefined, "no pulumi.resource: there is no postgres-access provider plugin");
        assert.notStrictEqual(pkg.private, true, "packable and publishable");
        const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((e: any) => (typeof e === "string" ? [e] : Object.values(e)))];
        for (const target of targets) assert.ok(packed.includes(path.posix.normalize(target as string)), `${target} is packed`);
    });

    it("loads both entry points with plain node, by package name, without ts-node", () => {
        const script = [
            "const lib = require('postgres-access');",
            "const testing = require('postgres-access/testing');",
            "if (Object.keys(require.cache).some((f) => f.includes('ts-node'))) throw new Error('ts-node loaded');",
            "console.log(JSON.stringify({ organization: typeof lib.Organization, runPulumi: typeof testing.runPulumi, mockOutputs: typeof testing.mockOutputs }));",
        ].join("\n");
        const out = run(process.execPath, ["-e", script], 60_000);
        assert.deepStrictEqual(JSON.parse(out), { organization: "function", runPulumi: "function", mockOutputs: "function" });
    });

    it("takes @pulumi/* from the consumer (caret peer ranges over the exact versions we test with)", () => {
        const pulumi = Object.keys(pkg.devDependencies).filter((d) => d.startsWith("@pulumi/") && pkg.peerDependencies?.[d] !== undefined);
        assert.ok(pulumi.includes("@pulumi/pulumi"));
        for (const name of pulumi) {
            assert.strictEqual(pkg.dependencies?.[name], undefined, `${name} is no direct dependency`);
            assert.strictEqual(pkg.peerDependencies[name], `^${pkg.devDependencies[name]}`, name);
        }
    });

    it("is what Pulumi.yaml runs, with a guard that refuses a build older than its sources", () => {
        const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as any;
        assert.strictEqual(project.main, "dist/stacks/index.js");
        assert.deepStrictEqual(project.runtime.options, { typescript: false, nodeargs: "--require ./tools/requireBuild.js" });
        assert.ok(fs.existsSync(path.join(ROOT, project.main)));
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { staleSources } = require("../../tools/requireBuild.js") as { staleSources(root: string): string[] };
        assert.deepStrictEqual(staleSources(ROOT), [], "a fresh build is current");

        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "postgres-access-guard-"));
        try {
            fs.mkdirSync(path.join(tmp, "tools"));
            fs.copyFileSync(path.join(ROOT, "tools", "requireBuild.js"), path.join(tmp, "tools", "requireBuild.js"));
            fs.mkdirSync(path.join(tmp, "stacks"));
            fs.writeFileSync(path.join(tmp, "stacks", "index.ts"), "export {};\n");
            const preload = () => spawnSync(process.execPath, ["--require", path.join(tmp, "tools", "requireBuild.js"), "-e", "console.log('ran')"], { encoding: "utf8", timeout: 30_000 });
            let r = preload();
            assert.deepStrictEqual([r.status, r.stdout], [1, ""], "no build: the program does not run");
            assert.match(r.stderr, /there is no dist\/; run `npm run build`/);
            fs.mkdirSync(path.join(tmp, "dist", "stacks"), { recursive: true });
            fs.writeFileSync(path.join(tmp, "dist", "stacks", "index.js"), "");
            const past = new Date(Date.now() - 60_000);
            fs.utimesSync(path.join(tmp, "dist", "stacks", "index.js"), past, past);
            r = preload();
            assert.strictEqual(r.status, 1, "a source newer than the build: the program does not run");
            assert.match(r.stderr, /dist\/ is older than stacks\/index\.ts/);
            fs.utimesSync(path.join(tmp, "dist", "stacks", "index.js"), new Date(), new Date());
            r = preload();
            assert.deepStrictEqual([r.status, r.stdout.trim()], [0, "ran"], "a current build runs");
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});
