/**
 * What terraform-provider-postgresql (the provider behind @pulumi/postgresql 3.18.1) executes when it
 * creates the resources our program registers, translated statement by statement from its source
 * (cyrilgdn/terraform-provider-postgresql, postgresql/resource_postgresql_{role,database,grant,
 * default_privileges,grant_role}.go):
 *
 * - Role: one transaction: `CREATE ROLE "name" WITH [ENCRYPTED PASSWORD '…'] VALID UNTIL 'infinity'
 *   CONNECTION LIMIT n SUPERUSER|NOSUPERUSER CREATEDB|NOCREATEDB CREATEROLE|NOCREATEROLE INHERIT|NOINHERIT
 *   LOGIN|NOLOGIN BYPASSRLS|NOBYPASSRLS REPLICATION|NOREPLICATION` (defaults: encrypted, valid until
 *   infinity, connection limit -1, inherit, everything else off), then `GRANT "group" TO "name"` per role,
 *   `ALTER ROLE "name" SET search_path TO DEFAULT|…` (always), `ALTER ROLE … SET ROLE TO "x"` when
 *   assume_role is set. `password_wo` is sent like `password`.
 * - Database: outside a transaction, `CREATE DATABASE "name" OWNER "owner" TEMPLATE "t" ENCODING 'e'
 *   ALLOW_CONNECTIONS b CONNECTION LIMIT n IS_TEMPLATE b` (with the owner temporarily granted to a
 *   non-superuser admin).
 * - Grant: one transaction in the target database: `REVOKE ALL PRIVILEGES ON <object> FROM "role"` then,
 *   if privileges are given, `GRANT p1,p2 ON <object> TO "role"` (objects empty = `ON ALL TABLES IN SCHEMA`).
 * - DefaultPrivileges: one transaction in the database: `ALTER DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA
 *   "s" REVOKE ALL ON TABLES FROM "role"` then `… GRANT p ON TABLES TO "role"`.
 * - GrantRole: `GRANT "g" TO "r" [WITH ADMIN OPTION]`.
 * Identifiers are quoted as pq.QuoteIdentifier does (so role "public" becomes `"public"`, which PostgreSQL
 * still reads as PUBLIC), literals as pqQuoteLiteral.
 */
import { Client } from "pg";
import { RecordedResource } from "../../stacks/offlineRun";
import { TestServer } from "./realPostgres";

