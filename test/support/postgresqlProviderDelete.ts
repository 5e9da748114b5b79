/**
 * What terraform-provider-postgresql (behind @pulumi/postgresql 3.18.1) executes when the engine deletes
 * the resources a config change removed, read from its source (cyrilgdn/terraform-provider-postgresql,
 * postgresql/resource_postgresql_{role,grant,default_privileges,grant_role,database}.go, helpers.go):
 *
 * - Role: one transaction in the PROVIDER's database (`startTransaction(client, "")`): advisory locks on
 *   the role and its members, then unless `skipReassignOwned`, with the role temporarily granted to a
 *   non-superuser admin (`withRolesGranted`): `REASSIGN OWNED BY role TO <provider username>` and
 *   `DROP OWNED BY role`; then unless `skipDropRole`: `DROP ROLE role`. REASSIGN/DROP OWNED only reach
 *   the current database (and shared objects), so anything the role owns or was granted in another
 *   database makes DROP ROLE fail ("N objects in database x").
 * - Grant: one transaction in the grant's `database`: lock, then with the objects' owners granted:
 *   `REVOKE ALL PRIVILEGES ON <object> FROM role` (for listed objects with privileges: `REVOKE p ON …`).
 * - DefaultPrivileges: one transaction in its `database`, with the owner granted:
 *   `ALTER DEFAULT PRIVILEGES FOR ROLE owner [IN SCHEMA s] REVOKE ALL ON <type>S FROM role`.
 * - GrantRole: one transaction in the provider's database: `REVOKE "grant_role" FROM "role"`.
 * - Database: in the provider's database, the owner granted to a non-superuser admin, the database's
 *   connections terminated, `DROP DATABASE x WITH (FORCE)`.
 * Resources whose `retainOnDelete` is true (set on them or, when unset, inherited from their parent, as the
 * engine resolves it) are not deleted: the engine only forgets them; nor is a resource whose `deletedWith`
 * resource is deleted in the same update.
 *
 * The engine deletes in reverse dependency order: a resource goes only after everything that waited for it
 * (test/support/engineOrder.ts, from what the offline runner recorded of each registration: dependencies,
 * parent, provider, deletedWith). `deletionOrder` is that order, restricted to the deleted resources.
 */
import { Client } from "pg";
import { RecordedResource, RunResult } from "../../testing/offlineRun";
import { TestServer } from "./realPostgres";
import { AdminLogin, Q, quoteIdent, grantSql, grantRoleMembership, revokeRoleMembership, rolesToGrant, withRolesGranted } from "./postgresqlProviderSql";
import { describeOrder, engineOrder, engineOrderSeeds, providerUrn } from "./engineOrder";

/** Resources of the first run that the second no longer registers (by URN, as the engine tells them apart). */
export function removedResources(before: RunResult<unknown>, after: RunResult<unknown>): RecordedResource[] {
    const kept = new Set(after.resources.map((r) => r.urn));
    return before.resources.filter((r) => r.custom && !kept.has(r.urn));
}

/** The `retainOnDelete` the engine applies: the resource's own, else its parent's (transitively), else false. */
export function retainedOnDelete(r: RecordedResource, run: RunResult<unknown>): boolean {
    for (let at: RecordedResource | undefined = r; at; at = at.parent ? run.resources.find((p) => p.urn === at!.parent) : undefined) {
        if (at.retainOnDelete !== undefined) return at.retainOnDelete;
    }
    return false;
}

/**
 * One order in which the engine deletes `removed` (resources of `before`): every resource after everything
 * that waits for it, in the delete order of `seed` (see engineOrder.ts) over the whole recorded run.
 */
export function deletionOrder(removed: RecordedResource[], before: RunResult<unknown>, seed = engineOrderSeeds()[0]): RecordedResource[] {
    const deleted = new Set(removed);
    return engineOrder(before.resources, seed, { reverse: true, include: (r) => deleted.has(r) });
}

/** One delete the provider performs. */
export interface DeleteStep {
    /** The resource's logical name. */
    resource: string;
    urn: string;
    type: string;
    /** Database the provider connects to for it. */
    database: string;
    /** The data-changing statements (locks and temporary memberships aside). */
    statements: string[];
}

const T = {
    role: "postgresql:index/role:Role",
    database: "postgresql:index/database:Database",
    grant: "postgresql:index/grant:Grant",
    defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
    grantRole: "postgresql:index/grantRole:GrantRole",
};

/** The database of the provider a resource was registered with (the provider's default is `postgres`). */
function providerDatabase(run: RunResult<unknown>, r: RecordedResource): string {
    if (!r.provider) return "postgres";
    const provider = run.resources.find((p) => p.urn === providerUrn(r.provider!));
    if (!provider) throw new Error(`${r.name}: provider ${r.provider} was not recorded`);
    return provider.inputs.database ?? "postgres";
}

/**
 * The postgresql resources the engine deletes when `after` follows `before`: those `after` no longer
 * registers, minus the retained ones and those deleted with another deleted resource (`deletedWith`).
 */
export function deletedResources(before: RunResult<unknown>, after: RunResult<unknown>): RecordedResource[] {
    const deleted = removedResources(before, after).filter((r) => !retainedOnDelete(r, before));
    const deletedUrns = new Set(deleted.map((r) => r.urn));
    return deleted.filter((r) => r.type.startsWith("postgresql:index/") && !(r.deletedWith && deletedUrns.has(r.deletedWith)));
}

