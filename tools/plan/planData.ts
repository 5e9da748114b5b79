/**
 * The offline plan as data (`npm run plan -- <stack> --json`): per organization and app who gets which
 * access, derived from the resources the program registered under mocks (never restated from config),
 * plus every resource with its non-secret inputs. Deterministic: keys and derived lists are sorted, there
 * are no timestamps, secrets appear only as `[secret]`, values preview cannot know as `[unknown]`, and
 * paths inside the project relative to it (base and head checkouts live in different folders).
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, UNKNOWN_VALUE } from "../../testing/offlineRun";
import type { StackOutputs } from "../../stacks/program";
import { organizationNames } from "../../components/naming";
import { extraLines, PlanExtension, planExtensions } from "./extras";
import { AccessRequestPlanEntry, describeAccessRequests } from "../../stacks/accessRequestPlan";
import { rotationStatus } from "../../components/rotation";
import { rotationLoginNames } from "../../components/naming";
import { currentTime } from "../../components/clock";

/** Version of the JSON layout; `plan diff` refuses other versions. */
export const PLAN_FORMAT = "postgres-access-plan/1";
export const SECRET_MARK = "[secret]";
export const UNKNOWN_MARK = "[unknown]";

export interface PlanJson {
    format: string;
    stack: string;
    /** `up`, or `preview` (computed values unknown). */
    mode: "up" | "preview";
    server: Record<string, unknown>;
    organizations: Record<string, OrganizationPlan>;
    /** Every custom resource, keyed `<type>::<name>`. */
    resources: Record<string, ResourcePlan>;
    /** Every access request with its state, approvers, time left and what it grants (as of the run's clock). */
    accessRequests: AccessRequestPlanEntry[];
    /** Rotating apps (`<org>/<app>`): the delivered login, when the next rotation is due, the grace. */
    rotation: Record<string, RotationPlan>;
}

/** One rotating app's schedule as of the run's clock. */
export interface RotationPlan {
    every: string;
    period: number;
    activeLogin: string;
    activeSince: string;
    nextRotation: string;
    previousLogin: string;
    previousValidUntil: string;
}

/** Access requests and rotation as of `now` (both depend on the clock: give `--now` for reproducible plans). */
function timedParts(outputs: StackOutputs | undefined, now: Date): Pick<PlanJson, "accessRequests" | "rotation"> {
    if (!outputs) return { accessRequests: [], rotation: {} };
    const at = (d: Date) => d.toISOString().replace(".000Z", "Z");
    const rotation: Record<string, RotationPlan> = {};
    for (const org of outputs.config.organizations) {
        for (const app of org.apps) {
            if (!app.rotation) continue;
            const status = rotationStatus({ organization: org.name, name: app.name, rotation: app.rotation }, now);
            const logins = rotationLoginNames(org.name, app.name);
            rotation[`${org.name}/${app.name}`] = {
                every: app.rotation.every,
                period: status.period,
                activeLogin: logins[status.activeSlot],
                activeSince: at(status.activeSince),
                nextRotation: at(status.nextRotation),
                previousLogin: logins[status.previousSlot],
                previousValidUntil: at(status.previousValidUntil),
            };
        }
    }
    return { accessRequests: describeAccessRequests(outputs.config, now), rotation };
}

export interface OrganizationPlan {
    namespace: string;
    database: string;
    /** The organization's group roles (NOLOGIN) with their privileges, and the apps whose logins are members. */
    groups: Record<string, GroupPlan>;
    apps: Record<string, AppPlan>;
    /** Lines of plan extensions (tools/plan/extras.ts). */
    extras: string[];
}

export interface GroupPlan {
    privileges: string[];
    usedBy: string[];
}

export interface AppPlan {
    access: string;
    credentials: string;
    delivery: string;
    authentication: string;
    login: LoginPlan;
    /** Every role the app's logins are members of, directly or through other roles. */
    memberOf: string[];
    /** Every effective privilege (own and through memberOf), one `<object>: <PRIVILEGE>` per entry. */
    privileges: string[];
    /** The privileges granted to the login itself (the part the organization's groups do not give). */
    ownPrivileges: string[];
    iam: IamRolePlan[];
    vault: VaultPathPlan[];
    /** Kubernetes objects the app receives, `<Kind> <namespace>/<name>`. */
    kubernetes: string[];
    extras: string[];
}

