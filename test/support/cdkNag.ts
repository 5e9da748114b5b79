/**
 * AWS's own rule packs (cdk-nag: AwsSolutions, HIPAA, NIST 800-53, PCI DSS) as an outside judge of the AWS
 * resources the program registers. cdk-nag judges CloudFormation resources, so each Pulumi input we hand
 * it is renamed to its CloudFormation property here: a plain, field-for-field table (the Pulumi AWS
 * provider and CloudFormation name the same API fields), checked by the controls in the tests, where
 * flipping any mapped field makes its rule fail.
 */
import { App, CfnResource, Stack } from "aws-cdk-lib";
import { CfnDBInstance } from "aws-cdk-lib/aws-rds";
import { CfnKey } from "aws-cdk-lib/aws-kms";
import { CfnSecurityGroup } from "aws-cdk-lib/aws-ec2";
import { CfnSecret } from "aws-cdk-lib/aws-secretsmanager";
import { NagRuleCompliance, rules } from "cdk-nag";

export { rules };

/** A cdk-nag rule: a function of one CloudFormation resource. */
export type NagRule = (node: CfnResource) => NagRuleCompliance | string[];

let counter = 0;
function scope(): Stack {
    return new Stack(new App(), `judged${counter++}`);
}

/** `aws:rds/instance:Instance` inputs as an `AWS::RDS::DBInstance`. */
export function cfnDbInstance(i: any): CfnDBInstance {
    return new CfnDBInstance(scope(), "instance", {
        engine: i.engine,
        engineVersion: i.engineVersion,
        dbInstanceClass: i.instanceClass,
        dbInstanceIdentifier: i.identifier,
        allocatedStorage: i.allocatedStorage === undefined ? undefined : String(i.allocatedStorage),
        maxAllocatedStorage: i.maxAllocatedStorage,
        storageType: i.storageType,
        storageEncrypted: i.storageEncrypted,
        kmsKeyId: i.kmsKeyId,
        publiclyAccessible: i.publiclyAccessible,
        backupRetentionPeriod: i.backupRetentionPeriod,
        multiAz: i.multiAz,
        deletionProtection: i.deletionProtection,
        enableCloudwatchLogsExports: i.enabledCloudwatchLogsExports,
        autoMinorVersionUpgrade: i.autoMinorVersionUpgrade,
        allowMajorVersionUpgrade: i.allowMajorVersionUpgrade,
        enableIamDatabaseAuthentication: i.iamDatabaseAuthenticationEnabled,
        enablePerformanceInsights: i.performanceInsightsEnabled,
        performanceInsightsKmsKeyId: i.performanceInsightsKmsKeyId,
        monitoringInterval: i.monitoringInterval,
        caCertificateIdentifier: i.caCertIdentifier,
        copyTagsToSnapshot: i.copyTagsToSnapshot,
        dbSubnetGroupName: i.dbSubnetGroupName,
        dbParameterGroupName: i.parameterGroupName,
        vpcSecurityGroups: i.vpcSecurityGroupIds,
        port: i.port === undefined ? undefined : String(i.port),
    });
}

/** `aws:kms/key:Key` inputs as an `AWS::KMS::Key`. */
export function cfnKmsKey(i: any): CfnKey {
    return new CfnKey(scope(), "key", {
        description: i.description,
        enableKeyRotation: i.enableKeyRotation,
        pendingWindowInDays: i.deletionWindowInDays,
        keyPolicy: typeof i.policy === "string" ? JSON.parse(i.policy) : i.policy,
    });
}

/** `aws:ec2/securityGroup:SecurityGroup` inputs as an `AWS::EC2::SecurityGroup` (one CloudFormation rule per source). */
export function cfnSecurityGroup(i: any): CfnSecurityGroup {
    const ingress = (i.ingress ?? []).flatMap((r: any) => [
        ...(r.securityGroups ?? []).map((sg: string) => ({ ipProtocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, sourceSecurityGroupId: sg })),
        ...(r.cidrBlocks ?? []).map((cidr: string) => ({ ipProtocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, cidrIp: cidr })),
        ...(r.ipv6CidrBlocks ?? []).map((cidr: string) => ({ ipProtocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, cidrIpv6: cidr })),
    ]);
    return new CfnSecurityGroup(scope(), "sg", { groupDescription: i.description ?? "", vpcId: i.vpcId, securityGroupIngress: ingress });
}

/** `aws:secretsmanager/secret:Secret` inputs as an `AWS::SecretsManager::Secret`. */
export function cfnSecret(i: any): CfnSecret {
    return new CfnSecret(scope(), "secret", { name: i.name, description: i.description, kmsKeyId: i.kmsKeyId });
}

/** Whether `rule` finds `node` compliant; the rule's own findings otherwise. */
export function judge(rule: NagRule, node: CfnResource): "compliant" | "non-compliant" | "not applicable" | string[] {
    const result = rule(node);
    if (Array.isArray(result)) return result;
    return result === NagRuleCompliance.COMPLIANT ? "compliant" : result === NagRuleCompliance.NON_COMPLIANT ? "non-compliant" : "not applicable";
}