/** The provider's deletes for what `after` no longer registers, in the engine's delete order of `seed`. */
export function deleteSteps(before: RunResult<unknown>, after: RunResult<unknown>, adminUser: string, seed = engineOrderSeeds()[0]): DeleteStep[] {
    return deletionOrder(deletedResources(before, after), before, seed).map((r) => {
        const i = r.inputs;
        const step = (database: string, statements: string[]): DeleteStep => ({ resource: r.name, urn: r.urn, type: r.type, database, statements });
        switch (r.type) {
            case T.role: {
                const role = quoteIdent(i.name);
                return step(providerDatabase(before, r), [
                    ...(i.skipReassignOwned ? [] : [`REASSIGN OWNED BY ${role} TO ${quoteIdent(adminUser)}`, `DROP OWNED BY ${role}`]),
                    ...(i.skipDropRole ? [] : [`DROP ROLE ${role}`]),
                ]);
            }
            case T.grant:
                return step(i.database || providerDatabase(before, r), [grantSql({ ...i, privileges: i.objects?.length ? i.privileges : [] })[0]]);
            case T.defaultPrivileges:
                return step(i.database || providerDatabase(before, r), [
                    `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(i.owner)} ${i.schema ? `IN SCHEMA ${quoteIdent(i.schema)}` : ""} REVOKE ALL ON ${String(i.objectType).toUpperCase()}S FROM ${quoteIdent(i.role)}`,
                ]);
            case T.grantRole:
                return step(providerDatabase(before, r), [`REVOKE ${quoteIdent(i.grantRole)} FROM ${quoteIdent(i.role)}`]);
            case T.database:
                return step(providerDatabase(before, r), [`DROP DATABASE ${quoteIdent(i.name)} WITH (FORCE)`]);
            default:
                throw new Error(`delete of ${r.type} is not translated`);
        }
    });
}

/** helpers.go pgLockRole: advisory locks on the role and its members (taken in the same transaction). */
async function lockRole(db: Q, role: string): Promise<void> {
    await db.query("SET statement_timeout = 0");
    await db.query("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = $1", [role]);
    await db.query("SELECT pg_advisory_xact_lock(member::bigint) FROM pg_auth_members JOIN pg_roles ON roleid = pg_roles.oid WHERE rolname = $1", [role]);
}

/**
 * Performs the provider's deletes for the resources `before` registered and `after` does not, on a real
 * server, as the admin login (default: the superuser), each in its own transaction in the database the
 * provider connects to. Throws as `pulumi up` would fail: naming the resource, its database and statements.
 */
export async function applyProviderDeletes(server: TestServer, before: RunResult<unknown>, after: RunResult<unknown>, admin?: AdminLogin, options: { seed?: number } = {}): Promise<DeleteStep[]> {
    const login = admin ?? { user: server.superuser, password: server.superuserPassword };
    const seed = options.seed ?? engineOrderSeeds()[0];
    const steps = deleteSteps(before, after, login.user, seed);
    const byUrn = new Map(before.resources.map((r) => [r.urn, r]));
    const clients = new Map<string, Client>();
    const clientFor = async (database: string) => {
        if (!clients.has(database)) clients.set(database, await server.connect({ user: login.user, password: login.password, database }));
        return clients.get(database)!;
    };
    try {
        for (const step of steps) {
            const i = byUrn.get(step.urn)!.inputs;
            const db = await clientFor(step.database).catch((err: Error) => {
                throw new Error(`${step.resource}: cannot connect to database ${step.database}: ${err.message}`);
            });
            const run = async () => {
                for (const sql of step.statements) await db.query(sql);
            };
            try {
                if (step.type === T.database) {
                    const granted = i.owner ? await grantRoleMembership(db, i.owner, login.user) : false;
                    try {
                        await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [i.name]);
                        await run();
                    } finally {
                        if (granted) await revokeRoleMembership(db, i.owner, login.user);
                    }
                    continue;
                }
                await db.query("BEGIN");
                if (step.type === T.role) {
                    await lockRole(db, i.name);
                    const [reassign, dropRole] = [i.skipReassignOwned ? [] : step.statements.slice(0, 2), i.skipDropRole ? [] : [step.statements[step.statements.length - 1]]];
                    if (reassign.length) await withRolesGranted(db, [i.name], async () => { for (const sql of reassign) await db.query(sql); });
                    for (const sql of dropRole) await db.query(sql);
                } else if (step.type === T.grant) {
                    await lockRole(db, i.role);
                    if (i.objectType === "database") await db.query("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_database WHERE datname = $1", [i.database]);
                    await withRolesGranted(db, await rolesToGrant(db, i), run);
                } else if (step.type === T.defaultPrivileges) {
                    await lockRole(db, i.owner);
                    await withRolesGranted(db, [i.owner], run);
                } else {
                    await run();
                }
                await db.query("COMMIT");
            } catch (err) {
                await db.query("ROLLBACK").catch(() => undefined);
                const order = steps.map((x) => byUrn.get(x.urn)!);
                throw new Error(`delete ${step.resource} (in database ${step.database}): ${(err as Error).message}\n  in: ${step.statements.join(";\n      ")}\n  delete ${describeOrder(seed, order)}`);
            }
        }
    } finally {
        for (const c of clients.values()) await c.end().catch(() => undefined);
    }
    return steps;
}
