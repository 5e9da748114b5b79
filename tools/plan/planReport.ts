/**
 * Renders the offline plan: what `pulumi up` would create, from the resources the program registered
 * under mocks. Everything printed is read from the registered resources, never restated from config.
 * Each organization's group roles are printed once with their grants; under each app only what is its own
 * (login, authentication, IAM, Vault, extras). The JSON form is `buildPlan` (planData.ts).
 */
import { RecordedResource } from "../../testing/offlineRun";
import { StackOutputs } from "../../stacks/program";
import { describeServerTls } from "../../components/database/serverConfig";
import { buildPlan, childrenOf } from "./planData";
import { PlanExtension } from "./extras";
import { RotatingAppLogin } from "../../components/postgres/rotatingAppLogin";
import { rotationLoginNames } from "../../components/naming";
import { RotationStatus } from "../../components/rotation";
import { accessRequestPlanLines } from "../../stacks/accessRequestPlan";
import { currentTime } from "../../components/clock";

/** The plan's lines for a rotating app: which login is delivered, when the next rotation is due, the grace. */
export function describeRotation(every: string, logins: { a: string; b: string }, status: RotationStatus): string[] {
    const at = (d: Date) => d.toISOString().replace(".000Z", "Z");
    return [
        `    rotation:     every ${every}, period ${status.period}: login ${logins[status.activeSlot]} delivered since ${at(status.activeSince)}`,
        `                  next rotation due ${at(status.nextRotation)} (first run after it: ${logins[status.previousSlot]} gets a fresh password and is delivered)`,
        `                  previous login ${logins[status.previousSlot]} stays valid until ${at(status.previousValidUntil)} (grace period)`,
    ];
}

interface PlanOptions {
    preview: boolean;
    stacks: string[];
    /** Extra per-organization / per-app lines (default: the registered `planExtensions`). */
    extensions?: PlanExtension[];
}

/**
 * The privileges a role receives, read from the registered Grant / DefaultPrivileges resources, one line
 * per object. Default privileges equal to a grant on all objects of that kind in the same schema share its
 * line (`SELECT on all tables in acme.public and on future ones acme_owner creates`).
 */
export function grantsOf(role: string, resources: RecordedResource[]): string[] {
    const lines: string[] = [];
    const allObjects = new Map<string, number>();
    const future: Array<{ key: string; line: string; owner: string }> = [];
    for (const r of resources) {
        const i = r.inputs ?? {};
        if (i.role !== role) continue;
        const privileges = (i.privileges ?? []).join(", ") || "(none)";
        const key = `${i.objectType}\u0000${i.database}\u0000${i.schema}\u0000${[...(i.privileges ?? [])].sort().join()}`;
        if (r.type === "postgresql:index/grant:Grant") {
            const where = i.objectType === "database" ? `database ${i.database}`
                : i.objectType === "schema" ? `schema ${i.database}.${i.schema}`
                : `all ${i.objectType}s in ${i.database}.${i.schema}`;
            if (!["database", "schema"].includes(i.objectType) && !(i.objects?.length > 0)) allObjects.set(key, lines.length);
            lines.push(`${privileges} on ${where}`);
        } else if (r.type === "postgresql:index/defaultPrivileges:DefaultPrivileges") {
            future.push({ key, owner: i.owner, line: `${privileges} on future ${i.objectType}s ${i.owner} creates in ${i.database}.${i.schema}` });
        }
    }
    for (const f of future) {
        const at = allObjects.get(f.key);
        if (at !== undefined) lines[at] += ` and on future ones ${f.owner} creates`;
        else lines.push(f.line);
    }
    return lines;
}

function roleNamed(name: string, resources: RecordedResource[]): RecordedResource | undefined {
    return resources.find((r) => r.type === "postgresql:index/role:Role" && r.inputs?.name === name);
}

const yesNo = (v: unknown) => (v === true ? "yes" : v === false || v === undefined ? "no" : String(v));

/** The server's settings a reviewer checks, on one line. */
export function describeServerSettings(server: Record<string, unknown>): string {
    const backups = server.backupRetentionDays === null || server.backupRetentionDays === undefined ? "none managed here" : `${server.backupRetentionDays} days`;
    const parts = [
        `class ${server.instanceClass ?? "-"}`,
        `Multi-AZ ${yesNo(server.multiAz)}`,
        ...(server.replicas !== undefined ? [`replicas ${server.replicas}`] : []),
        ...(server.storage !== undefined ? [`storage ${server.storage}`] : []),
        `backups ${backups}`,
        `deletion protection ${yesNo(server.deletionProtection)}`,
        ...(server.storageEncrypted !== undefined ? [`storage encrypted ${yesNo(server.storageEncrypted)}`] : []),
        ...(server.publiclyAccessible !== undefined ? [`public ${yesNo(server.publiclyAccessible)}`] : []),
        `TLS ${server.tls ?? "-"}${server.forceSsl === true ? " (rds.force_ssl)" : ""}`,
    ];
    return parts.join(", ");
}

