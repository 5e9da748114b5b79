/**
 * Validation of one `Organization`'s args with the config contract's own rules: the same zod schema as an
 * element of `organizations` and `accessPolicy`, and the same cross-field and access-request checks, run
 * against the platform the connection describes. Every problem is reported at once, each with its path
 * (`organization.apps[0].access`), before the organization registers anything.
 */
import { z } from "zod";
import {
    ConfigError, ConfigProblem, accessPolicyOf, accessRequestProblems, crossFieldProblems, organizationConfigOf, organizationSchema, stackConfigSchema, zodProblems,
} from "./config";
import { AccessPolicy } from "./accessRequests";
import { OrganizationSpec } from "./types";
import { SpiffeSettings } from "./kubernetes/spiffe";
import { PlatformConnection } from "./platformConnection";
import { AccessPolicySettings, OrganizationSettings, SpiffeTrust } from "./postgresAccessArgs";

const organizationArgsSchema = z.strictObject({
    organization: organizationSchema,
    accessPolicy: stackConfigSchema.shape.accessPolicy,
});
const spiffeSchema = stackConfigSchema.shape.database.shape.spiffe.unwrap();

/** The SPIRE settings with their defaults (helper image, socket path), as the config applies them. */
export function spiffeSettingsOf(spiffe: SpiffeTrust): SpiffeSettings {
    return spiffeSchema.parse(spiffe);
}

/**
 * The raw config the contract's cross-field checks read, with this organization as its only one and the
 * platform as the connection describes it (only the fields those checks read about organizations).
 */
function platformView(connection: PlatformConnection, organization: unknown, accessPolicy: unknown): Record<string, unknown> {
    const db = connection.database;
    const vault = connection.vault;
    const vaultNamespace = vault?.egress.find((e) => e.namespace)?.namespace;
    return {
        database: {
            engine: db.engine,
            version: db.majorVersion,
            tls: db.tls,
            ...(db.engine === "statefulset" ? { statefulset: { namespace: db.egress.namespace } } : {}),
            spiffe: connection.spiffe,
            adminEndpoint: db.adminEndpoint,
        },
        vault: vault ? {
            address: vault.address,
            kubernetesNamespace: vaultNamespace,
            egressCidrBlocks: vault.egress.flatMap((e) => e.cidrBlocks ?? []),
            defaultTtl: vault.defaultTtl,
            maxTtl: vault.maxTtl,
        } : undefined,
        aws: connection.aws ? { platformAdminRoleArns: connection.aws.platformAdminRoleArns } : undefined,
        organizations: [organization],
        accessPolicy,
    };
}

/** The problems about this organization (or the access policy) of a check of the whole config, re-pathed. */
function organizationProblems(problems: ConfigProblem[]): ConfigProblem[] {
    return problems
        .filter((p) => p.path.startsWith("organizations[0]") || p.path.startsWith("accessPolicy") || p.path.startsWith("("))
        .map((p) => ({ ...p, path: p.path.replace(/^organizations\[0\]/, "organization") }));
}

/**
 * Validates an organization's args against the platform (throws a ConfigError listing every problem with
 * its path) and applies the contract's defaults.
 */
export function parseOrganizationArgs(
    args: { env: string; organization: OrganizationSettings; accessPolicy?: AccessPolicySettings; connection: PlatformConnection },
    now: Date,
): { organization: OrganizationSpec; accessPolicy: AccessPolicy } {
    if (!args.connection?.database) throw new ConfigError([{ path: "connection.database", message: "is required (the server every organization shares)" }]);
    const parsed = organizationArgsSchema.safeParse({ organization: args.organization, accessPolicy: args.accessPolicy }, { reportInput: true });
    const raw = platformView(args.connection, args.organization, args.accessPolicy);
    const problems = [
        ...(parsed.success ? [] : zodProblems(parsed.error)),
        ...organizationProblems([...crossFieldProblems(raw, args.env), ...accessRequestProblems(raw, args.env, now)]),
    ];
    const seen = new Set<string>();
    const unique = problems.filter((p) => {
        const key = `${p.path}\u0000${p.message}`;
        return seen.has(key) ? false : (seen.add(key), true);
    });
    if (unique.length || !parsed.success) throw new ConfigError(unique);
    return { organization: organizationConfigOf(parsed.data.organization), accessPolicy: accessPolicyOf(parsed.data.accessPolicy) };
}
