/**
 * Re-adding a Secrets Manager app after its removal: Secrets Manager refuses CreateSecret with the name of
 * a secret scheduled for deletion (7-30 days by default), so by default a removed app's secret is deleted
 * at once (`recoveryWindowInDays: 0`); a recovery window is opt-in (`aws.secretRecoveryWindowDays: 7-30`),
 * with the documented restore path (docs/operations.md "Removing and re-adding a secretsmanager app").
 */
import * as assert from "assert";
import { runAwsStack } from "../support/awsStacks";
import { readStackFile } from "../../tools/plan/stackFile";
import { ConfigError, parseStackConfig } from "../../components/config";

const SECRET = "aws:secretsmanager/secret:Secret";

describe("Secrets Manager: a removed app can be added back", function () {
    this.timeout(120000);

    for (const env of ["staging", "prod"]) {
        it(`${env}: every app secret is deleted at once when its app is removed (no recovery window blocks its name)`, async () => {
            const run = await runAwsStack(env);
            const secrets = run.ofType(SECRET);
            assert.ok(secrets.length >= 4);
            for (const s of secrets) assert.strictEqual(s.inputs.recoveryWindowInDays, 0, s.inputs.name);
        });
    }

    it("keeps a recovery window when the stack asks for one (then re-adding within it is the documented restore path (docs/operations.md))", async () => {
        const raw = readStackFile("staging");
        const run = await runAwsStack("staging", { config: { ...raw, aws: { ...(raw.aws as object), secretRecoveryWindowDays: 7 } } });
        for (const s of run.ofType(SECRET)) assert.strictEqual(s.inputs.recoveryWindowInDays, 7, s.inputs.name);
    });

    it("accepts 0 or 7-30 days, nothing Secrets Manager refuses", () => {
        const raw = readStackFile("staging") as Record<string, any>;
        for (const days of [0, 7, 30]) assert.strictEqual(parseStackConfig({ ...raw, aws: { ...raw.aws, secretRecoveryWindowDays: days } }, "staging").aws!.secretRecoveryWindowDays, days);
        for (const days of [1, 6, 31]) {
            assert.throws(() => parseStackConfig({ ...raw, aws: { ...raw.aws, secretRecoveryWindowDays: days } }, "staging"),
                (err: Error) => err instanceof ConfigError && /aws\.secretRecoveryWindowDays: expected 0 \(delete at once\) or at least 7 and at most 30/.test(err.message));
        }
    });
});
