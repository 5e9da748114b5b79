import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";

/** The databases every server has besides the organizations' (template0 already refuses connections). */
export const MAINTENANCE_DATABASES = ["postgres", "template1"] as const;

/**
 * Takes PUBLIC's default CONNECT and TEMPORARY away on the server's maintenance databases, so an app
 * login (or a Vault dynamic user) can connect to its own organization's database and to nothing else:
 * it cannot park large objects or default-privilege entries where no revocation looks for them, nor see
 * anything there. The admin keeps access as superuser or as the database's owner (the RDS master user
 * owns `postgres`); Vault's logins connect to the organizations' databases. Under an admin that owns
 * neither, PostgreSQL only warns and PUBLIC keeps its default.
 */
export class MaintenanceDatabases extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:MaintenanceDatabases", name, {}, opts);
        for (const database of MAINTENANCE_DATABASES) {
            new postgresql.Grant(`${name}-${database}-revoke-public`, {
                database,
                role: "public",
                objectType: "database",
                privileges: [],
            }, { parent: this });
        }
        this.registerOutputs({});
    }
}