export interface LoginPlan {
    /** The LOGIN role; null when Vault generates a user per lease. */
    name: string | null;
    generatedBy?: "vault";
    connectionLimit?: unknown;
    /** Roles the login is granted directly. */
    memberOf: string[];
}

export interface IamRolePlan {
    role: string;
    /** The `:sub` values allowed to assume the role (IRSA: `system:serviceaccount:<ns>:<sa>`). */
    assumedBy: string[];
    statements: IamStatementPlan[] | string;
}

export interface IamStatementPlan {
    effect: string;
    actions: string[];
    resources: string[];
    condition?: unknown;
}

export interface VaultPathPlan {
    path: string;
    capabilities: string[];
}

export interface ResourcePlan {
    type: string;
    name: string;
    /** Logical name of the parent component, if any. */
    parent?: string;
    inputs: unknown;
}

const ROLE = "postgresql:index/role:Role";
const GRANT = "postgresql:index/grant:Grant";
const GRANT_ROLE = "postgresql:index/grantRole:GrantRole";
const DEFAULT_PRIVILEGES = "postgresql:index/defaultPrivileges:DefaultPrivileges";
const DATABASE = "postgresql:index/database:Database";

const sorted = <T>(values: Iterable<T>): T[] => [...new Set(values)].sort();

/** The SDK's own bookkeeping on every resource object: its type token, name and child resources. */
interface ResourceInternals {
    __pulumiType: string;
    __name: string;
    __childResources?: Set<ResourceInternals>;
}

/**
 * The registered custom resources below a component, found by walking the component tree the SDK keeps
 * (not by name prefix: organization `acme` with app `web` and organization `acme-web` share one).
 */
export function childrenOf(component: pulumi.Resource, resources: RecordedResource[]): RecordedResource[] {
    const below = new Set<string>();
    const walk = (r: ResourceInternals) => {
        for (const child of r.__childResources ?? []) {
            below.add(`${child.__pulumiType}::${child.__name}`);
            walk(child);
        }
    };
    walk(component as unknown as ResourceInternals);
    return resources.filter((r) => r.custom && below.has(`${r.type}::${r.name}`));
}

/** One `<object>: <PRIVILEGE>` per privilege a Grant, DefaultPrivileges or Database resource gives, by grantee. */
export function privilegesGiven(r: RecordedResource): { role: string; privileges: string[] } | undefined {
    const i = r.inputs ?? {};
    if (r.type === DATABASE) return typeof i.owner === "string" ? { role: i.owner, privileges: [`database ${i.name}: OWNER`] } : undefined;
    if (r.type !== GRANT && r.type !== DEFAULT_PRIVILEGES) return undefined;
    const privileges: string[] = Array.isArray(i.privileges) ? i.privileges : [];
    const schema = i.schema ? `${i.database}.${i.schema}` : `database ${i.database}`;
    let objects: string[];
    if (r.type === DEFAULT_PRIVILEGES) objects = [`future ${i.objectType}s of ${i.owner} in ${schema}`];
    else if (i.objectType === "database") objects = [`database ${i.database}`];
    else if (i.objectType === "schema") objects = [`schema ${schema}`];
    else if (Array.isArray(i.objects) && i.objects.length > 0) {
        const columns = Array.isArray(i.columns) && i.columns.length > 0 ? ` (${[...i.columns].sort().join(", ")})` : "";
        objects = i.objects.map((o: string) => `${i.objectType} ${schema}.${o}${columns}`);
    } else objects = [`all ${i.objectType}s in ${schema}`];
    return { role: String(i.role), privileges: objects.flatMap((o) => privileges.map((p) => `${o}: ${p}`)) };
}

