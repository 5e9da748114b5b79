/**
 * Vault policies: database connections serve named roles only (no `*` in allowed_roles), an app's policy
 * reads its own credentials and may at most revoke its own leases, and a Kubernetes auth role is bound to
 * exactly one ServiceAccount in one namespace.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, hasWildcard, isObject } from "./common";

export const VAULT_CONNECTION = "vault:database/secretBackendConnection:SecretBackendConnection";
export const VAULT_SECRETS_MOUNT = "vault:database/secretsMount:SecretsMount";
export const VAULT_POLICY = "vault:index/policy:Policy";
export const VAULT_KUBERNETES_AUTH_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole";

/** The `allowedRoles` lists of a connection, or of each connection block of a SecretsMount, with labels. */
function allowedRoleLists(type: string, props: Record<string, any>): [label: string, roles: string[]][] {
    if (type === VAULT_CONNECTION) return [["allowedRoles", asList<string>(props.allowedRoles)]];
    if (type !== VAULT_SECRETS_MOUNT) return [];
    return Object.entries(props).flatMap(([key, value]) => (Array.isArray(value) ? value : [])
        .map((block, i): [string, unknown] => [`${key}[${i}].allowedRoles`, isObject(block) ? block.allowedRoles : undefined])
        .filter(([, roles]) => roles !== undefined)
        .map(([label, roles]): [string, string[]] => [label, asList<string>(roles as string[])]));
}

export const vaultAllowedRolesNamed: ResourceValidationPolicy = {
    name: "vault-allowed-roles-no-wildcard",
    description: "A Vault database connection lists the roles it serves by name; \"*\" (or a glob) would let any role on the mount, another organization's included, use its login.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const [label, roles] of allowedRoleLists(args.type, args.props)) {
            const wild = roles.filter((r) => hasWildcard(String(r)));
            if (wild.length) reportViolation(`${label} contains ${wild.map((r) => JSON.stringify(r)).join(", ")}: any role on the mount could use this connection`);
        }
    },
};

/** One `path` block of a Vault policy. */
interface PathRule {
    capabilities?: string[];
    policy?: string;
    allowed_parameters?: Record<string, unknown>;
}

/** Parses Vault policy text (HCL or JSON) into path → rules. */
async function parseVaultPolicy(text: string): Promise<Map<string, PathRule[]>> {
    let doc: any;
    if (text.trim().startsWith("{")) {
        doc = JSON.parse(text);
    } else {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { parse } = require("@cdktn/hcl2json") as { parse(file: string, text: string): Promise<any> };
        doc = await parse("policy.hcl", text);
    }
    const rules = new Map<string, PathRule[]>();
    const paths = asList<Record<string, unknown>>(doc?.path).filter(isObject);
    for (const entry of paths) {
        for (const [path, body] of Object.entries(entry)) rules.set(path, [...(rules.get(path) ?? []), ...asList<PathRule>(body as PathRule).filter(isObject)]);
    }
    return rules;
}

