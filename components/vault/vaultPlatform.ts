import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as vault from "@pulumi/vault";

/** One organization's connection as its apps' Vault roles see it. */
export interface VaultOrganizationAccess {
    /** The connection's name in the mount (the roles' `dbName`). */
    connectionName: pulumi.Output<string>;
    /** The organization's admin login (`<org>_vault_admin`): it runs the roles' statements. */
    adminRole: string;
    /** The admin Role resource. */
    adminLogin: postgresql.Role;
    /** What the organization's Vault roles must wait for (admin, its grants, the connection). */
    ready: pulumi.Resource[];
}

/** The shared Vault pieces every app's Vault credentials use (built once per stack). */
export interface VaultAppPlatform {
    /** Explicit Vault provider. */
    provider: vault.Provider;
    /** Enterprise namespace, if any. */
    namespace?: string;
    /** Mount path of the database secrets engine (one per environment). */
    mount: pulumi.Output<string>;
    /** Mount path of the Kubernetes auth method. */
    kubernetesAuthMount: string;
    /** Defaults for apps that set no rotation / TTL of their own. */
    defaults: { defaultTtl: number; maxTtl: number; staticRotationPeriod: number };
    /** PostgreSQL major version: from 16 on, the admin logins need ADMIN OPTION on the roles they manage. */
    majorVersion: number;
    /**
     * The organization's own connection in the mount, created on the first call.
     * @param dependsOn the organization's database, group roles and grants (they must exist first).
     */
    organizationConnection(organization: string, dependsOn: pulumi.Resource[]): VaultOrganizationAccess;
}
