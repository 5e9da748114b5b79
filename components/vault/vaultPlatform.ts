/**
 * Shared Vault pieces for every app of the stack (the database secrets engine mount and connection).
 * Placeholder until the Vault path is wired (issue 4).
 */
export interface VaultAppPlatform {
    /** Mount path of the database secrets engine. */
    mount: string;
}
