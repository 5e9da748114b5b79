import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";

/** The engine's resource name under `createPlatform` (the organizations' Vault connections were its children). */
export const VAULT_ENGINE_NAME = "vault";
/** Its type token. */
export const VAULT_ENGINE_TYPE = "postgres-access:index:VaultDatabaseEngine";

export interface VaultDatabaseEngineArgs {
    /** Mount path of the database secrets engine (e.g. `database-prod`). */
    mount: string;
}

/**
 * The database secrets engine for one server: one mount per environment. Each organization owns its
 * connection in it (`VaultOrganizationConnection`, created by `Organization`: its own admin login, its own
 * database, exactly its roles). The Vault provider comes from `opts.provider` / `opts.providers`.
 */
export class VaultDatabaseEngine extends pulumi.ComponentResource {
    /** Mount path. */
    public readonly mount: pulumi.Output<string>;

    constructor(name: string, args: VaultDatabaseEngineArgs, opts?: pulumi.ComponentResourceOptions) {
        super(VAULT_ENGINE_TYPE, name, {}, opts);
        const mount = new vault.Mount(`${name}-mount`, {
            path: args.mount,
            type: "database",
            description: "postgres-access: PostgreSQL credentials (static and dynamic roles), one connection per organization",
        }, { parent: this });
        this.mount = mount.path;
        this.registerOutputs({ mount: this.mount });
    }
}
