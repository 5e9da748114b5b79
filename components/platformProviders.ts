/**
 * The explicit providers of a platform, made from its connection alone (`PlatformConnection`): the admin's
 * postgresql providers (the maintenance database, and each organization's own database), the Vault
 * provider and the AWS provider. `createPlatform` and a stack that only reads the connection (through a
 * StackReference) make them the same way, with the same names.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as vault from "@pulumi/vault";
import type * as aws from "@pulumi/aws";
import { DatabaseServerConnection, PlatformConnection } from "./platformConnection";
import { organizationNames } from "./naming";
import { createAwsProvider } from "./aws/awsPlatform";

/** The providers every organization of a platform uses (`opts.providers` of `Organization`). */
export interface PlatformProviders {
    /** The admin on the maintenance database (`postgres`). */
    postgresql: postgresql.Provider;
    /** Vault, when the connection has it. */
    vault?: vault.Provider;
    /** AWS, when the connection has it. */
    aws?: aws.Provider;
}

/** Writes a file under the project's git-ignored `.pulumi-access/` and returns its path. */
export function writeProjectFile(name: string, contents: string): string {
    const dir = path.resolve(__dirname, "..", ".pulumi-access");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    fs.writeFileSync(file, contents, { mode: 0o644 });
    return file;
}

/**
 * Writes the server CA where the postgresql provider reads it (`.pulumi-access/<env>-server-ca.pem` in the
 * project, git-ignored) and returns the path. Runs only once the CA is known (`pulumi up`, or preview of an
 * existing stack).
 */
export function writeServerCaFile(env: string, pem: string): string {
    return writeProjectFile(`${env}-server-ca.pem`, pem);
}

/**
 * The admin's postgresql provider on `database` of the server: reached through `adminEndpoint` when set
 * (port-forward, NodePort, tunnel), always over TLS.
 * @param spiffeTrustBundlePem with tls "mtls": the trust bundle `pulumi up` verifies the server's SVID with.
 */
export function adminPostgresProvider(name: string, env: string, server: DatabaseServerConnection, database: string, spiffeTrustBundlePem: string | undefined, opts?: pulumi.CustomResourceOptions): postgresql.Provider {
    const endpoint = server.adminEndpoint;
    // verify-full: the provider verifies the server against its CA, which it reads from a file (the
    // server certificate also names the adminEndpoint host). mtls: the server presents its SPIFFE SVID
    // (which names the adminEndpoint host too); Pulumi verifies it when the trust bundle is configured
    // (database.spiffe.trustBundlePem), otherwise it uses require through the authenticated tunnel.
    const verify = server.tls === "verify-full" || (server.tls === "mtls" && spiffeTrustBundlePem !== undefined);
    return new postgresql.Provider(name, {
        host: endpoint ? endpoint.host : server.host,
        port: endpoint ? endpoint.port ?? 5432 : server.port,
        username: server.adminUsername,
        password: server.adminPassword,
        database,
        // RDS through a tunnel (adminEndpoint): the RDS certificate cannot name the tunnel's host, so the
        // chain is verified against the RDS CA but not the host name (verify-ca); direct: verify-full.
        sslmode: verify ? (endpoint && server.engine === "rds" ? "verify-ca" : "verify-full") : "require",
        sslrootcert: verify ? pulumi.output(server.caCertPem).apply((pem) => writeServerCaFile(env, pem)) : undefined,
        superuser: server.adminIsSuperuser,
        connectTimeout: 30,
        expectedVersion: server.majorVersion,
    }, opts);
}

/** The logical name of an organization's own postgresql provider. */
export function organizationProviderName(organization: string): string {
    return `${organization}-postgres-admin`;
}

/**
 * The same admin connected to an organization's own database (`<org>-postgres-admin`). The provider runs a
 * role's delete (`REASSIGN OWNED` / `DROP OWNED` / `DROP ROLE`) in its connection's database only, so the
 * organization's logins and roles use this one: removing an app succeeds whatever its login created in
 * the organization's database (the provider's documented one-provider-per-database pattern).
 */
export function organizationPostgresProvider(env: string, connection: PlatformConnection, organization: string, opts?: pulumi.CustomResourceOptions): postgresql.Provider {
    return adminPostgresProvider(organizationProviderName(organization), env, connection.database, organizationNames(organization).database, connection.spiffe?.trustBundlePem, opts);
}

/** The Vault provider (address/namespace from the connection, token from VAULT_TOKEN). */
export function vaultProvider(env: string, connection: Pick<NonNullable<PlatformConnection["vault"]>, "address" | "namespace" | "caCertPem">, opts?: pulumi.CustomResourceOptions): vault.Provider {
    return new vault.Provider("vault", {
        address: connection.address,
        namespace: connection.namespace,
        caCertFile: connection.caCertPem ? writeProjectFile(`${env}-vault-ca.pem`, connection.caCertPem) : undefined,
    }, opts);
}

/**
 * The explicit providers of a platform from its connection alone (named as `createPlatform` names them:
 * `postgres-admin`, `vault`, `aws`), for a stack that reads the connection of a platform deployed elsewhere.
 * @param env the environment (stack) name.
 */
export function platformProviders(config: { env: string }, connection: PlatformConnection, opts?: pulumi.CustomResourceOptions): PlatformProviders {
    const env = config.env;
    const aws = connection.aws;
    return {
        postgresql: adminPostgresProvider("postgres-admin", env, connection.database, "postgres", connection.spiffe?.trustBundlePem, opts),
        vault: connection.vault ? vaultProvider(env, connection.vault, opts) : undefined,
        aws: aws ? createAwsProvider({ region: aws.region, eksOidcProviderArn: aws.eksOidcProviderArn, eksOidcIssuerUrl: aws.eksOidcIssuerUrl }, opts) : undefined,
    };
}
