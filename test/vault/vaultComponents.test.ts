/**
 * The Vault components under mocks, with the resource options they register (captured by a
 * transformation on the engine, which its children inherit): the admin Role must ignore `roles`, one
 * ADMIN OPTION grant per managed role, one connection per organization; and the derived admin name.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as vault from "@pulumi/vault";
import { runPulumi } from "../../testing/offlineRun";
import { VaultDatabaseEngine } from "../../components/vault/vaultDatabaseEngine";
import { VaultOrganizationConnection, VaultOrganizationConnectionArgs } from "../../components/vault/vaultOrganizationConnection";
import { PostgresServer } from "../../components/database/postgresServer";
import { PG_IDENTIFIER_MAX_BYTES, derivedNameProblems, vaultAdminRoleName } from "../../components/naming";
import { ConfigError, parseStackConfig } from "../../components/config";

interface Captured { type: string; name: string; opts: pulumi.CustomResourceOptions }

function fakeServer(majorVersion: string): PostgresServer {
    return {
        engine: "statefulset",
        majorVersion,
        host: pulumi.output("postgres.postgres.svc.cluster.local"),
        port: pulumi.output(5432),
        adminUsername: pulumi.output("postgres"),
        adminPassword: pulumi.secret("admin-password"),
        adminIsSuperuser: true,
        caCertPem: pulumi.output("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
        tls: "require",
    };
}

type OrganizationSpec = Omit<VaultOrganizationConnectionArgs, "mount" | "server" | "dependsOn" | "postgresProvider">;

const acme: OrganizationSpec = {
    organization: "acme",
    database: "acme",
    adminRole: "acme_vault_admin",
    connectionName: "acme",
    allowedRoles: ["acme-dev-analytics", "acme-dev-dashboards"],
    // two dynamic apps on the same group
    dynamicGroupRoles: ["acme_readonly", "acme_readonly"],
};

async function engineRun(majorVersion: string) {
    const captured: Captured[] = [];
    const run = await runPulumi(() => {
        const transformations: pulumi.ResourceTransformation[] = [(args) => {
            captured.push({ type: args.type, name: args.name, opts: args.opts as pulumi.CustomResourceOptions });
            return undefined;
        }];
        const vaultProvider = new vault.Provider("vault", { address: "https://vault.example.com:8200" });
        const postgresProvider = new postgresql.Provider("pg", { host: "localhost", username: "postgres", password: "x", sslmode: "require" });
        const engine = new VaultDatabaseEngine("vault", { mount: "database-dev" }, { provider: vaultProvider, transformations });
        // each organization owns its connection (Organization creates it); here two, as two organizations would
        for (const spec of [acme, { ...acme, organization: "globex", database: "globex", adminRole: "globex_vault_admin", connectionName: "globex", allowedRoles: ["globex-dev-ledger"], dynamicGroupRoles: ["globex_readwrite"] }]) {
            new VaultOrganizationConnection(`vault-${spec.organization}`, { ...spec, mount: engine.mount, server: fakeServer(majorVersion), dependsOn: [] }, { providers: { vault: vaultProvider, postgresql: postgresProvider }, transformations });
        }
        return engine;
    });
    return { ...run, captured };
}

describe("Vault components under mocks", function () {
    this.timeout(60000);

    it("makes the admin Role ignore `roles` (the provider's refresh would read, and an update revoke, every membership)", async () => {
        const run = await engineRun("17");
        const admins = run.captured.filter((c) => c.type === "postgresql:index/role:Role");
        assert.deepStrictEqual(admins.map((a) => a.name).sort(), ["vault-acme-admin", "vault-globex-admin"]);
        for (const a of admins) {
            assert.deepStrictEqual(a.opts.ignoreChanges, ["roles"], a.name);
            assert.ok(a.opts.additionalSecretOutputs?.includes("passwordWo"), `${a.name}: password output secret`);
        }
        const registered = run.ofType("postgresql:index/role:Role").map((r) => r.inputs);
        for (const r of registered) {
            assert.strictEqual(r.roles, undefined, `${r.name}: no memberships in the Role itself`);
            assert.strictEqual(r.passwordWoVersion, "1");
            assert.ok(r.passwordWo && r.password === undefined, "write-only");
        }
    });

    it("grants ADMIN OPTION once per (admin, group role) on 16+, never on 15, and never pg_signal_backend", async () => {
        for (const version of ["17", "15"]) {
            const run = await engineRun(version);
            const grants = run.ofType("postgresql:index/grantRole:GrantRole").map((g) => [g.inputs.role, g.inputs.grantRole, g.inputs.withAdminOption]);
            assert.deepStrictEqual(grants.sort(), version === "17" ? [["acme_vault_admin", "acme_readonly", true], ["globex_vault_admin", "globex_readwrite", true]] : [], version);
            for (const g of run.captured.filter((c) => c.type === "postgresql:index/grantRole:GrantRole")) {
                assert.strictEqual(g.opts.retainOnDelete, true, `${g.name}: removing the last dynamic app must not REVOKE while its users' leases are out`);
            }
        }
    });

    it("connects each organization to its own database as its own admin, serving exactly its roles", async () => {
        const run = await engineRun("17");
        const connections = run.ofType("vault:database/secretBackendConnection:SecretBackendConnection").map((c) => c.inputs).sort((a, b) => a.name.localeCompare(b.name));
        assert.deepStrictEqual(connections.map((c) => [c.name, c.postgresql.username, c.allowedRoles]), [
            ["acme", "acme_vault_admin", ["acme-dev-analytics", "acme-dev-dashboards"]],
            ["globex", "globex_vault_admin", ["globex-dev-ledger"]],
        ]);
        assert.match(connections[0].postgresql.connectionUrl, /:5432\/acme\?sslmode=require$/);
        assert.deepStrictEqual(connections[0].rootRotationStatements, [`ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`]);
        const connect = run.ofType("postgresql:index/grant:Grant").map((g) => [g.inputs.role, g.inputs.database, g.inputs.privileges]).sort();
        assert.deepStrictEqual(connect, [["acme_vault_admin", "acme", ["CONNECT"]], ["globex_vault_admin", "globex", ["CONNECT"]]]);
        assert.deepStrictEqual(run.ofType("vault:index/mount:Mount").map((m) => m.inputs.path), ["database-dev"], "one mount per environment");
    });

    it("refuses a connection without roles or with a wildcard role", async () => {
        for (const allowedRoles of [[], ["acme-dev-analytics", "x-*"]]) {
            await runPulumi(() => {
                assert.throws(() => new VaultOrganizationConnection("vault-acme", { ...acme, allowedRoles, mount: "database-dev", server: fakeServer("17"), dependsOn: [] }), /allowedRoles must be explicit role names, never a wildcard/);
            });
        }
    });
});

describe("naming: the organization's Vault admin login", () => {
    it("is <org>_vault_admin, within PostgreSQL's 63 bytes", () => {
        assert.strictEqual(vaultAdminRoleName("acme-corp"), "acme_corp_vault_admin");
        const long = vaultAdminRoleName("a".repeat(60));
        assert.ok(Buffer.byteLength(long) <= PG_IDENTIFIER_MAX_BYTES && long.startsWith("aaaa"), long);
        assert.notStrictEqual(vaultAdminRoleName("a".repeat(60)), vaultAdminRoleName("a".repeat(61)), "shortened with a hash, never into a collision");
    });

    it("rejects an app whose login would be an organization's Vault admin login, at the app", () => {
        const problems = derivedNameProblems("dev", [
            { name: "acme", path: "organizations[0]", apps: [{ name: "vault-admin", path: "organizations[0].apps[0]", isDefaultApp: false }] },
        ]).map((p) => `${p.path}: ${p.message}`);
        assert.ok(problems.some((p) => p.startsWith("organizations[0].apps[0].name") && p.includes("acme_vault_admin") && p.includes("Vault admin login")), problems.join("; "));
        // across organizations: org "a-vault", app "admin" derives org "a"'s admin login
        let config: string[] = [];
        try {
            parseStackConfig({ database: { engine: "statefulset" }, organizations: [{ name: "a-vault", apps: [{ name: "admin" }] }, { name: "a" }] }, "dev");
        } catch (err) {
            config = (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
        }
        assert.ok(config.some((p) => p.startsWith("organizations[0].apps[0].name") && p.includes("a_vault_admin")), config.join("; "));
        assert.deepStrictEqual(derivedNameProblems("dev", [{ name: "acme", path: "organizations[0]", apps: [{ name: "billing", path: "organizations[0].apps[0]", isDefaultApp: false }] }]), []);
    });
});
