/**
 * RdsPostgres in the staging and prod stacks, judged by AWS's cdk-nag rules (AwsSolutions, HIPAA, NIST,
 * PCI DSS packs) on the registered inputs, plus our own checks of what those rules do not cover; and the
 * component on its own, in up and preview mode.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as aws from "@pulumi/aws";
import { runPulumi, RunResult, valueOf, isSecret, isKnown } from "../../testing/offlineRun";
import { AWS_ENVS, ACCOUNTS, REGION, awsStackRun, runAwsStack } from "../support/awsStacks";
import { readStackFile } from "../../tools/plan/stackFile";
import { RdsPostgres, RdsPostgresArgs, SubnetFacts, rdsPostgresProblems, rdsProtection, rdsSubnetProblems } from "../../components/database/rdsPostgres";
import { rules, judge, cfnDbInstance, cfnKmsKey, cfnSecurityGroup, cfnSecret } from "../support/cdkNag";

/** The RDS rules our instances must pass in every environment (multi-AZ is prod's alone). */
const RDS_RULES = [
    rules.rds.RDSInstanceBackupEnabled,
    rules.rds.RDSInstancePublicAccess,
    rules.rds.RDSStorageEncrypted,
    rules.rds.RDSInstanceDeletionProtectionEnabled,
    rules.rds.RDSLoggingEnabled,
    rules.rds.RDSAutomaticMinorVersionUpgradeEnabled,
];

const EXPECTED = {
    staging: { version: "17", instanceClass: "db.t4g.medium", multiAz: false, backup: 7, ca: "rds-ca-rsa2048-g1", sgs: ["sg-0e5a0d0e5a0d0e5a0"] },
    prod: { version: "16", instanceClass: "db.r7g.large", multiAz: true, backup: 30, ca: "rds-ca-rsa4096-g1", sgs: ["sg-0b0d0e5b0d0e5b0d1", "sg-0b0d0e5b0d0e5b0d2"] },
};

