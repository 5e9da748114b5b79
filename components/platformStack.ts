/**
 * A split environment (`split` in the config contract): the platform stack exports what its organizations
 * stacks need of the server as one secret output, `platform`; each organizations stack reads it through a
 * StackReference, checks it against its own config, and builds the `PlatformConnection` and the providers
 * its organizations use, with the names a whole stack gives them (so organizations can move between stacks
 * with `pulumi state move`).
 */
import * as pulumi from "@pulumi/pulumi";
import { StackConfig, SCHEMA_DEFAULTS, vaultDynamicRequests } from "./config";
import { StackPart } from "./postgresAccessArgs";
import { PlatformConnection, VaultConnection } from "./platformConnection";
import { PlatformProviders, adminPostgresProvider, vaultProvider } from "./platformProviders";
import { awsConnection, createAwsProvider } from "./aws/awsPlatform";
import { vaultAgentEgress } from "./kubernetes/vaultDelivery";

/** The name of the platform stack's export its organizations stacks read. */
export const PLATFORM_OUTPUT = "platform";

/** The platform stack's `platform` export (a secret: it holds the admin login the organizations stacks use). */
export interface PlatformStackOutput {
    /** The environment the platform serves. */
    environment: string;
    /** The server: what the organizations stacks cannot know from their config. */
    database: {
        engine: string;
        majorVersion: string;
        tls: string;
        host: string;
        port: number;
        adminUsername: string;
        adminPassword: string;
        caCertPem: string;
        /** RDS: the CIDR blocks of the instance's subnets, in the order of `database.rds.subnetIds`. */
        subnetCidrBlocks?: string[];
    };
    /** The Vault database secrets engine's mount, when the platform has Vault. */
    vaultMount?: string;
}

/** The `platform` export of a platform stack: its connection, resolved, as one secret. */
export function platformStackOutput(config: StackConfig, connection: PlatformConnection): pulumi.Output<PlatformStackOutput> {
    const db = connection.database;
    return pulumi.secret(pulumi.all([db.host, db.port, db.adminUsername, db.adminPassword, db.caCertPem, pulumi.all(db.egress.cidrBlocks ?? []), connection.vault?.mount])
        .apply(([host, port, adminUsername, adminPassword, caCertPem, cidrBlocks, vaultMount]) => ({
            environment: config.env,
            database: {
                engine: db.engine,
                majorVersion: db.majorVersion,
                tls: db.tls,
                host,
                port,
                adminUsername,
                adminPassword,
                caCertPem,
                ...(db.engine === "rds" ? { subnetCidrBlocks: cidrBlocks } : {}),
            },
            ...(vaultMount !== undefined ? { vaultMount } : {}),
        })));
}

/**
 * Why the platform stack's export does not fit this organizations stack's config (empty = it fits): the
 * environment, the server's engine, major version and TLS mode, and Vault must be the ones the config
 * builds for. Pure; exported for tests.
 */
export function platformMismatches(platform: Partial<PlatformStackOutput> | undefined, config: StackConfig): string[] {
    const stack = config.split?.platformStack ?? "(platform stack)";
    if (!platform || typeof platform !== "object" || !platform.database) {
        return [`stack ${stack} has no "${PLATFORM_OUTPUT}" output: it must be a platform stack (split.part: platform) that has been deployed`];
    }
    const problems: string[] = [];
    const db = config.database;
    const expect = (field: string, theirs: unknown, ours: unknown) => {
        if (theirs !== ours) problems.push(`${field}: this stack says "${String(ours)}", platform stack ${stack} serves "${String(theirs)}"`);
    };
    expect("split.environment", platform.environment, config.env);
    expect("database.engine", platform.database.engine, db.engine);
    expect("database.version", platform.database.majorVersion, db.version);
    expect("database.tls", platform.database.tls, db.tls);
    if (db.engine === "rds" && (platform.database.subnetCidrBlocks ?? []).length !== (db.rds?.subnetIds ?? []).length) {
        problems.push(`database.rds.subnetIds: this stack lists ${(db.rds?.subnetIds ?? []).length} subnets, platform stack ${stack} has ${(platform.database.subnetCidrBlocks ?? []).length}`);
    }
    if (config.vault) expect("vault.mount", platform.vaultMount, config.vault.mount);
    return problems;
}

