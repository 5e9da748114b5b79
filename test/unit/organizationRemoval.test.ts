/**
 * What makes removals succeed and keep data, as the engine receives it for the shipped dev stack: every
 * role an organization's apps or Vault can leave objects behind for is deleted through a provider
 * connected to that organization's database; the owner role, the database and the namespace are retained;
 * `adoptExisting` imports exactly those three.
 */
import * as assert from "assert";
import { runPulumi, RunResult } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";
import { retainedOnDelete } from "../support/postgresqlProviderDelete";

type RecordedRun = RunResult<unknown>;

async function devStack(adopt?: string): Promise<RecordedRun> {
    const raw = readStackFile("dev");
    const organizations = (raw.organizations as { name: string }[]).map((o) => (o.name === adopt ? { ...o, adoptExisting: true } : o));
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.createStack();
    }, { stack: "dev", config: { ...raw, organizations } });
}

describe("organization removal, as the engine sees it", () => {
    let run: RecordedRun;
    before(async () => {
        run = await devStack();
    });
    const providerDatabase = (provider?: string) => {
        const name = provider!.slice(0, provider!.lastIndexOf("::")).split("::").pop();
        return run.resources.find((p) => p.type === "pulumi:providers:postgresql" && p.name === name)!.inputs.database;
    };

    it("deletes every login and readwrite/readonly role (Vault admins included) in its organization's database", () => {
        const roles = run.ofType("postgresql:index/role:Role");
        assert.ok(roles.some((r) => r.inputs.name === "initech_vault_admin"), "the dev stack has a Vault admin");
        for (const role of roles) {
            const org = role.inputs.name.split("_")[0];
            const expected = role.inputs.name.endsWith("_owner") ? "postgres" : org;
            assert.strictEqual(providerDatabase(role.provider), expected, role.inputs.name);
        }
        for (const grant of run.ofType("postgresql:index/grantRole:GrantRole")) assert.notStrictEqual(grant.provider, undefined, grant.name);
    });

    it("retains the owner role, the database and the namespace, and nothing else of the organization", () => {
        const retained = run.resources.filter((r) => r.custom && r.name.startsWith("acme") && retainedOnDelete(r, run)).map((r) => `${r.type} ${r.name}`).sort();
        assert.deepStrictEqual(retained, [
            "kubernetes:core/v1:Namespace acme-namespace",
            "postgresql:index/database:Database acme-database-database",
            "postgresql:index/role:Role acme-database-owner",
        ]);
        assert.strictEqual(retainedOnDelete(run.byName("postgresql:index/role:Role", "acme-database-readwrite"), run), false);
        assert.deepStrictEqual(run.resources.filter((r) => r.importId), [], "nothing is imported by default");
    });

    it("adoptExisting imports the kept database, owner role and namespace of that organization only", async () => {
        const adopted = await devStack("globex");
        assert.deepStrictEqual(adopted.resources.filter((r) => r.importId).map((r) => [r.type, r.name, r.importId]).sort(), [
            ["kubernetes:core/v1:Namespace", "globex-namespace", "globex"],
            ["postgresql:index/database:Database", "globex-database-database", "globex"],
            ["postgresql:index/role:Role", "globex-database-owner", "globex_owner"],
        ]);
    });
});
