/**
 * `npm run plan -- diff <base.json> <head.json>`: Markdown for a pull request comment. First "Access
 * changes" (per organization and app: privileges, IAM actions on resources, Vault paths, logins; whole
 * organizations added or removed), then the resources added, removed and changed (with the changed
 * fields). Kept under a character limit by cutting the resource section first, saying what was left out.
 */
import { AppPlan, OrganizationPlan, PLAN_FORMAT, PlanJson, ResourcePlan } from "./planData";

/** What fits in a GitHub comment (65,536) with room for a header. */
export const DEFAULT_DIFF_LIMIT = 60_000;

export interface PlanDiff {
    markdown: string;
    /** True when any organization, app, login, privilege, IAM or Vault access changed. */
    accessChanged: boolean;
}

/** Reads a plan file's JSON, refusing anything that is not a plan of this format. */
export function parsePlan(text: string, file: string): PlanJson {
    let plan: PlanJson;
    try {
        plan = JSON.parse(text);
    } catch (err) {
        throw new Error(`${file}: not JSON (${(err as Error).message})`);
    }
    if (plan?.format !== PLAN_FORMAT) throw new Error(`${file}: not a plan of format ${PLAN_FORMAT} (make it with \`npm run plan -- <stack> --json\`)`);
    return plan;
}

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
const gainedLost = (base: string[], head: string[]) => ({ gained: head.filter((x) => !base.includes(x)), lost: base.filter((x) => !head.includes(x)) });

/** One `Allow <action> on <resource> [if ...]` per action and resource, so a diff names exactly what changed. */
export function iamAtoms(app: AppPlan | undefined): string[] {
    const atoms: string[] = [];
    for (const role of app?.iam ?? []) {
        for (const sub of role.assumedBy) atoms.push(`role ${role.role} assumable by ${sub}`);
        if (typeof role.statements === "string") {
            atoms.push(`role ${role.role}: statements ${role.statements}`);
            continue;
        }
        for (const s of role.statements) {
            const condition = s.condition ? ` if ${JSON.stringify(s.condition)}` : "";
            for (const action of s.actions) for (const resource of s.resources) atoms.push(`${s.effect} ${action} on ${resource}${condition}`);
        }
    }
    return [...new Set(atoms)].sort();
}

const vaultAtoms = (app: AppPlan | undefined): string[] => (app?.vault ?? []).flatMap((v) => (v.capabilities.length ? v.capabilities.map((c) => `${v.path}: ${c}`) : [`${v.path}: (no capabilities)`])).sort();
const logins = (org: OrganizationPlan | undefined): string[] =>
    Object.entries(org?.apps ?? {}).map(([name, app]) => app.login.name ?? `(Vault-generated users of ${name})`).sort();

function listLine(label: string, items: string[]): string[] {
    return items.length === 0 ? [] : [`  - ${label}: ${items.map(code).join(", ")}`];
}

/** The "Access changes" lines of one app (empty when its access did not change). */
function appAccessLines(name: string, base: AppPlan | undefined, head: AppPlan | undefined): string[] {
    const lines: string[] = [];
    if (!base || !head) {
        const app = (base ?? head)!;
        const what = base ? "removed" : "added";
        lines.push(`- app ${code(name)} ${what} (${app.access}, credentials ${app.credentials})`);
        lines.push(...listLine(base ? "login removed" : "login created", [app.login.name ?? "Vault-generated users"]));
        lines.push(...listLine(base ? "privileges lost" : "privileges gained", app.privileges));
        lines.push(...listLine(base ? "IAM lost" : "IAM gained", iamAtoms(app)));
        lines.push(...listLine(base ? "Vault lost" : "Vault gained", vaultAtoms(app)));
        return lines;
    }
    const body: string[] = [];
    if (base.login.name !== head.login.name) {
        body.push(...listLine("login removed", base.login.name ? [base.login.name] : ["Vault-generated users"]));
        body.push(...listLine("login created", head.login.name ? [head.login.name] : ["Vault-generated users"]));
    }
    const members = gainedLost(base.memberOf, head.memberOf);
    body.push(...listLine("joins role", members.gained), ...listLine("leaves role", members.lost));
    const privileges = gainedLost(base.privileges, head.privileges);
    body.push(...listLine("privileges gained", privileges.gained), ...listLine("privileges lost", privileges.lost));
    const iam = gainedLost(iamAtoms(base), iamAtoms(head));
    body.push(...listLine("IAM gained", iam.gained), ...listLine("IAM lost", iam.lost));
    const vault = gainedLost(vaultAtoms(base), vaultAtoms(head));
    body.push(...listLine("Vault gained", vault.gained), ...listLine("Vault lost", vault.lost));
    if (body.length === 0) return [];
    const level = base.access === head.access ? base.access : `${base.access} → ${head.access}`;
    return [`- app ${code(name)} (${level})`, ...body];
}

/** The "Access changes" section's lines per organization (empty when no access changed). */
export function accessChanges(base: PlanJson, head: PlanJson): string[] {
    const lines: string[] = [];
    const orgs = [...new Set([...Object.keys(base.organizations), ...Object.keys(head.organizations)])].sort();
    for (const name of orgs) {
        const b = base.organizations[name];
        const h = head.organizations[name];
        if (!b || !h) {
            const org = (b ?? h)!;
            lines.push(`#### Organization ${code(name)} ${b ? "removed" : "added"}`);
            lines.push(`- ${b ? "logins removed" : "logins created"}: ${logins(org).map(code).join(", ") || "none"}`);
            for (const app of Object.keys(org.apps).sort()) lines.push(...appAccessLines(app, b?.apps[app], h?.apps[app]));
            lines.push("");
            continue;
        }
        const apps = [...new Set([...Object.keys(b.apps), ...Object.keys(h.apps)])].sort();
        const body = apps.flatMap((app) => appAccessLines(app, b.apps[app], h.apps[app]));
        if (body.length > 0) lines.push(`#### Organization ${code(name)}`, ...body, "");
    }
    return lines;
}

