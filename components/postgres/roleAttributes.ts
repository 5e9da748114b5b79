/**
 * The role attributes no login or group role of an organization ever has, in one place: as the postgresql
 * provider's Role arguments and as SQL for the statements Vault runs.
 */

/** `postgresql.Role` arguments: no SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS. */
export const NO_ELEVATED_ATTRIBUTES = {
    superuser: false,
    createDatabase: false,
    createRole: false,
    replication: false,
    bypassRowLevelSecurity: false,
} as const;

/** The same in `CREATE ROLE … WITH` syntax. */
export const NO_ELEVATED_ATTRIBUTES_SQL = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS";
