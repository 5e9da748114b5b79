/**
 * The access requests as the offline plan shows them (text and `--json`): every request of every
 * organization with its state at the plan's time, who approved or denied, time left and what it grants.
 */
import { StackConfig } from "../components/config";
import { AccessRequestState, accessRequestNames, accessRequestState, distinctApprovers, expiryTimestamp, formatDuration } from "../components/accessRequests";
import { organizationNames } from "../components/naming";

/** One request in the plan. */
export interface AccessRequestPlanEntry {
    organization: string;
    name: string;
    serviceAccount: string;
    access: string;
    credentials: string;
    /** The expiry as every layer is told it. */
    expires: string;
    state: AccessRequestState;
    approvedBy: string[];
    deniedBy: string[];
    /** Until the expiry (`4d 6h`), `-` once expired. */
    timeLeft: string;
    reason?: string;
    /** What it grants now, in words. */
    grants: string;
}

/** Every request of the stack at `now`, organization by organization in config order. */
export function describeAccessRequests(config: StackConfig, now: Date): AccessRequestPlanEntry[] {
    return config.organizations.flatMap((org) => (org.accessRequests ?? []).map((request): AccessRequestPlanEntry => {
        const state = accessRequestState(request, config.accessPolicy, now);
        const left = (new Date(request.expires).getTime() - now.getTime()) / 1000;
        const names = accessRequestNames(org.name, request.name, config.env);
        const group = organizationNames(org.name)[`${request.access}Role`];
        const expires = expiryTimestamp(request.expires);
        const where: Record<typeof request.credentials, string> = {
            kubernetes: `Secret ${org.name}/${names.secret} for ServiceAccount ${request.serviceAccount}`,
            secretsmanager: `Secrets Manager ${names.secretsManagerSecret} via IAM role ${names.iamRole} (IRSA ${org.name}/${request.serviceAccount}, DateLessThan aws:CurrentTime ${expires})`,
            "vault-dynamic": `Vault role ${names.vaultRole} (users VALID UNTIL the earlier of their lease end and ${expires}) for ServiceAccount ${request.serviceAccount}`,
        };
        const approvals = distinctApprovers(request.approvedBy).length;
        const grants = state === "approved"
            ? `${request.credentials === "vault-dynamic" ? "dynamic users" : `login ${names.loginRole}`} (member of ${group}, VALID UNTIL ${expires}), credentials ${request.credentials}: ${where[request.credentials]}`
            : state === "denied" ? `nothing (denied by ${request.deniedBy.join(", ")})`
            : state === "expired" ? "nothing (expired; anything issued earlier is removed by this run)"
            : `nothing until ${config.accessPolicy.requiredApprovals} approval${config.accessPolicy.requiredApprovals === 1 ? "" : "s"} (has ${approvals})`;
        return {
            organization: org.name,
            name: request.name,
            serviceAccount: request.serviceAccount,
            access: request.access,
            credentials: request.credentials,
            expires,
            state,
            approvedBy: request.approvedBy,
            deniedBy: request.deniedBy,
            timeLeft: left > 0 ? formatDuration(left) : "-",
            ...(request.reason !== undefined ? { reason: request.reason } : {}),
            grants,
        };
    }));
}

/** The plan's text lines for the requests (none when the stack has no requests). */
export function accessRequestPlanLines(config: StackConfig, now: Date): string[] {
    const entries = describeAccessRequests(config, now);
    if (entries.length === 0) return [];
    const out = [`Access requests at ${now.toISOString()} (POSTGRES_ACCESS_NOW / --now):`];
    for (const e of entries) {
        out.push(`  ${e.organization}/${e.name}: ${e.state}, ${e.access} for ServiceAccount ${e.serviceAccount}, expires ${e.expires} (${e.timeLeft === "-" ? "past" : `${e.timeLeft} left`})`);
        if (e.reason) out.push(`    reason:   ${e.reason}`);
        out.push(`    approved: ${e.approvedBy.join(", ") || "-"}${e.deniedBy.length ? `; denied: ${e.deniedBy.join(", ")}` : ""}`);
        out.push(`    grants:   ${e.grants}`);
    }
    out.push("");
    return out;
}
