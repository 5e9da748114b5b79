/**
 * Access requests with `credentials: secretsmanager`, judged by @cloud-copilot/iam-simulate: the request's
 * IRSA role is trusted by exactly the requester's ServiceAccount, reads its own secret before the expiry and
 * is denied after it, by IAM itself (`DateLessThan aws:CurrentTime`, given as request context), whether or
 * not anyone runs `pulumi up`. After the expiry the program registers none of it.
 */
import * as assert from "assert";
import { readStackFile } from "../../tools/plan/stackFile";
import { NOW_VARIABLE } from "../../components/clock";
import { ACCOUNTS, AppAws, REGION, appsOf, runAwsStack } from "../support/awsStacks";
import { policyErrors, simulate, simulateTrust } from "../support/iamSimulation";
import { issuerHost } from "../../components/aws/policies";

const T0 = "2026-12-20T12:00:00Z";
const EXPIRES = "2026-12-24T18:00:00Z";
const env = "staging";
const account = ACCOUNTS[env];

function stagingWithRequests(): Record<string, unknown> {
    const staging = readStackFile(env) as { organizations: any[] };
    const organizations = staging.organizations.map((org) => org.name !== "acme" ? org : {
        ...org,
        accessRequests: [
            // a ServiceAccount of its own, created for the request
            { name: "backfill", serviceAccount: "data-team", access: "readwrite", credentials: "secretsmanager", expires: EXPIRES, reason: "DATA-12 backfill", approvedBy: ["alice@example.com"] },
            // an app's ServiceAccount whose app has no IAM role (kubernetes credentials)
            { name: "audit", serviceAccount: "legacy-batch", access: "readonly", credentials: "secretsmanager", expires: EXPIRES, approvedBy: ["bob@example.com"] },
        ],
    });
    return { ...staging, organizations };
}

async function runAt(now: string) {
    const before = process.env[NOW_VARIABLE];
    process.env[NOW_VARIABLE] = now;
    try {
        return await runAwsStack(env, { config: stagingWithRequests() });
    } finally {
        if (before === undefined) delete process.env[NOW_VARIABLE];
        else process.env[NOW_VARIABLE] = before;
    }
}

