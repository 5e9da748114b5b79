/**
 * Vault policy text (HCL) per app: `read` on its own credentials path and nothing else, except that an app
 * whose dynamic leases the Vault Secrets Operator manages may also revoke its own role's leases (VSO
 * revokes with the app's token when the VaultDynamicSecret goes away).
 */

/**
 * Longest life of an app's Vault login token (its Kubernetes auth role's token_max_ttl), and so of any
 * dynamic lease: Vault revokes a lease when the token that created it expires.
 */
export const VAULT_TOKEN_MAX_TTL = 86400;

/** The path an app reads its credentials from. */
export function credentialsPath(mount: string, kind: "static" | "dynamic", role: string): string {
    return `${mount}/${kind === "static" ? "static-creds" : "creds"}/${role}`;
}

export function appPolicy(mount: string, kind: "static" | "dynamic", role: string, options: { revokeOwnLeases?: boolean } = {}): string {
    const path = credentialsPath(mount, kind, role);
    if (/[*+"\s]/.test(path) || path.includes("//")) {
        throw new Error(`appPolicy: unsafe path ${path}`);
    }
    const read = `# postgres-access: ${role} may read its own database credentials, nothing else.\npath "${path}" {\n  capabilities = ["read"]\n}\n`;
    if (!(options.revokeOwnLeases && kind === "dynamic")) return read;
    return `${read}\n# ...and revoke its own leases (only those: lease ids start with the credentials path).\npath "sys/leases/revoke" {\n  capabilities = ["update"]\n  allowed_parameters = {\n    "lease_id" = ["${path}/*"]\n  }\n}\n`;
}
