/**
 * The staging and prod stacks (engine rds, credentials in Secrets Manager) under mocks, judged by outside
 * tools: IAM by @cloud-copilot/iam-simulate, RDS and KMS by @pulumi/awsguard's rules, SecretProviderClass by
 * its CRD schema (ajv), plus checks awsguard lacks.
 */
import * as assert from "assert";
import * as yaml from "js-yaml";
import Ajv from "ajv";
import * as aws from "@pulumi/aws";
import { runPulumi, RunResult, RecordedResource, isSecret } from "../support/harness";
import { readStackFile } from "../../stacks/stackFile";
import { secretProviderClassSchema } from "../support/secretProviderClassSchema";
import { simulate, simulateTrust } from "../support/iamSimulation";

const ACCOUNTS: Record<string, string> = { staging: "123456789012", prod: "210987654321" };

function runStack(env: string, preview = false) {
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.stackExports(program.createStack());
    }, {
        stack: env,
        preview,
        config: readStackFile(env),
        calls: { "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: ACCOUNTS[env], arn: `arn:aws:iam::${ACCOUNTS[env]}:role/platform-deployer`, userId: "AROAEXAMPLE" }) },
    });
}

interface AppAws {
    key: string;
    namespace: string;
    serviceAccount: string;
    roleArn: string;
    trust: any;
    identityPolicy: any;
    secretArn: string;
    secretPolicy: any;
    keyArn: string;
    /** The organization key's key policy (KMS needs it to allow, or to delegate to IAM). */
    keyPolicy: any;
}

/** Per app: its IAM role, policies, secret and organization key, read from the registered resources. */
function appsOf(run: RunResult<unknown>, env: string): AppAws[] {
    const account = ACCOUNTS[env];
    const roles = run.ofType("aws:iam/role:Role");
    return roles.map((role) => {
        const name: string = role.inputs.name;
        const base = role.name.replace(/-aws-role$/, "");
        const trust = JSON.parse(role.inputs.assumeRolePolicy);
        const sub: string = Object.values<any>(trust.Statement[0].Condition.StringEquals).find((v) => String(v).startsWith("system:serviceaccount:"));
        const [, , namespace, serviceAccount] = sub.split(":");
        const rolePolicy = run.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === `${base}-aws-read-secret`)!;
        const secret = run.ofType("aws:secretsmanager/secret:Secret").find((s) => s.name === `${base}-aws-secret`)!;
        const secretPolicy = run.ofType("aws:secretsmanager/secretPolicy:SecretPolicy").find((s) => s.name === `${base}-aws-secret-policy`)!;
        return {
            key: `${namespace}/${serviceAccount}`,
            namespace,
            serviceAccount,
            roleArn: `arn:aws:iam::${account}:role/${name}`,
            trust,
            identityPolicy: JSON.parse(rolePolicy.inputs.policy),
            secretArn: `arn:aws:secretsmanager:eu-west-1:${account}:secret:${secret.inputs.name}-AbCdEf`,
            secretPolicy: JSON.parse(secretPolicy.inputs.policy),
            keyArn: secret.inputs.kmsKeyId,
            keyPolicy: JSON.parse(run.ofType("aws:kms/key:Key").find((k) => secret.inputs.kmsKeyId.endsWith(`key/${k.name}-key-id`))!.inputs.policy),
        };
    });
}