/** Privileges by grantee role, and role memberships (member -> granted roles), from the postgresql resources. */
export function privilegeGraph(resources: RecordedResource[]): { privileges: Map<string, Set<string>>; memberOf: Map<string, Set<string>> } {
    const privileges = new Map<string, Set<string>>();
    const memberOf = new Map<string, Set<string>>();
    const add = (map: Map<string, Set<string>>, key: string, values: string[]) => {
        const set = map.get(key) ?? new Set<string>();
        for (const v of values) set.add(v);
        map.set(key, set);
    };
    for (const r of resources) {
        if (!r.custom) continue;
        const given = privilegesGiven(r);
        if (given && given.privileges.length > 0) add(privileges, given.role, given.privileges);
        if (r.type === ROLE && typeof r.inputs?.name === "string") add(memberOf, r.inputs.name, Array.isArray(r.inputs.roles) ? r.inputs.roles : []);
        if (r.type === GRANT_ROLE) add(memberOf, String(r.inputs?.role), [String(r.inputs?.grantRole)]);
    }
    return { privileges, memberOf };
}

/** Every role reachable from `roles` through memberships (not including `roles` themselves). */
function closure(roles: string[], memberOf: Map<string, Set<string>>): string[] {
    const seen = new Set<string>();
    const stack = [...roles];
    while (stack.length > 0) {
        for (const next of memberOf.get(stack.pop()!) ?? []) {
            if (!seen.has(next) && !roles.includes(next)) {
                seen.add(next);
                stack.push(next);
            }
        }
    }
    return sorted(seen);
}

/** Roles a Vault-generated user joins: the `IN ROLE "..."` of the creation statements. */
function vaultGeneratedMemberships(statements: unknown): string[] {
    const text = Array.isArray(statements) ? statements.join("\n") : String(statements ?? "");
    return [...text.matchAll(/IN ROLE ((?:"[^"]+"(?:\s*,\s*)?)+)/g)].flatMap((m) => [...m[1].matchAll(/"([^"]+)"/g)].map((n) => n[1]));
}

function parseJson(text: unknown): any {
    if (typeof text !== "string") return text;
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

const list = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/** The IAM roles below an app, with who may assume them and the statements of their inline policies. */
function iamOf(own: RecordedResource[]): IamRolePlan[] {
    const roles = own.filter((r) => r.type === "aws:iam/role:Role");
    return roles.map((role) => {
        const trust = parseJson(role.inputs?.assumeRolePolicy);
        const assumedBy = trust?.Statement
            ? sorted(([trust.Statement].flat() as any[]).flatMap((s) => Object.values(s.Condition ?? {}).flatMap((c: any) => Object.entries(c ?? {}).filter(([k]) => k.endsWith(":sub")).flatMap(([, v]) => list(v)))))
            : [UNKNOWN_MARK];
        const policies = own.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
        const statements: IamStatementPlan[] = [];
        for (const policy of policies) {
            const doc = parseJson(policy.inputs?.policy);
            if (!doc?.Statement) return { role: String(role.inputs?.name), assumedBy, statements: UNKNOWN_MARK };
            for (const s of [doc.Statement].flat()) {
                statements.push({ effect: s.Effect, actions: sorted(list(s.Action)), resources: sorted(list(s.Resource)), ...(s.Condition ? { condition: s.Condition } : {}) });
            }
        }
        statements.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        return { role: String(role.inputs?.name), assumedBy, statements };
    }).sort((a, b) => a.role.localeCompare(b.role));
}

/** The paths and capabilities of the Vault policies below an app (HCL `path "..." { capabilities = [...] }`). */
function vaultOf(own: RecordedResource[]): VaultPathPlan[] {
    const paths: VaultPathPlan[] = [];
    for (const r of own.filter((x) => x.type === "vault:index/policy:Policy")) {
        const hcl = String(r.inputs?.policy ?? "");
        if (hcl === UNKNOWN_VALUE) paths.push({ path: UNKNOWN_MARK, capabilities: [] });
        for (const m of hcl.matchAll(/path\s+"([^"]+)"\s*\{([^}]*)\}/g)) {
            const caps = /capabilities\s*=\s*\[([^\]]*)\]/.exec(m[2])?.[1] ?? "";
            paths.push({ path: m[1], capabilities: sorted([...caps.matchAll(/"([^"]+)"/g)].map((c) => c[1])) });
        }
    }
    return paths.sort((a, b) => a.path.localeCompare(b.path));
}

const kubernetesObject = (r: RecordedResource): string => {
    const meta = r.inputs?.metadata ?? {};
    return `${r.inputs?.kind ?? r.type.split(":").pop()} ${meta.namespace ? `${meta.namespace}/` : ""}${meta.name ?? r.name}`;
};

/** Token-like strings (passwords, keys) of 20+ characters; not names that also sit in secret objects. */
const SECRET_LIKE = /^(?:[A-Za-z0-9+/=_-]{20,}|[^]*PRIVATE KEY[^]*)$/;

/** Secret values (password- or key-like strings at a secret input path), to mask wherever else they appear. */
function secretValues(resources: RecordedResource[]): string[] {
    const values = new Set<string>();
    const collect = (v: unknown) => {
        if (typeof v === "string" && SECRET_LIKE.test(v)) values.add(v);
        else if (v && typeof v === "object") Object.values(v).forEach(collect);
    };
    for (const r of resources) for (const p of r.secretPaths) collect(p === "(root)" ? r.inputs : valueAt(r.inputs, p));
    return [...values].sort((a, b) => b.length - a.length);
}

function valueAt(value: any, dotted: string): unknown {
    for (const part of dotted.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "")) value = value?.[part];
    return value;
}

/** The project's folder: paths below it are shown relative, so a checkout elsewhere plans the same. */
const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const projectRelative = (v: string): string => v.split(`${PROJECT_DIR}${path.sep}`).join("");

/** The inputs with secret paths as `[secret]`, unknowns as `[unknown]`, and secret values masked anywhere. */
export function maskedInputs(r: RecordedResource, secrets: string[]): unknown {
    const secretPaths = new Set(r.secretPaths);
    const walk = (v: any, path: string): unknown => {
        if (secretPaths.has(path || "(root)")) return SECRET_MARK;
        // unknown in preview: the runner's marker, or the SDK's Unknown object (from an apply inside a value)
        if (v === UNKNOWN_VALUE || (v && typeof v === "object" && v.__pulumiUnknown === true)) return UNKNOWN_MARK;
        if (typeof v === "string") return secrets.some((s) => v.includes(s)) ? SECRET_MARK : projectRelative(v);
        if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, path ? `${path}.${k}` : k)]));
        return v;
    };
    return walk(r.inputs ?? {}, "");
}