describe("access requests on AWS (iam-simulate)", function () {
    this.timeout(120000);
    let requests: AppAws[];
    let run: Awaited<ReturnType<typeof runAt>>;
    const oidc = readStackFile(env).aws as { eksOidcProviderArn: string; eksOidcIssuerUrl: string };
    const issuer = issuerHost(oidc.eksOidcIssuerUrl);

    before(async () => {
        run = await runAt(T0);
        requests = appsOf(run, env).filter((a) => a.roleName.includes("_request_"));
    });

    it("gives each approved request its own IRSA role, named apart from the apps', on its ServiceAccount", () => {
        assert.deepStrictEqual(requests.map((r) => [r.key, r.roleName]).sort(), [["acme/data-team", "acme_staging_request_backfill"], ["acme/legacy-batch", "acme_staging_request_audit"]]);
        const accounts = run.ofType("kubernetes:core/v1:ServiceAccount").filter((s) => s.inputs.metadata.namespace === "acme");
        for (const r of requests) {
            const sa = accounts.filter((s) => s.inputs.metadata.name === r.serviceAccount);
            assert.strictEqual(sa.length, 1, `${r.serviceAccount}: one ServiceAccount`);
            assert.strictEqual(sa[0].inputs.metadata.annotations["eks.amazonaws.com/role-arn"], r.roleArn);
            assert.strictEqual(r.secret.inputs.name, `acme_staging_request_${r.roleName.split("_request_")[1]}_database-credentials`);
            assert.strictEqual(r.secretJson.username, `acme_request_${r.roleName.split("_request_")[1]}`);
            assert.deepStrictEqual(policyErrors("identity", r.identityPolicy), []);
            assert.deepStrictEqual(policyErrors("trust", r.trust), []);
            assert.deepStrictEqual(policyErrors("resource", r.secretPolicy), []);
        }
        // the organization's key lets the request roles decrypt through Secrets Manager, like its apps
        const decrypters = requests[0].keyPolicy.Statement.find((s: any) => s.Sid === "OrganizationAppsDecryptViaSecretsManager").Condition.ArnEquals["aws:PrincipalArn"];
        for (const r of requests) assert.ok(decrypters.includes(r.roleArn), r.roleArn);
    });

    it("is assumed only by the requester's exact ServiceAccount with the STS audience", () => {
        for (const r of requests) {
            const trust = (sub: string, aud = "sts.amazonaws.com") => simulateTrust({ trustPolicy: r.trust, oidcProviderArn: oidc.eksOidcProviderArn, roleArn: r.roleArn, context: { [`${issuer}:sub`]: sub, [`${issuer}:aud`]: aud } });
            assert.strictEqual(trust(`system:serviceaccount:acme:${r.serviceAccount}`), "Allowed", r.key);
            assert.notStrictEqual(trust("system:serviceaccount:acme:billing"), "Allowed", `${r.key}: another ServiceAccount of the organization`);
            assert.notStrictEqual(trust(`system:serviceaccount:globex:${r.serviceAccount}`), "Allowed", `${r.key}: the same name in another organization`);
            assert.notStrictEqual(trust(`system:serviceaccount:acme:${r.serviceAccount}`, "vault"), "Allowed", `${r.key}: another audience`);
        }
    });

    it("reads its own secret before the expiry and is denied at and after it (aws:CurrentTime)", async () => {
        for (const r of requests) {
            for (const [time, expected] of [
                [T0, "Allowed"],
                ["2026-12-24T17:59:59Z", "Allowed"],
                [EXPIRES, "ImplicitlyDenied"],
                ["2026-12-25T00:00:00Z", "ImplicitlyDenied"],
            ] as const) {
                for (const action of ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]) {
                    const decision = await simulate({ identityPolicies: [r.identityPolicy], resourcePolicy: r.secretPolicy, roleArn: r.roleArn, action, resource: r.secretArn, context: { "aws:CurrentTime": time } });
                    assert.strictEqual(decision, expected, `${r.key} ${action} at ${time}`);
                }
            }
            // Secrets Manager decrypts the value for it while it may read it (the key policy admits it like an app)
            const decrypt = await simulate({ identityPolicies: [r.identityPolicy], resourcePolicy: r.keyPolicy, roleArn: r.roleArn, action: "kms:Decrypt", resource: r.keyArn, context: { "aws:CurrentTime": T0, "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } });
            assert.strictEqual(decrypt, "Allowed", `${r.key} kms:Decrypt via Secrets Manager`);
            // and never another secret, before the expiry either
            const other = `arn:aws:secretsmanager:${REGION}:${account}:secret:acme-staging-billing-database-credentials-AbCdEf`;
            assert.strictEqual(await simulate({ identityPolicies: [r.identityPolicy], roleArn: r.roleArn, action: "secretsmanager:GetSecretValue", resource: other, context: { "aws:CurrentTime": T0 } }), "ImplicitlyDenied", r.key);
        }
    });

    it("registers none of it after the expiry, and keeps the organization's key", async () => {
        const later = await runAt(EXPIRES);
        assert.deepStrictEqual(later.resources.filter((r) => r.name.includes("-request-")).map((r) => r.name), []);
        assert.deepStrictEqual(later.ofType("aws:kms/key:Key").map((k) => k.name).sort(), run.ofType("aws:kms/key:Key").map((k) => k.name).sort());
        const dataTeam = later.ofType("kubernetes:core/v1:ServiceAccount").find((s) => s.inputs.metadata.namespace === "acme" && s.inputs.metadata.name === "data-team")!;
        assert.strictEqual(dataTeam.inputs.metadata.annotations, undefined, "the ServiceAccount stays, without a role");
    });
});
