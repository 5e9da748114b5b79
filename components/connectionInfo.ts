/**
 * How an app connects: the fields every delivery mode hands to pods, and a correct DATABASE_URL.
 * Pure functions, unit-tested.
 */
import * as pulumi from "@pulumi/pulumi";

/** libpq sslmode values postgres-access emits (never weaker than require). */
export type SslMode = "require" | "verify-full";

/** The plain (non-secret) part of an app's connection settings. */
export interface ConnectionSettings {
    host: string;
    port: number;
    database: string;
    username: string;
    sslmode: SslMode;
    /** Path inside the pod of the CA bundle, for verify-full. */
    sslrootcert?: string;
    /** mtls: paths inside the pod of the client certificate (chain) and key. */
    sslcert?: string;
    sslkey?: string;
}

/**
 * mtls: with a client certificate (`sslcert`) the certificate is the app's only credential (pg_hba admits
 * apps by `cert` alone), so no password is handed out: it could never be used.
 */
export function usesClientCertificate(settings: ConnectionSettings): boolean {
    return Boolean(settings.sslcert);
}

/**
 * A `postgresql://` URL with user, password and database percent-encoded (RFC 3986), so passwords with
 * `@`, `:`, `/`, `%`, `#`, `?` or spaces survive; sslmode (and sslrootcert) as query parameters. With a
 * client certificate (mtls) the URL carries no password.
 */
export function databaseUrl(settings: ConnectionSettings, password?: string): string {
    const enc = encodeURIComponent;
    if (!usesClientCertificate(settings) && password === undefined) throw new Error(`databaseUrl: ${settings.username} has neither a password nor a client certificate`);
    const query = [`sslmode=${settings.sslmode}`];
    for (const key of ["sslrootcert", "sslcert", "sslkey"] as const) {
        if (settings[key]) query.push(`${key}=${enc(settings[key]!)}`);
    }
    const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
    const userinfo = usesClientCertificate(settings) ? enc(settings.username) : `${enc(settings.username)}:${enc(password!)}`;
    return `postgresql://${userinfo}@${host}:${settings.port}/${enc(settings.database)}?${query.join("&")}`;
}

/**
 * The key/value pairs of a credentials Secret or Secrets Manager entry (RDS secret format plus extras);
 * without `password` when a client certificate is the credential (mtls).
 */
export function connectionFields(settings: ConnectionSettings, password?: string): Record<string, string> {
    const fields: Record<string, string> = {
        engine: "postgres",
        host: settings.host,
        port: String(settings.port),
        database: settings.database,
        dbname: settings.database,
        username: settings.username,
        ...(usesClientCertificate(settings) ? {} : { password: password! }),
        sslmode: settings.sslmode,
        DATABASE_URL: databaseUrl(settings, password),
    };
    for (const key of ["sslrootcert", "sslcert", "sslkey"] as const) {
        if (settings[key]) fields[key] = settings[key]!;
    }
    return fields;
}

/** `connectionFields` over Outputs; the result is a Pulumi secret. `password` may be absent only with a client certificate. */
export function connectionFieldsOutput(settings: pulumi.Input<ConnectionSettings>, password?: pulumi.Input<string>): pulumi.Output<Record<string, string>> {
    return pulumi.secret(pulumi.all([settings, password]).apply(([s, p]) => connectionFields(s as ConnectionSettings, p)));
}