/** The server's settings a reviewer checks: class, Multi-AZ, backups, deletion protection, encryption, TLS. */
function serverOf(outputs: StackOutputs | undefined, custom: RecordedResource[]): Record<string, unknown> {
    const db = outputs?.config.database;
    const server: Record<string, unknown> = db ? { engine: db.engine, version: db.version, tls: db.tls } : {};
    const rds = custom.find((r) => r.type === "aws:rds/instance:Instance")?.inputs;
    if (rds) {
        const params = custom.filter((r) => r.type === "aws:rds/parameterGroup:ParameterGroup").flatMap((r) => (Array.isArray(r.inputs?.parameters) ? r.inputs.parameters : []));
        Object.assign(server, {
            instanceClass: rds.instanceClass,
            multiAz: rds.multiAz ?? false,
            backupRetentionDays: rds.backupRetentionPeriod ?? 0,
            deletionProtection: rds.deletionProtection ?? false,
            storageEncrypted: rds.storageEncrypted ?? false,
            publiclyAccessible: rds.publiclyAccessible ?? false,
            forceSsl: params.find((p: any) => p.name === "rds.force_ssl")?.value === "1",
        });
    }
    const sts = custom.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")?.inputs;
    if (sts) {
        const container = sts.spec?.template?.spec?.containers?.find((c: any) => c.name === "postgres") ?? sts.spec?.template?.spec?.containers?.[0];
        const claim = sts.spec?.volumeClaimTemplates?.[0];
        Object.assign(server, {
            instanceClass: `${container?.resources?.requests?.cpu ?? "?"} CPU, ${container?.resources?.requests?.memory ?? "?"} memory (requests)`,
            multiAz: false,
            replicas: sts.spec?.replicas,
            storage: claim?.spec?.resources?.requests?.storage,
            backupRetentionDays: null,
            deletionProtection: sts.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === "Retain" ? "volumes retained" : false,
        });
    }
    return server;
}

export interface PlanDataOptions {
    preview: boolean;
    extensions?: PlanExtension[];
}

