import * as assert from "assert";
import { appNames, dnsLabel, fitWithHash, iamRoleName, organizationNames, pgIdentifier, rdsIdentifier } from "../../components/naming";

describe("naming", () => {
    it("keeps names that fit unchanged", () => {
        assert.deepStrictEqual(organizationNames("acme-corp"), {
            namespace: "acme-corp", database: "acme_corp", ownerRole: "acme_corp_owner", readwriteRole: "acme_corp_readwrite", readonlyRole: "acme_corp_readonly",
        });
        const app = appNames("acme", "billing", "prod", false);
        assert.strictEqual(app.loginRole, "acme_billing");
        assert.strictEqual(app.secretsManagerSecret, "acme-prod-billing-database-credentials");
        assert.strictEqual(appNames("acme", "acme", "prod", true).secretsManagerSecret, "acme-prod-database-credentials", "the seed's pattern for an org's default app");
        assert.strictEqual(app.iamRole, "acme-prod-billing-db");
    });

    it("shortens long names deterministically within each system's limit, without collisions", () => {
        const a = "a".repeat(40);
        const long1 = pgIdentifier(a, "x".repeat(30) + "1");
        const long2 = pgIdentifier(a, "x".repeat(30) + "2");
        assert.ok(Buffer.byteLength(long1) <= 63 && Buffer.byteLength(long2) <= 63);
        assert.notStrictEqual(long1, long2, "same prefix, different names");
        assert.strictEqual(long1, pgIdentifier(a, "x".repeat(30) + "1"), "deterministic");
        assert.ok(iamRoleName(a, "production", a, "db").length <= 64);
        assert.ok(dnsLabel(a, a).length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(dnsLabel(a, a)));
        assert.ok(rdsIdentifier("1abc", a, a).length <= 63 && /^[a-z]/.test(rdsIdentifier("1abc", a, a)));
        assert.notStrictEqual(iamRoleName(a, "prod", a + "b", "db"), iamRoleName(a, "prod", a + "c", "db"));
    });

    it("maps '-' to '_' injectively for PostgreSQL (names cannot contain '_')", () => {
        assert.strictEqual(pgIdentifier("a-b", "c"), "a_b_c");
        assert.strictEqual(organizationNames("a-b").ownerRole, "a_b_owner");
    });

    it("never ends a shortened name with a separator", () => {
        const n = fitWithHash("abc-".repeat(30), 20);
        assert.ok(n.length <= 20 && !/--/.test(n) && /-[0-9a-f]{8}$/.test(n), n);
    });
});
