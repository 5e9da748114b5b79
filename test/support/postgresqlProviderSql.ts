/**
 * What terraform-provider-postgresql (the provider behind @pulumi/postgresql 3.18.1) executes when it
 * creates the resources our program registers, translated statement by statement from its source, and
 * applied to a real server in the orders the Pulumi engine may use (test/support/engineOrder.ts).
 *
 * Verified in cyrilgdn/terraform-provider-postgresql at ff936b9 (the `upstream` submodule of
 * pulumi/pulumi-postgresql v3.18.x), postgresql/helpers.go and resource_postgresql_{role,database,grant,
 * default_privileges,grant_role,schema}.go — which connection, which transaction, which temporary grants:
 *
 * - Role: one transaction in the provider's database (its `database` setting; ours: `postgres`):
 *   `CREATE ROLE "name" WITH [ENCRYPTED PASSWORD '…'] VALID UNTIL 'infinity' CONNECTION LIMIT n
 *   SUPERUSER|NOSUPERUSER CREATEDB|NOCREATEDB CREATEROLE|NOCREATEROLE INHERIT|NOINHERIT LOGIN|NOLOGIN
 *   BYPASSRLS|NOBYPASSRLS REPLICATION|NOREPLICATION` (defaults: encrypted, valid until infinity, connection
 *   limit -1, inherit, everything else off), then `GRANT "group" TO "name"` per role, `ALTER ROLE "name" SET
 *   search_path TO DEFAULT|…` (always), `ALTER ROLE … SET ROLE TO "x"` when assume_role is set.
 *   `password_wo` is sent like `password`. No temporary membership. A create of a role that exists fails in
 *   that transaction (`applyRoleCreate`). An in-place update (`roleUpdateSql`, `applyRoleUpdate`) sends
 *   `ALTER ROLE "name" PASSWORD '…'` when `password` changed (`password_wo`: when its version changed),
 *   the changed attributes, then revokes every membership and grants `roles` again.
 * - Database: with an owner, first an advisory lock on the admin (a separate transaction; it only
 *   serializes concurrent creations, so it is not emulated); then outside any transaction, on the
 *   provider's database: `GRANT "owner" TO "<configured user>"` unless already a member (with the SET
 *   option on 16+; this is done for a superuser too), `CREATE DATABASE "name" OWNER "owner" TEMPLATE "t"
 *   ENCODING 'e' ALLOW_CONNECTIONS b CONNECTION LIMIT n IS_TEMPLATE b`, and `REVOKE "owner" FROM …` if
 *   it was granted (also when the creation failed).
 * - Grant: one transaction in the grant's `database`: advisory locks on the role (and the database; not
 *   emulated), then withRolesGranted(owners): no owners for object type database; the schema's owner for
 *   schema; the owners of the schema's tables plus the schema's owner otherwise (`pg_database_owner`
 *   resolved to the database's owner). withRolesGranted does nothing for a superuser; otherwise per owner
 *   (skipping superuser owners), in the same transaction: `REVOKE "admin" FROM "owner"` if the owner is a
 *   member of the admin, `GRANT "owner" TO "admin"` unless already a member; then `REVOKE ALL PRIVILEGES
 *   ON <object> FROM "role"` and, if privileges are given, `GRANT p1,p2 ON <object> TO "role"`; then the
 *   temporary grants revoked and the reverse memberships restored.
 * - DefaultPrivileges: one transaction in its `database`: withRolesGranted([owner]) around `ALTER DEFAULT
 *   PRIVILEGES FOR ROLE "owner" IN SCHEMA "s" REVOKE ALL ON TABLES FROM "role"` and `… GRANT p ON TABLES
 *   TO "role"`.
 * - GrantRole: one transaction in the provider's database: `REVOKE "g" FROM "r"` then `GRANT "g" TO "r"
 *   [WITH ADMIN OPTION]`. No temporary membership.
 * - Schema (not used by the program): one transaction in its database, withRolesGranted([database owner,
 *   schema owner]) around `CREATE SCHEMA`.
 * The reads after each create change nothing and are not emulated. Identifiers are quoted as
 * pq.QuoteIdentifier does (so role "public" becomes `"public"`, which PostgreSQL still reads as PUBLIC),
 * literals as pqQuoteLiteral.
 *
 * After applying, the server is checked against what the resources declare (owners, attributes,
 * memberships, the exact privileges of every Grant and DefaultPrivileges, no temporary membership left
 * to a non-superuser admin): a statement PostgreSQL only warns about (a REVOKE by a non-owner revokes
 * nothing) shows up there. Every failure names the seed and the order.
 */
import { Client } from "pg";
import { RecordedResource } from "../../testing/offlineRun";
import { TestServer } from "./realPostgres";
import { describeOrder, engineOrder, engineOrderSeeds } from "./engineOrder";

