/**
 * The SQL Vault's PostgreSQL plugin runs for our roles, with Vault's templating ({{name}}, {{username}},
 * {{password}}, {{expiration}}). Vault runs all entries of a list in one transaction as the connection's
 * login (the organization's `<org>_vault_admin`), in the connection's database (the organization's). A
 * creation or revocation entry that contains the word END outside quotes (a DO block) runs as one
 * statement (revocation: Vault 1.13+); every other entry is split on ';'. With `password_authentication =
 * scram-sha-256` Vault substitutes a SCRAM-SHA-256 verifier, never the plaintext, for {{password}}.
 * Pure functions, executed for real in test/vault.
 */
import { quoteIdentifier } from "./sqlQuoting";
import { NO_ELEVATED_ATTRIBUTES_SQL } from "../postgres/roleAttributes";

/** Static role rotation (Vault's default for PostgreSQL, stated explicitly). */
export function staticRotationStatements(): string[] {
    return [`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`];
}

/** Root rotation of a connection's own login (`vault write -f <mount>/rotate-root/<connection>`). */
export function rootRotationStatements(): string[] {
    return [`ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`];
}

/**
 * Dynamic user creation: a LOGIN role that expires with its lease and gets privileges only by membership
 * in the app's group role (never a direct grant).
 */
export function dynamicCreationStatements(groupRole: string, connectionLimit: number): string[] {
    return [
        `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' ${NO_ELEVATED_ATTRIBUTES_SQL} INHERIT CONNECTION LIMIT ${Math.trunc(connectionLimit)} IN ROLE ${quoteIdentifier(groupRole)};`,
    ];
}

/** Lease renewal: move the expiry. */
export function dynamicRenewStatements(): string[] {
    return [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`];
}

/**
 * Revocation, run by the organization's admin login in the organization's database. A dynamic user owns
 * nothing we gave it, but it can still create things nobody granted: a large object (`lo_create`), a
 * default-privileges entry for itself (`ALTER DEFAULT PRIVILEGES … TO PUBLIC`), temporary tables, so a
 * bare DROP ROLE can fail ("some objects depend on it") and Vault would retry forever. So, when the role
 * still exists:
 *
 * 1. `GRANT "<user>" TO <admin>` and `SET LOCAL ROLE "<user>"`: the admin is NOINHERIT, so it cannot use the
 *    user's privileges directly; on PostgreSQL 16+ it holds ADMIN on every role it created (without SET),
 *    which lets it grant itself the membership; on 15, CREATEROLE does.
 * 2. As the user: end its other sessions (a role may signal its own backends, so no pg_signal_backend), and
 *    wait up to 5 s for each to exit, which drops its temporary tables.
 * 3. `DROP OWNED BY` the user: its large objects, default-privileges entries, any object or grant in this
 *    database (the only database it can connect to: PUBLIC has no CONNECT on any other, maintenance
 *    databases included).
 * 4. `RESET ROLE` and `DROP ROLE` as the admin.
 *
 * One DO block, so a retry after a revocation that did commit (or a user dropped by hand) is a no-op
 * instead of an error on the GRANT.
 */
export function dynamicRevocationStatements(adminRole: string): string[] {
    const admin = quoteIdentifier(adminRole);
    return [
        [
            "DO $revoke$",
            "BEGIN",
            "  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{{name}}') THEN",
            `    GRANT "{{name}}" TO ${admin};`,
            `    SET LOCAL ROLE "{{name}}";`,
            "    PERFORM pg_catalog.pg_terminate_backend(pid, 5000) FROM pg_catalog.pg_stat_activity WHERE usename = '{{name}}' AND pid <> pg_catalog.pg_backend_pid();",
            `    DROP OWNED BY "{{name}}";`,
            "    RESET ROLE;",
            `    DROP ROLE "{{name}}";`,
            "  END IF;",
            "END",
            "$revoke$;",
        ].join("\n"),
    ];
}
