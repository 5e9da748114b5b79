/**
 * IAM of the staging and prod stacks, evaluated by @cloud-copilot/iam-simulate over the registered
 * resources, for every pair of secretsmanager apps within and across organizations: what each role may
 * do with each secret and key (identity policy, secret resource policy, KMS key policy), and who may
 * assume each role (IRSA trust). See test/support/iamSimulation.ts for how trust policies are evaluated.
 */
import * as assert from "assert";
import { RunResult } from "../../testing/offlineRun";
import { AWS_ENVS, ACCOUNTS, AppAws, REGION, appsOf, awsStackRun, oidcOf, serviceAccountsOf } from "../support/awsStacks";
import { irsaTrustViolations, policyErrors, simulate, simulateTrust, strictTrustDecision, webIdentityContext } from "../support/iamSimulation";

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

        it("lets each identity policy decrypt with its organization's key only: another organization's key, any other key is denied by the identity policy itself", async () => {
            // Every key here gets AWS's default key policy, which hands the decision to the account's IAM
            // policies: so the identity policy is all that stands between the app and the key.
            const keyIds = ["1234abcd-12ab-34cd-56ef-1234567890ab", "mrk-1234abcd12ab34cd56ef1234567890ab"];
            const defaultKeyPolicy = (key: string) => ({ Version: "2012-10-17", Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${key.split(":")[4]}:root` }, Action: "kms:*", Resource: "*" }] });
            for (const a of apps) {
                const identityOnly = (action: string, resource: string, context: Record<string, string> = VIA_SECRETS_MANAGER) =>
                    simulate({ identityPolicies: [a.identityPolicy], resourcePolicy: defaultKeyPolicy(resource), roleArn: a.roleArn, action, resource, context });
                assert.strictEqual(await identityOnly("kms:Decrypt", a.keyArn), "Allowed", `${a.key}: its organization's key`);
                for (const b of apps.filter((x) => x.namespace !== a.namespace)) {
                    assert.strictEqual(await identityOnly("kms:Decrypt", b.keyArn), "ImplicitlyDenied", `${a.key}: ${b.namespace}'s key`);
                }
                const arbitrary = [
                    ...keyIds.map((id) => `arn:aws:kms:${REGION}:${account}:key/${id}`),
                    a.keyArn.replace(`:${account}:`, ":999999999999:"),
                    a.keyArn.replace(`:${REGION}:`, ":us-east-1:"),
                ];
                for (const key of arbitrary) assert.strictEqual(await identityOnly("kms:Decrypt", key), "ImplicitlyDenied", `${a.key}: ${key}`);
                assert.strictEqual(await identityOnly("kms:Decrypt", a.keyArn, {}), "ImplicitlyDenied", `${a.key}: its key, but not through Secrets Manager`);
                for (const action of ["kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant", "kms:DescribeKey"]) {
                    assert.strictEqual(await identityOnly(action, a.keyArn), "ImplicitlyDenied", `${a.key}: ${action} on its own key`);
                }
            }
        });

        it("lets each role be assumed only by its exact ServiceAccount's token for STS through its cluster's OIDC provider (iam-simulate, whatever the operators)", () => {
            const { oidcProviderArn, issuer } = oidcOf(env);
            const everyServiceAccount = serviceAccountsOf(run);
            for (const a of apps) {
                const expected = { oidcProviderArn, issuer, namespace: a.namespace, serviceAccount: a.serviceAccount, otherServiceAccounts: everyServiceAccount.filter((k) => k !== `${a.namespace}/${a.serviceAccount}`) };
                assert.deepStrictEqual(irsaTrustViolations(a.trust, a.roleArn, expected), [], a.key);
            }
        });
    });
}