/** Builds the plan of one stack run. */
export function buildPlan(env: string, outputs: StackOutputs | undefined, resources: RecordedResource[], options: PlanDataOptions): PlanJson {
    const custom = resources.filter((r) => r.custom);
    const { privileges, memberOf } = privilegeGraph(custom);
    const privilegesOf = (roles: string[]) => sorted(roles.flatMap((role) => [...(privileges.get(role) ?? [])]));
    const organizations: Record<string, OrganizationPlan> = {};
    for (const org of outputs?.organizations ?? []) {
        const spec = outputs!.config.organizations.find((o) => o.name === org.organizationName)!;
        const names = organizationNames(spec.name);
        const orgOwn = childrenOf(org, custom);
        const groups: Record<string, GroupPlan> = {};
        for (const role of orgOwn.filter((r) => r.type === ROLE && r.inputs?.login !== true)) {
            groups[role.inputs.name] = { privileges: privilegesOf([role.inputs.name]), usedBy: [] };
        }
        const apps: Record<string, AppPlan> = {};
        for (const app of org.apps) {
            const appSpec = spec.apps.find((a) => a.name === app.appName)!;
            const own = childrenOf(app, custom);
            const loginRole = custom.find((r) => r.type === ROLE && r.inputs?.name === app.names.loginRole);
            const generated = own.find((r) => r.type === "vault:database/secretBackendRole:SecretBackendRole");
            const login: LoginPlan = loginRole
                ? { name: loginRole.inputs.name, connectionLimit: loginRole.inputs.connectionLimit, memberOf: sorted(list(loginRole.inputs.roles)) }
                : { name: null, generatedBy: "vault", connectionLimit: appSpec.connectionLimit, memberOf: sorted(vaultGeneratedMemberships(generated?.inputs?.creationStatements)) };
            const direct = login.name ? [login.name] : [];
            const member = sorted([...login.memberOf, ...closure([...direct, ...login.memberOf], memberOf)]);
            for (const role of member) groups[role]?.usedBy.push(appSpec.name);
            const serviceAccount = orgOwn.find((r) => r.type === "kubernetes:core/v1:ServiceAccount" && r.inputs?.metadata?.name === app.names.serviceAccount && r.inputs?.metadata?.namespace === names.namespace);
            apps[appSpec.name] = {
                access: appSpec.access,
                credentials: appSpec.credentials,
                delivery: appSpec.delivery,
                authentication: app.authentication,
                login,
                memberOf: member,
                privileges: privilegesOf([...direct, ...member]),
                ownPrivileges: privilegesOf(direct),
                iam: iamOf(own),
                vault: vaultOf(own),
                kubernetes: sorted([...(serviceAccount ? [serviceAccount] : []), ...own.filter((r) => r.type.startsWith("kubernetes:"))].map(kubernetesObject)),
                extras: outputs ? extraLines({ env, preview: options.preview, outputs, resources, organization: spec, own, app: appSpec }, options.extensions ?? planExtensions) : [],
            };
        }
        for (const group of Object.values(groups)) group.usedBy.sort();
        organizations[spec.name] = {
            namespace: names.namespace,
            database: names.database,
            groups,
            apps,
            extras: extraLines({ env, preview: options.preview, outputs: outputs!, resources, organization: spec, own: orgOwn }, options.extensions ?? planExtensions),
        };
    }
    const secrets = secretValues(custom);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const planned: Record<string, ResourcePlan> = {};
    for (const r of custom) {
        let key = `${r.type}::${r.name}`;
        if (planned[key]) key = r.urn;
        const parent = r.parent ? byUrn.get(r.parent)?.name : undefined;
        planned[key] = { type: r.type, name: r.name, ...(parent ? { parent } : {}), inputs: maskedInputs(r, secrets) };
    }
    return {
        format: PLAN_FORMAT,
        stack: env,
        mode: options.preview ? "preview" : "up",
        server: serverOf(outputs, custom),
        organizations,
        resources: planned,
        ...timedParts(outputs, currentTime()),
    };
}

/** JSON with every object's keys sorted, two-space indented, ending in a newline: byte-identical for equal plans. */
export function stableStringify(value: unknown): string {
    const order = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(order);
        if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, order((v as Record<string, unknown>)[k])]));
        return v;
    };
    return `${JSON.stringify(order(value), null, 2)}\n`;
}