/** The Vault part of a connection: the configured Vault and the engine's mount. */
export function vaultConnectionOf(v: NonNullable<StackConfig["vault"]>, mount: pulumi.Input<string>): VaultConnection {
    return {
        address: v.address,
        namespace: v.namespace,
        caCertPem: v.caCertPem,
        mount,
        kubernetesAuthMount: v.kubernetesAuthMount,
        defaultTtl: v.defaultTtl,
        maxTtl: v.maxTtl,
        staticRotationPeriod: v.staticRotationPeriod,
        egress: vaultAgentEgress(v),
    };
}

/**
 * True when the stack has Vault's side of the platform: Vault is configured and an organization takes
 * credentials from it (apps or vault-dynamic requests), or the stack is a platform stack, whose
 * organizations stacks it cannot see.
 */
export function usesVault(config: StackConfig): boolean {
    if (!config.vault) return false;
    if (config.split?.part === StackPart.Platform) return true;
    return config.organizations.some((org) => org.apps.some((a) => a.credentials.startsWith("vault-")) || vaultDynamicRequests(org, config.env).length > 0);
}

/** True when an organization of the config writes Secrets Manager secrets (apps or access requests). */
export function usesSecretsManager(config: StackConfig): boolean {
    return config.organizations.some((org) => org.apps.some((a) => a.credentials === "secretsmanager") || (org.accessRequests ?? []).some((r) => r.credentials === "secretsmanager"));
}

/** What an organizations stack builds its organizations on. */
export interface PlatformFromStack {
    /** The platform's connection: decisions from this stack's config, values from the platform stack. */
    connection: PlatformConnection;
    /** The providers, named as a whole stack names them. */
    providers: PlatformProviders;
}

/**
 * Reads the platform stack named by `split.platformStack` and builds this organizations stack's connection
 * and providers. Everything a decision needs at plan time (engine, version, TLS, Vault and AWS settings)
 * comes from this stack's config; the server's address, admin login and CA come from the platform stack,
 * and a run whose config does not fit the platform stack fails before anything changes.
 */
export function platformFromStack(config: StackConfig, opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource }): PlatformFromStack {
    const split = config.split!;
    const reference = new pulumi.StackReference(split.platformStack!, { name: split.platformStack! }, { parent: opts.parent });
    const platform = reference.requireOutput(PLATFORM_OUTPUT).apply((value) => {
        const output = value as PlatformStackOutput;
        const problems = platformMismatches(output, config);
        if (problems.length) throw new Error(`the platform stack does not fit this stack's config:\n${problems.map((p) => `  ${p}`).join("\n")}`);
        return output;
    });
    const db = config.database;
    const connectionDatabase: PlatformConnection["database"] = {
        engine: db.engine,
        majorVersion: db.version,
        tls: db.tls,
        host: platform.database.host,
        port: platform.database.port,
        adminUsername: platform.database.adminUsername,
        adminPassword: pulumi.secret(platform.database.adminPassword),
        adminIsSuperuser: db.engine === "statefulset",
        caCertPem: platform.database.caCertPem,
        adminEndpoint: db.adminEndpoint,
        egress: db.engine === "statefulset"
            ? { namespace: (db.statefulset ?? SCHEMA_DEFAULTS.statefulset).namespace }
            : { cidrBlocks: (db.rds?.subnetIds ?? []).map((_, i) => platform.apply((p) => p.database.subnetCidrBlocks![i])) },
    };
    const awsProvider = config.aws ? createAwsProvider(config.aws, opts) : undefined;
    const v = usesVault(config) ? config.vault : undefined;
    const connection: PlatformConnection = {
        database: connectionDatabase,
        vault: v ? vaultConnectionOf(v, platform.apply((p) => p.vaultMount!)) : undefined,
        aws: config.aws && awsProvider ? awsConnection({ env: config.env, ...config.aws }, awsProvider, usesSecretsManager(config)) : undefined,
    };
    return {
        connection,
        providers: {
            postgresql: adminPostgresProvider("postgres-admin", config.env, connectionDatabase, "postgres", undefined, opts),
            vault: v ? vaultProvider(config.env, { address: v.address, namespace: v.namespace, caCertPem: v.caCertPem }, opts) : undefined,
            aws: awsProvider,
        },
    };
}