export interface SqlStep {
    /** Database to connect to (null = the admin's maintenance database `postgres`). */
    database: string | null;
    /** Statements run in one transaction (or alone, for CREATE DATABASE). */
    statements: string[];
    transaction: boolean;
    /** The resource's logical name. */
    resource: string;
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

const T = {
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

export function grantRoleSql(i: any): string {
    return `GRANT ${quoteIdent(i.grantRole)} TO ${quoteIdent(i.role)}${i.withAdminOption ? " WITH ADMIN OPTION" : ""}`;
}

/** Orders roles so every role comes after the roles it is granted (`roles`). */
function orderRoles(roles: RecordedResource[]): RecordedResource[] {
    const byName = new Map(roles.map((r) => [r.inputs.name as string, r]));
    const done = new Set<string>();
    const out: RecordedResource[] = [];
    const visit = (r: RecordedResource) => {
        if (done.has(r.inputs.name)) return;
        done.add(r.inputs.name);
        for (const g of r.inputs.roles ?? []) {
            const dep = byName.get(g);
            if (dep) visit(dep);
        }
        if (r.inputs.assumeRole && byName.has(r.inputs.assumeRole)) visit(byName.get(r.inputs.assumeRole)!);
        out.push(r);
    };
    roles.forEach(visit);
    return out;
}

/** The provider's statements for every postgresql resource, in an order the dependencies allow. */
export function providerSteps(resources: RecordedResource[], adminUser = "postgres"): SqlStep[] {
    const of = (type: string) => resources.filter((r) => r.type === type);
    const known = new Set(Object.values(T));
    const unknown = resources.filter((r) => r.type.startsWith("postgresql:index/") && !known.has(r.type));
    if (unknown.length) throw new Error(`not translated: ${unknown.map((r) => r.type).join(", ")}`);
    const steps: SqlStep[] = [];
    const roles = orderRoles(of(T.role));
    const groupRoles = roles.filter((r) => !(r.inputs.roles ?? []).length && !r.inputs.assumeRole);
    const memberRoles = roles.filter((r) => !groupRoles.includes(r));
    for (const r of groupRoles) steps.push({ database: null, statements: roleSql(r.inputs), transaction: true, resource: r.name });
    for (const r of of(T.database)) steps.push({ database: null, statements: [databaseSql(r.inputs, adminUser)], transaction: false, resource: r.name });
    for (const r of of(T.schema)) {
        steps.push({ database: r.inputs.database, statements: [`CREATE SCHEMA ${quoteIdent(r.inputs.name)}${r.inputs.owner ? ` AUTHORIZATION ${quoteIdent(r.inputs.owner)}` : ""}`], transaction: true, resource: r.name });
    }
    for (const r of memberRoles) steps.push({ database: null, statements: roleSql(r.inputs), transaction: true, resource: r.name });
    // GrantRole only needs the roles (its dependsOn in the program: after roles, before privileges)
    for (const r of of(T.grantRole)) steps.push({ database: null, statements: [grantRoleSql(r.inputs)], transaction: true, resource: r.name });
    const grantOrder = ["database", "schema", "table", "sequence", "function", "procedure", "routine"];
    const grants = of(T.grant).sort((a, b) => grantOrder.indexOf(a.inputs.objectType) - grantOrder.indexOf(b.inputs.objectType));
    for (const r of grants) steps.push({ database: r.inputs.database, statements: grantSql(r.inputs), transaction: true, resource: r.name });
    for (const r of of(T.defaultPrivileges)) steps.push({ database: r.inputs.database, statements: defaultPrivilegesSql(r.inputs), transaction: true, resource: r.name });
    return steps;
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
    return (await db.query("SELECT rolsuper FROM pg_roles WHERE rolname = $1", [role])).rows[0]?.rolsuper === true;
}

/** helpers.go withRolesGranted: a non-superuser admin temporarily becomes a member of the owners. */
export async function withRolesGranted(db: Q, admin: string, roles: string[], fn: () => Promise<void>): Promise<void> {
    if (roles.length === 0 || (await isSuperuser(db, admin))) return fn();
    const granted: string[] = [];
    const revoked: string[] = [];
    for (const role of roles) {
        if (await isSuperuser(db, role)) continue;
        if (await revokeRoleMembership(db, admin, role)) revoked.push(role);
        if (await grantRoleMembership(db, role, admin)) granted.push(role);
    }
    await fn();
    for (const role of granted) await revokeRoleMembership(db, role, admin);
    for (const role of revoked) await grantRoleMembership(db, admin, role);
}

/** resource_postgresql_grant.go getRolesToGrant: table owners and the schema owner (pg_database_owner resolved). */
export async function rolesToGrant(db: Q, inputs: any): Promise<string[]> {
    if (["database", "foreign_data_wrapper", "foreign_server"].includes(inputs.objectType)) return [];
    const owners: string[] = inputs.objectType === "schema" ? [] : (await db.query("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1", [inputs.schema])).rows.map((r) => r.tableowner);
    const schemaOwner = (await db.query("SELECT rolname FROM pg_namespace JOIN pg_roles ON nspowner = pg_roles.oid WHERE nspname = $1", [inputs.schema])).rows[0].rolname;
    if (!owners.includes(schemaOwner)) owners.push(schemaOwner);
    const out: string[] = [];
    for (const o of owners) {
        out.push(o === "pg_database_owner" ? (await db.query("SELECT rolname FROM pg_database JOIN pg_roles ON datdba = pg_roles.oid WHERE datname = current_database()")).rows[0].rolname : o);
    }
    return out;
}

/**
 * Executes the provider's statements on a real server as the admin login (default: the superuser). With a
 * non-superuser admin (as the RDS master user, a member of rds_superuser) it also performs the provider's
 * temporary role grants: around `CREATE DATABASE … OWNER` and around grants / default privileges that need
 * the objects' owners.
 */
export async function applyProviderResources(server: TestServer, resources: RecordedResource[], admin?: AdminLogin): Promise<SqlStep[]> {
    const login = admin ?? { user: server.superuser, password: server.superuserPassword };
    const steps = providerSteps(resources, login.user);
    const byName = new Map(resources.map((r) => [r.name, r]));
    const clients = new Map<string, Client>();
    const clientFor = async (database: string | null) => {
        const key = database ?? "postgres";
        if (!clients.has(key)) clients.set(key, await server.connect({ user: login.user, password: login.password, database: key }));
        return clients.get(key)!;
    };
    try {
        for (const step of steps) {
            const client = await clientFor(step.database);
            const resource = byName.get(step.resource)!;
            const run = async () => {
                for (const sql of step.statements) await client.query(sql);
            };
            try {
                if (resource.type === T.database && resource.inputs.owner) {
                    const granted = await grantRoleMembership(client, resource.inputs.owner, login.user).catch(() => false);
                    try {
                        await run();
                    } finally {
                        if (granted) await revokeRoleMembership(client, resource.inputs.owner, login.user);
                    }
                    continue;
                }
                if (step.transaction) await client.query("BEGIN");
                if (resource.type === T.grant) await withRolesGranted(client, login.user, await rolesToGrant(client, resource.inputs), run);
                else if (resource.type === T.defaultPrivileges) await withRolesGranted(client, login.user, [resource.inputs.owner], run);
                else await run();
                if (step.transaction) await client.query("COMMIT");
            } catch (err) {
                if (step.transaction) await client.query("ROLLBACK").catch(() => undefined);
                throw new Error(`${step.resource}: ${(err as Error).message}\n  in: ${step.statements.join(";\n      ")}`);
            }
        }
    } finally {
        for (const c of clients.values()) await c.end().catch(() => undefined);
    }
    return steps;
}
