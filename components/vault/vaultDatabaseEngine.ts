import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as vault from "@pulumi/vault";
import { PostgresServer } from "../database/postgresServer";
import { VaultOrganizationConnection } from "./vaultOrganizationConnection";

/** One organization's part of the engine, derived from config. */
export interface VaultOrganizationSpec {
    organization: string;
    /** The organization's database (the connection's database). */
    database: string;
    /** Its admin login (`vaultAdminRoleName`). */
    adminRole: string;
    /** The connection's name in the mount. */
    connectionName: string;
    /** Exactly its Vault roles. */
    allowedRoles: string[];
    /** Group roles its dynamic users join. */
    dynamicGroupRoles: string[];
}

export interface VaultDatabaseEngineArgs {
    /** Mount path of the database secrets engine (e.g. `database-prod`). */
    mount: string;
    /** The server. */
    server: PostgresServer;
    /** The organizations with Vault apps. */
    organizations: VaultOrganizationSpec[];
    /** Explicit postgresql provider (server admin). */
    postgresProvider: postgresql.Provider;
    /**
     * Per organization, the admin's provider connected to its database: the organization's Vault admin
     * login uses it, so its delete runs where it owns or was granted anything. Absent: `postgresProvider`.
     */
    organizationProviders?: Record<string, postgresql.Provider>;
    /** Explicit Vault provider. */
    vaultProvider: vault.Provider;
    /** Host/port Vault reaches the server on (defaults to the server's). */
    host?: pulumi.Input<string>;
    port?: pulumi.Input<number>;
}

/** Problems with the organizations' specs: wildcards, a role or name served by two connections. */
export function vaultEngineProblems(organizations: VaultOrganizationSpec[]): string[] {
    const problems: string[] = [];
    const seen = new Map<string, string>();
    const once = (what: string, value: string, org: string) => {
        const key = `${what}\u0000${value}`;
        const first = seen.get(key);
        if (first !== undefined) problems.push(`${what} "${value}" of organization "${org}" is already organization "${first}"'s`);
        else seen.set(key, org);
    };
    for (const o of organizations) {
        if (o.allowedRoles.length === 0) problems.push(`organization "${o.organization}" has no Vault roles`);
        for (const r of o.allowedRoles) {
            if (r.includes("*")) problems.push(`organization "${o.organization}": allowed role "${r}" is a wildcard`);
            once("Vault role", r, o.organization);
        }
        once("organization", o.organization, o.organization);
        once("connection", o.connectionName, o.organization);
        once("admin login", o.adminRole, o.organization);
    }
    return problems;
}

/**
 * The database secrets engine for one server: one mount per environment holding one connection per
 * organization (`VaultOrganizationConnection`: its own admin login, its own database, exactly its roles).
 * A connection is created by `connectionFor` when the organization's first Vault app asks for it, after
 * that organization's database and group roles exist. So `dependsOn: [engine]` waits for the mount only;
 * to wait for an organization's connection, depend on what `connectionFor` returns.
 */
export class VaultDatabaseEngine extends pulumi.ComponentResource {
    public readonly mount: pulumi.Output<string>;
    private readonly resourceName: string;
    private readonly args: VaultDatabaseEngineArgs;
    private readonly connections = new Map<string, VaultOrganizationConnection>();

    constructor(name: string, args: VaultDatabaseEngineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:VaultDatabaseEngine", name, {}, opts);
        const problems = vaultEngineProblems(args.organizations);
        if (problems.length) throw new Error(`VaultDatabaseEngine: ${problems.join("; ")}`);
        this.resourceName = name;
        this.args = args;
        const mount = new vault.Mount(`${name}-mount`, {
            path: args.mount,
            type: "database",
            description: "postgres-access: PostgreSQL credentials (static and dynamic roles), one connection per organization",
        }, { parent: this, provider: args.vaultProvider });
        this.mount = mount.path;
        this.registerOutputs({ mount: this.mount });
    }

    /**
     * The organization's connection, created on the first call (as a child of the engine, named after the
     * organization, so it does not depend on which app asked first).
     * @param dependsOn the organization's database, group roles and grants.
     */
    public connectionFor(organization: string, dependsOn: pulumi.Resource[]): VaultOrganizationConnection {
        const existing = this.connections.get(organization);
        if (existing) return existing;
        const spec = this.args.organizations.find((o) => o.organization === organization);
        if (!spec) throw new Error(`VaultDatabaseEngine: organization "${organization}" has no Vault apps in this engine`);
        const connection = new VaultOrganizationConnection(`${this.resourceName}-${organization}`, {
            ...spec,
            mount: this.mount,
            server: this.args.server,
            postgresProvider: this.args.organizationProviders?.[organization] ?? this.args.postgresProvider,
            vaultProvider: this.args.vaultProvider,
            host: this.args.host,
            port: this.args.port,
            dependsOn,
        }, { parent: this });
        this.connections.set(organization, connection);
        return connection;
    }
}
