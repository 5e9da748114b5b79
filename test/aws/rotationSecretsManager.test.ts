/**
 * Rotation on the Secrets Manager path: the staging stack with every secretsmanager app rotating, run at t
 * and at t+every. The entry keeps its name, key, policy and recovery window (and the app its IRSA role and
 * SecretProviderClass); only its value changes, to the other login. The IAM isolation judges
 * (@cloud-copilot/iam-simulate, as in iamAccess.test.ts) still hold after the rotation.
 */
import * as assert from "assert";
import { RunResult } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";
import { NOW_VARIABLE } from "../../components/clock";
import { AppAws, REGION, appsOf, runAwsStack } from "../support/awsStacks";
import { simulate } from "../support/iamSimulation";

const ANCHOR = "2026-01-01T00:00:00Z";
const DAY = 86400_000;
const ENV = "staging";

/** The staging stack file with rotation on every secretsmanager app. */
function rotatingStaging(): Record<string, unknown> {
    const raw = readStackFile(ENV) as { organizations: { apps?: { credentials?: string }[] }[] };
    return {
        ...raw,
        organizations: raw.organizations.map((o) => ({
            ...o,
            ...(o.apps ? { apps: o.apps.map((a) => (a.credentials === "secretsmanager" ? { ...a, rotation: { every: "30d", anchor: ANCHOR } } : a)) } : {}),
        })),
    };
}

async function runAt(now: number): Promise<RunResult<Record<string, any>>> {
    const saved = process.env[NOW_VARIABLE];
    process.env[NOW_VARIABLE] = new Date(now).toISOString();
    try {
        return await runAwsStack(ENV, { config: rotatingStaging() });
    } finally {
        if (saved === undefined) delete process.env[NOW_VARIABLE];
        else process.env[NOW_VARIABLE] = saved;
    }
}

describe(`${ENV} stack with rotating secretsmanager apps: the entry across a rotation`, function () {
    this.timeout(120000);
    let runBefore: RunResult<Record<string, any>>;
    let runAfter: RunResult<Record<string, any>>;
    let appsBefore: AppAws[];
    let appsAfter: AppAws[];
    const t0 = Date.parse(ANCHOR) + 2 * DAY;

    before(async () => {
        runBefore = await runAt(t0);
        runAfter = await runAt(t0 + 30 * DAY);
        // by key: registration order may differ between runs (SCRAM verifiers finish on the thread pool)
        const byKey = (apps: AppAws[]) => [...apps].sort((a, b) => a.key.localeCompare(b.key));
        appsBefore = byKey(appsOf(runBefore, ENV));
        appsAfter = byKey(appsOf(runAfter, ENV));
    });

    it("keeps each entry's name, key, policy and recovery window, the app's IRSA role and its SecretProviderClass", () => {
        assert.deepStrictEqual(appsAfter.map((a) => a.key), appsBefore.map((a) => a.key));
        const rotating = appsAfter.filter((a) => a.key.startsWith("acme/"));
        assert.deepStrictEqual(rotating.map((a) => a.key).sort(), ["acme/billing", "acme/reporting", "acme/storefront"]);
        for (const [i, a] of appsAfter.entries()) {
            const b = appsBefore[i];
            assert.deepStrictEqual(a.secret.inputs, b.secret.inputs, `${a.key}: the Secret resource`);
            assert.deepStrictEqual([a.secretArn, a.secretPolicy, a.identityPolicy, a.trust, a.roleName, a.keyPolicy], [b.secretArn, b.secretPolicy, b.identityPolicy, b.trust, b.roleName, b.keyPolicy], a.key);
        }
        const spcs = (run: RunResult<unknown>) => run.ofType("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass").map((r) => r.inputs)
            .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
        assert.strictEqual(spcs(runAfter).length, 4, "one per secretsmanager app");
        assert.deepStrictEqual(spcs(runAfter), spcs(runBefore), "the pods' SecretProviderClasses do not change");
    });

    it("changes only the value: the other login, with its own password", () => {
        for (const [i, a] of appsAfter.entries()) {
            const b = appsBefore[i];
            const changed = Object.keys(a.secretJson).filter((k) => a.secretJson[k] !== b.secretJson[k]).sort();
            if (a.key === "globex/globex") {
                assert.deepStrictEqual(changed, [], "the org's default app does not rotate (no rotation configured)");
                continue;
            }
            assert.deepStrictEqual(changed, ["DATABASE_URL", "password", "username"], a.key);
            const app = a.serviceAccount.replace(/-/g, "_");
            assert.deepStrictEqual([b.secretJson.username, a.secretJson.username], [`acme_${app}_a`, `acme_${app}_b`], a.key);
        }
    });

    it("still lets each app read exactly its own entry and decrypt only with its organization's key", async () => {
        for (const a of appsAfter) {
            for (const b of appsAfter) {
                const read = await simulate({ identityPolicies: [a.identityPolicy], resourcePolicy: b.secretPolicy, roleArn: a.roleArn, action: "secretsmanager:GetSecretValue", resource: b.secretArn });
                assert.strictEqual(read, a === b ? "Allowed" : "ExplicitlyDenied", `${a.key} reads ${b.key}`);
                const decrypt = await simulate({ identityPolicies: [a.identityPolicy], resourcePolicy: b.keyPolicy, roleArn: a.roleArn, action: "kms:Decrypt", resource: b.keyArn, context: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } });
                assert.strictEqual(decrypt, a.namespace === b.namespace ? "Allowed" : "ImplicitlyDenied", `${a.key} decrypts with ${b.namespace}'s key`);
            }
            assert.strictEqual(await simulate({ identityPolicies: [a.identityPolicy], roleArn: a.roleArn, action: "secretsmanager:PutSecretValue", resource: a.secretArn }), "ImplicitlyDenied", `${a.key} cannot write its entry`);
        }
    });
});