/** Field paths whose values differ between two inputs, with short before/after values. */
export function changedFields(base: unknown, head: unknown, path = ""): Array<{ path: string; before: unknown; after: unknown }> {
    const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
    if (isObject(base) && isObject(head)) {
        const keys = [...new Set([...Object.keys(base as object), ...Object.keys(head as object)])].sort();
        return keys.flatMap((k) => changedFields((base as any)[k], (head as any)[k], path ? `${path}.${k}` : k));
    }
    if (Array.isArray(base) && Array.isArray(head) && base.length === head.length) {
        return base.flatMap((b, i) => changedFields(b, head[i], `${path}[${i}]`));
    }
    return JSON.stringify(base) === JSON.stringify(head) ? [] : [{ path: path || "(inputs)", before: base, after: head }];
}

/** A value in at most ~60 characters; long texts from where they differ from `other` on. */
const short = (v: unknown, other?: unknown): string => {
    const text = v === undefined ? "(absent)" : typeof v === "string" ? v : JSON.stringify(v);
    if (text.length <= 60) return text;
    const otherText = typeof other === "string" ? other : JSON.stringify(other) ?? "";
    let same = 0;
    while (same < text.length && text[same] === otherText[same]) same++;
    const from = Math.max(0, same - 20);
    const cut = text.slice(from, from + 57);
    return `${from > 0 ? "..." : ""}${cut}${from + 57 < text.length ? "..." : ""}`;
};

/** One Markdown entry per resource added, removed or changed. */
function resourceEntries(base: PlanJson, head: PlanJson): { added: string[]; removed: string[]; changed: string[] } {
    const label = (r: ResourcePlan) => `${code(r.type)} ${code(r.name)}`;
    const added = Object.keys(head.resources).filter((k) => !base.resources[k]).sort().map((k) => `- ${label(head.resources[k])}`);
    const removed = Object.keys(base.resources).filter((k) => !head.resources[k]).sort().map((k) => `- ${label(base.resources[k])}`);
    const changed: string[] = [];
    for (const key of Object.keys(head.resources).filter((k) => base.resources[k]).sort()) {
        const fields = changedFields(base.resources[key].inputs, head.resources[key].inputs);
        if (fields.length === 0) continue;
        changed.push(`- ${label(head.resources[key])}: ${fields.map((f) => `${code(f.path)} ${code(short(f.before, f.after))} → ${code(short(f.after, f.before))}`).join("; ")}`);
    }
    return { added, removed, changed };
}

/** The Markdown diff of two plans of one stack, at most `limit` characters. */
export function diffPlans(base: PlanJson, head: PlanJson, limit = DEFAULT_DIFF_LIMIT): PlanDiff {
    const title = `### Offline plan: stack ${code(head.stack)}${base.stack !== head.stack ? ` (base: ${code(base.stack)})` : ""}`;
    const access = accessChanges(base, head);
    const { added, removed, changed } = resourceEntries(base, head);
    if (access.length === 0 && added.length + removed.length + changed.length === 0) {
        return { markdown: `${title}: no change (access and resources are the same as on the base).\n`, accessChanged: false };
    }
    const head0 = [title, "", "#### Access changes", ""];
    const accessLines = access.length > 0 ? access : ["No access changes: no organization, app, login, privilege, IAM or Vault access gained or lost.", ""];
    const resourceLines: string[] = [`#### Resources: ${added.length} added, ${removed.length} removed, ${changed.length} changed`, ""];
    const groups: Array<[string, string[]]> = [["Added", added], ["Removed", removed], ["Changed", changed]];
    for (const [name, entries] of groups) if (entries.length > 0) resourceLines.push(`**${name}**`, "", ...entries, "");
    const fits = (lines: string[]) => lines.join("\n").length + 1 <= limit;
    let out = [...head0, ...accessLines, ...resourceLines];
    if (!fits(out)) {
        // Cut the resource section first, then (only if still too long) the access section.
        const total = added.length + removed.length + changed.length;
        const note = (shown: number, cutAccess = 0) =>
            `_Cut to stay under ${limit.toLocaleString("en-US")} characters: ${total - shown} of ${total} resource entries left out${cutAccess ? ` and ${cutAccess} access lines` : ""}; the full plans are in the workflow's \`offline-plan\` artifact (\`npm run plan -- diff base.json head.json\` locally)._`;
        const kept: string[] = [];
        let shown = 0;
        const header = resourceLines.slice(0, 2);
        for (const [name, entries] of groups) {
            if (entries.length === 0) continue;
            const candidate = [...kept, `**${name}**`, ""];
            let added0 = 0;
            for (const entry of entries) {
                if (!fits([...head0, ...accessLines, ...header, ...candidate, entry, "", note(shown + added0 + 1)])) break;
                candidate.push(entry);
                added0++;
            }
            if (added0 === 0) break;
            kept.push(...candidate.slice(kept.length), "");
            shown += added0;
            if (added0 < entries.length) break;
        }
        out = [...head0, ...accessLines, ...header, ...kept, note(shown)];
        if (!fits(out)) {
            const accessKept: string[] = [];
            for (const line of accessLines) {
                if (!fits([...head0, ...accessKept, line, ...header, note(0, accessLines.length - accessKept.length - 1)])) break;
                accessKept.push(line);
            }
            out = [...head0, ...accessKept, ...header, note(0, accessLines.length - accessKept.length)];
        }
    }
    return { markdown: `${out.join("\n").replace(/\n+$/, "")}\n`, accessChanged: access.length > 0 };
}
