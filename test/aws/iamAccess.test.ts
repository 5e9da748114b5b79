/**
 * IAM of the staging and prod stacks, evaluated by @cloud-copilot/iam-simulate over the registered
 * resources, for every pair of secretsmanager apps within and across organizations: what each role may
 * do with each secret and key (identity policy, secret resource policy, KMS key policy), and who may
 * assume each role (IRSA trust). See test/support/iamSimulation.ts for how trust policies are evaluated.
 */
import * as assert from "assert";
import { RunResult } from "../../stacks/offlineRun";
import { AWS_ENVS, ACCOUNTS, AppAws, REGION, appsOf, awsStackRun } from "../support/awsStacks";
import { policyErrors, simulate, simulateTrust, strictTrustDecision } from "../support/iamSimulation";

const NO_POLICY = { Version: "2012-10-17", Statement: [] };
const VIA_SECRETS_MANAGER = { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` };

for (const env of AWS_ENVS) {
    describe(`${env} stack: IAM evaluated by iam-simulate`, function () {
        this.timeout(60000);
        let run: RunResult<Record<string, any>>;
        let apps: AppAws[];
        const account = ACCOUNTS[env];
        before(async () => {
            run = await awsStackRun(env);
            apps = appsOf(run, env);
        });

        it("has one IRSA role per secretsmanager app, annotated on its ServiceAccount, and none for other apps", () => {
            assert.deepStrictEqual(apps.map((a) => a.key).sort(), ["acme/billing", "acme/reporting", "acme/storefront", "globex/globex"]);
            const serviceAccounts = run.ofType("kubernetes:core/v1:ServiceAccount");
            for (const a of apps) {
                const sa = serviceAccounts.find((s) => s.inputs.metadata.name === a.serviceAccount && s.name.startsWith(`${a.namespace}-`))!;
                assert.strictEqual(sa.inputs.metadata.annotations["eks.amazonaws.com/role-arn"], a.roleArn, a.key);
                assert.strictEqual(sa.inputs.automountServiceAccountToken, false, "IRSA projects its own token");
                assert.strictEqual(a.roleName, `${a.namespace}_${env}_${a.serviceAccount}_db`);
            }
            for (const sa of serviceAccounts.filter((s) => !apps.some((a) => s.inputs.metadata.name === a.serviceAccount && s.name.startsWith(`${a.namespace}-`)))) {
                assert.strictEqual(sa.inputs.metadata.annotations?.["eks.amazonaws.com/role-arn"], undefined, `${sa.name} (kubernetes credentials) gets no role`);
            }
            assert.ok(apps.find((a) => a.key === "globex/globex")!.secretArn.includes(`:secret:globex-${env}-database-credentials-`), "the seed's name for an org's default app");
            assert.ok(apps.find((a) => a.key === "acme/billing")!.secretArn.includes(`:secret:acme_${env}_billing_database-credentials-`));
        });

        it("looks account and partition up once per stack, with the stack's provider pinned to the OIDC provider's account", () => {
            for (const token of ["aws:index/getCallerIdentity:getCallerIdentity", "aws:index/getPartition:getPartition"]) {
                assert.strictEqual(run.calls.filter((c) => c.token === token).length, 1, token);
            }
            const providers = run.ofType("pulumi:providers:aws");
            assert.strictEqual(providers.length, 1);
            assert.deepStrictEqual(JSON.parse(providers[0].inputs.allowedAccountIds), [account]);
            assert.strictEqual(providers[0].inputs.region, REGION);
            const awsResources = run.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
            assert.ok(awsResources.length > 10 && awsResources.every((r) => r.provider?.includes("pulumi:providers:aws::aws")), "every AWS resource uses the stack's provider");
        });

        it("writes policies iam-policy accepts as identity, resource and trust policies", () => {
            for (const a of apps) {
                assert.deepStrictEqual(policyErrors("identity", a.identityPolicy), [], a.key);
                assert.deepStrictEqual(policyErrors("resource", a.secretPolicy), [], a.key);
                assert.deepStrictEqual(policyErrors("resource", a.keyPolicy), [], a.key);
                assert.deepStrictEqual(policyErrors("trust", a.trust), [], a.key);
            }
        });

        it("lets each app read exactly its own secret, nothing of any other app within or across organizations", async () => {
            for (const a of apps) {
                for (const b of apps) {
                    for (const action of ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]) {
                        const identityOnly = await simulate({ identityPolicies: [a.identityPolicy], roleArn: a.roleArn, action, resource: b.secretArn });
                        assert.strictEqual(identityOnly, a === b ? "Allowed" : "ImplicitlyDenied", `${a.key} ${action} ${b.key} (identity policy)`);
                        const withResourcePolicy = await simulate({ identityPolicies: [a.identityPolicy], resourcePolicy: b.secretPolicy, roleArn: a.roleArn, action, resource: b.secretArn });
                        assert.strictEqual(withResourcePolicy, a === b ? "Allowed" : "ExplicitlyDenied", `${a.key} ${action} ${b.key} (with ${b.key}'s resource policy)`);
                    }
                }
                for (const action of ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret", "secretsmanager:DeleteSecret", "secretsmanager:GetResourcePolicy"]) {
                    assert.strictEqual(await simulate({ identityPolicies: [a.identityPolicy], roleArn: a.roleArn, action, resource: a.secretArn }), "ImplicitlyDenied", `${a.key} ${action} on its own secret`);
                }
                const collision = a.secretArn.replace(/-AbCdEf$/, "-x-AbCdEf");
                assert.strictEqual(await simulate({ identityPolicies: [a.identityPolicy], roleArn: a.roleArn, action: "secretsmanager:GetSecretValue", resource: collision }), "ImplicitlyDenied", "a longer name with the same prefix is not matched (-??????)");
            }
        });

        it("keeps every other principal of the account out through the secret's resource policy, except the platform admins", async () => {
            const broad = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }] };
            const intruder = `arn:aws:iam::${account}:role/some-admin-workload`;
            const deployer = `arn:aws:iam::${account}:role/platform-deployer`;
            for (const a of apps) {
                assert.strictEqual(await simulate({ identityPolicies: [broad], resourcePolicy: a.secretPolicy, roleArn: intruder, action: "secretsmanager:GetSecretValue", resource: a.secretArn }), "ExplicitlyDenied", `${a.key}: a role with secretsmanager:* is still denied`);
                assert.strictEqual(await simulate({ identityPolicies: [broad], resourcePolicy: a.secretPolicy, roleArn: deployer, action: "secretsmanager:PutSecretValue", resource: a.secretArn }), "Allowed", `${a.key}: the deployer keeps managing it`);
            }
        });

        it("lets each app decrypt only with its organization's key, only through Secrets Manager", async () => {
            for (const a of apps) {
                for (const b of apps) {
                    const sameOrg = a.namespace === b.namespace;
                    assert.strictEqual(a.keyArn === b.keyArn, sameOrg, "one key per organization");
                    const both = await simulate({ identityPolicies: [a.identityPolicy], resourcePolicy: b.keyPolicy, roleArn: a.roleArn, action: "kms:Decrypt", resource: b.keyArn, context: VIA_SECRETS_MANAGER });
                    assert.strictEqual(both, sameOrg ? "Allowed" : "ImplicitlyDenied", `${a.key} decrypts with ${b.namespace}'s key`);
                    const keyPolicyOnly = await simulate({ identityPolicies: [NO_POLICY], resourcePolicy: b.keyPolicy, roleArn: a.roleArn, action: "kms:Decrypt", resource: b.keyArn, context: VIA_SECRETS_MANAGER });
                    assert.strictEqual(keyPolicyOnly, sameOrg ? "Allowed" : "ImplicitlyDenied", `${b.namespace}'s key policy alone vs ${a.key}`);
                }
                for (const via of [`s3.${REGION}.amazonaws.com`, "secretsmanager.us-east-1.amazonaws.com"]) {
                    assert.strictEqual(await simulate({ identityPolicies: [a.identityPolicy], resourcePolicy: a.keyPolicy, roleArn: a.roleArn, action: "kms:Decrypt", resource: a.keyArn, context: { "kms:ViaService": via } }), "ImplicitlyDenied", `${a.key}: not via ${via}`);
                }
                assert.strictEqual(await simulate({ identityPolicies: [a.identityPolicy], resourcePolicy: a.keyPolicy, roleArn: a.roleArn, action: "kms:Decrypt", resource: a.keyArn }), "ImplicitlyDenied", `${a.key}: not directly`);
                for (const action of ["kms:Encrypt", "kms:GenerateDataKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"]) {
                    assert.strictEqual(await simulate({ identityPolicies: [a.identityPolicy], resourcePolicy: a.keyPolicy, roleArn: a.roleArn, action, resource: a.keyArn, context: VIA_SECRETS_MANAGER }), "ImplicitlyDenied", `${a.key}: ${action}`);
                }
            }
        });

        it("keeps a role with kms:* in its IAM policy from using an organization's key; the account still administers it", async () => {
            const broad = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] };
            const intruder = `arn:aws:iam::${account}:role/some-admin-workload`;
            const deployer = `arn:aws:iam::${account}:role/platform-deployer`;
            for (const a of apps) {
                for (const action of ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant"]) {
                    for (const context of [undefined, VIA_SECRETS_MANAGER]) {
                        assert.strictEqual(await simulate({ identityPolicies: [broad], resourcePolicy: a.keyPolicy, roleArn: intruder, action, resource: a.keyArn, context }), "ImplicitlyDenied", `${a.key}: ${action} by a kms:* role ${context ? "via Secrets Manager" : "directly"}`);
                    }
                }
                for (const action of ["kms:DescribeKey", "kms:EnableKeyRotation", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource"]) {
                    assert.strictEqual(await simulate({ identityPolicies: [broad], resourcePolicy: a.keyPolicy, roleArn: intruder, action, resource: a.keyArn }), "Allowed", `${a.key}: the account administers the key (${action})`);
                }
                for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) {
                    assert.strictEqual(await simulate({ identityPolicies: [NO_POLICY], resourcePolicy: a.keyPolicy, roleArn: deployer, action, resource: a.keyArn, context: VIA_SECRETS_MANAGER }), "Allowed", `${a.key}: the deployer writes secrets (${action} via Secrets Manager)`);
                    assert.strictEqual(await simulate({ identityPolicies: [NO_POLICY], resourcePolicy: a.keyPolicy, roleArn: deployer, action, resource: a.keyArn }), "ImplicitlyDenied", `${a.key}: the deployer cannot ${action} directly`);
                }
            }
        });

        it("lets each role be assumed only by its exact ServiceAccount, with the STS audience, through its cluster's OIDC provider", () => {
            for (const a of apps) {
                const provider: string = a.trust.Statement[0].Principal.Federated;
                const issuer = provider.split(":oidc-provider/")[1];
                assert.ok(issuer.startsWith("oidc.eks.") && !issuer.includes("https://"), "condition keys use the issuer without https://");
                const ask = (sub: string, aud = "sts.amazonaws.com", oidcProviderArn = provider, keyIssuer = issuer) =>
                    simulateTrust({ trustPolicy: a.trust, oidcProviderArn, roleArn: a.roleArn, context: { [`${keyIssuer}:sub`]: sub, [`${keyIssuer}:aud`]: aud } });
                assert.strictEqual(ask(`system:serviceaccount:${a.namespace}:${a.serviceAccount}`), "Allowed", a.key);
                for (const b of apps.filter((x) => x !== a)) {
                    assert.strictEqual(ask(`system:serviceaccount:${b.namespace}:${b.serviceAccount}`), "ImplicitlyDenied", `${b.key} assumes ${a.key}'s role`);
                }
                assert.strictEqual(ask(`system:serviceaccount:other-team:${a.serviceAccount}`), "ImplicitlyDenied", "the same ServiceAccount name in another namespace");
                assert.strictEqual(ask(`system:serviceaccount:${a.namespace}:default`), "ImplicitlyDenied", "another ServiceAccount of the namespace");
                assert.strictEqual(ask(`system:serviceaccount:${a.namespace}:*`), "ImplicitlyDenied", "a literal wildcard");
                assert.strictEqual(ask(`system:serviceaccount:${a.namespace}:${a.serviceAccount}`, "vault"), "ImplicitlyDenied", "another audience");
                const otherCluster = provider.replace(/id\/[^/]+$/, "id/0THERC1USTER");
                assert.strictEqual(ask(`system:serviceaccount:${a.namespace}:${a.serviceAccount}`, "sts.amazonaws.com", otherCluster, otherCluster.split(":oidc-provider/")[1]), "ImplicitlyDenied", "another cluster's OIDC provider");
                assert.strictEqual(ask(`system:serviceaccount:${a.namespace}:${a.serviceAccount}`, "sts.amazonaws.com", otherCluster), "ImplicitlyDenied", "another provider presenting this issuer's claims");
            }
        });
    });
}

