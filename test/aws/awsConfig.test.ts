/**
 * Malformed `database.rds` and `aws` config is rejected before any resource is registered, every problem
 * at once, each with its path and what to do; the shipped staging and prod files are accepted.
 */
import * as assert from "assert";
import { RecordedResource, RunResult, runPulumi } from "../../testing/offlineRun";
import { deployerLockoutProblem } from "../../components/aws/policies";
import { ConfigError, parseStackConfig } from "../../components/config";
import { readStackFile } from "../../tools/plan/stackFile";
import { AWS_ENVS, runAwsStack } from "../support/awsStacks";

const rds = {
    vpcId: "vpc-0abc123",
    subnetIds: ["subnet-0aaa111", "subnet-0bbb222"],
    allowedSecurityGroupIds: ["sg-0abc123"],
};
const aws = {
    region: "eu-west-1",
    eksOidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
    eksOidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
    platformAdminRoleArns: ["arn:aws:iam::123456789012:role/platform-deployer"],
};
const database = (over: Record<string, unknown> = {}, rdsOver: Record<string, unknown> = {}) => ({ engine: "rds", version: "17", tls: "require", rds: { ...rds, ...rdsOver }, ...over });
const orgs = [{ name: "acme", apps: [{ name: "api", credentials: "secretsmanager" }] }];

interface Case {
    name: string;
    config: Record<string, unknown>;
    expect: [string, RegExp][];
}

