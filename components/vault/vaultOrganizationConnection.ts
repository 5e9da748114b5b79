import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import * as vault from "@pulumi/vault";
import { DatabaseServerConnection } from "../platformConnection";
import { databaseUrl } from "../connectionInfo";
import { rootRotationStatements } from "./postgresStatements";
import { scramVerifierOf } from "../postgres/appLogin";
import { NO_ELEVATED_ATTRIBUTES } from "../postgres/roleAttributes";

export interface VaultOrganizationConnectionArgs {
    /** The organization. */
    organization: string;
    /** The organization's database: the connection's database and the only one its admin may CONNECT to. */
    database: string;
    /** The admin login (`vaultAdminRoleName(organization)` in naming.ts). */
    adminRole: string;
    /** The connection's name in the mount. */
    connectionName: string;
    /** Mount path of the database secrets engine. */
    mount: pulumi.Input<string>;
    /** The server. */
    server: Pick<DatabaseServerConnection, "majorVersion" | "tls" | "host" | "port" | "caCertPem">;
    /** Exactly the organization's Vault roles (never a wildcard, never another organization's). */
    allowedRoles: string[];
    /**
     * Group roles the organization's dynamic users join: the admin gets ADMIN OPTION on each, once
     * (PostgreSQL 16+), however many apps share it.
     */
    dynamicGroupRoles: string[];
    /**
     * The admin's postgresql provider connected to the organization's database (the admin login's delete
     * runs there). Absent: the parent's.
     */
    postgresProvider?: postgresql.Provider;
    /** Host/port Vault reaches the server on (defaults to the server's). */
    host?: pulumi.Input<string>;
    port?: pulumi.Input<number>;
    /** What must exist first: the organization's database, group roles and their grants. */
    dependsOn: pulumi.Resource[];
}

/** Type token of {@link VaultOrganizationConnection}. */
export const VAULT_ORGANIZATION_CONNECTION_TYPE = "postgres-access:index:VaultOrganizationConnection";

/**
 * One organization's Vault database connection: its own admin login `<org>_vault_admin` (LOGIN, CREATEROLE,
 * NOINHERIT, never SUPERUSER, CONNECT on the organization's database and nothing else), ADMIN OPTION on the
 * group roles its dynamic users join (PostgreSQL 16+; one grant per role), and the connection to the
 * organization's database (scram-sha-256, TLS, verified where `tls` asks, exactly the organization's roles).
 *
 * The admin's password is a `RandomPassword` (kept in Pulumi state, as a secret) sent write-only
 * (`passwordWo` + version) to PostgreSQL, as its SCRAM-SHA-256 verifier (never the plaintext, which a server
 * log could keep), and to Vault, so after `vault write -f <mount>/rotate-root/<org>` the state holds only
 * the stale initial value and Pulumi never compares or resets the real one; a rotation of one
 * organization's connection touches no other's login (and Vault sends verifiers too).
 *
 * The admin Role ignores `roles`: the provider reads every pg_auth_members row of the role into it (the
 * ADMIN OPTION grants, and on 16+ the ADMIN every CREATEROLE role gets on the users it creates) and an
 * update would revoke all of them. Nothing else of the Role changes after creation (attributes are fixed,
 * the password version stays), because any in-place update of a Role makes the provider revoke every
 * membership of it first.
 */