const CREDENTIALS_PATH = /(^|\/)(static-)?creds\//;
/** `<mount>/creds/<role>` or `<mount>/static-creds/<role>`, without wildcards. */
const EXACT_CREDENTIALS_PATH = /^[^*+]+\/(static-)?creds\/[^/*+]+$/;
/** The capabilities a rule grants (`policy = "read"` is Vault's old spelling of read + list). */
function capabilitiesOf(rule: PathRule): string[] {
    if (rule.capabilities) return asList(rule.capabilities).map(String);
    const legacy: Record<string, string[]> = { deny: ["deny"], read: ["read", "list"], write: ["create", "read", "update", "delete", "list"], sudo: ["sudo"] };
    return rule.policy ? legacy[rule.policy] ?? [rule.policy] : [];
}

export const vaultAppPolicyReadOnly: ResourceValidationPolicy = {
    name: "vault-app-policy-read-only",
    description: "A Vault policy that reaches database credentials (a …/creds/… or …/static-creds/… path) only reads its own exact credentials path, and may only update sys/leases/revoke with lease_id limited to those paths.",
    enforcementLevel: "mandatory",
    validateResource: async (args, reportViolation) => {
        if (args.type !== VAULT_POLICY || typeof args.props.policy !== "string") return;
        let rules: Map<string, PathRule[]>;
        try {
            rules = await parseVaultPolicy(args.props.policy);
        } catch (err) {
            reportViolation(`the policy text cannot be parsed, so it cannot be checked: ${String((err as Error).message ?? err).split("\n")[0]}`);
            return;
        }
        const paths = [...rules.keys()];
        if (!paths.some((p) => CREDENTIALS_PATH.test(p))) return; // not an app's credentials policy
        const own = paths.filter((p) => EXACT_CREDENTIALS_PATH.test(p));
        for (const [path, pathRules] of rules) {
            const capabilities = [...new Set(pathRules.flatMap(capabilitiesOf))];
            if (CREDENTIALS_PATH.test(path)) {
                if (!EXACT_CREDENTIALS_PATH.test(path)) reportViolation(`path "${path}" is not one exact credentials path (no *, +, or sub-paths)`);
                const extra = capabilities.filter((c) => c !== "read" && c !== "deny");
                if (extra.length) reportViolation(`path "${path}" grants ${extra.join(", ")}; an app only reads its credentials`);
            } else if (path === "sys/leases/revoke") {
                const extra = capabilities.filter((c) => c !== "update" && c !== "deny");
                if (extra.length) reportViolation(`path "${path}" grants ${extra.join(", ")}; revoking needs update only`);
                for (const rule of pathRules.filter((r) => capabilitiesOf(r).includes("update"))) {
                    const allowed = isObject(rule.allowed_parameters) ? rule.allowed_parameters : {};
                    const leaseIds = asList<string>(allowed.lease_id as string[]).map(String);
                    const others = Object.keys(allowed).filter((k) => k !== "lease_id");
                    const foreign = leaseIds.filter((id) => !own.some((p) => id.startsWith(`${p}/`)));
                    if (leaseIds.length === 0 || foreign.length || others.length) {
                        reportViolation(`path "${path}" may revoke leases other than its own: allowed_parameters must limit lease_id to ${own.map((p) => `"${p}/*"`).join(", ") || "its credentials path"}${foreign.length ? ` (allows ${foreign.map((f) => JSON.stringify(f)).join(", ")})` : ""}`);
                    }
                }
            } else {
                reportViolation(`path "${path}" (${capabilities.join(", ") || "no capabilities"}) is beyond the app's own credentials`);
            }
        }
    },
};

export const vaultAuthRoleSingleServiceAccount: ResourceValidationPolicy = {
    name: "vault-kubernetes-auth-role-single-service-account",
    description: "A Vault Kubernetes auth role is bound to exactly one ServiceAccount name in exactly one namespace, without wildcards or namespace selectors.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== VAULT_KUBERNETES_AUTH_ROLE) return;
        const names = asList<string>(args.props.boundServiceAccountNames).map(String);
        const namespaces = asList<string>(args.props.boundServiceAccountNamespaces).map(String);
        if (names.length !== 1 || hasWildcard(names[0])) {
            reportViolation(`boundServiceAccountNames is ${JSON.stringify(names)}: bind exactly one ServiceAccount, by name`);
        }
        if (args.props.boundServiceAccountNamespaceSelector) {
            reportViolation("boundServiceAccountNamespaceSelector binds every namespace its labels match; bind one namespace by name");
        }
        if (namespaces.length !== 1 || hasWildcard(namespaces[0])) {
            reportViolation(`boundServiceAccountNamespaces is ${JSON.stringify(namespaces)}: bind exactly one namespace, by name`);
        }
    },
};

export const vaultPolicies = [vaultAllowedRolesNamed, vaultAppPolicyReadOnly, vaultAuthRoleSingleServiceAccount];