const cases: Case[] = [
    { name: "no client may reach the instance", config: { database: database({}, { allowedSecurityGroupIds: [] }), aws, organizations: orgs }, expect: [["database.rds.allowedSecurityGroupIds", /nothing could reach the database/]] },
    { name: "the whole internet allowed", config: { database: database({}, { allowedCidrBlocks: ["10.0.0.0/16", "0.0.0.0/0"] }), aws, organizations: orgs }, expect: [["database.rds.allowedCidrBlocks[1]", /admits every address/]] },
    { name: "a malformed CIDR", config: { database: database({}, { allowedCidrBlocks: ["10.0.0.0"] }), aws, organizations: orgs }, expect: [["database.rds.allowedCidrBlocks[0]", /IPv4 CIDR block/]] },
    { name: "a security group that is not an id", config: { database: database({}, { allowedSecurityGroupIds: ["eks-nodes"] }), aws, organizations: orgs }, expect: [["database.rds.allowedSecurityGroupIds[0]", /security group id such as sg-/]] },
    { name: "a VPC name instead of an id", config: { database: database({}, { vpcId: "main" }), aws, organizations: orgs }, expect: [["database.rds.vpcId", /VPC id such as vpc-/]] },
    { name: "missing subnets", config: { database: database({}, { subnetIds: undefined }), aws, organizations: orgs }, expect: [["database.rds.subnetIds", /required/]] },
    { name: "an instance class that is not one", config: { database: database({}, { instanceClass: "m5.large" }), aws, organizations: orgs }, expect: [["database.rds.instanceClass", /db\.t4g\.medium/]] },
    { name: "an unknown storage type", config: { database: database({}, { storageType: "standard" }), aws, organizations: orgs }, expect: [["database.rds.storageType", /"gp3" \| "gp2" \| "io1" \| "io2"/]] },
    { name: "autoscaling below the allocated storage", config: { database: database({}, { allocatedStorage: 100, maxAllocatedStorage: 50 }), aws, organizations: orgs }, expect: [["database.rds.maxAllocatedStorage", /at least allocatedStorage \(100\)/]] },
    { name: "backups longer than RDS keeps them", config: { database: database({}, { backupRetentionDays: 90 }), aws, organizations: orgs }, expect: [["database.rds.backupRetentionDays", /at most 35/]] },
    { name: "deletion protection without a final snapshot", config: { database: database({}, { skipFinalSnapshot: true }), aws, organizations: orgs }, expect: [["database.rds.skipFinalSnapshot", /keeps its final snapshot/]] },
    { name: "a master user name RDS refuses", config: { database: database({}, { masterUsername: "9admin" }), aws, organizations: orgs }, expect: [["database.rds.masterUsername", /starting with a letter/]] },
    { name: "deletion protection as a string", config: { database: database({}, { deletionProtection: "yes" }), aws, organizations: orgs }, expect: [["database.rds.deletionProtection", /true or false/]] },
    { name: "a misspelt rds field", config: { database: database({}, { multiAZ: true }), aws, organizations: orgs }, expect: [["database.rds", /unknown field "multiAZ"/]] },
    { name: "verify-full without the RDS CA bundle", config: { database: database({ tls: "verify-full" }), aws, organizations: orgs }, expect: [["database.rds.caBundlePem", /RDS CA bundle/]] },
    { name: "a CA bundle that is not PEM", config: { database: database({ tls: "verify-full" }, { caBundlePem: "global-bundle.pem" }), aws, organizations: orgs }, expect: [["database.rds.caBundlePem", /expected one or more PEM certificates/]] },
    { name: "statefulset settings on rds", config: { database: { ...database(), statefulset: {} }, aws, organizations: orgs }, expect: [["database.statefulset", /only applies to engine "statefulset"/]] },
    { name: "a region that is not one", config: { database: database(), aws: { ...aws, region: "Ireland" }, organizations: orgs }, expect: [["aws.region", /AWS region such as eu-west-1/]] },
    { name: "the issuer with http://", config: { database: database(), aws: { ...aws, eksOidcIssuerUrl: "http://oidc.eks.eu-west-1.amazonaws.com/id/ABC123" }, organizations: orgs }, expect: [["aws.eksOidcIssuerUrl", /https:\/\/ issuer URL/]] },
    { name: "the OIDC provider of another cluster", config: { database: database(), aws: { ...aws, eksOidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER999" }, organizations: orgs }, expect: [["aws.eksOidcProviderArn", /IAM OIDC provider of aws.eksOidcIssuerUrl .*oidc-provider\/oidc.eks.eu-west-1.amazonaws.com\/id\/OTHER999/]] },
    { name: "a cluster ARN instead of the OIDC provider", config: { database: database(), aws: { ...aws, eksOidcProviderArn: "arn:aws:eks:eu-west-1:123456789012:cluster/main" }, organizations: orgs }, expect: [["aws.eksOidcProviderArn", /oidc-provider/]] },
    { name: "no platform admin (the deployer would lock itself out)", config: { database: database(), aws: { ...aws, platformAdminRoleArns: [] }, organizations: orgs }, expect: [["aws.platformAdminRoleArns", /locks itself out/]] },
    { name: "a platform admin of another account", config: { database: database(), aws: { ...aws, platformAdminRoleArns: ["arn:aws:iam::999999999999:role/platform-deployer"] }, organizations: orgs }, expect: [["aws.platformAdminRoleArns[0]", /must be a role of account 123456789012/]] },
    { name: "a user ARN as platform admin", config: { database: database(), aws: { ...aws, platformAdminRoleArns: ["arn:aws:iam::123456789012:user/alice"] }, organizations: orgs }, expect: [["aws.platformAdminRoleArns[0]", /IAM role ARN/]] },
    { name: "a recovery window Secrets Manager refuses", config: { database: database(), aws: { ...aws, secretRecoveryWindowDays: 3 }, organizations: orgs }, expect: [["aws.secretRecoveryWindowDays", /at least 7/]] },
    { name: "a role ARN as permissions boundary", config: { database: database(), aws: { ...aws, permissionsBoundaryArn: "arn:aws:iam::123456789012:role/boundary" }, organizations: orgs }, expect: [["aws.permissionsBoundaryArn", /IAM policy ARN/]] },
    { name: "a misspelt aws field", config: { database: database(), aws: { ...aws, oidcProviderArn: "x" }, organizations: orgs }, expect: [["aws", /unknown field "oidcProviderArn"/]] },
    { name: "secretsmanager delivered as a Kubernetes Secret", config: { database: database(), aws, organizations: [{ name: "acme", apps: [{ name: "api", credentials: "secretsmanager", delivery: "secret" }] }] }, expect: [["organizations[0].apps[0].delivery", /"secretsmanager" can be delivered by "csi", not "secret"/]] },
    { name: "an app name too long for its IAM role", config: { database: database(), aws, organizations: [{ name: "acme", apps: [{ name: "a".repeat(41), credentials: "secretsmanager" }] }] }, expect: [["organizations[0].apps[0].name", /at most 40/]] },
];

describe("malformed rds and aws config", function () {
    this.timeout(30000);
    for (const c of cases) {
        it(`rejects ${c.name}, naming the field, with nothing registered`, async () => {
            let error: unknown;
            const run = await runPulumi(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require("../../stacks/program") as typeof import("../../stacks/program");
                try {
                    program.createStack();
                } catch (err) {
                    error = err;
                }
            }, { stack: "qa", config: c.config });
            assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
            assert.deepStrictEqual(run.resources, [], "no resource may be registered");
            for (const [path, message] of c.expect) {
                assert.ok(error.problems.some((p) => p.path === path && message.test(p.message)), `expected a problem at ${path} matching ${message}; got:\n${error.message}`);
                assert.ok(error.message.includes(`${path}: `), "the message lists the path");
            }
        });
    }

    it("reports every rds and aws problem of one config at once", () => {
        try {
            parseStackConfig({
                database: database({ tls: "verify-full" }, { allowedSecurityGroupIds: [], subnetIds: ["subnet-0aaa111"] }),
                aws: { ...aws, platformAdminRoleArns: [], eksOidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER" },
                organizations: orgs,
            }, "qa");
            assert.fail("accepted");
        } catch (err) {
            assert.ok(err instanceof ConfigError, String(err));
            assert.deepStrictEqual(err.problems.map((p) => p.path).sort(), [
                "aws.eksOidcProviderArn",
                "aws.platformAdminRoleArns",
                "database.rds.allowedSecurityGroupIds",
                "database.rds.caBundlePem",
                "database.rds.subnetIds",
            ]);
        }
    });

    it("accepts the shipped staging and prod stacks and applies the rds defaults", () => {
        for (const env of AWS_ENVS) {
            const config = parseStackConfig(readStackFile(env), env);
            assert.strictEqual(config.database.engine, "rds");
            assert.strictEqual(config.database.rds!.masterPasswordVersion, 1);
            assert.strictEqual(config.database.rds!.masterUsername, "pgadmin");
            assert.strictEqual(config.database.rds!.iamDatabaseAuthentication, false);
        }
        const minimal = parseStackConfig({ database: database(), aws, organizations: orgs }, "qa");
        assert.deepStrictEqual(
            [minimal.database.rds!.instanceClass, minimal.database.rds!.backupRetentionDays, minimal.database.rds!.deletionProtection, minimal.database.rds!.skipFinalSnapshot, minimal.database.rds!.caCertIdentifier, minimal.aws!.secretRecoveryWindowDays],
            ["db.t4g.medium", 7, true, false, "rds-ca-rsa2048-g1", 0],
        );
    });

    it("lets a throw-away environment be cheap, explicitly", () => {
        const cheap = parseStackConfig({ database: database({}, { deletionProtection: false, skipFinalSnapshot: true, backupRetentionDays: 1, performanceInsights: false }), aws, organizations: orgs }, "qa");
        assert.deepStrictEqual([cheap.database.rds!.deletionProtection, cheap.database.rds!.skipFinalSnapshot, cheap.database.rds!.backupRetentionDays], [false, true, 1]);
    });
});

describe("the deployer cannot lock itself out of the secrets", function () {
    this.timeout(60000);
    const account = "123456789012";
    const caller = (role: string) => ({ "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: account, arn: `arn:aws:sts::${account}:assumed-role/${role}/ci`, userId: "AROAEXAMPLE:ci" }) });

    it("explains an unlisted deployer, a listed role without its path, and a user", () => {
        const admins = [`arn:aws:iam::${account}:role/platform-deployer`];
        assert.strictEqual(deployerLockoutProblem(admins[0], admins), undefined);
        assert.match(deployerLockoutProblem(`arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/platform-deployer`, admins)!, /names the same role without its path/);
        assert.match(deployerLockoutProblem(`arn:aws:iam::${account}:user/alice`, admins)!, /as an IAM role, not a user/);
        assert.match(deployerLockoutProblem(`arn:aws:iam::${account}:role/intern`, admins)!, /^aws\.platformAdminRoleArns: .*role\/intern, is not listed.*lock itself out/);
        assert.match(deployerLockoutProblem("arn:aws:iam::210987654321:role/platform-deployer", admins)!, /is a role of account 123456789012; pulumi runs in account 210987654321/);
    });

    it("lets the listed deployer role write the secret policies", async () => {
        const run = await runAwsStack("staging");
        assert.ok(run.ofType("aws:secretsmanager/secretPolicy:SecretPolicy").length > 0);
        assert.deepStrictEqual(run.calls.filter((c) => c.token === "aws:iam/getSessionContext:getSessionContext").map((c) => c.inputs.arn), [`arn:aws:sts::${account}:assumed-role/platform-deployer/ci`], "the caller's role is looked up once");
    });

    for (const [what, calls, expected] of [
        ["a deployer role that is not listed", caller("intern"), /role\/intern, is not listed/],
        ["an IAM user", { "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: account, arn: `arn:aws:iam::${account}:user/alice`, userId: "AIDAEXAMPLE" }) }, /user\/alice, is not listed \(run `pulumi up` as an IAM role/],
        ["a listed role name whose real ARN has a path", { ...caller("platform-deployer"), "aws:iam/getSessionContext:getSessionContext": (i: any) => ({ arn: i.arn, issuerArn: `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/platform-deployer` }) }, /without its path/],
    ] as [string, Record<string, (inputs: any) => any>, RegExp][]) {
        it(`fails the run (as pulumi up and preview would) for ${what}, before any key or secret exists`, async () => {
            let run: RunResult<Record<string, any>> | undefined;
            let error: (Error & { resources?: RecordedResource[] }) | undefined;
            try {
                run = await runAwsStack("staging", { calls });
            } catch (err) {
                error = err as Error;
            }
            assert.match(String(error), expected, `the run must fail (got ${error ?? "success"})`);
            assert.strictEqual(run, undefined);
            const registered = error!.resources!;
            assert.ok(registered.some((r) => r.type === "aws:iam/role:Role"), "the run got as far as the app roles");
            const secretsKeys = registered.filter((r) => r.type === "aws:kms/key:Key" && r.name.endsWith("-secrets-key"));
            assert.deepStrictEqual(secretsKeys, [], "no organization key is created for a deployer that would be locked out");
            for (const type of ["aws:secretsmanager/secret:Secret", "aws:secretsmanager/secretPolicy:SecretPolicy", "aws:secretsmanager/secretVersion:SecretVersion"]) {
                assert.ok(!registered.some((r) => r.type === type), `no ${type} is created for a deployer that would be locked out`);
            }
        });
    }
});