export class VaultOrganizationConnection extends pulumi.ComponentResource {
    /** The connection's name in the mount (the `dbName` of the organization's Vault roles). */
    public readonly connectionName: pulumi.Output<string>;
    /** The admin login's name. */
    public readonly adminRole: string;
    /** The admin Role (per-app ADMIN OPTION grants depend on it). */
    public readonly adminLogin: postgresql.Role;
    /** The connection. */
    public readonly connection: vault.database.SecretBackendConnection;
    /** Everything the organization's Vault roles must wait for. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: VaultOrganizationConnectionArgs, opts?: pulumi.ComponentResourceOptions) {
        super(VAULT_ORGANIZATION_CONNECTION_TYPE, name, {}, opts);
        if (args.allowedRoles.length === 0 || args.allowedRoles.some((r) => r.includes("*"))) {
            throw new Error(`VaultOrganizationConnection ${args.organization}: allowedRoles must be explicit role names, never a wildcard`);
        }
        this.adminRole = args.adminRole;
        const password = new random.RandomPassword(`${name}-admin-password`, { length: 40, special: false }, { parent: this });
        const secretPassword = pulumi.secret(password.result);
        const pg = { parent: this, provider: args.postgresProvider };
        this.adminLogin = new postgresql.Role(`${name}-admin`, {
            name: args.adminRole,
            login: true,
            inherit: false,
            ...NO_ELEVATED_ATTRIBUTES,
            // its one elevated attribute: it creates and rotates the organization's Vault users
            createRole: true,
            connectionLimit: 10,
            passwordWo: scramVerifierOf(`${name}-admin`, secretPassword, this),
            passwordWoVersion: "1",
        }, { ...pg, dependsOn: args.dependsOn, additionalSecretOutputs: ["passwordWo"], ignoreChanges: ["roles"] });
        const connect = new postgresql.Grant(`${name}-admin-connect`, {
            database: args.database,
            role: this.adminLogin.name,
            objectType: "database",
            privileges: ["CONNECT"],
        }, { ...pg, dependsOn: [...args.dependsOn, this.adminLogin] });
        // PostgreSQL 16+: CREATEROLE alone no longer lets the admin grant membership in a role; it needs
        // ADMIN OPTION on exactly that role. One grant per group role, shared by all apps that use it.
        // Kept when the last dynamic app of a group goes away (retainOnDelete): while any of its users'
        // leases is outstanding, PostgreSQL refuses the REVOKE ("dependent privileges exist"), and those
        // users' revocations need the admin's ADMIN on the group's members anyway. It stays within the
        // organization (its own admin, its own group role).
        const adminOptions = Number(args.server.majorVersion) >= 16
            ? [...new Set(args.dynamicGroupRoles)].map((group) => new postgresql.GrantRole(`${name}-admin-option-${group}`, {
                role: this.adminLogin.name,
                grantRole: group,
                withAdminOption: true,
            }, { ...pg, dependsOn: [...args.dependsOn, this.adminLogin], retainOnDelete: true }))
            : [];

        const sslmode = args.server.tls === "require" ? "require" : "verify-full";
        const host = args.host ?? args.server.host;
        const port = args.port ?? args.server.port;
        const connectionUrl = pulumi.all([host, port]).apply(([h, p]) =>
            databaseUrl({ host: h, port: p, database: args.database, username: "USER", sslmode }, "PASS")
                .replace("USER:PASS", "{{username}}:{{password}}"));
        this.connection = new vault.database.SecretBackendConnection(`${name}-connection`, {
            backend: args.mount,
            name: args.connectionName,
            allowedRoles: args.allowedRoles,
            verifyConnection: true,
            postgresql: {
                connectionUrl,
                username: args.adminRole,
                passwordWo: secretPassword,
                passwordWoVersion: 1,
                passwordAuthentication: "scram-sha-256",
                maxOpenConnections: 4,
                maxIdleConnections: 0,
                maxConnectionLifetime: 300,
                // verify-full: Vault verifies the server against this CA (mtls: the SPIFFE bundle is not known here).
                tlsCa: args.server.tls === "verify-full" ? args.server.caCertPem : undefined,
            },
            rootRotationStatements: rootRotationStatements(),
        }, { parent: this, dependsOn: [this.adminLogin, connect, ...adminOptions], additionalSecretOutputs: ["postgresql"] });

        this.connectionName = this.connection.name;
        this.ready = [this.adminLogin, connect, ...adminOptions, this.connection];
        this.registerOutputs({ connectionName: this.connectionName, adminRole: this.adminRole });
    }
}
