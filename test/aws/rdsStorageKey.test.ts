/**
 * The RDS storage key's policy judged by iam-simulate: the key encrypts storage, snapshots and Performance
 * Insights through RDS, and no principal of the account can use it directly (AWS's default key policy, which
 * an absent policy gets, would let any IAM policy in the account decrypt with it).
 */
import * as assert from "assert";
import { ACCOUNTS, AWS_ENVS, REGION, awsStackRun } from "../support/awsStacks";
import { simulate } from "../support/iamSimulation";

const ADMIN_IDENTITY = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] };

for (const env of AWS_ENVS) {
    describe(`RDS storage key policy (${env}, iam-simulate)`, function () {
        this.timeout(120000);
        let policy: any;
        let keyArn: string;
        const account = ACCOUNTS[env];
        const role = `arn:aws:iam::${account}:role/anyone-with-kms-star`;
        before(async () => {
            const run = await awsStackRun(env);
            const key = run.byName("aws:kms/key:Key", "postgres-storage-key");
            assert.ok(key.inputs.policy, "the storage key has an explicit policy");
            policy = JSON.parse(key.inputs.policy);
            keyArn = `arn:aws:kms:${REGION}:${account}:key/${key.name}-key-id`;
        });

        it("lets principals of the account use the key through RDS in its region (storage, snapshots, grants)", async () => {
            for (const action of ["kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant"]) {
                const decision = await simulate({ identityPolicies: [ADMIN_IDENTITY], resourcePolicy: policy, roleArn: role, action, resource: keyArn, context: { "kms:ViaService": `rds.${REGION}.amazonaws.com`, "kms:CallerAccount": account } });
                assert.strictEqual(decision, "Allowed", action);
            }
        });

        it("refuses direct use, use through another service or region, and use from another account, even with kms:* in IAM", async () => {
            const cases: [string, Record<string, string>, string][] = [
                ["direct", { "kms:CallerAccount": account }, role],
                ["via Secrets Manager", { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com`, "kms:CallerAccount": account }, role],
                ["via RDS in another region", { "kms:ViaService": "rds.us-east-1.amazonaws.com", "kms:CallerAccount": account }, role],
                ["from another account via RDS", { "kms:ViaService": `rds.${REGION}.amazonaws.com`, "kms:CallerAccount": "999999999999" }, "arn:aws:iam::999999999999:role/outsider"],
            ];
            for (const [what, context, principal] of cases) {
                const decision = await simulate({ identityPolicies: [ADMIN_IDENTITY], resourcePolicy: policy, roleArn: principal, action: "kms:Decrypt", resource: keyArn, context });
                assert.notStrictEqual(decision, "Allowed", what);
            }
        });

        it("keeps key administration with the account (through IAM) so the key can never become unmanageable", async () => {
            const decision = await simulate({ identityPolicies: [ADMIN_IDENTITY], resourcePolicy: policy, roleArn: role, action: "kms:PutKeyPolicy", resource: keyArn, context: {} });
            assert.strictEqual(decision, "Allowed");
        });
    });
}