for (const env of AWS_ENVS) {
    describe(`${env} stack: RDS, KMS, security group and secrets judged by cdk-nag and our own checks`, function () {
        this.timeout(60000);
        let run: RunResult<Record<string, any>>;
        let instance: any;
        const expected = EXPECTED[env];
        before(async () => {
            run = await awsStackRun(env);
            const instances = run.ofType("aws:rds/instance:Instance");
            assert.strictEqual(instances.length, 1);
            instance = instances[0].inputs;
        });

        it("passes cdk-nag's RDS rules (backups, no public access, encrypted storage, deletion protection, logs, minor upgrades; multi-AZ in prod)", () => {
            const node = cfnDbInstance(instance);
            for (const rule of RDS_RULES) assert.strictEqual(judge(rule, node), "compliant", rule.name);
            assert.strictEqual(judge(rules.rds.RDSMultiAZSupport, node), expected.multiAz ? "compliant" : "non-compliant", "prod is multi-AZ; staging saves the cost");
            const storageKey = run.byName("aws:kms/key:Key", "postgres-storage-key");
            assert.strictEqual(instance.kmsKeyId, `arn:aws:kms:${REGION}:${ACCOUNTS[env]}:key/${storageKey.name}-key-id`, "storage encrypted with our own key");
        });

        it("passes cdk-nag's KMS rotation rule on every key (storage + one per organization with secretsmanager apps)", () => {
            const keys = run.ofType("aws:kms/key:Key");
            assert.deepStrictEqual(keys.map((k) => k.name).sort(), ["acme-secrets-key", "globex-secrets-key", "postgres-storage-key"]);
            for (const k of keys) assert.strictEqual(judge(rules.kms.KMSBackingKeyRotationEnabled, cfnKmsKey(k.inputs)), "compliant", k.name);
        });

        it("passes cdk-nag's inbound rules on the database security group and its KMS rule on every secret", () => {
            const sgs = run.ofType("aws:ec2/securityGroup:SecurityGroup");
            assert.ok(sgs.length > 0);
            for (const sg of sgs) assert.strictEqual(judge(rules.ec2.EC2RestrictedInbound, cfnSecurityGroup(sg.inputs)), "compliant", sg.name);
            const secrets = run.ofType("aws:secretsmanager/secret:Secret");
            assert.ok(secrets.length > 0);
            for (const s of secrets) assert.strictEqual(judge(rules.secretsmanager.SecretsManagerUsingKMSKey, cfnSecret(s.inputs)), "compliant", s.name);
        });

        it("has rules that do catch the opposite (controls)", () => {
            const flipped: Array<[string, any, Record<string, unknown>]> = [
                ["public access", rules.rds.RDSInstancePublicAccess, { publiclyAccessible: true }],
                ["unencrypted storage", rules.rds.RDSStorageEncrypted, { storageEncrypted: false }],
                ["no backups", rules.rds.RDSInstanceBackupEnabled, { backupRetentionPeriod: 0 }],
                ["no deletion protection", rules.rds.RDSInstanceDeletionProtectionEnabled, { deletionProtection: false }],
                ["no upgrade log", rules.rds.RDSLoggingEnabled, { enabledCloudwatchLogsExports: ["postgresql"] }],
                ["no minor upgrades", rules.rds.RDSAutomaticMinorVersionUpgradeEnabled, { autoMinorVersionUpgrade: false }],
                ["single-AZ", rules.rds.RDSMultiAZSupport, { multiAz: false }],
            ];
            for (const [what, rule, change] of flipped) assert.notStrictEqual(judge(rule, cfnDbInstance({ ...instance, ...change })), "compliant", what);
            assert.strictEqual(judge(rules.kms.KMSBackingKeyRotationEnabled, cfnKmsKey({ enableKeyRotation: false })), "non-compliant");
            const sg = run.ofType("aws:ec2/securityGroup:SecurityGroup")[0].inputs;
            const open = { ...sg, ingress: [...sg.ingress, { protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }] };
            assert.strictEqual(judge(rules.ec2.EC2RestrictedInbound, cfnSecurityGroup(open)), "non-compliant");
            const secret = run.ofType("aws:secretsmanager/secret:Secret")[0].inputs;
            assert.strictEqual(judge(rules.secretsmanager.SecretsManagerUsingKMSKey, cfnSecret({ ...secret, kmsKeyId: undefined })), "non-compliant");
        });

        it("sets what the rules do not check: snapshots, TLS, CA, scram, logs, upgrades", () => {
            assert.strictEqual(instance.engine, "postgres");
            assert.strictEqual(instance.engineVersion, expected.version);
            assert.strictEqual(instance.instanceClass, expected.instanceClass);
            assert.strictEqual(instance.publiclyAccessible, false);
            assert.strictEqual(instance.storageEncrypted, true);
            assert.strictEqual(instance.deletionProtection, true);
            assert.strictEqual(instance.skipFinalSnapshot, false);
            assert.strictEqual(instance.finalSnapshotIdentifier, `${env}-postgres-final`);
            assert.strictEqual(instance.deleteAutomatedBackups, false, "automated backups outlive the instance");
            assert.strictEqual(instance.backupRetentionPeriod, expected.backup);
            assert.ok(instance.backupRetentionPeriod >= 7);
            assert.strictEqual(instance.copyTagsToSnapshot, true);
            assert.strictEqual(instance.caCertIdentifier, expected.ca);
            assert.strictEqual(instance.performanceInsightsEnabled, true);
            assert.strictEqual(instance.performanceInsightsKmsKeyId, instance.kmsKeyId, "Performance Insights encrypted with the instance's key");
            assert.deepStrictEqual(instance.enabledCloudwatchLogsExports, ["postgresql", "upgrade"]);
            assert.strictEqual(instance.autoMinorVersionUpgrade, true);
            assert.strictEqual(instance.allowMajorVersionUpgrade, true);
            assert.strictEqual(instance.iamDatabaseAuthenticationEnabled, false);
            assert.strictEqual(instance.multiAz, expected.multiAz);
            assert.strictEqual(instance.applyImmediately, false);
            assert.strictEqual(instance.dbSubnetGroupName, `${env}-postgres`);
            assert.strictEqual(instance.parameterGroupName, `${env}-postgres-pg${expected.version}`);
            assert.deepStrictEqual(instance.vpcSecurityGroupIds, [run.byName("aws:ec2/securityGroup:SecurityGroup", "postgres-sg").id], "its own security group only");
        });

        it("forces TLS and scram-sha-256 in its own parameter group of the right family", () => {
            const params = run.ofType("aws:rds/parameterGroup:ParameterGroup");
            assert.strictEqual(params.length, 1);
            assert.strictEqual(params[0].inputs.family, `postgres${expected.version}`);
            const byName = Object.fromEntries(params[0].inputs.parameters.map((p: any) => [p.name, p]));
            assert.deepStrictEqual([byName["rds.force_ssl"].value, byName["rds.force_ssl"].applyMethod], ["1", "pending-reboot"]);
            assert.strictEqual(byName.password_encryption.value, "scram-sha-256");
            assert.notStrictEqual(byName.log_statement.value, "all", "no statement (or password) logging beyond DDL");
        });

        it("admits 5432 only from the configured client security groups, in private subnets", () => {
            const sg = run.ofType("aws:ec2/securityGroup:SecurityGroup");
            assert.strictEqual(sg.length, 1);
            assert.strictEqual(sg[0].inputs.vpcId, readStackFile(env).database && (readStackFile(env).database as any).rds.vpcId);
            assert.deepStrictEqual(sg[0].inputs.egress, []);
            assert.deepStrictEqual(sg[0].inputs.ingress.map((r: any) => [r.protocol, r.fromPort, r.toPort, r.securityGroups, r.cidrBlocks]), expected.sgs.map((id) => ["tcp", 5432, 5432, [id], undefined]));
            const subnets = run.ofType("aws:rds/subnetGroup:SubnetGroup");
            assert.deepStrictEqual(subnets[0].inputs.subnetIds, (readStackFile(env).database as any).rds.subnetIds);
        });

        it("keeps the master password a secret sent write-only, never to apps", () => {
            const record = run.ofType("aws:rds/instance:Instance")[0];
            assert.ok(record.secretPaths.includes("passwordWo"), "passwordWo is a secret input");
            assert.strictEqual(instance.password, undefined, "not the stored password field");
            assert.strictEqual(instance.passwordWoVersion, 1);
            assert.strictEqual(instance.username, "pgadmin");
            for (const v of run.ofType("aws:secretsmanager/secretVersion:SecretVersion")) {
                assert.notStrictEqual(JSON.parse(v.inputs.secretString).username, "pgadmin");
                assert.ok(!v.inputs.secretString.includes(instance.passwordWo), "no app secret carries the master password");
            }
        });

        it("connects the postgresql provider as a non-superuser over verified TLS where it can", () => {
            const provider = run.ofType("pulumi:providers:postgresql")[0].inputs;
            assert.strictEqual(provider.superuser, "false", "the RDS master is only a member of rds_superuser");
            assert.strictEqual(provider.username, "pgadmin");
            if (env === "staging") {
                // tls require, through the SSM tunnel of adminEndpoint
                assert.deepStrictEqual([provider.host, provider.port, provider.sslmode], ["localhost", "15432", "require"]);
            } else {
                // verify-full straight to the endpoint (the CI runner is in the VPC), against the configured RDS bundle
                assert.deepStrictEqual([provider.host, provider.sslmode], [`${env}-postgres.abcdefghijkl.${REGION}.rds.amazonaws.com`, "verify-full"]);
                const rds = (readStackFile(env).database as any).rds;
                assert.strictEqual(fs.readFileSync(provider.sslrootcert, "utf8"), rds.caBundlePem ?? fs.readFileSync(rds.caBundleFile, "utf8"));
            }
        });

        it("lets the organizations' namespaces reach only the RDS subnets on 5432", () => {
            const egress = run.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").filter((p) => p.inputs.metadata.name === "allow-dns-and-database");
            assert.ok(egress.length >= 2);
            const subnetIds: string[] = (readStackFile(env).database as any).rds.subnetIds;
            const lookups = run.calls.filter((c) => c.token === "aws:ec2/getSubnet:getSubnet").map((c) => c.inputs.id);
            assert.deepStrictEqual(lookups, subnetIds, "each RDS subnet looked up once per stack, not per organization");
            const first = egress[0].inputs.spec.egress[1].to;
            assert.strictEqual(first.length, subnetIds.length);
            for (const p of egress) {
                const rule = p.inputs.spec.egress[1];
                assert.deepStrictEqual(rule.ports, [{ protocol: "TCP", port: 5432 }]);
                assert.ok(rule.to.every((t: any) => /^10\.0\.\d+\.0\/24$/.test(t.ipBlock?.cidr) && Object.keys(t).length === 1), `${p.name}: only the subnets' CIDR blocks`);
                assert.deepStrictEqual(rule.to, first, "the same blocks for every organization");
            }
        });
    });
}

