import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { PostgresServer } from "./database/postgresServer";
import { organizationNames, appNames } from "./naming";
import { OrganizationSpec } from "./types";
import { OrganizationNamespace } from "./kubernetes/organizationNamespace";
import { OrganizationDatabase } from "./postgres/organizationDatabase";
import { AppAccess, AppPlatform } from "./appAccess";
import { OrganizationSecretsKey } from "./aws/organizationSecretsKey";
import { AccessRequestAccess } from "./accessRequestAccess";
import { AccessPolicy, DEFAULT_ACCESS_POLICY, accessRequestNames, approvedRequests, requestOnlyServiceAccounts } from "./accessRequests";
import { currentTime } from "./clock";

export interface OrganizationArgs {
    /** Environment (stack) name, part of every cloud-side name. */
    env: string;
    /** The organization and its apps (validated). */
    organization: OrganizationSpec;
    /** The PostgreSQL server every organization shares. */
    server: PostgresServer;
    /** Explicit postgresql provider connected to `server` as its admin (maintenance database). */
    postgresProvider: postgresql.Provider;
    /**
     * The same admin connected to the organization's own database. Its logins and readwrite/readonly roles
     * use it: the provider deletes a role with `REASSIGN OWNED` / `DROP OWNED` in its connection's database
     * only, so removing an app succeeds whatever its login created there. Absent: `postgresProvider`.
     */
    organizationPostgresProvider?: postgresql.Provider;
    /**
     * Where the database is, for the namespace's egress policy: the server's namespace (in-cluster) or the
     * CIDR blocks of the RDS subnets.
     */
    databaseEgress: { namespace?: string; cidrBlocks?: pulumi.Input<string[]> };
    /** Shared AWS and Vault pieces, present when configured. */
    platform: AppPlatform;
    /** Egress to Vault (its namespace and/or CIDR blocks, and port), for namespaces with vault-agent apps (`vaultAgentEgress`). */
    vaultEgress?: { namespace?: string; cidrBlocks?: string[]; port: number }[];
    /** `postgres-access:accessPolicy`: when an access request counts as approved. */
    accessPolicy?: AccessPolicy;
}

/**
 * One organization end to end: its namespace bundle, its database with group roles, and for every app a
 * least-privilege login and credential delivery.
 */
export class Organization extends pulumi.ComponentResource {
    /** The organization's namespace. */
    public readonly namespace: pulumi.Output<string>;
    /** The organization's database name. */
    public readonly database: pulumi.Output<string>;
    /** Per app: what it gets. */
    public readonly apps: AppAccess[];
    /** The organization's name. */
    public readonly organizationName: string;
    /** Per access request approved at this run's time: what it gets (the others get nothing). */
    public readonly accessRequests: AccessRequestAccess[];

