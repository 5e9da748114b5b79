import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";

/** The shared Vault pieces every app's Vault credentials use (built once per stack). */
export interface VaultAppPlatform {
    /** Explicit Vault provider. */
    provider: vault.Provider;
    /** Vault address pods and agents use. */
    address: string;
    /** Enterprise namespace, if any. */
    namespace?: string;
    /** Mount path of the database secrets engine. */
    mount: pulumi.Output<string>;
    /** Name of the database connection (the server) in that mount. */
    connectionName: pulumi.Output<string>;
    /** Mount path of the Kubernetes auth method. */
    kubernetesAuthMount: string;
    /** The PostgreSQL role Vault logs in as. */
    vaultAdminRole: string;
    /** Defaults for apps that set no rotation / TTL of their own. */
    defaults: { defaultTtl: number; maxTtl: number; staticRotationPeriod: number };
    /** PostgreSQL major version: from 16 on, vault_admin needs ADMIN OPTION on the roles it manages. */
    majorVersion: number;
    /** Resources the app roles must wait for (the connection). */
    ready: pulumi.Resource[];
}