describe("how IRSA trust is evaluated (controls for the method)", function () {
    this.timeout(60000);
    const { oidcProviderArn, issuer } = oidcOf("staging");
    const roleArn = `arn:aws:iam::${ACCOUNTS.staging}:role/acme-staging-billing-db`;
    const own = "system:serviceaccount:acme:billing";
    const expected = { oidcProviderArn, issuer, namespace: "acme", serviceAccount: "billing", otherServiceAccounts: ["acme/reporting", "acme/storefront", "globex/globex"] };
    /** A trust policy for the cluster's provider with the given Condition block. */
    const trustWith = (condition: Record<string, unknown>) => ({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Federated: oidcProviderArn }, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition }],
    });
    const sub = `${issuer}:sub`;
    const aud = `${issuer}:aud`;
    const context = (subject: string) => webIdentityContext({ oidcProviderArn, issuer, sub: subject, aud: "sts.amazonaws.com" });

    it("shows the trap: Strict mode drops the EKS OIDC keys and denies even the right ServiceAccount", async () => {
        const trust = trustWith({ StringEquals: { [sub]: own, [aud]: "sts.amazonaws.com" } });
        const claims = { [sub]: own, [aud]: "sts.amazonaws.com" };
        const strict = await strictTrustDecision({ trustPolicy: trust, oidcProviderArn, roleArn, context: claims });
        assert.strictEqual(strict.decision, "ImplicitlyDenied");
        assert.deepStrictEqual(strict.ignoredContextKeys.sort(), Object.keys(claims).sort());
        assert.strictEqual(simulateTrust({ trustPolicy: trust, oidcProviderArn, roleArn, context: context(own) }), "Allowed", "the method used keeps them");
    });

    it("passes harmless rewrites of the trust policy: the judge reads behaviour, not operators", () => {
        const harmless: Record<string, Record<string, unknown>> = {
            "StringEquals (the product's)": { StringEquals: { [sub]: own, [aud]: "sts.amazonaws.com" } },
            "StringLike without a wildcard": { StringLike: { [sub]: own, [aud]: "sts.amazonaws.com" } },
            "sub in StringLike, aud in StringEquals": { StringLike: { [sub]: own }, StringEquals: { [aud]: "sts.amazonaws.com" } },
            "one-element lists": { StringEquals: { [sub]: [own], [aud]: ["sts.amazonaws.com"] } },
            "ForAnyValue:StringEquals": { "ForAnyValue:StringEquals": { [sub]: own, [aud]: "sts.amazonaws.com" } },
            "StringEqualsIgnoreCase (Kubernetes names are lower-case)": { StringEqualsIgnoreCase: { [sub]: own, [aud]: "sts.amazonaws.com" } },
        };
        for (const [name, condition] of Object.entries(harmless)) {
            assert.deepStrictEqual(irsaTrustViolations(trustWith(condition), roleArn, expected), [], name);
        }
    });

    it("fails every widening, naming a claim it lets in", () => {
        const widenings: Record<string, [Record<string, unknown>, string]> = {
            "StringLike namespace wildcard": [{ StringLike: { [sub]: "system:serviceaccount:acme:*" }, StringEquals: { [aud]: "sts.amazonaws.com" } }, '"system:serviceaccount:acme:default"'],
            "StringLike any namespace": [{ StringLike: { [sub]: "system:serviceaccount:*:billing" }, StringEquals: { [aud]: "sts.amazonaws.com" } }, '"system:serviceaccount:other-team:billing"'],
            "StringLike name prefix": [{ StringLike: { [sub]: "system:serviceaccount:acme:billing*" }, StringEquals: { [aud]: "sts.amazonaws.com" } }, '"system:serviceaccount:acme:billing-x"'],
            "StringLike one character": [{ StringLike: { [sub]: "system:serviceaccount:acm?:billing" }, StringEquals: { [aud]: "sts.amazonaws.com" } }, '"system:serviceaccount:acmx:billing"'],
            "a second ServiceAccount listed": [{ StringEquals: { [sub]: [own, "system:serviceaccount:globex:globex"], [aud]: "sts.amazonaws.com" } }, '"system:serviceaccount:globex:globex"'],
            "no sub condition": [{ StringEquals: { [aud]: "sts.amazonaws.com" } }, '"system:serviceaccount:acme:reporting"'],
            "sub only if it exists": [{ StringEqualsIfExists: { [sub]: own }, StringEquals: { [aud]: "sts.amazonaws.com" } }, "a token without sub"],
            "no aud condition": [{ StringEquals: { [sub]: own } }, 'audience "vault"'],
            "any audience": [{ StringEquals: { [sub]: own }, StringLike: { [aud]: "*" } }, 'audience "vault"'],
        };
        for (const [name, [condition, claim]] of Object.entries(widenings)) {
            const violations = irsaTrustViolations(trustWith(condition), roleArn, expected);
            assert.ok(violations.some((v) => v.startsWith(claim) || v.startsWith(`sub ${claim}`)), `${name}: ${JSON.stringify(violations)}`);
        }
        const anyProvider = trustWith({ StringEquals: { [sub]: own, [aud]: "sts.amazonaws.com" } });
        (anyProvider.Statement[0].Principal as { Federated: string }).Federated = oidcProviderArn.replace(/id\/[^/]+$/, "id/0THERC1USTER0000000000000000000");
        assert.ok(irsaTrustViolations(anyProvider, roleArn, expected)[0].includes("expected Allowed"), "another cluster's provider: our own token no longer gets in");
    });

    it("refuses a malformed trust policy instead of judging it", () => {
        const noPrincipal: any = trustWith({ StringEquals: { [sub]: own, [aud]: "sts.amazonaws.com" } });
        delete noPrincipal.Statement[0].Principal;
        assert.throws(() => simulateTrust({ trustPolicy: noPrincipal, oidcProviderArn, roleArn, context: context(own) }), /Principal/);
    });
});
