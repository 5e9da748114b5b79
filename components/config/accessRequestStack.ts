/** What the stack program needs to know about access requests beyond one organization. */
import { OrganizationSpec } from "../types";
import { AccessRequestLevel, accessRequestNames } from "../accessRequests";

/**
 * An organization's vault-dynamic requests (any state) with their Vault role and group: the organization's
 * Vault connection lists them and keeps existing while they are in the config.
 */
export function vaultDynamicRequests(org: OrganizationSpec, env: string): { vaultRole: string; access: AccessRequestLevel }[] {
    return (org.accessRequests ?? [])
        .filter((r) => r.credentials === "vault-dynamic")
        .map((r) => ({ vaultRole: accessRequestNames(org.name, r.name, env).vaultRole, access: r.access }));
}
