import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import * as vault from "@pulumi/vault";
import { PostgresServer } from "../database/postgresServer";
import { databaseUrl } from "../connectionInfo";

/** The PostgreSQL login Vault uses (never the server's admin). */
export const VAULT_ADMIN_ROLE = "vault_admin";

export interface VaultDatabaseEngineArgs {
    /** Mount path of the database secrets engine (e.g. `database-prod`). */
    mount: string;
    /** Connection name for this server inside the mount. */
    connectionName: string;
    /** The server. */
    server: PostgresServer;
    /** Vault roles this connection may serve: an explicit list, never "*". */
    allowedRoles: string[];
    /** Explicit postgresql provider (server admin). */
    postgresProvider: postgresql.Provider;
    /** Explicit Vault provider. */
    vaultProvider: vault.Provider;
    /** Host/port Vault reaches the server on (defaults to the server's). */
    host?: pulumi.Input<string>;
    port?: pulumi.Input<number>;
}

/**
 * The database secrets engine for one server: the mount, the `vault_admin` PostgreSQL role (LOGIN,
 * CREATEROLE, NOINHERIT, never SUPERUSER; may SET ROLE pg_signal_backend to end revoked users' sessions),
 * and the connection (scram-sha-256, TLS to the database, verified, explicit allowed roles).
 *
 * vault_admin's password is set write-only on both sides (`passwordWo` + version) so it never sits in Pulumi
 * state and Vault may rotate it (`vault write -f <mount>/rotate-root/<connection>`) without Pulumi noticing
 * or reverting it. Bump `passwordVersion` only to re-seed it deliberately.
 */
export class VaultDatabaseEngine extends pulumi.ComponentResource {
    public readonly mount: pulumi.Output<string>;
    public readonly connectionName: pulumi.Output<string>;
    /** The vault_admin role resource (app roles' ADMIN OPTION grants depend on it). */
    public readonly vaultAdmin: postgresql.Role;
    /** The connection (static/dynamic roles depend on it). */
    public readonly connection: vault.database.SecretBackendConnection;

    constructor(name: string, args: VaultDatabaseEngineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:VaultDatabaseEngine", name, {}, opts);
        if (args.allowedRoles.some((r) => r.includes("*"))) {
            throw new Error("VaultDatabaseEngine: allowedRoles must be explicit role names, never a wildcard");
        }
        const password = new random.RandomPassword(`${name}-vault-admin-password`, { length: 40, special: false }, { parent: this });
        const secretPassword = pulumi.secret(password.result);
        const pg = { parent: this, provider: args.postgresProvider };
        this.vaultAdmin = new postgresql.Role(`${name}-vault-admin`, {
            name: VAULT_ADMIN_ROLE,
            login: true,
            createRole: true,
            inherit: false,
            superuser: false,
            createDatabase: false,
            replication: false,
            bypassRowLevelSecurity: false,
            connectionLimit: 20,
            passwordWo: secretPassword,
            passwordWoVersion: "1",
        }, { ...pg, additionalSecretOutputs: ["passwordWo"] });
        // To end a revoked dynamic user's sessions (SET LOCAL ROLE pg_signal_backend in the revocation).
        const signal = new postgresql.GrantRole(`${name}-vault-admin-signal`, {
            role: VAULT_ADMIN_ROLE,
            grantRole: "pg_signal_backend",
            withAdminOption: false,
        }, { ...pg, dependsOn: [this.vaultAdmin] });

        const mount = new vault.Mount(`${name}-mount`, {
            path: args.mount,
            type: "database",
            description: "postgres-access: PostgreSQL credentials (static and dynamic roles)",
        }, { parent: this, provider: args.vaultProvider });

        const sslmode = args.server.tls === "require" ? "require" : "verify-full";
        const host = args.host ?? args.server.host;
        const port = args.port ?? args.server.port;
        const connectionUrl = pulumi.all([host, port]).apply(([h, p]) =>
            databaseUrl({ host: h, port: p, database: "postgres", username: "USER", sslmode }, "PASS")
                .replace("USER:PASS", "{{username}}:{{password}}"));
        this.connection = new vault.database.SecretBackendConnection(`${name}-connection`, {
            backend: mount.path,
            name: args.connectionName,
            allowedRoles: args.allowedRoles,
            verifyConnection: true,
            postgresql: {
                connectionUrl,
                username: VAULT_ADMIN_ROLE,
                passwordWo: secretPassword,
                passwordWoVersion: 1,
                passwordAuthentication: "scram-sha-256",
                maxOpenConnections: 4,
                maxIdleConnections: 0,
                maxConnectionLifetime: 300,
                // verify-full: Vault verifies the server against this CA (mtls: the SPIFFE bundle is not known here).
                tlsCa: args.server.tls === "verify-full" ? args.server.caCertPem : undefined,
            },
            rootRotationStatements: [`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`],
        }, { parent: this, provider: args.vaultProvider, dependsOn: [this.vaultAdmin, signal], additionalSecretOutputs: ["postgresql"] });

        this.mount = mount.path;
        this.connectionName = this.connection.name;
        this.registerOutputs({ mount: this.mount, connectionName: this.connectionName });
    }
}
