/**
 * Former URNs given as strings (components/urns.ts): where the former parent's type chain is known (the
 * stack program: PostgresAccess at the top level), the organization's provider and Vault connection alias
 * their former URNs as strings, which the SDK sends without resolving an Output per alias; under a parent of
 * the user's program (chain unknown) they keep alias specs that name the same former parents.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource } from "../../testing/offlineRun";
import { PostgresAccess, PostgresAccessArgs } from "../../components/postgresAccess";
import { topLevelUrn, urnUnder } from "../../components/urns";
import { runPulumi } from "../../testing/offlineRun";
import { runStack, stackConfig } from "../support/stackRun";

const PROVIDER = "pulumi:providers:postgresql";
const CONNECTION = "postgres-access:index:VaultOrganizationConnection";
const ENGINE = "postgres-access:index:VaultDatabaseEngine";
const ACCESS = "postgres-access:index:PostgresAccess";

function one(resources: RecordedResource[], type: string, name: string): RecordedResource {
    const found = resources.filter((r) => r.type === type && r.name === name);
    assert.strictEqual(found.length, 1, `${type} ${name}`);
    return found[0];
}

describe("former URNs as strings (aliases)", function () {
    this.timeout(300_000);

    it("the stack program: the organization's provider and Vault connection alias their former URNs as strings", async () => {
        const { resources } = await runStack("dev");
        const prefix = "urn:pulumi:dev::postgres-access::";
        assert.deepStrictEqual(one(resources, PROVIDER, "initech-postgres-admin").aliases, [
            `${prefix}${ACCESS}$${PROVIDER}::initech-postgres-admin`,
            `${prefix}${PROVIDER}::initech-postgres-admin`,
        ]);
        assert.deepStrictEqual(one(resources, CONNECTION, "vault-initech").aliases, [
            `${prefix}${ACCESS}$${ENGINE}$${CONNECTION}::vault-initech`,
            `${prefix}${ENGINE}$${CONNECTION}::vault-initech`,
        ]);
    });

    it("under a component of the user's program the former parents are alias specs naming the same URNs", async () => {
        const { resources } = await runPulumi(() => {
            const platform = new pulumi.ComponentResource("acme:index:Platform", "platform", {}, {});
            const args = Object.fromEntries(Object.entries(stackConfig("dev"))
                .filter(([key]) => key.startsWith("postgres-access:")).map(([key, value]) => [key.slice("postgres-access:".length), value]));
            return new PostgresAccess("postgres-access", { ...(args as Record<string, unknown>), env: "dev" } as unknown as PostgresAccessArgs, { parent: platform });
        }, { stack: "dev", config: stackConfig("dev") });
        const access = one(resources, ACCESS, "postgres-access");
        const chain = access.urn.split("::")[2];
        assert.strictEqual(chain, `acme:index:Platform$${ACCESS}`);
        assert.deepStrictEqual(one(resources, PROVIDER, "initech-postgres-admin").aliases, [
            { parentUrn: access.urn },
            `urn:pulumi:dev::postgres-access::${PROVIDER}::initech-postgres-admin`,
        ]);
        assert.deepStrictEqual(one(resources, CONNECTION, "vault-initech").aliases, [
            { parentUrn: `urn:pulumi:dev::postgres-access::${chain}$${ENGINE}::vault` },
            `urn:pulumi:dev::postgres-access::${ENGINE}$${CONNECTION}::vault-initech`,
        ]);
    });

    it("a URN is only written out when every ancestor's type is known", async () => {
        await runPulumi(() => {
            const foreign = new pulumi.ComponentResource("acme:index:Platform", "platform", {}, {});
            assert.strictEqual(urnUnder(foreign, PROVIDER, "p"), undefined);
            assert.strictEqual(urnUnder(undefined, `${ENGINE}$${CONNECTION}`, "c"), `urn:pulumi:dev::postgres-access::${ENGINE}$${CONNECTION}::c`);
            assert.strictEqual(topLevelUrn(PROVIDER, "p"), "urn:pulumi:dev::postgres-access::pulumi:providers:postgresql::p");
        }, { stack: "dev" });
    });
});