export function describePlan(env: string, outputs: StackOutputs | undefined, resources: RecordedResource[], options: PlanOptions): string {
    const out: string[] = [];
    const custom = resources.filter((r) => r.custom);
    const plan = buildPlan(env, outputs, resources, { preview: options.preview, extensions: options.extensions });
    out.push(`postgres-access plan for stack "${env}"${options.preview ? " (preview: computed values unknown)" : ""}`);
    out.push("Offline: the stack program ran in-process under Pulumi mocks; nothing was created.\n");
    if (outputs) {
        const db = outputs.config.database;
        const split = outputs.config.split;
        out.push(`Server: ${db.engine}, PostgreSQL ${db.version}, tls ${db.tls}${db.adminEndpoint ? `, pulumi connects via ${db.adminEndpoint.host}:${db.adminEndpoint.port}` : ""}`);
        if (split) out.push(`Split:  environment ${split.environment}, this stack holds ${split.part === "platform" ? "its platform (exports \`platform\` for the organizations stacks)" : `organizations on the platform of stack ${split.platformStack}`}`);
        if (outputs.server) out.push(`        ${describeServerSettings(plan.server)}`);
        const serverSpiffeId = (outputs.server as { spiffeIdentity?: { spiffeId: string } } | undefined)?.spiffeIdentity?.spiffeId;
        out.push(`TLS:    ${describeServerTls(db.tls, { serverSpiffeId, adminVerifies: db.tls === "verify-full" || db.spiffe?.trustBundlePem !== undefined })}`);
        out.push("");
        for (const org of outputs.organizations) {
            const spec = outputs.config.organizations.find((o) => o.name === org.organizationName)!;
            const orgPlan = plan.organizations[spec.name];
            out.push(`organization ${spec.name}  (namespace ${orgPlan.namespace}, database ${orgPlan.database}, ${childrenOf(org, custom).length} resources)`);
            for (const line of orgPlan.extras) out.push(`  ${line}`);
            // Each group role's grants once; the apps below name their group and show only their own part.
            for (const [group, info] of Object.entries(orgPlan.groups).sort(([a], [b]) => a.localeCompare(b))) {
                if (info.usedBy.length === 0) continue;
                out.push(`  group ${group}  (apps: ${info.usedBy.join(", ")})`);
                for (const line of grantsOf(group, custom)) out.push(`    grant:        ${line}`);
            }
            for (const app of org.apps) {
                const appSpec = spec.apps.find((a) => a.name === app.appName)!;
                const appPlan = orgPlan.apps[appSpec.name];
                const rotating = app.login instanceof RotatingAppLogin ? app.login : undefined;
                const slotLogins = rotating ? rotationLoginNames(spec.name, appSpec.name) : undefined;
                const login = roleNamed(rotating ? slotLogins![rotating.status.activeSlot] : app.names.loginRole, custom);
                const memberOf: string[] = login?.inputs?.roles ?? [];
                const group = memberOf[0] ?? appPlan.login.memberOf[0] ?? `${orgPlan.database}_${appSpec.access}`;
                out.push(`  app ${appSpec.name}: ${appSpec.access}, credentials ${appSpec.credentials}, delivery ${appSpec.delivery}`);
                out.push(`    login:        ${login ? `${login.inputs.name} (LOGIN, member of ${memberOf.join(", ") || "-"}, connection limit ${login.inputs.connectionLimit})` : `Vault-generated users, members of ${group}`}`);
                if (rotating && slotLogins) out.push(...describeRotation(appSpec.rotation!.every, slotLogins, rotating.status));
                out.push(`    authenticates: ${app.authentication}`);
                const ownedDatabase = custom.find((r) => r.type === "postgresql:index/database:Database" && r.inputs?.owner === group);
                if (ownedDatabase) {
                    const setRole = login?.inputs?.assumeRole === group ? " (SET ROLE on login)" : "";
                    out.push(`    owns:         database ${ownedDatabase.inputs.name} and the objects created in it, as ${group}${setRole}`);
                }
                // the group's grants are printed above; only what the login is granted itself follows
                for (const line of login ? grantsOf(login.inputs.name, custom) : []) out.push(`    grant:        ${line}`);
                for (const role of appPlan.iam) {
                    const statements = typeof role.statements === "string" ? [role.statements] : role.statements.map((s) => `${s.effect} ${s.actions.join(", ")} on ${s.resources.join(", ")}`);
                    out.push(`    iam role:     ${role.role} (assumed by ${role.assumedBy.join(", ") || "-"}): ${statements.join("; ")}`);
                }
                for (const v of appPlan.vault) out.push(`    vault:        ${v.path} (${v.capabilities.join(", ")})`);
                for (const line of appPlan.extras) out.push(`    ${line}`);
                const appResources = childrenOf(app, custom);
                out.push(`    creates:      ${summarize(appResources)}`);
            }
            out.push("");
        }
        out.push(...accessRequestPlanLines(outputs.config, currentTime()));
    }
    out.push(`Resource counts (${custom.length} resources, ${resources.length - custom.length} components):`);
    const counts = new Map<string, number>();
    for (const r of custom) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    for (const [type, n] of [...counts.entries()].sort()) out.push(`  ${String(n).padStart(4)}  ${type}`);
    const secrets = custom.filter((r) => r.secretPaths.length > 0);
    out.push(`\n${secrets.length} resources receive secret inputs (kept as Pulumi secrets).`);
    out.push(`Other stacks: ${options.stacks.filter((s) => s !== env).join(", ") || "none"}  (npm run plan -- <stack>)`);
    return out.join("\n");
}

function summarize(resources: RecordedResource[]): string {
    const counts = new Map<string, number>();
    for (const r of resources) {
        const short = r.type.split(":").pop()!;
        counts.set(short, (counts.get(short) ?? 0) + 1);
    }
    return [...counts.entries()].map(([t, n]) => (n > 1 ? `${n} ${t}` : t)).join(", ") || "-";
}
