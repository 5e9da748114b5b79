/**
 * The stack program: read and validate the config, then `new PostgresAccess("postgres-access", config)`.
 * `createStack()` is what `stacks/index.ts` (pulumi up / preview), the offline plan and the tests run.
 */
import * as pulumi from "@pulumi/pulumi";
import { StackConfig, parseStackConfig } from "../components/config";
import { PostgresServer } from "../components/database/postgresServer";
import { Organization } from "../components/organization";
import { PostgresAccess, PostgresAccessArgs, organizationAccessInfo } from "../components/postgresAccess";
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
    server: PostgresServer;
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

/** Reads, validates (throwing ConfigError before any resource exists) and builds the stack. */
export function createStack(): StackOutputs {
    return createStackFromRawConfig(readRawConfig(), pulumi.getStack());
}

/**
 * The stack exports: per organization and app, names and how to connect; app credentials as secrets.
 * The server's admin (or RDS master) password is never exported: apps never get the admin login, and
 * `pulumi stack output --show-secrets` rights must not grant it. Operators read it where the server keeps
 * it (docs/architecture.md: the Secret `postgres-admin` of the in-cluster server, the RDS master password in
 * the stack's state).
 */
export function stackExports(outputs: StackOutputs): Record<string, unknown> {
    return {
        engine: outputs.server.engine,
        databaseHost: outputs.server.host,
        databasePort: outputs.server.port,
        databaseCaCertPem: outputs.server.caCertPem,
        // What this update deployed; the next run reads it back (stacks/previousDeployment.ts).
        deployment: outputs.deploymentCheck.apply(() => deploymentRecord(outputs.config)),
        organizations: Object.fromEntries(outputs.organizations.map((org) => [org.organizationName, organizationAccessInfo(org, { passwords: true })])),
    };
}
