import * as pulumi from "@pulumi/pulumi";

/** How clients (apps, the admin connection, Vault) protect and verify the connection. */
export const ServerTlsMode = {
    /** TLS required (encrypted), the server not verified by the apps. */
    Require: "require",
    /** TLS, every client verifies the server certificate and its host name against the server CA. */
    VerifyFull: "verify-full",
    /** Mutual TLS with SPIFFE certificates: apps log in with their X509-SVID, no password (in-cluster server only). */
    Mtls: "mtls",
} as const;
export type ServerTlsMode = (typeof ServerTlsMode)[keyof typeof ServerTlsMode];

/** Where the PostgreSQL server runs. */
export const DatabaseEngine = {
    /** In the cluster, as a hardened single-replica StatefulSet. */
    StatefulSet: "statefulset",
    /** Amazon RDS for PostgreSQL. */
    Rds: "rds",
} as const;
export type DatabaseEngine = (typeof DatabaseEngine)[keyof typeof DatabaseEngine];

/**
 * The contract both servers satisfy (`StatefulSetPostgres`, `RdsPostgres`), so nothing downstream knows
 * which one it got: the role layer, the credential stores and the delivery objects read only this.
 */
export interface PostgresServer {
    /** `statefulset` or `rds`. */
    readonly engine: DatabaseEngine;
    /** PostgreSQL major version, e.g. "17". */
    readonly majorVersion: string;
    /** Host name apps connect to (cluster DNS name of the client Service, or the RDS endpoint address). */
    readonly host: pulumi.Output<string>;
    /** Port apps connect to. */
    readonly port: pulumi.Output<number>;
    /** Administrative login used by `pulumi up` (never given to apps). */
    readonly adminUsername: pulumi.Output<string>;
    /** Its password; always a Pulumi secret. */
    readonly adminPassword: pulumi.Output<string>;
    /**
     * True when the admin login is a real SUPERUSER (in-cluster server); false on RDS, where the master user
     * is only a member of `rds_superuser` (the postgresql provider must then be told `superuser: false`).
     */
    readonly adminIsSuperuser: boolean;
    /** PEM bundle of the CA(s) the server certificate chains to; clients verify against it with verify-full. */
    readonly caCertPem: pulumi.Output<string>;
    /** TLS mode the server enforces. */
    readonly tls: ServerTlsMode;
}

/** libpq `sslmode` clients use for a server TLS mode (mtls verifies the server too). */
export function clientSslMode(tls: ServerTlsMode): "require" | "verify-full" {
    return tls === "require" ? "require" : "verify-full";
}
