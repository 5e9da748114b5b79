/**
 * Renders the offline plan: what `pulumi up` would create, from the resources the program registered
 * under mocks. Everything printed is read from the registered resources, never restated from config.
 */
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource } from "../../testing/offlineRun";
import { StackOutputs } from "../../stacks/program";
import { describeServerTls } from "../../components/database/serverConfig";

interface PlanOptions {
    preview: boolean;
    stacks: string[];
}

/** The privileges a group role receives, read from the registered Grant / DefaultPrivileges resources. */
export function grantsOf(role: string, resources: RecordedResource[]): string[] {
    const lines: string[] = [];
    for (const r of resources) {
        const i = r.inputs ?? {};
        if (i.role !== role) continue;
        const privileges = (i.privileges ?? []).join(", ") || "(none)";
        if (r.type === "postgresql:index/grant:Grant") {
            const where = i.objectType === "database" ? `database ${i.database}`
                : i.objectType === "schema" ? `schema ${i.database}.${i.schema}`
                : `all ${i.objectType}s in ${i.database}.${i.schema}`;
            lines.push(`${privileges} on ${where}`);
        } else if (r.type === "postgresql:index/defaultPrivileges:DefaultPrivileges") {
            lines.push(`${privileges} on future ${i.objectType}s ${i.owner} creates in ${i.database}.${i.schema}`);
        }
    }
    return lines;
}

function roleNamed(name: string, resources: RecordedResource[]): RecordedResource | undefined {
    return resources.find((r) => r.type === "postgresql:index/role:Role" && r.inputs?.name === name);
}

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
function childrenOf(component: pulumi.Resource, resources: RecordedResource[]): RecordedResource[] {
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

export function describePlan(env: string, outputs: StackOutputs | undefined, resources: RecordedResource[], options: PlanOptions): string {
    const out: string[] = [];
    const custom = resources.filter((r) => r.custom);
    out.push(`postgres-access plan for stack "${env}"${options.preview ? " (preview: computed values unknown)" : ""}`);
    out.push("Offline: the stack program ran in-process under Pulumi mocks; nothing was created.\n");
    if (outputs) {
        const db = outputs.config.database;
        out.push(`Server: ${db.engine}, PostgreSQL ${db.version}, tls ${db.tls}${db.adminEndpoint ? `, pulumi connects via ${db.adminEndpoint.host}:${db.adminEndpoint.port}` : ""}`);
        const serverSpiffeId = (outputs.server as { spiffeIdentity?: { spiffeId: string } }).spiffeIdentity?.spiffeId;
        out.push(`TLS:    ${describeServerTls(db.tls, { serverSpiffeId, adminVerifies: db.tls === "verify-full" || db.spiffe?.trustBundlePem !== undefined })}`);
        out.push("");
        for (const org of outputs.organizations) {
            const spec = outputs.config.organizations.find((o) => o.name === org.organizationName)!;
            out.push(`organization ${spec.name}  (namespace ${spec.name}, database ${spec.name.replace(/-/g, "_")}, ${childrenOf(org, custom).length} resources)`);
            for (const app of org.apps) {
                const appSpec = spec.apps.find((a) => a.name === app.appName)!;
                const login = roleNamed(app.names.loginRole, custom);
                const memberOf: string[] = login?.inputs?.roles ?? [];
                const group = memberOf[0] ?? `${spec.name.replace(/-/g, "_")}_${appSpec.access}`;
                out.push(`  app ${appSpec.name}: ${appSpec.access}, credentials ${appSpec.credentials}, delivery ${appSpec.delivery}`);
                out.push(`    login:        ${login ? `${login.inputs.name} (LOGIN, member of ${memberOf.join(", ") || "-"}, connection limit ${login.inputs.connectionLimit})` : `Vault-generated users, members of ${group}`}`);
                out.push(`    authenticates: ${app.authentication}`);
                const ownedDatabase = custom.find((r) => r.type === "postgresql:index/database:Database" && r.inputs?.owner === group);
                if (ownedDatabase) {
                    const setRole = login?.inputs?.assumeRole === group ? " (SET ROLE on login)" : "";
                    out.push(`    owns:         database ${ownedDatabase.inputs.name} and the objects created in it, as ${group}${setRole}`);
                }
                for (const line of grantsOf(group, custom)) out.push(`    grant:        ${line}`);
                const appResources = childrenOf(app, custom);
                out.push(`    creates:      ${summarize(appResources)}`);
            }
            out.push("");
        }
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
