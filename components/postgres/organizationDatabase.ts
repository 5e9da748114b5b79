import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { NO_ELEVATED_ATTRIBUTES } from "./roleAttributes";
import { OrganizationNames } from "../naming";
import { AccessLevel } from "../types";

/** Table privileges of each group role (the owner role owns the objects and so has them all). */
export const TABLE_PRIVILEGES: Record<Exclude<AccessLevel, "owner">, string[]> = {
    readwrite: ["SELECT", "INSERT", "UPDATE", "DELETE"],
    readonly: ["SELECT"],
};

/** Sequence privileges of each group role (readwrite needs nextval: USAGE + UPDATE). */
export const SEQUENCE_PRIVILEGES: Record<Exclude<AccessLevel, "owner">, string[]> = {
    readwrite: ["USAGE", "SELECT", "UPDATE"],
    readonly: ["SELECT"],
};

/** The schema every organization database uses. */
export const APP_SCHEMA = "public";

export interface OrganizationDatabaseArgs {
    /** The organization's derived names (database, group roles). */
    names: OrganizationNames;
    /** CONNECTION LIMIT of the database. */
    connectionLimit: number;
    /**
     * The admin login when it is not a superuser (RDS: the master user, a member of rds_superuser). It is
     * made a member of the owner role: PostgreSQL performs a non-owner's REVOKE/GRANT on the database only
     * "as the owner" when the caller is a member of the owner role; otherwise `REVOKE ALL ON DATABASE …
     * FROM PUBLIC` silently revokes nothing (a WARNING, no error).
     */
    nonSuperuserAdmin?: pulumi.Input<string>;
    /**
     * postgresql provider connected to the organization's own database (same admin login). The readwrite
     * and readonly group roles use it, so their delete (`REASSIGN OWNED` / `DROP OWNED` / `DROP ROLE`,
     * which the provider runs in its connection's database only) clears what they own or were granted
     * there. Absent: the provider of the resource options.
     */
    organizationProvider?: postgresql.Provider;
    /**
     * Adopt the database and the owner role kept when the organization was removed (Pulumi `import` by
     * name) instead of creating them. Default false.
     */
    adoptExisting?: boolean;
}

/**
 * One organization inside PostgreSQL: its own database owned by a NOLOGIN `owner` group role,
 * `readwrite` and `readonly` group roles with default privileges on everything the owner creates, and
 * nothing for PUBLIC (`REVOKE ALL ON DATABASE … FROM PUBLIC`, and on schema public).
 *
 * Pass the explicit postgresql provider of the server as `provider` in the resource options.
 *
 * Removal keeps the data: the database and its NOLOGIN owner role are retained on delete (the engine
 * forgets them), so everything the organization stored keeps its owner; the readwrite and readonly roles,
 * every grant and the owner's admin membership are dropped. `adoptExisting` imports the kept pair.
 */
export class OrganizationDatabase extends pulumi.ComponentResource {
    /** Name of the database. */
    public readonly databaseName: pulumi.Output<string>;
    /** Group role per access level; apps get privileges only through membership in one of these. */
    public readonly groupRoles: Record<AccessLevel, postgresql.Role>;

