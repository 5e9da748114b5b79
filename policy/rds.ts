/**
 * RDS policies (`aws.rds.Instance`): storage encrypted, never publicly accessible, TLS forced by the
 * instance's parameter group (`rds.force_ssl = 1`), deletion protection and a final snapshot outside the
 * stacks configured as disposable (default: `dev`).
 */
import { ResourceValidationPolicy, StackValidationPolicy, PolicyConfigSchema } from "@pulumi/policy";
import { asList, stackOfUrn } from "./common";

export const RDS_INSTANCE = "aws:rds/instance:Instance";
export const RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup";

/** Config of the policies that spare disposable stacks. */
export interface DisposableStacksConfig {
    /** Stacks (environments) whose database may be deleted without protection. Default `["dev"]`. */
    disposableStacks?: string[];
}
const DEFAULT_DISPOSABLE_STACKS = ["dev"];
const disposableStacksSchema: PolicyConfigSchema = {
    properties: {
        disposableStacks: { type: "array", items: { type: "string" }, default: DEFAULT_DISPOSABLE_STACKS, description: "Stacks whose database may be deleted without protection." },
    },
};
const isDisposable = (urn: string, config: DisposableStacksConfig): boolean =>
    (config.disposableStacks ?? DEFAULT_DISPOSABLE_STACKS).includes(stackOfUrn(urn));

export const rdsStorageEncrypted: ResourceValidationPolicy = {
    name: "rds-storage-encrypted",
    description: "RDS instances encrypt their storage, snapshots and backups (storageEncrypted: true).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== RDS_INSTANCE) return;
        // A read replica inherits its source's encryption.
        if (args.props.replicateSourceDb) return;
        if (args.props.storageEncrypted !== true) reportViolation("storageEncrypted is not true: the database, its backups and snapshots would be stored unencrypted");
    },
};

export const rdsNotPublic: ResourceValidationPolicy = {
    name: "rds-not-publicly-accessible",
    description: "RDS instances are never publicly accessible (publiclyAccessible: false).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== RDS_INSTANCE) return;
        if (args.props.publiclyAccessible === true) reportViolation("publiclyAccessible is true: the instance gets a public DNS name and address");
    },
};

export const rdsForceSsl: StackValidationPolicy = {
    name: "rds-force-ssl",
    description: "Every RDS PostgreSQL instance uses a parameter group of the same stack that sets rds.force_ssl = 1 (plaintext connections refused).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const groups = args.resources.filter((r) => r.type === RDS_PARAMETER_GROUP);
        for (const instance of args.resources.filter((r) => r.type === RDS_INSTANCE)) {
            const engine = String(instance.props.engine ?? "");
            if (engine && !engine.startsWith("postgres")) continue;
            const groupName = instance.props.parameterGroupName;
            if (!groupName) {
                reportViolation("the instance uses the engine's default parameter group: set parameterGroupName to a group with rds.force_ssl = 1", instance.urn);
                continue;
            }
            const group = groups.find((g) => (g.props.name ?? g.name) === groupName);
            if (!group) {
                reportViolation(`parameter group ${groupName} is not one of this stack's, so rds.force_ssl = 1 cannot be verified`, instance.urn);
                continue;
            }
            const forceSsl = asList<Record<string, any>>(group.props.parameters).find((p) => p?.name === "rds.force_ssl");
            if (!forceSsl || String(forceSsl.value) !== "1") {
                reportViolation(`parameter group ${groupName} does not set rds.force_ssl = 1${forceSsl ? ` (it sets ${JSON.stringify(forceSsl.value)})` : ""}`, instance.urn);
            }
        }
    },
};

export const rdsDeletionProtection: ResourceValidationPolicy = {
    name: "rds-deletion-protection",
    description: "Outside disposable stacks (config disposableStacks, default [\"dev\"]) RDS instances have deletion protection.",
    enforcementLevel: "mandatory",
    configSchema: disposableStacksSchema,
    validateResource: (args, reportViolation) => {
        if (args.type !== RDS_INSTANCE || isDisposable(args.urn, args.getConfig<DisposableStacksConfig>())) return;
        if (args.props.deletionProtection !== true) {
            reportViolation(`deletionProtection is not true in stack ${stackOfUrn(args.urn)}: one delete (or a replacement) would drop the database`);
        }
    },
};

export const rdsFinalSnapshot: ResourceValidationPolicy = {
    name: "rds-final-snapshot",
    description: "Outside disposable stacks RDS instances take a final snapshot when deleted.",
    enforcementLevel: "advisory",
    configSchema: disposableStacksSchema,
    validateResource: (args, reportViolation) => {
        if (args.type !== RDS_INSTANCE || isDisposable(args.urn, args.getConfig<DisposableStacksConfig>())) return;
        if (args.props.skipFinalSnapshot === true || !args.props.finalSnapshotIdentifier) {
            reportViolation("no final snapshot on delete (set skipFinalSnapshot: false and finalSnapshotIdentifier)");
        }
    },
};

export const rdsPolicies = [rdsStorageEncrypted, rdsNotPublic, rdsForceSsl, rdsDeletionProtection, rdsFinalSnapshot];
