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
 * Resources registered with `retainOnDelete` are not deleted: the engine only forgets them.
 *
 * The engine deletes in reverse dependency order: a resource goes before everything it depends on.
 * `deletionOrder` derives that from the dependencies each registration carried (captured from the mock
 * monitor's requests by `recordRun`), the one place to swap for the offline runner's own graph.
 */
import { Client } from "pg";
import { RecordedResource, RunResult } from "../../testing/offlineRun";
import { TestServer } from "./realPostgres";
import { AdminLogin, Q, quoteIdent, grantSql, grantRoleMembership, revokeRoleMembership, rolesToGrant, withRolesGranted } from "./postgresqlProviderSql";

/** What the engine received for one registration besides its inputs. */
export interface RegistrationOptions {
    urn: string;
    type: string;
    name: string;
    retainOnDelete: boolean;
    /** `import` ID, when the program adopts an existing resource. */
    importId?: string;
    /** URNs of the custom resources it depends on (explicit dependsOn and Output inputs, components expanded). */
    dependencies: string[];
}

/** A recorded run with the options of every registration. */
export interface RecordedRun<T = unknown> extends RunResult<T> {
    options: RegistrationOptions[];
}

const key = (type: string, name: string) => `${type}\u0000${name}`;
let capturing: RegistrationOptions[] | undefined;

/** Wraps the mock monitor once so every registerResource request's options are captured. */
function installCapture(): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mocks = require("@pulumi/pulumi/runtime/mocks");
    const proto = mocks.MockMonitor.prototype;
    if (proto.__removalCapture) return;
    const original = proto.registerResource;
    proto.registerResource = function (this: any, req: any, callback: any) {
        capturing?.push({
            urn: this.newUrn(req.getParent(), req.getType(), req.getName()),
            type: req.getType(),
            name: req.getName(),
            retainOnDelete: req.getRetainondelete?.() === true,
            importId: req.getImportid() || undefined,
            dependencies: req.getDependenciesList(),
        });
        return original.call(this, req, callback);
    };
    proto.__removalCapture = true;
}

/** Runs `run` (a `runPulumi` call) and adds the options of every registration it made. */
export async function recordRun<T>(run: () => Promise<RunResult<T>>): Promise<RecordedRun<T>> {
    installCapture();
    const options: RegistrationOptions[] = [];
    capturing = options;
    try {
        return { ...(await run()), options };
    } finally {
        capturing = undefined;
    }
}

/** Resources of the first run that the second no longer registers (what the engine deletes or forgets). */
export function removedResources(before: RecordedRun, after: RecordedRun): RecordedResource[] {
    const kept = new Set(after.resources.map((r) => key(r.type, r.name)));
    return before.resources.filter((r) => r.custom && !kept.has(key(r.type, r.name)));
}

function optionsOf(run: RecordedRun, r: RecordedResource): RegistrationOptions {
    const found = run.options.find((o) => o.type === r.type && o.name === r.name);
    if (!found) throw new Error(`no registration options recorded for ${r.type} ${r.name}`);
    return found;
}

/**
 * The engine's delete order for `removed`: every resource before the resources it depends on (directly or
 * through other removed resources), ties in reverse registration order.
 */
export function deletionOrder(removed: RecordedResource[], before: RecordedRun): RecordedResource[] {
    const byUrn = new Map(removed.map((r) => [optionsOf(before, r).urn, r]));
    const position = new Map(before.resources.map((r, i) => [r, i]));
    const dependents = new Map<RecordedResource, RecordedResource[]>(removed.map((r) => [r, []]));
    for (const r of removed) {
        for (const urn of optionsOf(before, r).dependencies) {
            const dep = byUrn.get(urn);
            if (dep && dep !== r) dependents.get(dep)!.push(r);
        }
    }
    const out: RecordedResource[] = [];
    const state = new Map<RecordedResource, "visiting" | "done">();
    const visit = (r: RecordedResource) => {
        if (state.get(r) === "done") return;
        if (state.get(r) === "visiting") throw new Error(`dependency cycle through ${r.name}`);
        state.set(r, "visiting");
        for (const d of dependents.get(r)!.sort((a, b) => position.get(b)! - position.get(a)!)) visit(d);
        state.set(r, "done");
        out.push(r);
    };
    for (const r of [...removed].sort((a, b) => position.get(b)! - position.get(a)!)) visit(r);
    // visit emits dependents first, then the resource: the order the engine deletes in
    return out;
}

/** One delete the provider performs. */
export interface DeleteStep {
    resource: string;
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
function providerDatabase(run: RecordedRun, r: RecordedResource): string {
    if (!r.provider) return "postgres";
    const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
    const name = urn.split("::").pop();
    const provider = run.resources.find((p) => p.type === "pulumi:providers:postgresql" && p.name === name);
    if (!provider) throw new Error(`${r.name}: provider ${r.provider} was not recorded`);
    return provider.inputs.database ?? "postgres";
}

/** The provider's deletes for what `after` no longer registers, in the engine's order; retained ones skipped. */
export function deleteSteps(before: RecordedRun, after: RecordedRun, adminUser: string): DeleteStep[] {
    const removed = removedResources(before, after).filter((r) => r.type.startsWith("postgresql:index/") && !optionsOf(before, r).retainOnDelete);
    return deletionOrder(removed, before).map((r) => {
        const i = r.inputs;
        const step = (database: string, statements: string[]): DeleteStep => ({ resource: r.name, type: r.type, database, statements });
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
export async function applyProviderDeletes(server: TestServer, before: RecordedRun, after: RecordedRun, admin?: AdminLogin): Promise<DeleteStep[]> {
    const login = admin ?? { user: server.superuser, password: server.superuserPassword };
    const steps = deleteSteps(before, after, login.user);
    const byName = new Map(before.resources.map((r) => [r.name, r]));
    const clients = new Map<string, Client>();
    const clientFor = async (database: string) => {
        if (!clients.has(database)) clients.set(database, await server.connect({ user: login.user, password: login.password, database }));
        return clients.get(database)!;
    };
    try {
        for (const step of steps) {
            const i = byName.get(step.resource)!.inputs;
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
                throw new Error(`delete ${step.resource} (in database ${step.database}): ${(err as Error).message}\n  in: ${step.statements.join(";\n      ")}`);
            }
        }
    } finally {
        for (const c of clients.values()) await c.end().catch(() => undefined);
    }
    return steps;
}