    constructor(name: string, args: OrganizationDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:OrganizationDatabase", name, {}, opts);
        const names = args.names;
        const child = { parent: this };

        const adopt = (id: string): pulumi.CustomResourceOptions => (args.adoptExisting ? { import: id } : {});
        const groupRole = (level: AccessLevel, roleName: string, opts: pulumi.CustomResourceOptions) =>
            new postgresql.Role(`${name}-${level}`, {
                name: roleName,
                login: false,
                inherit: true,
                ...NO_ELEVATED_ATTRIBUTES,
            }, { ...child, ...opts });
        // The owner owns the database and every object in it: kept on removal (with the server's provider,
        // as it exists before the database does), never dropped by the program.
        const owner = groupRole("owner", names.ownerRole, { retainOnDelete: true, ...adopt(names.ownerRole) });

        // Stateful: removing or renaming the organization keeps the database (retainOnDelete); re-adding it
        // with `adoptExisting` imports it.
        const database = new postgresql.Database(`${name}-database`, {
            name: names.database,
            owner: owner.name,
            connectionLimit: args.connectionLimit,
            encoding: "UTF8",
            template: "template0",
            allowConnections: true,
        }, { ...child, retainOnDelete: true, ...adopt(names.database) });
        const adminAsOwner = args.nonSuperuserAdmin
            ? [new postgresql.GrantRole(`${name}-admin-owner`, { role: args.nonSuperuserAdmin, grantRole: owner.name, withAdminOption: false }, { ...child, dependsOn: [database] })]
            : [];
        // In the organization's database: wait for it to exist and, for a non-superuser admin, for the
        // admin's owner membership: an adopted database (adoptExisting) no longer lets PUBLIC connect, so
        // the organization's provider can connect only as a member of the owner.
        const inDatabase = { ...child, dependsOn: [database, ...adminAsOwner], ...(args.organizationProvider ? { provider: args.organizationProvider } : {}) };
        const readwrite = groupRole("readwrite", names.readwriteRole, inDatabase);
        const readonly = groupRole("readonly", names.readonlyRole, inDatabase);
        this.groupRoles = { owner, readwrite, readonly };

        const revokeDatabaseFromPublic = new postgresql.Grant(`${name}-revoke-database-public`, {
            database: database.name,
            role: "public",
            objectType: "database",
            privileges: [],
        }, { ...child, dependsOn: adminAsOwner });
        const revokeSchemaFromPublic = new postgresql.Grant(`${name}-revoke-schema-public`, {
            database: database.name,
            schema: APP_SCHEMA,
            role: "public",
            objectType: "schema",
            privileges: [],
        }, { ...child, dependsOn: [revokeDatabaseFromPublic] });

        // The owner creates objects in the schema (on PostgreSQL 14 schema public belongs to the bootstrap
        // superuser, so CREATE is granted explicitly; on 15+ the database owner owns it already).
        const ownerSchema = new postgresql.Grant(`${name}-owner-schema`, {
            database: database.name,
            schema: APP_SCHEMA,
            role: owner.name,
            objectType: "schema",
            privileges: ["CREATE", "USAGE"],
        }, { ...child, dependsOn: [revokeSchemaFromPublic] });

        const grants: pulumi.Resource[] = [ownerSchema];
        for (const level of ["readwrite", "readonly"] as const) {
            const role = this.groupRoles[level];
            const connect = new postgresql.Grant(`${name}-${level}-connect`, {
                database: database.name,
                role: role.name,
                objectType: "database",
                privileges: ["CONNECT"],
            }, { ...child, dependsOn: [revokeDatabaseFromPublic, ...adminAsOwner] });
            const usage = new postgresql.Grant(`${name}-${level}-schema`, {
                database: database.name,
                schema: APP_SCHEMA,
                role: role.name,
                objectType: "schema",
                privileges: ["USAGE"],
            }, { ...child, dependsOn: [revokeSchemaFromPublic] });
            const tables = new postgresql.Grant(`${name}-${level}-tables`, {
                database: database.name,
                schema: APP_SCHEMA,
                role: role.name,
                objectType: "table",
                objects: [],
                privileges: TABLE_PRIVILEGES[level],
            }, { ...child, dependsOn: [usage] });
            const sequences = new postgresql.Grant(`${name}-${level}-sequences`, {
                database: database.name,
                schema: APP_SCHEMA,
                role: role.name,
                objectType: "sequence",
                objects: [],
                privileges: SEQUENCE_PRIVILEGES[level],
            }, { ...child, dependsOn: [usage] });
            const defaultTables = new postgresql.DefaultPrivileges(`${name}-${level}-default-tables`, {
                database: database.name,
                schema: APP_SCHEMA,
                owner: owner.name,
                role: role.name,
                objectType: "table",
                privileges: TABLE_PRIVILEGES[level],
            }, { ...child, dependsOn: [usage] });
            const defaultSequences = new postgresql.DefaultPrivileges(`${name}-${level}-default-sequences`, {
                database: database.name,
                schema: APP_SCHEMA,
                owner: owner.name,
                role: role.name,
                objectType: "sequence",
                privileges: SEQUENCE_PRIVILEGES[level],
            }, { ...child, dependsOn: [usage] });
            grants.push(connect, usage, tables, sequences, defaultTables, defaultSequences);
        }
        this.privilegesReady = grants;

        this.databaseName = database.name;
        this.registerOutputs({ databaseName: this.databaseName });
    }

    /** Grants and default privileges; app logins depend on them so they never see a half-set-up database. */
    public readonly privilegesReady: pulumi.Resource[];
}
