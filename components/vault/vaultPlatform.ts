import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";

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
