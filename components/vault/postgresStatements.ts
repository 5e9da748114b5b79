/**
 * The SQL Vault's PostgreSQL plugin runs for our roles, with Vault's templating ({{name}}, {{password}},
 * {{expiration}}). Vault splits each entry on ';' and runs them in one transaction as the connection's
 * user (vault_admin). Pure functions, executed for real in test/vault.
 */
import { quoteIdentifier } from "./sqlQuoting";

/** Static role rotation (Vault's default for PostgreSQL, stated explicitly). */
export function staticRotationStatements(): string[] {
    return [`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`];
}

/**
 * Dynamic user creation: a LOGIN role that expires with its lease and gets privileges only by membership
 * in the app's group role (never a direct grant, never an owned object).
 */
export function dynamicCreationStatements(groupRole: string, connectionLimit: number): string[] {
    return [
        `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT ${Math.trunc(connectionLimit)} IN ROLE ${quoteIdentifier(groupRole)};`,
    ];
}

/** Lease renewal: move the expiry. */
export function dynamicRenewStatements(): string[] {
    return [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`];
}

/**
 * Revocation that always succeeds: end the user's sessions (as pg_signal_backend, which vault_admin may SET
 * ROLE to but does not inherit), then drop the role if it still exists. Dynamic users own nothing and hold
 * no direct grants, so nothing blocks DROP ROLE.
 */
export function dynamicRevocationStatements(): string[] {
    return [
        "SET LOCAL ROLE pg_signal_backend;",
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}' AND pid <> pg_backend_pid();`,
        "RESET ROLE;",
        `DROP ROLE IF EXISTS "{{name}}";`,
    ];
}