export interface SqlStep {
    /** Database to connect to (null = the provider's own database, `postgres`). */
    database: string | null;
    /** Statements run in one transaction (or alone, for CREATE DATABASE). */
    statements: string[];
    transaction: boolean;
    /** The resource's logical name. */
    resource: string;
    /** The resource's type token. */
    type: string;
    /** The server's notices (warnings) while the step ran, when applied. */
    notices?: string[];
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

export const T = {
    role: "postgresql:index/role:Role",
    database: "postgresql:index/database:Database",
    grant: "postgresql:index/grant:Grant",
    defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
    grantRole: "postgresql:index/grantRole:GrantRole",
    schema: "postgresql:index/schema:Schema",
};

export function roleSql(i: any): string[] {
    const opts: string[] = [];
    const password = i.password ?? i.passwordWo;
    if (password) {
        if (String(password).toUpperCase() === "NULL") opts.push("PASSWORD NULL");
        else opts.push(i.encryptedPassword === false ? "UNENCRYPTED" : "ENCRYPTED", `PASSWORD ${quoteLiteral(password)}`);
    }
    const validUntil = i.validUntil ?? "infinity";
    opts.push(`VALID UNTIL ${validUntil.toLowerCase() === "infinity" ? "'infinity'" : quoteLiteral(validUntil)}`);
    opts.push(`CONNECTION LIMIT ${i.connectionLimit ?? -1}`);
    const flag = (v: boolean | undefined, dflt: boolean, on: string, off: string) => ((v ?? dflt) ? on : off);
    opts.push(
        flag(i.superuser, false, "SUPERUSER", "NOSUPERUSER"),
        flag(i.createDatabase, false, "CREATEDB", "NOCREATEDB"),
        flag(i.createRole, false, "CREATEROLE", "NOCREATEROLE"),
        flag(i.inherit, true, "INHERIT", "NOINHERIT"),
        flag(i.login, false, "LOGIN", "NOLOGIN"),
        flag(i.bypassRowLevelSecurity, false, "BYPASSRLS", "NOBYPASSRLS"),
        flag(i.replication, false, "REPLICATION", "NOREPLICATION"),
    );
    const name = quoteIdent(i.name);
    const sql = [`CREATE ROLE ${name} WITH ${opts.join(" ")}`];
    for (const group of i.roles ?? []) sql.push(`GRANT ${quoteIdent(group)} TO ${name}`);
    const searchPath = (i.searchPaths ?? []).length ? i.searchPaths.map(quoteIdent).join(", ") : "DEFAULT";
    sql.push(`ALTER ROLE ${name} SET search_path TO ${searchPath}`);
    if (i.statementTimeout) sql.push(`ALTER ROLE ${name} SET statement_timeout TO ${Number(i.statementTimeout)}`);
    if (i.idleInTransactionSessionTimeout) sql.push(`ALTER ROLE ${name} SET idle_in_transaction_session_timeout TO ${Number(i.idleInTransactionSessionTimeout)}`);
    if (i.assumeRole) sql.push(`ALTER ROLE ${name} SET ROLE TO ${quoteIdent(i.assumeRole)}`);
    return sql;
}

export function databaseSql(i: any, adminUser: string): string {
    let sql = `CREATE DATABASE ${quoteIdent(i.name)} OWNER ${quoteIdent(i.owner ?? adminUser)}`;
    const template = i.template ?? "";
    sql += template.toUpperCase() === "DEFAULT" ? " TEMPLATE DEFAULT" : template ? ` TEMPLATE ${quoteIdent(template)}` : " TEMPLATE template0";
    const encoding = i.encoding ?? "";
    sql += encoding.toUpperCase() === "DEFAULT" ? " ENCODING DEFAULT" : encoding ? ` ENCODING ${quoteLiteral(encoding)} ` : " ENCODING 'UTF8'";
    if (i.lcCollate) sql += i.lcCollate.toUpperCase() === "DEFAULT" ? " LC_COLLATE DEFAULT" : ` LC_COLLATE ${quoteLiteral(i.lcCollate)} `;
    if (i.lcCtype) sql += i.lcCtype.toUpperCase() === "DEFAULT" ? " LC_CTYPE DEFAULT" : ` LC_CTYPE ${quoteLiteral(i.lcCtype)} `;
    sql += ` ALLOW_CONNECTIONS ${i.allowConnections ?? true}`;
    sql += ` CONNECTION LIMIT ${i.connectionLimit ?? -1}`;
    sql += ` IS_TEMPLATE ${i.isTemplate ?? false}`;
    return sql;
}

function objectList(schema: string, objects: string[]): string {
    return objects.map((o) => `${quoteIdent(schema)}.${quoteIdent(o)}`).join(",");
}

export function grantSql(i: any): string[] {
    const role = quoteIdent(i.role);
    const type = String(i.objectType).toUpperCase();
    const privileges: string[] = i.privileges ?? [];
    const objects: string[] = i.objects ?? [];
    let revoke: string;
    let target: string;
    switch (type) {
        case "DATABASE":
            target = `DATABASE ${quoteIdent(i.database)}`;
            revoke = `REVOKE ALL PRIVILEGES ON ${target} FROM ${role}`;
            break;
        case "SCHEMA":
            target = `SCHEMA ${quoteIdent(i.schema)}`;
            revoke = `REVOKE ALL PRIVILEGES ON ${target} FROM ${role}`;
            break;
        case "TABLE":
        case "SEQUENCE":
        case "FUNCTION":
        case "PROCEDURE":
        case "ROUTINE":
            if (objects.length) {
                target = `${type} ${objectList(i.schema, objects)}`;
                revoke = privileges.length ? `REVOKE ${privileges.join(",")} ON ${target} FROM ${role}` : `REVOKE ALL PRIVILEGES ON ${target} FROM ${role}`;
            } else {
                target = `ALL ${type}S IN SCHEMA ${quoteIdent(i.schema)}`;
                revoke = `REVOKE ALL PRIVILEGES ON ${target} FROM ${role}`;
            }
            break;
        default:
            throw new Error(`grant object type ${i.objectType} is not translated`);
    }
    const sql = [revoke];
    if (privileges.length) sql.push(`GRANT ${privileges.join(",")} ON ${target} TO ${role}${i.withGrantOption ? " WITH GRANT OPTION" : ""}`);
    return sql;
}

export function defaultPrivilegesSql(i: any): string[] {
    const inSchema = i.schema ? `IN SCHEMA ${quoteIdent(i.schema)}` : "";
    const type = String(i.objectType).toUpperCase();
    const sql = [`ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(i.owner)} ${inSchema} REVOKE ALL ON ${type}S FROM ${quoteIdent(i.role)}`];
    if ((i.privileges ?? []).length) {
        sql.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(i.owner)} ${inSchema} GRANT ${i.privileges.join(",")} ON ${type}S TO ${quoteIdent(i.role)}${i.withGrantOption ? " WITH GRANT OPTION" : ""}`);
    }
    return sql;
}

/** GrantRole: the provider revokes the membership first, then grants it (one transaction). */
export function grantRoleStatements(i: any): string[] {
    return [`REVOKE ${quoteIdent(i.grantRole)} FROM ${quoteIdent(i.role)}`, grantRoleSql(i)];
}

export function grantRoleSql(i: any): string {
    return `GRANT ${quoteIdent(i.grantRole)} TO ${quoteIdent(i.role)}${i.withAdminOption ? " WITH ADMIN OPTION" : ""}`;
}


/** The provider's statements for one resource. */
export function providerStep(r: RecordedResource, adminUser = "postgres"): SqlStep {
    const i = r.inputs;
    const step = (database: string | null, statements: string[], transaction = true): SqlStep => ({ database, statements, transaction, resource: r.name, type: r.type });
    switch (r.type) {
        case T.role:
            return step(null, roleSql(i));
        case T.database:
            return step(null, [databaseSql(i, adminUser)], false);
        case T.schema:
            return step(i.database ?? null, [`CREATE SCHEMA ${quoteIdent(i.name)}${i.owner ? ` AUTHORIZATION ${quoteIdent(i.owner)}` : ""}`]);
        case T.grantRole:
            return step(null, grantRoleStatements(i));
        case T.grant:
            return step(i.database, grantSql(i));
        case T.defaultPrivileges:
            return step(i.database, defaultPrivilegesSql(i));
        default:
            throw new Error(`not translated: ${r.type}`);
    }
}

/** Throws unless every postgresql resource's type is one the emulation translates. */
function assertTranslated(resources: RecordedResource[]): void {
    const known = new Set(Object.values(T));
    const unknown = resources.filter((r) => isPostgresqlResource(r) && !known.has(r.type));
    if (unknown.length) throw new Error(`not translated: ${unknown.map((r) => r.type).join(", ")}`);
}

/** The postgresql resources (not the provider) of a recorded run. */
export const isPostgresqlResource = (r: RecordedResource) => r.custom && r.type.startsWith("postgresql:index/");

/**
 * The provider's statements for every postgresql resource, in the engine order of `seed` (default: the
 * first of `engineOrderSeeds()`).
 */
export function providerSteps(resources: RecordedResource[], adminUser = "postgres", seed = engineOrderSeeds()[0]): SqlStep[] {
    assertTranslated(resources);
    return engineOrder(resources, seed, { include: isPostgresqlResource }).map((r) => providerStep(r, adminUser));
}

export interface AdminLogin {
    user: string;
    password: string;
}

export type Q = { query(sql: string, params?: unknown[]): Promise<{ rows: any[] }> };

/** helpers.go isMemberOfRole: a membership row (with SET option where the server has it). */
export async function isMemberOfRole(db: Q, role: string, member: string): Promise<boolean> {
    const hasSet = (await db.query("SELECT 1 FROM information_schema.columns WHERE table_name='pg_auth_members' AND column_name = 'set_option'")).rows.length > 0;
    const sql = "SELECT 1 FROM pg_auth_members WHERE pg_get_userbyid(roleid) = $1 AND pg_get_userbyid(member) = $2" + (hasSet ? " AND set_option" : "");
    return (await db.query(sql, [role, member])).rows.length > 0;
}

export async function grantRoleMembership(db: Q, role: string, member: string): Promise<boolean> {
    if (role === member || (await isMemberOfRole(db, role, member))) return false;
    await db.query(`GRANT ${quoteIdent(role)} TO ${quoteIdent(member)}`);
    return true;
}

export async function revokeRoleMembership(db: Q, role: string, member: string): Promise<boolean> {
    if (role === member || !(await isMemberOfRole(db, role, member))) return false;
    await db.query(`REVOKE ${quoteIdent(role)} FROM ${quoteIdent(member)}`);
    return true;
}

export async function isSuperuser(db: Q, role: string): Promise<boolean> {
    const row = (await db.query("SELECT rolsuper FROM pg_roles WHERE rolname = $1", [role])).rows[0];
    if (!row) throw new Error(`could not check if role ${role} is superuser: no such role`);
    return row.rolsuper === true;
}

/** helpers.go withRolesGranted: a non-superuser admin temporarily becomes a member of the owners (same transaction). */
export async function withRolesGranted(db: Q, roles: string[], fn: () => Promise<void>): Promise<void> {
    if (roles.length === 0) return fn();
    const currentUser = (await db.query("SELECT CURRENT_USER AS u")).rows[0].u as string;
    if (await isSuperuser(db, currentUser)) return fn();
    const granted: string[] = [];
    const revoked: string[] = [];
    for (const role of roles) {
        if (await isSuperuser(db, role)) continue;
        if (await revokeRoleMembership(db, currentUser, role)) revoked.push(role);
        if (await grantRoleMembership(db, role, currentUser)) granted.push(role);
    }
    await fn();
    for (const role of granted) await revokeRoleMembership(db, role, currentUser);
    for (const role of revoked) {
        if ((await db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rows.length) await grantRoleMembership(db, currentUser, role);
    }
}

/** resource_postgresql_grant.go getRolesToGrant: table owners and the schema owner (pg_database_owner resolved). */
export async function rolesToGrant(db: Q, inputs: any): Promise<string[]> {
    if (["database", "foreign_data_wrapper", "foreign_server"].includes(inputs.objectType)) return [];
    const owners: string[] = inputs.objectType === "schema" ? [] : (await db.query("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1", [inputs.schema])).rows.map((r) => r.tableowner);
    const schemaOwner = (await db.query("SELECT rolname FROM pg_namespace JOIN pg_roles ON nspowner = pg_roles.oid WHERE nspname = $1", [inputs.schema])).rows[0]?.rolname;
    if (!schemaOwner) throw new Error(`could not find schema '${inputs.schema}' while looking for owner`);
    if (!owners.includes(schemaOwner)) owners.push(schemaOwner);
    const out: string[] = [];
    for (const o of owners) {
        out.push(o === "pg_database_owner" ? (await db.query("SELECT rolname FROM pg_database JOIN pg_roles ON datdba = pg_roles.oid WHERE datname = current_database()")).rows[0].rolname : o);
    }
    return out;
}

export interface ApplyOptions {
    /** The engine order (see engineOrder.ts); default: the first of `engineOrderSeeds()`. */
    seed?: number;
    /**
     * The resources this update creates (default: all); the others exist already (from an earlier update).
     * The order is still taken over all of them, and the server is checked against all of them.
     */
    creates?: (r: RecordedResource) => boolean;
}

/**
 * Executes the provider's statements on a real server as the admin login (default: the superuser), one
 * resource after the other in the engine order of the seed (imported ones and, with `creates`, the ones
 * that exist already are not created), with the provider's temporary memberships for
 * a non-superuser admin (as the RDS master user), then checks the server holds what the resources declare.
 * A failure names the seed and the order.
 */
export async function applyProviderResources(server: TestServer, resources: RecordedResource[], admin?: AdminLogin, options: ApplyOptions = {}): Promise<SqlStep[]> {
    const login = admin ?? { user: server.superuser, password: server.superuserPassword };
    const seed = options.seed ?? engineOrderSeeds()[0];
    // a resource registered with `import` is adopted: the provider only reads it (the check below sees it)
    const creates = (r: RecordedResource) => isPostgresqlResource(r) && !r.importId && (options.creates?.(r) ?? true);
    assertTranslated(resources);
    const order = engineOrder(resources, seed, { include: creates });
    const steps = order.map((r) => providerStep(r, login.user));
    const providerDatabase = (r: RecordedResource) => {
        const provider = r.provider ? resources.find((p) => r.provider!.startsWith(`${p.urn}::`)) : undefined;
        return (provider?.inputs.database as string | undefined) ?? "postgres";
    };
    const clients = new Map<string, Client>();
    let notices: string[] = [];
    const clientFor = async (database: string) => {
        if (!clients.has(database)) {
            const client = await server.connect({ user: login.user, password: login.password, database });
            client.on("notice", (n) => notices.push(`${n.severity ?? "NOTICE"}: ${n.message}`));
            clients.set(database, client);
        }
        return clients.get(database)!;
    };
    try {
        for (const [index, step] of steps.entries()) {
            const resource = order[index];
            const database = step.database ?? providerDatabase(resource);
            const client = await clientFor(database).catch((err: Error) => {
                throw new Error(`${step.resource} (step ${index + 1} of ${steps.length}): cannot connect to database ${database} as ${login.user}: ${err.message}\n  ${describeOrder(seed, order)}`);
            });
            notices = [];
            step.notices = notices;
            const run = async () => {
                for (const sql of step.statements) await client.query(sql);
            };
            try {
                if (resource.type === T.database) {
                    // autocommit; the owner granted to the configured user around CREATE DATABASE
                    const owner = resource.inputs.owner as string | undefined;
                    const granted = owner ? await grantRoleMembership(client, owner, login.user) : false;
                    try {
                        await run();
                    } finally {
                        if (granted) await revokeRoleMembership(client, owner!, login.user);
                    }
                    continue;
                }
                await client.query("BEGIN");
                if (resource.type === T.grant) await withRolesGranted(client, await rolesToGrant(client, resource.inputs), run);
                else if (resource.type === T.defaultPrivileges) await withRolesGranted(client, [resource.inputs.owner], run);
                else if (resource.type === T.schema) {
                    const dbOwner = (await client.query("SELECT pg_get_userbyid(datdba) AS o FROM pg_database WHERE datname = current_database()")).rows[0].o;
                    await withRolesGranted(client, [dbOwner, ...(resource.inputs.owner && resource.inputs.owner !== dbOwner ? [resource.inputs.owner] : [])], run);
                } else await run();
                await client.query("COMMIT");
            } catch (err) {
                if (step.transaction) await client.query("ROLLBACK").catch(() => undefined);
                const statements = step.statements.map((sql) => sql.replace(/PASSWORD '(?:[^']|'')*'/g, "PASSWORD '…'"));
                throw new Error(`${step.resource} (step ${index + 1} of ${steps.length}): ${(err as Error).message}\n  in: ${statements.join(";\n      ")}\n  ${describeOrder(seed, order)}`);
            }
        }
    } finally {
        for (const c of clients.values()) await c.end().catch(() => undefined);
    }
    const problems = await declaredStateProblems(server, resources, login.user);
    if (problems.length) {
        const warned = steps.filter((s) => s.notices?.length).map((s) => `${s.resource}: ${s.notices!.join("; ")}`);
        throw new Error(`the server does not hold what the resources declare:\n  - ${problems.join("\n  - ")}\n  server notices: ${warned.join("\n    ") || "none"}\n  ${describeOrder(seed, order)}`);
    }
    return steps;
}

/** A Role's attributes as the provider sees them (its schema defaults filled in). */
function roleState(i: any) {
    return {
        name: i.name as string,
        password: (i.password ?? "") as string,
        passwordWo: (i.passwordWo ?? "") as string,
        passwordWoVersion: i.passwordWoVersion ?? "",
        bypassRowLevelSecurity: i.bypassRowLevelSecurity ?? false,
        connectionLimit: i.connectionLimit ?? -1,
        createDatabase: i.createDatabase ?? false,
        createRole: i.createRole ?? false,
        inherit: i.inherit ?? true,
        login: i.login ?? false,
        replication: i.replication ?? false,
        superuser: i.superuser ?? false,
        validUntil: (i.validUntil ?? "infinity") as string,
        roles: (i.roles ?? []) as string[],
        searchPaths: (i.searchPaths ?? []) as string[],
        statementTimeout: i.statementTimeout ?? 0,
        idleInTransactionSessionTimeout: i.idleInTransactionSessionTimeout ?? 0,
        assumeRole: (i.assumeRole ?? "") as string,
    };
}

/**
 * What resourcePostgreSQLRoleUpdate sends (one transaction) for an in-place update of a Role from the
 * inputs `before` to `after`, after its advisory locks: `ALTER ROLE … RENAME TO …` if renamed;
 * `ALTER ROLE "x" PASSWORD '…'` when `password` (or the name) changed, or for `passwordWo` only when
 * `passwordWoVersion` changed; `ALTER ROLE "x" WITH <flag>` / `CONNECTION LIMIT n` / `VALID UNTIL '…'` for each
 * changed attribute; then `REVOKE "g" FROM "x"` for every current membership (`memberships`, which the
 * provider reads from pg_auth_members) and `GRANT "g" TO "x"` for every role in `roles`; `ALTER ROLE "x" SET
 * search_path …` (always); timeouts and `SET ROLE` when changed.
 */
export function roleUpdateSql(before: any, after: any, memberships: string[]): string[] {
    const o = roleState(before);
    const n = roleState(after);
    const name = quoteIdent(n.name);
    const sql: string[] = [];
    if (o.name !== n.name) sql.push(`ALTER ROLE ${quoteIdent(o.name)} RENAME TO ${name}`);
    if (n.passwordWo) {
        if (String(o.passwordWoVersion) !== String(n.passwordWoVersion)) sql.push(`ALTER ROLE ${name} PASSWORD ${quoteLiteral(n.passwordWo)}`);
    } else if ((o.password !== n.password || o.name !== n.name) && n.password) {
        sql.push(`ALTER ROLE ${name} PASSWORD ${quoteLiteral(n.password)}`);
    }
    const flag = (key: keyof ReturnType<typeof roleState>, on: string, off: string) => {
        if (o[key] !== n[key]) sql.push(`ALTER ROLE ${name} WITH ${n[key] ? on : off}`);
    };
    flag("bypassRowLevelSecurity", "BYPASSRLS", "NOBYPASSRLS");
    if (o.connectionLimit !== n.connectionLimit) sql.push(`ALTER ROLE ${name} CONNECTION LIMIT ${n.connectionLimit}`);
    flag("createDatabase", "CREATEDB", "NOCREATEDB");
    flag("createRole", "CREATEROLE", "NOCREATEROLE");
    flag("inherit", "INHERIT", "NOINHERIT");
    flag("login", "LOGIN", "NOLOGIN");
    flag("replication", "REPLICATION", "NOREPLICATION");
    flag("superuser", "SUPERUSER", "NOSUPERUSER");
    if (o.validUntil !== n.validUntil && n.validUntil) sql.push(`ALTER ROLE ${name} VALID UNTIL ${quoteLiteral(n.validUntil.toLowerCase() === "infinity" ? "infinity" : n.validUntil)}`);
    for (const group of memberships) sql.push(`REVOKE ${quoteIdent(group)} FROM ${name}`);
    for (const group of n.roles) sql.push(`GRANT ${quoteIdent(group)} TO ${name}`);
    sql.push(`ALTER ROLE ${name} SET search_path TO ${n.searchPaths.length ? n.searchPaths.map(quoteIdent).join(", ") : "DEFAULT"}`);
    if (o.statementTimeout !== n.statementTimeout) sql.push(n.statementTimeout ? `ALTER ROLE ${name} SET statement_timeout TO ${Number(n.statementTimeout)}` : `ALTER ROLE ${name} RESET statement_timeout`);
    if (o.idleInTransactionSessionTimeout !== n.idleInTransactionSessionTimeout) {
        sql.push(n.idleInTransactionSessionTimeout ? `ALTER ROLE ${name} SET idle_in_transaction_session_timeout TO ${Number(n.idleInTransactionSessionTimeout)}` : `ALTER ROLE ${name} RESET idle_in_transaction_session_timeout`);
    }
    if (o.assumeRole !== n.assumeRole) sql.push(n.assumeRole ? `ALTER ROLE ${name} SET ROLE TO ${quoteIdent(n.assumeRole)}` : `ALTER ROLE ${name} RESET ROLE`);
    return sql;
}

/** Runs `fn` in one transaction as the admin login (default: the superuser) in `postgres`, as the provider does. */
async function inProviderTransaction<T>(server: TestServer, admin: AdminLogin | undefined, fn: (db: Client) => Promise<T>): Promise<T> {
    const login = admin ?? { user: server.superuser, password: server.superuserPassword };
    const db = await server.connect({ user: login.user, password: login.password, database: "postgres" });
    try {
        await db.query("BEGIN");
        try {
            const result = await fn(db);
            await db.query("COMMIT");
            return result;
        } catch (err) {
            await db.query("ROLLBACK").catch(() => undefined);
            throw err;
        }
    } finally {
        await db.end().catch(() => undefined);
    }
}

/**
 * Executes a Role's create on a real server exactly as the provider does (one transaction: `CREATE ROLE …`,
 * its grants and settings), e.g. to show what a failed create (the role exists) sends and logs. Rejects with
 * the server's error. Returns the statements.
 */
export async function applyRoleCreate(server: TestServer, inputs: any, admin?: AdminLogin): Promise<string[]> {
    const statements = roleSql(inputs);
    await inProviderTransaction(server, admin, async (db) => {
        for (const sql of statements) await db.query(sql);
    });
    return statements;
}

/**
 * Executes an in-place update of a Role from the inputs `before` to `after` as the provider does (one
 * transaction: pgLockRole's advisory locks, the memberships read, then `roleUpdateSql`). Returns the
 * statements sent.
 */
export async function applyRoleUpdate(server: TestServer, before: any, after: any, admin?: AdminLogin): Promise<string[]> {
    return inProviderTransaction(server, admin, async (db) => {
        await db.query("SET statement_timeout = 0");
        await db.query("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = $1", [before.name]);
        await db.query("SELECT pg_advisory_xact_lock(member::bigint) FROM pg_auth_members JOIN pg_roles ON roleid = pg_roles.oid WHERE rolname = $1", [before.name]);
        const memberships = (await db.query(`SELECT pg_get_userbyid(roleid) AS role FROM pg_catalog.pg_auth_members members
            JOIN pg_catalog.pg_roles ON members.member = pg_roles.oid WHERE rolname = $1`, [before.name])).rows.map((r) => r.role as string);
        const statements = roleUpdateSql(before, after, memberships);
        for (const sql of statements) await db.query(sql);
        return statements;
    });
}

const DEFAULT_ACL_TYPE: Record<string, string> = { table: "r", sequence: "S", function: "f", type: "T", schema: "n" };
const RELATION_KINDS: Record<string, { kinds: string[]; acl: string }> = {
    table: { kinds: ["r", "p", "v", "m", "f"], acl: "r" },
    sequence: { kinds: ["S"], acl: "s" },
};

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join(",") === [...b].sort().join(",");

/**
 * How the server differs from what the postgresql resources declare (empty when it holds all of it):
 * databases and their owners, role attributes and memberships, GrantRole memberships, the exact
 * privileges of every Grant and DefaultPrivileges, and for a non-superuser admin no membership beyond the
 * GrantRoles that name it (the provider's temporary ones were revoked).
 */
export async function declaredStateProblems(server: TestServer, resources: RecordedResource[], adminUser: string): Promise<string[]> {
    const problems: string[] = [];
    const pg = resources.filter(isPostgresqlResource);
    const clients = new Map<string, Client>();
    const db = async (database: string) => {
        if (!clients.has(database)) clients.set(database, await server.connect({ user: server.superuser, password: server.superuserPassword, database }));
        return clients.get(database)!;
    };
    const grantee = async (role: string): Promise<number | undefined> => {
        if (role.toLowerCase() === "public") return 0;
        return (await (await db("postgres")).query("SELECT oid::int AS oid FROM pg_roles WHERE rolname = $1", [role])).rows[0]?.oid;
    };
    const compare = (r: RecordedResource, what: string, actual: string[], declared: string[]) => {
        if (declared.some((p) => p.toUpperCase() === "ALL")) return;
        if (!sameSet(actual, declared.map((p) => p.toUpperCase()))) problems.push(`${r.name}: ${what} has [${actual.sort().join(",")}], declared [${declared.join(",")}]`);
    };
    try {
        const postgres = await db("postgres");
        const declaredGrants = new Map<string, RecordedResource>();
        for (const r of pg) {
            const i = r.inputs;
            if (r.type === T.database) {
                const row = (await postgres.query("SELECT pg_get_userbyid(datdba) AS owner, datconnlimit AS limit FROM pg_database WHERE datname = $1", [i.name])).rows[0];
                if (!row) problems.push(`${r.name}: database ${i.name} does not exist`);
                else if (row.owner !== (i.owner ?? adminUser) || row.limit !== (i.connectionLimit ?? -1)) problems.push(`${r.name}: database ${i.name} is owned by ${row.owner} with limit ${row.limit}`);
            } else if (r.type === T.role) {
                const row = (await postgres.query("SELECT rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolcanlogin, rolbypassrls, rolreplication, rolconnlimit, rolconfig FROM pg_roles WHERE rolname = $1", [i.name])).rows[0];
                if (!row) {
                    problems.push(`${r.name}: role ${i.name} does not exist`);
                    continue;
                }
                const declared = [i.superuser ?? false, i.createDatabase ?? false, i.createRole ?? false, i.inherit ?? true, i.login ?? false, i.bypassRowLevelSecurity ?? false, i.replication ?? false, i.connectionLimit ?? -1];
                const actual = [row.rolsuper, row.rolcreatedb, row.rolcreaterole, row.rolinherit, row.rolcanlogin, row.rolbypassrls, row.rolreplication, row.rolconnlimit];
                if (JSON.stringify(declared) !== JSON.stringify(actual)) problems.push(`${r.name}: role ${i.name} has attributes ${JSON.stringify(actual)}, declared ${JSON.stringify(declared)}`);
                const groups = (await postgres.query("SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)", [i.name])).rows.map((x) => x.rolname);
                for (const g of i.roles ?? []) if (!groups.includes(g)) problems.push(`${r.name}: role ${i.name} is not a member of ${g}`);
                if (i.assumeRole && !(row.rolconfig ?? []).includes(`role=${i.assumeRole}`)) problems.push(`${r.name}: role ${i.name} does not SET ROLE ${i.assumeRole}`);
            } else if (r.type === T.grantRole) {
                const row = (await postgres.query("SELECT bool_or(admin_option) AS admin FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = $1 AND u.rolname = $2", [i.grantRole, i.role])).rows[0];
                if (row.admin === null) problems.push(`${r.name}: ${i.role} is not a member of ${i.grantRole}`);
                else if (i.withAdminOption && !row.admin) problems.push(`${r.name}: ${i.role} lacks ADMIN OPTION on ${i.grantRole}`);
            } else if (r.type === T.grant) {
                const key = JSON.stringify([i.objectType, i.database, i.schema ?? "", [...(i.objects ?? [])].sort(), String(i.role).toLowerCase()]);
                const earlier = declaredGrants.get(key);
                if (earlier) problems.push(`${r.name} and ${earlier.name} declare privileges of ${i.role} on the same object: the one created last wins`);
                declaredGrants.set(key, r);
                const oid = await grantee(i.role);
                if (oid === undefined) {
                    problems.push(`${r.name}: role ${i.role} does not exist`);
                    continue;
                }
                const declared: string[] = i.privileges ?? [];
                if (i.objectType === "database") {
                    const rows = (await postgres.query("SELECT a.privilege_type AS p FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = $1 AND a.grantee = $2", [i.database, oid])).rows;
                    compare(r, `${i.role} on database ${i.database}`, rows.map((x) => x.p), declared);
                } else if (i.objectType === "schema") {
                    const rows = (await (await db(i.database)).query("SELECT a.privilege_type AS p FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a WHERE n.nspname = $1 AND a.grantee = $2", [i.schema, oid])).rows;
                    compare(r, `${i.role} on schema ${i.schema}`, rows.map((x) => x.p), declared);
                } else if (RELATION_KINDS[i.objectType]) {
                    const { kinds, acl } = RELATION_KINDS[i.objectType];
                    const objects: string[] = i.objects ?? [];
                    const rels = (await (await db(i.database)).query(
                        `SELECT c.relname, array(SELECT a.privilege_type FROM aclexplode(coalesce(c.relacl, acldefault('${acl}', c.relowner))) a WHERE a.grantee = $3) AS p
                         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = ANY($2) AND (cardinality($4::text[]) = 0 OR c.relname = ANY($4))`,
                        [i.schema, kinds, oid, objects])).rows;
                    for (const rel of rels) compare(r, `${i.role} on ${i.objectType} ${i.schema}.${rel.relname}`, rel.p, declared);
                }
            } else if (r.type === T.defaultPrivileges) {
                const oid = await grantee(i.role);
                const rows = (await (await db(i.database)).query(
                    `SELECT a.privilege_type AS p FROM pg_default_acl d JOIN pg_roles o ON o.oid = d.defaclrole LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
                     WHERE o.rolname = $1 AND coalesce(n.nspname, '') = $2 AND d.defaclobjtype = $3 AND a.grantee = $4`,
                    [i.owner, i.schema ?? "", DEFAULT_ACL_TYPE[i.objectType], oid ?? -1])).rows;
                compare(r, `default privileges of ${i.owner} for ${i.role} on ${i.objectType}s in ${i.database}.${i.schema ?? "*"}`, rows.map((x) => x.p), i.privileges ?? []);
            }
        }
        if (!(await isSuperuser(postgres, adminUser))) {
            // rows that let the admin act as the role (16+: CREATEROLE's own ADMIN-only grants do not)
            const hasSet = server.version !== "15";
            const held = (await postgres.query(`SELECT DISTINCT pg_get_userbyid(roleid) AS role FROM pg_auth_members WHERE member = (SELECT oid FROM pg_roles WHERE rolname = $1)${hasSet ? " AND (set_option OR inherit_option)" : ""}`, [adminUser])).rows.map((x) => x.role as string);
            const declared = pg.filter((r) => r.type === T.grantRole && r.inputs.role === adminUser).map((r) => r.inputs.grantRole as string);
            const extra = held.filter((role) => !declared.includes(role));
            if (extra.length) problems.push(`the admin ${adminUser} is still a member of ${extra.join(", ")} (a temporary membership left behind)`);
        }
    } finally {
        for (const c of clients.values()) await c.end().catch(() => undefined);
    }
    return problems;
}

/**
 * An admin like the RDS master user: LOGIN CREATEROLE CREATEDB, not a superuser, a member of nothing; it
 * owns the maintenance databases `postgres` and `template1` (as on RDS). Returns its login.
 */
export async function createRdsLikeAdmin(server: TestServer, user = "pgadmin", password = "Master-Passw0rd"): Promise<AdminLogin> {
    await server.query(`CREATE ROLE ${quoteIdent(user)} WITH LOGIN CREATEROLE CREATEDB PASSWORD ${quoteLiteral(password)}`);
    await server.query(`ALTER DATABASE postgres OWNER TO ${quoteIdent(user)}`);
    await server.query(`ALTER DATABASE template1 OWNER TO ${quoteIdent(user)}`);
    return { user, password };
}

/**
 * Puts a test server back as initdb left it, so the next order starts from scratch: drops every database
 * but the maintenance ones and every role but the bootstrap superuser and the predefined ones, and gives
 * PUBLIC back its default CONNECT and TEMPORARY on postgres and template1.
 */
export async function resetServer(server: TestServer): Promise<void> {
    const connect = (database: string) => server.connect({ user: server.superuser, password: server.superuserPassword, database });
    const postgres = await connect("postgres");
    try {
        const superuser = quoteIdent(server.superuser);
        await postgres.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename <> $1 AND backend_type = 'client backend'", [server.superuser]);
        for (const { datname } of (await postgres.query("SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')")).rows) {
            await postgres.query(`DROP DATABASE ${quoteIdent(datname)} WITH (FORCE)`);
        }
        await postgres.query(`ALTER DATABASE postgres OWNER TO ${superuser}`);
        await postgres.query(`ALTER DATABASE template1 OWNER TO ${superuser}`);
        const roles = (await postgres.query("SELECT rolname FROM pg_roles WHERE rolname <> $1 AND rolname NOT LIKE 'pg\\_%'", [server.superuser])).rows.map((r) => quoteIdent(r.rolname));
        if (roles.length) {
            const template1 = await connect("template1");
            try {
                for (const client of [postgres, template1]) {
                    await client.query(`REASSIGN OWNED BY ${roles.join(", ")} TO ${superuser}`);
                    await client.query(`DROP OWNED BY ${roles.join(", ")}`);
                }
            } finally {
                await template1.end();
            }
            for (const role of roles) await postgres.query(`DROP ROLE ${role}`);
        }
        await postgres.query("GRANT CONNECT, TEMPORARY ON DATABASE postgres, template1 TO PUBLIC");
    } finally {
        await postgres.end();
    }
}
