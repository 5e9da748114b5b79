/**
 * OrganizationDatabase on its own under mocks (up and preview): NOLOGIN group roles with no elevated
 * attributes, a database owned by the owner role, nothing for PUBLIC, and exactly the documented grants
 * and default privileges, all through the explicit provider it is given.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { RecordedResource, RunResult, runPulumi, valueOf } from "../../testing/offlineRun";
import { OrganizationDatabase, OrganizationDatabaseArgs, TABLE_PRIVILEGES, SEQUENCE_PRIVILEGES } from "../../components/postgres/organizationDatabase";
import { organizationNames } from "../../components/naming";
import { T } from "./helpers";

const ELEVATED = ["superuser", "createDatabase", "createRole", "replication", "bypassRowLevelSecurity"];
const NAMES = organizationNames("acme-corp");

interface Result { privilegesReady: string[]; databaseName?: string }

function runDatabase(preview: boolean, extra: Partial<OrganizationDatabaseArgs> = {}): Promise<RunResult<Result>> {
    return runPulumi(async () => {
        const provider = new postgresql.Provider("pg-admin", { host: "localhost", port: 5432, username: "postgres", password: pulumi.secret("admin-pw"), sslmode: "require", superuser: true });
        const db = new OrganizationDatabase("acme-corp-database", { names: NAMES, connectionLimit: 40, ...extra }, { provider });
        // names of the resources app logins wait for (URNs are known in preview too)
        const privilegesReady = await Promise.all(db.privilegesReady.map(async (r) => (await valueOf(r.urn)).split("::").pop()!));
        return { privilegesReady, databaseName: preview ? undefined : await valueOf(db.databaseName) };
    }, { preview });
}

/** `privileges on objectType` of the grants to `role`. */
function grantsTo(run: RunResult<unknown>, role: string): string[] {
    return run.ofType(T.grant).filter((g) => g.inputs.role === role).map((g) => `${g.inputs.objectType}:${(g.inputs.privileges as string[]).join(",")}`).sort();
}