for (const env of ["staging", "prod"]) {
    describe(`${env} stack: IAM evaluated by iam-simulate`, function () {
        this.timeout(120000);
        let apps: AppAws[];
        let run: RunResult<unknown>;
        before(async () => {
            run = await runStack(env);
            apps = appsOf(run, env);
        });

        it("has one IRSA role per app, annotated on its ServiceAccount", () => {
            assert.deepStrictEqual(apps.map((a) => a.key).sort(), ["acme/billing", "acme/reporting", "acme/storefront", "globex/globex"]);
            for (const a of apps) {
                const sa = run.ofType("kubernetes:core/v1:ServiceAccount").find((s) => s.inputs.metadata.name === a.serviceAccount && s.name.startsWith(`${a.namespace}-`))!;
                assert.strictEqual(sa.inputs.metadata.annotations["eks.amazonaws.com/role-arn"], a.roleArn);
            }
            assert.strictEqual(run.calls.filter((c) => c.token === "aws:index/getCallerIdentity:getCallerIdentity").length, 1, "account looked up once per stack");
            assert.ok(apps.find((a) => a.key === "globex/globex")!.secretArn.includes(`:secret:globex-${env}-database-credentials-`), "the seed's name for an org's default app");
        });

        it("lets each app read exactly its own secret and nothing of any other app", async () => {
            for (const a of apps) {
                for (const b of apps) {
                    for (const action of ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]) {
                        const identity = await simulate({ identityPolicy: a.identityPolicy, principal: a.roleArn, action, resource: b.secretArn });
                        const withResourcePolicy = await simulate({ identityPolicy: a.identityPolicy, resourcePolicy: b.secretPolicy, principal: a.roleArn, action, resource: b.secretArn });
                        const expected = a === b ? "Allowed" : "ImplicitlyDenied";
                        assert.strictEqual(identity, expected, `${a.key} ${action} ${b.key} (identity policy)`);
                        assert.strictEqual(withResourcePolicy, a === b ? "Allowed" : "ExplicitlyDenied", `${a.key} ${action} ${b.key} (with ${b.key}'s resource policy)`);
                    }
                }
                const write = await simulate({ identityPolicy: a.identityPolicy, principal: a.roleArn, action: "secretsmanager:PutSecretValue", resource: a.secretArn });
                assert.strictEqual(write, "ImplicitlyDenied", `${a.key} cannot write its secret`);
                const collision = a.secretArn.replace(/-AbCdEf$/, "-x-AbCdEf");
                assert.strictEqual(await simulate({ identityPolicy: a.identityPolicy, principal: a.roleArn, action: "secretsmanager:GetSecretValue", resource: collision }), "ImplicitlyDenied", "a longer name with the same prefix is not matched (??????)");
            }
        });

        it("lets each app decrypt only with its organization's key, and only through Secrets Manager", async () => {
            const via = { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" };
            for (const a of apps) {
                for (const b of apps) {
                    const sameOrg = a.namespace === b.namespace;
                    assert.strictEqual(sameOrg, a.keyArn === b.keyArn, "one key per organization");
                    assert.strictEqual(await simulate({ identityPolicy: a.identityPolicy, resourcePolicy: b.keyPolicy, principal: a.roleArn, action: "kms:Decrypt", resource: b.keyArn, context: via }), sameOrg ? "Allowed" : "ImplicitlyDenied", `${a.key} decrypt with ${b.namespace}'s key`);
                    // the key policy alone (no identity policy) admits only that organization's apps
                    assert.strictEqual(await simulate({ identityPolicy: { Version: "2012-10-17", Statement: [] }, resourcePolicy: b.keyPolicy, principal: a.roleArn, action: "kms:Decrypt", resource: b.keyArn, context: via }), sameOrg ? "Allowed" : "ImplicitlyDenied", `${b.namespace}'s key policy vs ${a.key}`);
                }
                assert.strictEqual(await simulate({ identityPolicy: a.identityPolicy, resourcePolicy: a.keyPolicy, principal: a.roleArn, action: "kms:Decrypt", resource: a.keyArn, context: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } }), "ImplicitlyDenied", "not through another service");
            }
        });

        it("lets each role be assumed only by its exact ServiceAccount, audience and OIDC provider", async () => {
            for (const a of apps) {
                const provider = a.trust.Statement[0].Principal.Federated;
                const issuer = provider.split("oidc-provider/")[1];
                assert.ok(!issuer.startsWith("https://"));
                const ask = (sub: string, aud = "sts.amazonaws.com", principal = provider) => simulateTrust({ trustPolicy: a.trust, principal, roleArn: a.roleArn, context: { [`${issuer}:sub`]: sub, [`${issuer}:aud`]: aud } });
                assert.strictEqual(await ask(`system:serviceaccount:${a.namespace}:${a.serviceAccount}`), "Allowed", a.key);
                for (const b of apps.filter((x) => x !== a)) {
                    assert.strictEqual(await ask(`system:serviceaccount:${b.namespace}:${b.serviceAccount}`), "ImplicitlyDenied", `${b.key} assumes ${a.key}'s role`);
                }
                assert.strictEqual(await ask(`system:serviceaccount:other-ns:${a.serviceAccount}`), "ImplicitlyDenied", "same SA name, other namespace");
                assert.strictEqual(await ask(`system:serviceaccount:${a.namespace}:default`), "ImplicitlyDenied", "another SA of the namespace");
                assert.strictEqual(await ask(`system:serviceaccount:${a.namespace}:${a.serviceAccount}`, "vault"), "ImplicitlyDenied", "wrong audience");
                const otherProvider = provider.replace(/id\/.*$/, "id/OTHERCLUSTER");
                assert.strictEqual(await ask(`system:serviceaccount:${a.namespace}:${a.serviceAccount}`, "sts.amazonaws.com", otherProvider), "ImplicitlyDenied", "another cluster's OIDC provider");
            }
        });
    });

    describe(`${env} stack: RDS and KMS judged by awsguard and our own checks`, function () {
        this.timeout(120000);
        let run: RunResult<unknown>;
        before(async () => {
            run = await runStack(env);
        });

        async function violations(rule: any, resourceClass: any, props: any, config: any = {}): Promise<string[]> {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { createResourceValidationArgs } = require("@pulumi/awsguard/tests/util");
            const args = createResourceValidationArgs(resourceClass, props, config);
            args.notApplicable = () => { throw new Error("not applicable"); };
            const found: string[] = [];
            await rule.validateResource(args, (message: string) => found.push(message));
            return found;
        }

        it("passes awsguard's RDS rules", async () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const db = require("@pulumi/awsguard/database");
            const instance = run.ofType("aws:rds/instance:Instance")[0].inputs;
            assert.deepStrictEqual(await violations(db.rdsInstanceBackupEnabled, aws.rds.Instance, instance, { backupRetentionPeriod: env === "prod" ? 30 : 7 }), []);
            assert.deepStrictEqual(await violations(db.rdsInstancePublicAccess, aws.rds.Instance, instance), []);
            assert.deepStrictEqual(await violations(db.rdsStorageEncrypted, aws.rds.Instance, instance, { kmsKeyId: instance.kmsKeyId }), []);
            const multiAz = await violations(db.rdsInstanceMultiAZEnabled, aws.rds.Instance, instance);
            assert.deepStrictEqual(multiAz.length === 0, env === "prod", "prod is multi-AZ; staging saves the cost");
            // the rules do catch the opposite
            assert.ok((await violations(db.rdsInstancePublicAccess, aws.rds.Instance, { ...instance, publiclyAccessible: true })).length > 0);
        });

        it("passes awsguard's KMS rotation rule on every key", async () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const security = require("@pulumi/awsguard/security");
            const keys = run.ofType("aws:kms/key:Key");
            assert.strictEqual(keys.length, 3, "storage key + one per organization");
            for (const k of keys) assert.deepStrictEqual(await violations(security.cmkBackingKeyRotationEnabled, aws.kms.Key, k.inputs), [], k.name);
        });

        it("sets what awsguard does not check: deletion protection, final snapshot, force_ssl, scram, CA, logs, private SG", () => {
            const i = run.ofType("aws:rds/instance:Instance")[0].inputs;
            assert.strictEqual(i.deletionProtection, true);
            assert.strictEqual(i.skipFinalSnapshot, false);
            assert.strictEqual(i.finalSnapshotIdentifier, `${env}-postgres-final`);
            assert.strictEqual(i.backupRetentionPeriod, env === "prod" ? 30 : 7);
            assert.strictEqual(i.caCertIdentifier, env === "prod" ? "rds-ca-rsa4096-g1" : "rds-ca-rsa2048-g1");
            assert.strictEqual(i.performanceInsightsEnabled, true);
            assert.strictEqual(i.performanceInsightsKmsKeyId, i.kmsKeyId);
            assert.deepStrictEqual(i.enabledCloudwatchLogsExports, ["postgresql", "upgrade"]);
            assert.strictEqual(i.copyTagsToSnapshot, true);
            assert.strictEqual(i.engineVersion, env === "prod" ? "17" : "16");
            assert.strictEqual(i.instanceClass, env === "prod" ? "db.r7g.large" : "db.t4g.medium");
            assert.ok(i.passwordWo && i.password === undefined);
            const instance = run.ofType("aws:rds/instance:Instance")[0];
            assert.ok(instance.secretPaths.includes("passwordWo"), "master password is a secret");
            const params = run.ofType("aws:rds/parameterGroup:ParameterGroup")[0].inputs;
            assert.strictEqual(params.family, `postgres${i.engineVersion}`);
            const p = Object.fromEntries(params.parameters.map((x: any) => [x.name, x.value]));
            assert.strictEqual(p["rds.force_ssl"], "1");
            assert.strictEqual(p.password_encryption, "scram-sha-256");
            const sg = run.ofType("aws:ec2/securityGroup:SecurityGroup")[0].inputs;
            assert.deepStrictEqual(sg.egress, []);
            assert.ok(sg.ingress.every((r: any) => r.fromPort === 5432 && r.toPort === 5432 && !(r.cidrBlocks ?? []).includes("0.0.0.0/0")));
            assert.strictEqual(sg.ingress.length, 1);
            assert.ok(sg.ingress[0].securityGroups[0].startsWith("sg-"));
            const provider = run.ofType("pulumi:providers:postgresql")[0].inputs;
            assert.strictEqual(provider.superuser, "false", "the RDS master is not a superuser (rds_superuser)");
        });
    });

    describe(`${env} stack: Secrets Manager entries and SecretProviderClasses`, function () {
        this.timeout(120000);
        let run: RunResult<any>;
        before(async () => {
            run = await runStack(env);
        });

        it("stores the RDS-style JSON as a secret, encrypted with the org key, with a recovery window", () => {
            for (const v of run.ofType("aws:secretsmanager/secretVersion:SecretVersion")) {
                assert.ok(v.secretPaths.includes("secretString"), `${v.name} secretString is secret`);
                const json = JSON.parse(v.inputs.secretString);
                assert.deepStrictEqual(Object.keys(json).sort(), ["DATABASE_URL", "database", "dbname", "engine", "host", "password", "port", "sslmode", "username"].concat(env === "prod" ? ["sslrootcert"] : []).sort());
                assert.strictEqual(json.engine, "postgres");
                assert.match(json.host, /\.rds\.amazonaws\.com$/);
                assert.strictEqual(json.sslmode, env === "prod" ? "verify-full" : "require");
            }
            for (const s of run.ofType("aws:secretsmanager/secret:Secret")) {
                assert.strictEqual(s.inputs.recoveryWindowInDays, env === "prod" ? 30 : 7);
                assert.match(s.inputs.kmsKeyId, /^arn:aws:kms:/);
            }
            for (const p of run.ofType("aws:secretsmanager/secretPolicy:SecretPolicy")) assert.strictEqual(p.inputs.blockPublicPolicy, true);
        });

        it("validates every SecretProviderClass against the CRD schema, and its objects against the secret's JSON", () => {
            const ajv = new Ajv({ allErrors: true, strict: false });
            const validate = ajv.compile<any>(secretProviderClassSchema);
            const spcs = run.resources.filter((r) => r.type === "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass");
            assert.strictEqual(spcs.length, 4);
            for (const spc of spcs) {
                const obj: any = { apiVersion: "secrets-store.csi.x-k8s.io/v1", kind: "SecretProviderClass", ...spc.inputs };
                assert.ok(validate(obj), `${spc.name}: ${ajv.errorsText(validate.errors)}`);
                assert.strictEqual(obj.spec.provider, "aws");
                const objects = yaml.load(obj.spec.parameters.objects) as any[];
                assert.strictEqual(objects.length, 1);
                const secret = run.ofType("aws:secretsmanager/secret:Secret").find((s) => s.inputs.name === objects[0].objectName);
                assert.ok(secret, `objectName ${objects[0].objectName} is the app's secret`);
                assert.strictEqual(secret!.inputs.tags.namespace, obj.metadata.namespace, "in the app's own namespace");
                const version = run.ofType("aws:secretsmanager/secretVersion:SecretVersion").find((v) => v.name === secret!.name.replace(/-secret$/, "-secret-value"))!;
                const json = JSON.parse(version.inputs.secretString);
                for (const entry of objects[0].jmesPath) {
                    assert.ok(entry.path in json, `jmesPath ${entry.path} exists in the secret JSON`);
                    assert.strictEqual(entry.objectAlias, entry.path);
                }
                for (const key of ["host", "port", "username", "password", "DATABASE_URL"]) {
                    assert.ok(objects[0].jmesPath.some((e: any) => e.path === key), `${key} is mounted`);
                    assert.ok(obj.spec.secretObjects[0].data.some((d: any) => d.key === key && objects[0].jmesPath.some((e: any) => e.objectAlias === d.objectName)), `${key} is synced to the Secret`);
                }
            }
        });

        it("exports no credentials in clear", async () => {
            for (const org of Object.values<any>(run.result.organizations)) {
                for (const app of Object.values<any>(org.apps)) assert.ok(await isSecret(app.password));
            }
        });
    });

    it(`${env} stack runs in preview mode`, async function () {
        this.timeout(120000);
        const run = await runStack(env, true);
        assert.strictEqual(run.ofType("aws:rds/instance:Instance").length, 1);
        const records: RecordedResource[] = run.ofType("aws:iam/role:Role");
        assert.strictEqual(records.length, 4);
    });
}