    constructor(name: string, args: OrganizationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:Organization", name, {}, opts);
        const org = args.organization;
        this.organizationName = org.name;
        const names = organizationNames(org.name);
        const now = currentTime();
        const approved = approvedRequests(org.accessRequests, args.accessPolicy ?? DEFAULT_ACCESS_POLICY, now);
        // An approved secretsmanager request's IRSA role, on its ServiceAccount (one per account: config check).
        const aws = args.platform.aws;
        const requestRoleAnnotation = (serviceAccount: string) => {
            const request = approved.find((r) => r.credentials === "secretsmanager" && r.serviceAccount === serviceAccount);
            return aws && request
                ? { "eks.amazonaws.com/role-arn": pulumi.interpolate`arn:${aws.partition}:iam::${aws.accountId}:role/${accessRequestNames(org.name, request.name, args.env).iamRole}` }
                : undefined;
        };
        const appServiceAccounts = org.apps.map((app) => appNames(org.name, app.name, args.env, app.isDefaultApp).serviceAccount);

        const namespaceBundle = new OrganizationNamespace(`${name}-namespace`, {
            name: names.namespace,
            quota: org.quota,
            serviceAccounts: [...org.apps.map((app, i) => ({
                name: appServiceAccounts[i],
                annotations: args.platform.aws?.serviceAccountAnnotations(org, app) ?? requestRoleAnnotation(appServiceAccounts[i]),
                // No pod needs the API token: IRSA, the Vault CSI provider and the Vault Secrets Operator
                // request their own tokens, and the Vault agent logs in with a projected token of audience
                // vault (the volume its annotations name).
                automountToken: false,
            })), ...requestOnlyServiceAccounts(org.accessRequests, appServiceAccounts).map((sa) => ({
                name: sa,
                annotations: requestRoleAnnotation(sa),
                automountToken: false,
            }))],
            databasePort: args.server.port,
            databaseEgress: args.databaseEgress,
            // Only pods with a Vault agent sidecar talk to Vault themselves.
            extraEgress: org.apps.some((a) => a.delivery === "vault-agent") ? args.vaultEgress : undefined,
            adoptExisting: org.adoptExisting,
        }, { parent: this });

        const database = new OrganizationDatabase(`${name}-database`, {
            names,
            connectionLimit: org.connectionLimit,
            nonSuperuserAdmin: args.server.adminIsSuperuser ? undefined : args.server.adminUsername,
            organizationProvider: args.organizationPostgresProvider,
            adoptExisting: org.adoptExisting,
        }, {
            parent: this,
            provider: args.postgresProvider,
            // The provider can only connect once the server is up: wait for the whole server component
            // (for the StatefulSet that means its pod is Ready).
            dependsOn: args.server instanceof pulumi.Resource ? [args.server] : [],
        });

        // An organization's Vault connection stays while any vault-dynamic request is in the config, approved
        // or not: leases issued earlier are revoked through it (program.ts lists the requests' roles in it).
        if (args.platform.vault && (org.accessRequests ?? []).some((r) => r.credentials === "vault-dynamic")) {
            args.platform.vault.organizationConnection(org.name, database.privilegesReady);
        }

        // One KMS key per organization for its Secrets Manager entries, usable only by its own app roles.
        const secretsManagerApps = org.apps.filter((app) => app.credentials === "secretsmanager");
        const secretsManagerRequests = approved.filter((r) => r.credentials === "secretsmanager");
        // Kept while any secretsmanager request is in the config (not only while approved), so the key is not
        // scheduled for deletion and re-created as requests come and go.
        const secretsKey = aws && (secretsManagerApps.length || (org.accessRequests ?? []).some((r) => r.credentials === "secretsmanager"))
            ? new OrganizationSecretsKey(`${name}-secrets-key`, {
                organization: org.name,
                appRoleArns: [
                    ...secretsManagerApps.map((app) => aws.appRoleArn(org, app)),
                    ...secretsManagerRequests.map((r) => requestRoleAnnotation(r.serviceAccount)!["eks.amazonaws.com/role-arn"]),
                ],
                platform: aws,
            }, { parent: this })
            : undefined;

        this.apps = org.apps.map((app) => new AppAccess(`${name}-${app.name}`, {
            env: args.env,
            organization: org,
            app,
            server: args.server,
            database,
            namespace: namespaceBundle.namespaceName,
            platform: args.platform,
            secretsKeyArn: secretsKey?.keyArn,
        }, { parent: this, dependsOn: [namespaceBundle], providers: { postgresql: args.organizationPostgresProvider ?? args.postgresProvider } }));

        this.accessRequests = approved.map((request) => new AccessRequestAccess(`${name}-request-${request.name}`, {
            env: args.env,
            organization: org,
            request,
            now,
            server: args.server,
            database,
            namespace: namespaceBundle.namespaceName,
            platform: args.platform,
            secretsKeyArn: secretsKey?.keyArn,
        }, { parent: this, dependsOn: [namespaceBundle], providers: { postgresql: args.organizationPostgresProvider ?? args.postgresProvider } }));

        this.namespace = namespaceBundle.namespaceName;
        this.database = database.databaseName;
        this.registerOutputs({ namespace: this.namespace, database: this.database });
    }
}