for (const preview of [false, true]) {
    describe(`OrganizationDatabase (${preview ? "preview" : "up"})`, function () {
        this.timeout(30000);
        let run: RunResult<Result>;
        let pg: RecordedResource[];
        before(async () => {
            run = await runDatabase(preview);
            pg = run.resources.filter((r) => r.type.startsWith("postgresql:index/"));
        });

        it("sends every database resource through the explicit provider it was given", () => {
            const [provider] = run.ofType(T.postgresProvider);
            assert.strictEqual(pg.length, 3 + 1 + 2 + 1 + 2 * 6, "roles, database, revokes, owner schema, 6 per group");
            for (const r of pg) {
                assert.ok(r.provider, `${r.type} ${r.name} has an explicit provider`);
                const cut = r.provider!.lastIndexOf("::");
                const [urn, id] = [r.provider!.slice(0, cut), r.provider!.slice(cut + 2)];
                assert.match(urn, /::pulumi:providers:postgresql::pg-admin$/, `${r.type} ${r.name} uses ${r.provider}`);
                if (!preview) assert.strictEqual(id, provider.id);
            }
            assert.ok(provider.secretPaths.includes("password"), "the admin password reaches the provider as a secret");
        });

        it("creates the owner, readwrite and readonly group roles: NOLOGIN, no elevated attribute", () => {
            const roles = run.ofType(T.role);
            assert.deepStrictEqual(roles.map((r) => r.inputs.name).sort(), ["acme_corp_owner", "acme_corp_readonly", "acme_corp_readwrite"]);
            for (const r of roles) {
                assert.strictEqual(r.inputs.login, false, `${r.inputs.name} cannot log in`);
                for (const flag of ELEVATED) assert.strictEqual(r.inputs[flag], false, `${r.inputs.name}.${flag}`);
                assert.ok(!r.inputs.roles?.length, `${r.inputs.name} is a member of nothing`);
                assert.strictEqual(r.inputs.password, undefined);
            }
        });

        it("creates the organization's database owned by the owner role, with its connection limit", () => {
            const [db] = run.ofType(T.database);
            assert.strictEqual(db.inputs.name, "acme_corp");
            assert.strictEqual(db.inputs.owner, "acme_corp_owner");
            assert.strictEqual(db.inputs.connectionLimit, 40);
            assert.strictEqual(db.inputs.template, "template0", "nothing inherited from a modified template1");
            if (!preview) assert.strictEqual(run.result.databaseName, "acme_corp");
        });

        it("revokes everything from PUBLIC on the database and on schema public (privileges [])", () => {
            const toPublic = run.ofType(T.grant).filter((g) => g.inputs.role === "public");
            assert.deepStrictEqual(toPublic.map((g) => [g.inputs.objectType, g.inputs.database, g.inputs.schema, g.inputs.privileges]).sort(), [
                ["database", "acme_corp", undefined, []],
                ["schema", "acme_corp", "public", []],
            ]);
        });

        it("grants readwrite and readonly exactly CONNECT, USAGE and their table/sequence privileges on every object", () => {
            assert.deepStrictEqual(grantsTo(run, "acme_corp_readwrite"), ["database:CONNECT", "schema:USAGE", "sequence:USAGE,SELECT,UPDATE", "table:SELECT,INSERT,UPDATE,DELETE"]);
            assert.deepStrictEqual(grantsTo(run, "acme_corp_readonly"), ["database:CONNECT", "schema:USAGE", "sequence:SELECT", "table:SELECT"]);
            assert.deepStrictEqual(TABLE_PRIVILEGES.readonly, ["SELECT"]);
            assert.deepStrictEqual(SEQUENCE_PRIVILEGES.readonly, ["SELECT"]);
            for (const g of run.ofType(T.grant).filter((x) => ["table", "sequence"].includes(x.inputs.objectType))) {
                assert.deepStrictEqual(g.inputs.objects, [], `${g.name}: all objects in the schema`);
                assert.strictEqual(g.inputs.schema, "public");
                assert.strictEqual(g.inputs.database, "acme_corp");
            }
            for (const g of run.ofType(T.grant)) {
                assert.ok(!g.inputs.withGrantOption, `${g.name} gives no grant option`);
                assert.ok(!(g.inputs.privileges as string[]).some((p) => ["ALL", "TRUNCATE", "REFERENCES", "TRIGGER", "TEMPORARY", "TEMP"].includes(p)), `${g.name}: ${g.inputs.privileges}`);
            }
        });

        it("lets only the owner create in schema public", () => {
            const creators = run.ofType(T.grant).filter((g) => (g.inputs.privileges as string[]).includes("CREATE"));
            assert.deepStrictEqual(creators.map((g) => `${g.inputs.role}:${g.inputs.objectType}:${g.inputs.schema}`), ["acme_corp_owner:schema:public"]);
        });

        it("sets default privileges on what the owner role creates, for readwrite and readonly", () => {
            const defaults = run.ofType(T.defaultPrivileges).map((d) => d.inputs);
            assert.strictEqual(defaults.length, 4);
            for (const d of defaults) {
                assert.strictEqual(d.owner, "acme_corp_owner", "objects created by (or as) the owner role");
                assert.strictEqual(d.database, "acme_corp");
                assert.strictEqual(d.schema, "public");
            }
            const by = Object.fromEntries(defaults.map((d) => [`${d.role}:${d.objectType}`, d.privileges]));
            assert.deepStrictEqual(by, {
                "acme_corp_readwrite:table": ["SELECT", "INSERT", "UPDATE", "DELETE"],
                "acme_corp_readwrite:sequence": ["USAGE", "SELECT", "UPDATE"],
                "acme_corp_readonly:table": ["SELECT"],
                "acme_corp_readonly:sequence": ["SELECT"],
            });
        });

        it("makes app logins wait for every grant and default privilege (privilegesReady)", () => {
            const expected = [...run.ofType(T.grant), ...run.ofType(T.defaultPrivileges)].filter((r) => r.inputs.role !== "public").map((r) => r.name).sort();
            assert.deepStrictEqual([...run.result.privilegesReady].sort(), expected);
        });

        it("makes no admin a member of anything when the admin is a superuser", () => {
            assert.strictEqual(run.ofType(T.grantRole).length, 0);
        });
    });
}

describe("OrganizationDatabase with a non-superuser admin (RDS)", function () {
    this.timeout(30000);

    it("makes the admin a member of the owner role (without ADMIN OPTION), so REVOKE … FROM PUBLIC takes effect", async () => {
        const run = await runDatabase(false, { nonSuperuserAdmin: "pgadmin" });
        const memberships = run.ofType(T.grantRole).map((r) => r.inputs);
        assert.deepStrictEqual(memberships, [{ role: "pgadmin", grantRole: "acme_corp_owner", withAdminOption: false }]);
    });
});
