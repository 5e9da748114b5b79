/**
 * The rules of access requests (`postgres-access:accessPolicy` and `organizations[].accessRequests[]`, whose
 * schemas are in `schema.ts`): the checks that span fields or depend on the current time.
 */
import { z } from "zod";
import { SCHEMA_DEFAULTS, accessPolicySchema } from "./schema";
import { ConfigProblem } from "./problems";
import { parseDuration } from "../duration";
import { NAME_PATTERN, appNames, organizationNames, vaultAdminRoleName } from "../naming";
import { parseRfc3339 } from "../clock";
import { AccessPolicy, accessRequestNames, accessRequestState, formatDuration, selfIdentities } from "../accessRequests";

/** The policy with its defaults and `maxDuration` in seconds. */
export function accessPolicyOf(parsed: z.infer<typeof accessPolicySchema> | undefined): AccessPolicy {
    const policy = parsed ?? SCHEMA_DEFAULTS.accessPolicy;
    return { requiredApprovals: policy.requiredApprovals, maxDurationSeconds: parseDuration(policy.maxDuration) ?? parseDuration(SCHEMA_DEFAULTS.accessPolicy.maxDuration)! };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Access-request problems of the raw config at `now`: the requester must be a ServiceAccount of the
 * request's own organization, named bare; the credentials' backend must be configured; a request that
 * would be approved now must expire within `accessPolicy.maxDuration`; nobody approves their own request;
 * the derived names collide with nothing else the stack derives.
 */
export function accessRequestProblems(raw: any, env: string, now: Date): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const add = (path: string, message: string) => problems.push({ path, message });
    if (!raw || typeof raw !== "object") return problems;
    const rawPolicy = raw.accessPolicy && typeof raw.accessPolicy === "object" ? raw.accessPolicy : {};
    const defaults = accessPolicyOf(undefined);
    const policy: AccessPolicy = {
        requiredApprovals: typeof rawPolicy.requiredApprovals === "number" ? rawPolicy.requiredApprovals : defaults.requiredApprovals,
        maxDurationSeconds: (typeof rawPolicy.maxDuration === "string" ? parseDuration(rawPolicy.maxDuration) : undefined) ?? defaults.maxDurationSeconds,
    };
    const orgs: any[] = Array.isArray(raw.organizations) ? raw.organizations : [];
    const orgNames = new Set(orgs.map((o) => o?.name).filter((n) => typeof n === "string"));
    const db = raw.database && typeof raw.database === "object" ? raw.database : {};

    // Everything else the stack names, to keep request names apart from it.
    const taken = new Map<string, string>();
    const claim = (system: string, name: string, what: string) => {
        if (!taken.has(`${system}\u0000${name}`)) taken.set(`${system}\u0000${name}`, what);
    };
    const isName = (n: unknown): n is string => typeof n === "string" && n.length <= 40 && NAME_PATTERN.test(n);
    const appsOf = (org: any): { name: string; credentials: string; isDefaultApp: boolean }[] => Array.isArray(org?.apps)
        ? org.apps.filter((a: any) => isName(a?.name)).map((a: any) => ({ name: a.name, credentials: a.credentials ?? SCHEMA_DEFAULTS.app.credentials, isDefaultApp: false }))
        : isName(org?.name) ? [{ name: org.name, credentials: org.credentials ?? SCHEMA_DEFAULTS.app.credentials, isDefaultApp: true }] : [];
    for (const org of orgs) {
        if (!isName(org?.name)) continue;
        try {
            const names = organizationNames(org.name);
            for (const level of ["owner", "readwrite", "readonly"] as const) claim("PostgreSQL role", names[`${level}Role`], `the ${level} group role of organization "${org.name}"`);
            claim("PostgreSQL role", vaultAdminRoleName(org.name), `the Vault admin login of organization "${org.name}"`);
            for (const app of appsOf(org)) {
                const n = appNames(org.name, app.name, env, app.isDefaultApp);
                const who = `used by app "${app.name}" of organization "${org.name}"`;
                claim("PostgreSQL role", n.loginRole, `the login ${who}`);
                claim("IAM role", n.iamRole, who);
                claim("Vault role", n.vaultRole, who);
                claim("Secrets Manager secret", n.secretsManagerSecret, who);
                for (const secret of [n.secret, `${n.secret}-ca`, `${n.secret}-vault-agent`]) claim(`Kubernetes object in namespace ${org.name}`, secret, who);
            }
        } catch {
            // reported by the organization's own name checks
        }
    }

    orgs.forEach((org, i) => {
        if (!org || typeof org !== "object" || org.accessRequests === undefined || !Array.isArray(org.accessRequests)) return;
        const orgName: string = typeof org.name === "string" ? org.name : "";
        const apps = appsOf(org);
        const seenNames = new Map<string, number>();
        const irsaServiceAccounts = new Map<string, string>(apps.filter((a) => a.credentials === "secretsmanager").map((a) => [a.name, `app "${a.name}" (credentials secretsmanager)`]));
        org.accessRequests.forEach((request: any, j: number) => {
            if (!request || typeof request !== "object") return;
            const path = `organizations[${i}].accessRequests[${j}]`;
            if (typeof request.name === "string") {
                if (seenNames.has(request.name)) add(`${path}.name`, `duplicate access request "${request.name}" in organization "${orgName}" (also accessRequests[${seenNames.get(request.name)}])`);
                else seenNames.set(request.name, j);
            }
            const sa = request.serviceAccount;
            let bareServiceAccount: string | undefined;
            if (typeof sa === "string") {
                const qualified = /^system:serviceaccount:([^:]*):(.*)$/.exec(sa) ?? /^([^/]*)\/(.*)$/.exec(sa);
                if (qualified) {
                    const [, namespace, name] = qualified;
                    add(`${path}.serviceAccount`, namespace !== orgName
                        ? `"${sa}" names a ServiceAccount of namespace "${namespace}"${orgNames.has(namespace) ? ` (organization "${namespace}")` : ""}; a request may only name a ServiceAccount of its own organization's namespace "${orgName}", by its bare name`
                        : `name the ServiceAccount by its bare name ("${name}"): it is always in the organization's namespace "${orgName}"`);
                } else if (!NAME_PATTERN.test(sa) || sa.length > 63) {
                    add(`${path}.serviceAccount`, "expected the bare name of a ServiceAccount in the organization's namespace (a DNS-1123 label of at most 63 characters)");
                } else if (sa === "default") {
                    add(`${path}.serviceAccount`, "\"default\" is every pod's ServiceAccount in the namespace; name a ServiceAccount of the requester's own (created unless it is an app's)");
                } else {
                    bareServiceAccount = sa;
                }
            }
            const credentials = request.credentials;
            if (credentials === "secretsmanager" && raw.aws === undefined) add(`${path}.credentials`, "\"secretsmanager\" needs the postgres-access:aws config (region, EKS OIDC provider)");
            if (credentials === "vault-dynamic" && raw.vault === undefined) add(`${path}.credentials`, "\"vault-dynamic\" needs the postgres-access:vault config (address, ...)");
            if (credentials === "vault-dynamic" && raw.vault !== undefined && db.engine === "statefulset" && raw.vault?.kubernetesNamespace === undefined) {
                add(`${path}.credentials`, "\"vault-dynamic\" on the in-cluster server needs vault.kubernetesNamespace (Vault must run in the cluster and be admitted by the server's NetworkPolicy)");
            }
            if (db.tls === "mtls") add(`${path}`, "access requests need password logins, which database.tls \"mtls\" does not admit (every login there is a SPIFFE certificate identity)");
            if (credentials === "secretsmanager" && bareServiceAccount) {
                const holder = irsaServiceAccounts.get(bareServiceAccount);
                if (holder) add(`${path}.serviceAccount`, `ServiceAccount "${bareServiceAccount}" already carries the IAM role of ${holder}; a ServiceAccount has one IRSA role, so name another ServiceAccount`);
                else irsaServiceAccounts.set(bareServiceAccount, `access request "${request.name}" (credentials secretsmanager)`);
            }
            // Approvers: nobody approves their own request.
            const self = bareServiceAccount ? selfIdentities(orgName, bareServiceAccount) : [];
            const approvers: unknown[] = Array.isArray(request.approvedBy) ? request.approvedBy : [];
            approvers.forEach((a, k) => {
                if (typeof a === "string" && self.includes(a.trim().toLowerCase())) {
                    add(`${path}.approvedBy[${k}]`, `"${a}" is the requester's own ServiceAccount; a request is approved by someone else`);
                }
            });
            // Expiry: only decided for a request that would be approved now.
            const expires = typeof request.expires === "string" ? parseRfc3339(request.expires) : undefined;
            const deniedBy: unknown[] = Array.isArray(request.deniedBy) ? request.deniedBy : [];
            const validApprovers = approvers.filter((a): a is string => typeof a === "string" && a.trim() !== "" && !self.includes(a.trim().toLowerCase()));
            if (expires) {
                const state = accessRequestState({ expires: request.expires, approvedBy: validApprovers, deniedBy: deniedBy.map(String) }, policy, now);
                const span = (expires.getTime() - now.getTime()) / 1000;
                if (state === "approved" && span > policy.maxDurationSeconds) {
                    add(`${path}.expires`, `${request.expires} is ${formatDuration(span)} from now (${now.toISOString()}); an approved request may last at most accessPolicy.maxDuration (${formatDuration(policy.maxDurationSeconds)})`);
                }
            }
            // Derived names.
            if (isName(request.name) && isName(orgName)) {
                try {
                    const n = accessRequestNames(orgName, request.name, env);
                    const who = `access request "${request.name}" of organization "${orgName}"`;
                    const check = (system: string, name: string, what: string) => {
                        const first = taken.get(`${system}\u0000${name}`);
                        if (first !== undefined) add(`${path}.name`, `derives the ${system} "${name}", which is already ${first}; rename the request`);
                        else taken.set(`${system}\u0000${name}`, what);
                    };
                    check("PostgreSQL role", n.loginRole, `the login of ${who}`);
                    check("IAM role", n.iamRole, `used by ${who}`);
                    check("Vault role", n.vaultRole, `used by ${who}`);
                    check("Secrets Manager secret", n.secretsManagerSecret, `used by ${who}`);
                    check(`Kubernetes object in namespace ${orgName}`, n.secret, `used by ${who}`);
                } catch (err) {
                    add(`${path}.name`, (err as Error).message);
                }
            }
        });
    });
    return problems;
}