describe("prod stack: app roles under the account's permissions boundary", function () {
    this.timeout(60000);
    it("attaches aws.permissionsBoundaryArn to every app role (and staging, without it, to none)", async () => {
        for (const env of AWS_ENVS) {
            const run = await awsStackRun(env);
            for (const role of run.ofType("aws:iam/role:Role")) {
                assert.strictEqual(role.inputs.permissionsBoundary, env === "prod" ? "arn:aws:iam::210987654321:policy/workload-boundary" : undefined, role.name);
                assert.strictEqual(role.inputs.maxSessionDuration, 3600);
            }
        }
    });
});

describe("RDS through a tunnel with verify-full", function () {
    this.timeout(60000);
    it("verifies the chain but not the host name (verify-ca): the RDS certificate cannot name localhost", async () => {
        const raw = readStackFile("staging") as any;
        const config = { ...raw, database: { ...raw.database, tls: "verify-full", rds: { ...raw.database.rds, caBundleFile: "certs/rds-eu-west-1-bundle.pem" } } };
        const run = await runAwsStack("staging", { config });
        const provider = run.ofType("pulumi:providers:postgresql")[0].inputs;
        assert.deepStrictEqual([provider.host, provider.sslmode], ["localhost", "verify-ca"]);
        // apps still verify the endpoint's name
        for (const v of run.ofType("aws:secretsmanager/secretVersion:SecretVersion")) assert.strictEqual(JSON.parse(v.inputs.secretString).sslmode, "verify-full");
    });
});

