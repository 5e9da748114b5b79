/**
 * `npm run plan -- diff <base.json> <head.json>`: the PR comment says exactly who gains or loses which
 * access, then which resources change; it stays under the comment limit; `--fail-on-access-change` gates.
 * The plans compared are the real program's (dev stack file, one change applied).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { runPulumi } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";
import { PLAN_FORMAT, PlanJson, buildPlan, stableStringify } from "../../tools/plan/planData";
import { DEFAULT_DIFF_LIMIT, accessChanges, diffPlans } from "../../tools/plan/planDiff";
import { describePlan } from "../../tools/plan/planReport";
import { PlanExtension } from "../../tools/plan/extras";
import { docText } from "../docText";

const ROOT = path.resolve(__dirname, "../..");

function cli(...args: string[]) {
    return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/plan/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120000 });
}

/** The JSON plan (as printed) of the dev stack with `organizations` replaced. */
async function planOf(organizations: any[]): Promise<PlanJson> {
    const raw = readStackFile("dev");
    const run = await runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.createStack();
    }, { stack: "dev", config: { ...raw, organizations } });
    return JSON.parse(stableStringify(buildPlan("dev", run.result, run.resources, { preview: false })));
}

/** The bullet lines of the "Access changes" section. */
function accessSection(markdown: string): string {
    const start = markdown.indexOf("#### Access changes");
    const end = markdown.indexOf("#### Resources");
    assert.ok(start >= 0 && end > start, markdown);
    return markdown.slice(start, end);
}