describe("how IRSA trust is evaluated (controls for the method)", function () {
    this.timeout(60000);
    let a: AppAws;
    let issuer: string;
    let provider: string;
    before(async () => {
        a = appsOf(await awsStackRun("staging"), "staging")[0];
        provider = a.trust.Statement[0].Principal.Federated;
        issuer = provider.split(":oidc-provider/")[1];
    });

    it("shows the trap: Strict mode drops the EKS OIDC keys and denies even the right ServiceAccount", async () => {
        const context = { [`${issuer}:sub`]: `system:serviceaccount:${a.namespace}:${a.serviceAccount}`, [`${issuer}:aud`]: "sts.amazonaws.com" };
        const strict = await strictTrustDecision({ trustPolicy: a.trust, oidcProviderArn: provider, roleArn: a.roleArn, context });
        assert.strictEqual(strict.decision, "ImplicitlyDenied");
        assert.deepStrictEqual(strict.ignoredContextKeys.sort(), Object.keys(context).sort());
        assert.strictEqual(simulateTrust({ trustPolicy: a.trust, oidcProviderArn: provider, roleArn: a.roleArn, context }), "Allowed", "the method used keeps them");
    });

    it("tells StringEquals from StringLike: a wildcard trust would admit another namespace", () => {
        const loose = JSON.parse(JSON.stringify(a.trust));
        const cond = loose.Statement[0].Condition;
        cond.StringLike = { [`${issuer}:sub`]: `system:serviceaccount:*:${a.serviceAccount}` };
        delete cond.StringEquals[`${issuer}:sub`];
        const context = { [`${issuer}:sub`]: `system:serviceaccount:intruder:${a.serviceAccount}`, [`${issuer}:aud`]: "sts.amazonaws.com" };
        assert.strictEqual(simulateTrust({ trustPolicy: loose, oidcProviderArn: provider, roleArn: a.roleArn, context }), "Allowed");
        assert.strictEqual(simulateTrust({ trustPolicy: a.trust, oidcProviderArn: provider, roleArn: a.roleArn, context }), "ImplicitlyDenied");
    });

    it("shows why sub is mandatory (without it any ServiceAccount gets in) and refuses a malformed trust policy", () => {
        const noSub = JSON.parse(JSON.stringify(a.trust));
        delete noSub.Statement[0].Condition.StringEquals[`${issuer}:sub`];
        const context = { [`${issuer}:sub`]: "system:serviceaccount:intruder:anything", [`${issuer}:aud`]: "sts.amazonaws.com" };
        assert.strictEqual(simulateTrust({ trustPolicy: noSub, oidcProviderArn: provider, roleArn: a.roleArn, context }), "Allowed", "why sub is mandatory");
        const noPrincipal = JSON.parse(JSON.stringify(a.trust));
        delete noPrincipal.Statement[0].Principal;
        assert.throws(() => simulateTrust({ trustPolicy: noPrincipal, oidcProviderArn: provider, roleArn: a.roleArn, context }), /Principal/);
    });
});
