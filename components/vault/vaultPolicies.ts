/** Vault policy text (HCL) per app: `read` on its own credentials path and nothing else. */

/** The path an app reads its credentials from. */
export function credentialsPath(mount: string, kind: "static" | "dynamic", role: string): string {
    return `${mount}/${kind === "static" ? "static-creds" : "creds"}/${role}`;
}

export function appPolicy(mount: string, kind: "static" | "dynamic", role: string): string {
    const path = credentialsPath(mount, kind, role);
    if (/[*+"\s]/.test(path)) {
        throw new Error(`appPolicy: unsafe path ${path}`);
    }
    return `# postgres-access: ${role} may read its own database credentials, nothing else.\npath "${path}" {\n  capabilities = ["read"]\n}\n`;
}