describe("offline plan diff (npm run plan -- diff)", function () {
    this.timeout(600000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-diff-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const organizations = () => JSON.parse(JSON.stringify(readStackFile("dev").organizations)) as any[];
    let base: PlanJson;
    let readwrite: PlanJson;
    let withoutGlobex: PlanJson;

    before(async () => {
        base = await planOf(organizations());
        const changed = organizations();
        const reporting = changed.find((o) => o.name === "acme").apps.find((a: any) => a.name === "reporting");
        assert.strictEqual(reporting.access, "readonly", "the dev stack's acme/reporting is readonly");
        reporting.access = "readwrite";
        readwrite = await planOf(changed);
        withoutGlobex = await planOf(organizations().filter((o) => o.name !== "globex"));
        fs.writeFileSync(path.join(dir, "base.json"), stableStringify(base));
        fs.writeFileSync(path.join(dir, "readwrite.json"), stableStringify(readwrite));
    });

    it("readonly -> readwrite for one app: exactly that app gains INSERT, UPDATE, DELETE and sequence rights, nothing else", () => {
        const { markdown, accessChanged } = diffPlans(base, readwrite);
        assert.ok(accessChanged);
        const access = accessSection(markdown);
        const appLines = access.split("\n").filter((l) => l.startsWith("- app "));
        assert.deepStrictEqual(appLines, ["- app `reporting` (readonly → readwrite)"], access);
        assert.deepStrictEqual(access.split("\n").filter((l) => l.startsWith("#### Organization")), ["#### Organization `acme`"]);
        const gained = /privileges gained: (.*)/.exec(access)?.[1].split(", ").map((s) => s.replace(/`/g, "")).sort();
        assert.deepStrictEqual(gained, [
            "all sequences in acme.public: UPDATE",
            "all sequences in acme.public: USAGE",
            "all tables in acme.public: DELETE",
            "all tables in acme.public: INSERT",
            "all tables in acme.public: UPDATE",
            "future sequences of acme_owner in acme.public: UPDATE",
            "future sequences of acme_owner in acme.public: USAGE",
            "future tables of acme_owner in acme.public: DELETE",
            "future tables of acme_owner in acme.public: INSERT",
            "future tables of acme_owner in acme.public: UPDATE",
        ]);
        assert.doesNotMatch(access, /privileges lost|IAM|Vault|login (created|removed)/, access);
        // the role change itself is listed under resources, with the field that changed
        assert.match(markdown, /`postgresql:index\/role:Role` `acme-reporting-login-role`: `roles\[0\]` `acme_readonly` → `acme_readwrite`$/m);
    });

    it("is the example the docs show for the pull request comment (docs/operations.md)", () => {
        const readme = docText();
        assert.ok(readme.includes(`\`\`\`\`markdown\n${diffPlans(base, readwrite).markdown}\nPolicy pack:`), "the documented example is this diff, byte for byte");
    });

    it("removing an organization lists it removed with every one of its logins", () => {
        const { markdown } = diffPlans(base, withoutGlobex);
        const access = accessSection(markdown);
        assert.match(access, /#### Organization `globex` removed/);
        const logins = Object.values(base.organizations.globex.apps).map((a) => a.login.name ?? "Vault-generated users");
        assert.ok(logins.length > 0);
        const line = /- logins removed: (.*)/.exec(access)?.[1] ?? "";
        assert.deepStrictEqual(line.split(", ").map((s) => s.replace(/`/g, "")).sort(), [...logins].sort());
        for (const app of Object.keys(base.organizations.globex.apps)) assert.match(access, new RegExp(`- app \`${app}\` removed`));
        assert.doesNotMatch(access, /Organization `acme`|Organization `initech`/, "no other organization changes");
        assert.match(markdown, /#### Resources: 0 added, [1-9]\d* removed/);
        // and the reverse: adding it creates them
        assert.match(accessSection(diffPlans(withoutGlobex, base).markdown), /#### Organization `globex` added\n- logins created: /);
    });

    it("says so in one line when nothing changed", () => {
        const { markdown, accessChanged } = diffPlans(base, base);
        assert.strictEqual(accessChanged, false);
        assert.strictEqual(markdown.trim().split("\n").length, 1);
        assert.match(markdown, /no change/);
    });

    it("stays under 60,000 characters by cutting the resource section first, and says what it left out", () => {
        const many: PlanJson = { ...readwrite, resources: { ...readwrite.resources } };
        for (let i = 0; i < 3000; i++) {
            many.resources[`kubernetes:core/v1:ConfigMap::generated-config-map-number-${i}`] = { type: "kubernetes:core/v1:ConfigMap", name: `generated-config-map-number-${i}`, inputs: { data: { i } } };
        }
        const { markdown } = diffPlans(base, many);
        assert.ok(markdown.length < DEFAULT_DIFF_LIMIT, `${markdown.length} characters`);
        assert.match(markdown, /#### Resources: 3000 added, 0 removed, 1 changed/);
        const cut = /_Cut to stay under 60,000 characters: (\d+) of 3001 resource entries left out/.exec(markdown);
        assert.ok(cut, markdown.slice(-500));
        const shown = markdown.split("\n").filter((l) => l.startsWith("- `")).length;
        assert.strictEqual(Number(cut[1]), 3001 - shown, "the count left out is what is missing");
        // the access section is whole
        assert.ok(markdown.includes(accessSection(diffPlans(base, readwrite).markdown)), "access changes kept in full");
        // a smaller limit: still under it
        assert.ok(diffPlans(base, many, 5000).markdown.length < 5000);
    });

    it("exits 0, or 2 with --fail-on-access-change when access changed; 2 naming a file that is not a plan", () => {
        const b = path.join(dir, "base.json");
        const h = path.join(dir, "readwrite.json");
        let r = cli("diff", b, h);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /#### Access changes/);
        r = cli("diff", b, h, "--fail-on-access-change");
        assert.strictEqual(r.status, 2, r.stderr);
        assert.match(r.stdout, /privileges gained/, "the diff is still printed");
        r = cli("diff", b, b, "--fail-on-access-change");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /no change/);
        const notPlan = path.join(dir, "not-a-plan.json");
        fs.writeFileSync(notPlan, JSON.stringify({ format: "other" }));
        r = cli("diff", b, notPlan);
        assert.strictEqual(r.status, 2);
        assert.match(r.stderr, new RegExp(`not-a-plan\\.json: not a plan of format ${PLAN_FORMAT.replace("/", "\\/")}`));
    });

    it("counts only access, not other resource changes, as access changes", () => {
        const other: PlanJson = JSON.parse(JSON.stringify(base));
        const quota = Object.values(other.resources).find((r) => r.type === "kubernetes:core/v1:ResourceQuota")!;
        (quota.inputs as any).spec.hard.pods = "999";
        assert.deepStrictEqual(accessChanges(base, other), []);
        const { markdown, accessChanged } = diffPlans(base, other);
        assert.strictEqual(accessChanged, false);
        assert.match(markdown, /No access changes/);
        assert.match(markdown, /`spec\.hard\.pods` `\d+` → `999`/);
    });
});

describe("plan extensions (extra lines per organization and app)", function () {
    this.timeout(300000);

    it("appear in the JSON plan's extras and under the organization and app in the text plan", async () => {
        const config = { database: { engine: "statefulset" }, organizations: [{ name: "acme", apps: [{ name: "web", access: "readonly" }] }] };
        const run = await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: "dev", config });
        const extensions: PlanExtension[] = [{
            name: "requests",
            organization: (c) => [`${c.organization.name} has ${c.own.length} resources`],
            app: (c) => [`${c.app.name} may ask for readwrite`],
        }];
        const plan = buildPlan("dev", run.result, run.resources, { preview: false, extensions });
        assert.deepStrictEqual(plan.organizations.acme.apps.web.extras, ["requests: web may ask for readwrite"]);
        assert.match(plan.organizations.acme.extras.join(), /^requests: acme has \d+ resources$/);
        const text = describePlan("dev", run.result, run.resources, { preview: false, stacks: ["dev"], extensions });
        assert.match(text, /^organization acme .*\n {2}requests: acme has \d+ resources$/m);
        assert.match(text, /^ {4}requests: web may ask for readwrite$/m);
        assert.deepStrictEqual(buildPlan("dev", run.result, run.resources, { preview: false }).organizations.acme.apps.web.extras, [], "none registered by default");
    });
});