const baseArgs: RdsPostgresArgs = {
    env: "qa",
    version: "17",
    tls: "require",
    instanceClass: "db.t4g.micro",
    allocatedStorage: 20,
    storageType: "gp3",
    multiAz: false,
    vpcId: "vpc-0abc123",
    subnetIds: ["subnet-0a1", "subnet-0b2"],
    allowedSecurityGroupIds: ["sg-0abc"],
    allowedCidrBlocks: [],
    backupRetentionDays: 7,
    deletionProtection: true,
    skipFinalSnapshot: false,
    caCertIdentifier: "rds-ca-rsa2048-g1",
    performanceInsights: false,
    masterUsername: "pgadmin",
    iamDatabaseAuthentication: true,
};

describe("RdsPostgres on its own", function () {
    this.timeout(60000);

    it("validates its args, listing every problem", () => {
        assert.deepStrictEqual(rdsPostgresProblems(baseArgs), []);
        const problems = rdsPostgresProblems({ ...baseArgs, version: "17.2", subnetIds: ["subnet-0a"], allowedSecurityGroupIds: [], allowedCidrBlocks: ["0.0.0.0/0"], backupRetentionDays: 0, maxAllocatedStorage: 10, tls: "verify-full", skipFinalSnapshot: true });
        for (const fragment of ["major version", "at least 2 private subnets", "admits the whole internet", "backupRetentionDays", "maxAllocatedStorage", "caBundlePem", "keeps its final snapshot"]) {
            assert.ok(problems.some((p) => p.includes(fragment)), `${fragment} in ${problems.join(" | ")}`);
        }
        assert.ok(rdsPostgresProblems({ ...baseArgs, allowedSecurityGroupIds: [] }).some((p) => p.includes("nothing can connect")));
    });

    it("protects what a user would expect: the instance while deletion protection is on, the key while snapshots exist", () => {
        assert.deepStrictEqual(rdsProtection({ deletionProtection: true, skipFinalSnapshot: false }), { protectInstance: true, retainStorageKey: true, keepAutomatedBackups: true });
        assert.deepStrictEqual(rdsProtection({ deletionProtection: false, skipFinalSnapshot: true }), { protectInstance: false, retainStorageKey: false, keepAutomatedBackups: false });
    });

    for (const preview of [false, true]) {
        it(`registers a protected, hardened instance in ${preview ? "preview" : "up"} mode`, async () => {
            const run = await runPulumi(async () => {
                const provider = new aws.Provider("qa", { region: "eu-west-1" });
                const server = new RdsPostgres("db", { ...baseArgs, masterPasswordVersion: 3 }, { provider });
                return { server, protect: (server.instance as any).__protect as boolean };
            }, { stack: "qa", preview });
            const { server, protect } = run.result;
            assert.strictEqual(protect, true, "pulumi refuses to delete or replace it");
            assert.strictEqual(server.adminIsSuperuser, false);
            assert.strictEqual(server.engine, "rds");
            assert.ok(await isSecret(server.adminPassword), "admin password is a secret");
            const instance = run.byName("aws:rds/instance:Instance", "db-instance");
            assert.strictEqual(instance.inputs.identifier, "qa-postgres");
            assert.strictEqual(instance.inputs.iamDatabaseAuthenticationEnabled, true);
            assert.strictEqual(instance.inputs.passwordWoVersion, 3);
            assert.strictEqual(instance.inputs.performanceInsightsKmsKeyId, undefined);
            assert.deepStrictEqual(run.byName("random:index/randomPassword:RandomPassword", "db-master-password").inputs.keepers, { version: "3" });
            assert.ok(instance.provider?.includes("pulumi:providers:aws::qa"), "children inherit the given provider");
            if (preview) {
                assert.strictEqual(await isKnown(server.host), false, "the endpoint is unknown before creation");
                assert.ok(instance.inputs.kmsKeyId === undefined || instance.inputs.kmsKeyId?.__pulumiUnknown === true || instance.inputs.kmsKeyId === "<unknown>", "the key ARN is unknown too");
            } else {
                assert.strictEqual(await valueOf(server.host), "qa-postgres.abcdefghijkl.eu-west-1.rds.amazonaws.com");
                assert.strictEqual(await valueOf(server.caCertPem), "", "no CA configured: tls require only");
            }
        });
    }

    it("takes only private subnets of its VPC in two availability zones", () => {
        const subnet = (id: string, az: string, over: Partial<SubnetFacts> = {}): SubnetFacts => ({ id, vpcId: "vpc-0abc123", availabilityZone: az, mapPublicIpOnLaunch: false, cidrBlock: "10.0.1.0/24", ...over });
        assert.deepStrictEqual(rdsSubnetProblems("vpc-0abc123", [subnet("subnet-1", "eu-west-1a"), subnet("subnet-2", "eu-west-1b")]), []);
        assert.match(rdsSubnetProblems("vpc-0abc123", [subnet("subnet-1", "eu-west-1a"), subnet("subnet-2", "eu-west-1a")]).join(), /at least two availability zones/);
        assert.match(rdsSubnetProblems("vpc-0abc123", [subnet("subnet-1", "eu-west-1a", { mapPublicIpOnLaunch: true }), subnet("subnet-2", "eu-west-1b")]).join(), /subnet-1 assigns public IPs on launch/);
        assert.match(rdsSubnetProblems("vpc-0abc123", [subnet("subnet-1", "eu-west-1a"), subnet("subnet-2", "eu-west-1b", { vpcId: "vpc-0other" })]).join(), /subnet-2 is in vpc-0other, not in database.rds.vpcId vpc-0abc123/);
    });

    it("fails the run (in preview too) before a subnet group with a public subnet exists", async () => {
        for (const preview of [false, true]) {
            await assert.rejects(runPulumi(async () => {
                const provider = new aws.Provider("qa", { region: "eu-west-1" });
                new RdsPostgres("db", baseArgs, { provider });
            }, {
                stack: "qa",
                preview,
                calls: { "aws:ec2/getSubnet:getSubnet": (i) => ({ id: i.id, vpcId: "vpc-0abc123", cidrBlock: "10.0.9.0/24", availabilityZone: i.id.endsWith("1") ? "eu-west-1a" : "eu-west-1b", mapPublicIpOnLaunch: i.id === "subnet-0b2" }) },
            }), /database\.rds\.subnetIds: subnet-0b2 assigns public IPs on launch/);
        }
    });

    it("throws on invalid args before registering anything", async () => {
        let error: Error | undefined;
        const run = await runPulumi(async () => {
            try {
                new RdsPostgres("db", { ...baseArgs, allowedSecurityGroupIds: [] });
            } catch (err) {
                error = err as Error;
            }
        }, { stack: "qa" });
        assert.match(String(error), /nothing can connect/);
        assert.deepStrictEqual(run.resources.filter((r) => r.custom), []);
    });
});
