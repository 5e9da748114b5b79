/**
 * The stack program: read and validate the config, then `new PostgresAccess("postgres-access", config)`.
 * `createStack()` is what `stacks/index.ts` (pulumi up / preview), the offline plan and the tests run.
 */
import * as pulumi from "@pulumi/pulumi";
import { StackConfig, parseStackConfig } from "../components/config";
import { PostgresServer } from "../components/database/postgresServer";
import { Organization } from "../components/organization";
import { PostgresAccess, PostgresAccessArgs, organizationAccessInfo } from "../components/postgresAccess";
import { StackPart } from "../components/postgresAccessArgs";
import { PLATFORM_OUTPUT, platformStackOutput } from "../components/platformStack";
import { checkedAgainstPreviousDeployment, deploymentRecord } from "./previousDeployment";

export { serverClientNamespaces, writeServerCaFile } from "../components/postgresAccess";

/**
 * Reads every `postgres-access:*` key of the current stack as raw (unvalidated) objects, including keys
 * the program does not know, so a misspelt key is reported instead of silently ignored.
 */
export function readRawConfig(): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
        const [project, key] = fullKey.split(":", 2);
        if (project !== "postgres-access" || key === undefined) continue;
        try {
            raw[key] = JSON.parse(text);
        } catch {
            raw[key] = text;
        }
    }
    return raw;
}

/** What the program exports and the plan prints. */
export interface StackOutputs {
    config: StackConfig;
    /** The component everything else is a child of. */
    access: PostgresAccess;
    /** The server component; absent in an organizations stack (`split.part: organizations`). */
    server?: PostgresServer;
    /** Empty in `database.phase: server`. */
    organizations: Organization[];
    /**
     * The config checked against the stack's previous deployment (`stacks/previousDeployment.ts`): resolves
     * to the server's major version, fails the run when the change is refused.
     */
    deploymentCheck: pulumi.Output<string>;
}

/**
 * Builds the whole stack from the raw config (as read from the stack): validated here first (a ConfigError
 * before any resource exists), checked against the previous deployment, then built by `PostgresAccess`.
 * Every resource that was top-level before the component existed keeps its URN through an alias.
 */
export function createStackFromRawConfig(raw: Record<string, unknown>, env: string): StackOutputs {
    const config = parseStackConfig(raw, env);
    const deploymentCheck = checkedAgainstPreviousDeployment(config);
    const access = new PostgresAccess("postgres-access", { ...(raw as Omit<PostgresAccessArgs, "env">), env, versionCheck: deploymentCheck });
    return { config, access, server: access.server, organizations: access.organizationComponents, deploymentCheck };
}

/**
 * The environment a stack builds: its name, or in a split environment `split.environment` (the stacks of a
 * split are named e.g. prod-platform, prod-orgs-1; the schema checks the value).
 */
export function environmentOf(raw: Record<string, unknown>, stackName: string): string {
    const split = raw.split as { environment?: unknown } | undefined;
    return split && typeof split === "object" && typeof split.environment === "string" ? split.environment : stackName;
}

/** Reads, validates (throwing ConfigError before any resource exists) and builds the stack. */
export function createStack(): StackOutputs {
    const raw = readRawConfig();
    return createStackFromRawConfig(raw, environmentOf(raw, pulumi.getStack()));
}

/**
 * The stack exports: per organization and app, names and how to connect; app credentials as secrets.
 * The server's admin (or RDS master) password is not exported by a whole stack: apps never get the admin
 * login, and `pulumi stack output --show-secrets` rights must not grant it. Operators read it where the
 * server keeps it (docs/architecture.md: the Secret `postgres-admin` of the in-cluster server, the RDS master
 * password in the stack's state). A platform stack (`split.part: platform`) exports it inside its secret
 * `platform` output: its organizations stacks log in as the admin (docs/security.md "Split environments").
 */
export function stackExports(outputs: StackOutputs): Record<string, unknown> {
    const access = outputs.access;
    return {
        engine: access.engine,
        databaseHost: access.databaseHost,
        databasePort: access.databasePort,
        databaseCaCertPem: access.databaseCaCertPem,
        // What this update deployed; the next run reads it back (stacks/previousDeployment.ts).
        deployment: outputs.deploymentCheck.apply(() => deploymentRecord(outputs.config)),
        organizations: Object.fromEntries(outputs.organizations.map((org) => [org.organizationName, organizationAccessInfo(org, { passwords: true })])),
        // A platform stack only: what its organizations stacks read (a secret: the admin login they use).
        ...(outputs.config.split?.part === StackPart.Platform ? { [PLATFORM_OUTPUT]: platformStackOutput(outputs.config, access.platformConnection) } : {}),
    };
}
