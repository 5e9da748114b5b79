import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { AccessRequestNames, accessRequestNames, approvedRequests, requestOnlyServiceAccounts } from "./accessRequests";
import { AccessRequestAccess } from "./accessRequestAccess";
import { AppAccess } from "./appAccess";
import { iamRoleArn, irsaAnnotations } from "./aws/awsPlatform";
import { OrganizationSecretsKey } from "./aws/organizationSecretsKey";
import { currentTime } from "./clock";
import { OrganizationNamespace } from "./kubernetes/organizationNamespace";
import { AppNames, OrganizationNames, appNames, organizationNames, vaultAdminRoleName, vaultName } from "./naming";
import { parseOrganizationArgs } from "./organizationValidation";
import { PlatformConnection } from "./platformConnection";
import { organizationPostgresProvider, organizationProviderName } from "./platformProviders";
import { OrganizationDatabase } from "./postgres/organizationDatabase";
import { AccessPolicySettings, OrganizationSettings } from "./postgresAccessArgs";
import { VAULT_ORGANIZATION_CONNECTION_TYPE, VaultOrganizationConnection } from "./vault/vaultOrganizationConnection";
import { topLevelUrn, urnUnder } from "./urns";
import { VAULT_ENGINE_NAME, VAULT_ENGINE_TYPE } from "./vault/vaultDatabaseEngine";
import { OrganizationSpec } from "./types";

/**
 * One organization's args: plain data only, so any language can send them. The providers come through
 * `opts.providers`: `postgresql` (the server's admin on its maintenance database), `vault` and `aws` when the
 * connection has them, `kubernetes` for the namespace and delivery objects (default: the ambient one).
 */
export interface OrganizationArgs {
    /** Environment (stack) name, part of every cloud-side name. */
    env: string;
    /** The organization and its apps, as an element of `PostgresAccessArgs.organizations` (validated here). */
    organization: OrganizationSettings;
    /** The shared platform: the server, Vault, AWS, SPIRE (what `createPlatform` returns, or a StackReference's output). */
    connection: PlatformConnection;
    /** When access requests count as approved. @default 1 approval, at most 168h */
    accessPolicy?: AccessPolicySettings;
}

/** Type token of {@link Organization}. */
export const ORGANIZATION_TYPE = "postgres-access:index:Organization";

/** Type token of a postgresql provider resource. */
const POSTGRESQL_PROVIDER_TYPE = "pulumi:providers:postgresql";

/**
 * The aliases of the organization's own provider, which used to be a child of the organization's parent
 * (and before that top-level): it keeps those URNs, as strings where the parent's URN is known now
 * (components/urns.ts), else as a spec.
 */
function formerlyParentsChild(parent: pulumi.Resource | undefined, organization: string): pulumi.Input<string | pulumi.Alias>[] {
    const name = organizationProviderName(organization);
    const underParent = parent ? urnUnder(parent, POSTGRESQL_PROVIDER_TYPE, name) ?? { parent } : undefined;
    return [...(underParent ? [underParent] : []), topLevelUrn(POSTGRESQL_PROVIDER_TYPE, name)];
}

/**
 * The aliases of the organization's Vault connection (named `name`), which used to be a child of the
 * platform's `VaultDatabaseEngine` (named `vault`, a child of the organization's parent, and before that
 * top-level): it keeps those URNs, as strings where known (components/urns.ts).
 */
function formerlyEngineChild(parent: pulumi.Resource | undefined, name: string): pulumi.Input<string | pulumi.Alias>[] {
    const types = `${VAULT_ENGINE_TYPE}$${VAULT_ORGANIZATION_CONNECTION_TYPE}`;
    const underParent = parent ? urnUnder(parent, types, name) ?? { parent: pulumi.createUrn(VAULT_ENGINE_NAME, VAULT_ENGINE_TYPE, parent) } : undefined;
    return [...(underParent ? [underParent] : []), topLevelUrn(types, name)];
}

/** Resources of `opts.dependsOn` (the server, for the first database resource to wait for). */
function dependencies(opts: pulumi.ComponentResourceOptions | undefined): pulumi.Input<pulumi.Resource>[] {
    const deps = opts?.dependsOn;
    if (!deps) return [];
    return Array.isArray(deps) ? deps : [deps as pulumi.Input<pulumi.Resource>];
}

/** What an `Organization` built, for TypeScript callers (kept beside the component: its fields would be outputs). */
interface Built {
    name: string;
    apps: AppAccess[];
    accessRequests: AccessRequestAccess[];
}
const built = new WeakMap<object, Built>();

/**
 * One organization end to end: its namespace bundle, its own postgresql provider on its database, its
 * database with group roles, its Vault connection and its KMS key when its apps need them, and for every
 * app a least-privilege login and credential delivery. Validates its args (every problem, with its path)
 * before it registers anything.
 */
export class Organization extends pulumi.ComponentResource {
    /** The organization's namespace. */
    public readonly namespace: pulumi.Output<string>;
    /** The organization's database name. */
    public readonly database: pulumi.Output<string>;
    /** The organization's name (TypeScript callers). */
    public get organizationName(): string {
        return built.get(this)!.name;
    }

    /** Per app: what it gets (TypeScript callers). */
    public get apps(): AppAccess[] {
        return built.get(this)!.apps;
    }

    /** Per access request approved at this run's time: what it gets (the others get nothing; TypeScript callers). */
    public get accessRequests(): AccessRequestAccess[] {
        return built.get(this)!.accessRequests;
    }

    constructor(name: string, args: OrganizationArgs, opts?: pulumi.ComponentResourceOptions) {
        const now = currentTime();
        // Validation first: a ConfigError (every problem, with its path) before anything is registered.
        const { organization: org, accessPolicy } = parseOrganizationArgs(args, now);
        super(ORGANIZATION_TYPE, name, {}, opts);
        const components: Built = { name: org.name, apps: [], accessRequests: [] };
        built.set(this, components);
        const { env, connection } = args;
        const names = organizationNames(org.name);
        const apps = org.apps.map((app) => ({ app, names: appNames(org.name, app.name, env, app.isDefaultApp) }));
        const approved = approvedRequests(org.accessRequests, accessPolicy, now).map((request) => ({ request, names: accessRequestNames(org.name, request.name, env) }));
        const parent = opts?.parent;

        const adminProvider = this.getProvider("postgresql::") as postgresql.Provider | undefined;
        // The same admin on the organization's own database (its logins and group roles use it).
        const ownProvider = organizationPostgresProvider(env, connection, org.name, { parent: this, aliases: formerlyParentsChild(parent, org.name) });
        const namespaceBundle = this.namespaceBundle(name, env, org, names, apps.map((a) => a.names), approved, connection);

        const database = new OrganizationDatabase(`${name}-database`, {
            names,
            connectionLimit: org.connectionLimit,
            nonSuperuserAdmin: connection.database.adminIsSuperuser ? undefined : connection.database.adminUsername,
            organizationProvider: ownProvider,
            adoptExisting: org.adoptExisting,
        }, {
            parent: this,
            provider: adminProvider,
            // The provider can only connect once the server is up (opts.dependsOn: the server component).
            dependsOn: dependencies(opts),
        });
        const own = { parent: this, dependsOn: [namespaceBundle], providers: { postgresql: ownProvider } };

        // Its Vault connection, while any app uses Vault or any vault-dynamic request is in the config
        // (approved or not: leases issued earlier are revoked through it).
        const vaultApps = apps.filter(({ app }) => app.credentials.startsWith("vault-"));
        const vaultRequests = (org.accessRequests ?? []).filter((r) => r.credentials === "vault-dynamic").map((r) => ({ request: r, names: accessRequestNames(org.name, r.name, env) }));
        const vaultConnectionName = `${VAULT_ENGINE_NAME}-${org.name}`;
        const vaultConnection = connection.vault && (vaultApps.length || vaultRequests.length)
            ? new VaultOrganizationConnection(vaultConnectionName, {
                organization: org.name,
                database: names.database,
                adminRole: vaultAdminRoleName(org.name),
                connectionName: vaultName(org.name),
                mount: connection.vault.mount,
                server: connection.database,
                allowedRoles: [...vaultApps.map((a) => a.names.vaultRole), ...vaultRequests.map((r) => r.names.vaultRole)],
                dynamicGroupRoles: [
                    ...vaultApps.filter(({ app }) => app.credentials === "vault-dynamic").map(({ app }) => names[`${app.access}Role`]),
                    ...vaultRequests.map(({ request }) => names[`${request.access}Role`]),
                ],
                postgresProvider: ownProvider,
                dependsOn: database.privilegesReady,
            }, { parent: this, aliases: formerlyEngineChild(parent, vaultConnectionName) })
            : undefined;

        // One KMS key per organization for its Secrets Manager entries, usable only by its own app roles.
        // Kept while any secretsmanager request is in the config (not only while approved), so the key is not
        // scheduled for deletion and re-created as requests come and go.
        const aws = connection.aws;
        const secretsManagerApps = apps.filter(({ app }) => app.credentials === "secretsmanager");
        const secretsManagerRequests = approved.filter(({ request }) => request.credentials === "secretsmanager");
        const secretsKey = aws && (secretsManagerApps.length || (org.accessRequests ?? []).some((r) => r.credentials === "secretsmanager"))
            ? new OrganizationSecretsKey(`${name}-secrets-key`, {
                organization: org.name,
                env,
                aws,
                appRoleArns: [...secretsManagerApps, ...secretsManagerRequests].map((a) => iamRoleArn(aws, a.names.iamRole)),
            }, { parent: this })
            : undefined;

        // What every app and approved request of the organization builds on.
        const shared = { env, organization: org, connection, database, namespace: namespaceBundle.namespaceName, vaultConnection, secretsKeyArn: secretsKey?.keyArn };
        // Loops, not `.map`: every frame on the stack here is captured again with each resource below.
        for (const { app, names: appNames } of apps) components.apps.push(new AppAccess(`${name}-${app.name}`, { ...shared, app, names: appNames }, own));
        for (const { request, names: requestNames } of approved) {
            components.accessRequests.push(new AccessRequestAccess(`${name}-request-${request.name}`, { ...shared, request, names: requestNames, now }, own));
        }

        this.namespace = namespaceBundle.namespaceName;
        this.database = database.databaseName;
        this.registerOutputs({ namespace: this.namespace, database: this.database });
    }

    /**
     * The namespace with one ServiceAccount per app (its IRSA role for secretsmanager apps) and one per
     * access request's requester that is no app's (the role of its approved secretsmanager request).
     */
    private namespaceBundle(name: string, env: string, org: OrganizationSpec, names: OrganizationNames, apps: AppNames[], approved: { request: { credentials: string; serviceAccount: string }; names: AccessRequestNames }[], connection: PlatformConnection): OrganizationNamespace {
        const aws = connection.aws;
        // An approved secretsmanager request's IRSA role, on its ServiceAccount (one per account: config check).
        const requestRole = (serviceAccount: string) => {
            const found = approved.find(({ request }) => request.credentials === "secretsmanager" && request.serviceAccount === serviceAccount);
            return aws && found ? irsaAnnotations(iamRoleArn(aws, found.names.iamRole)) : undefined;
        };
        return new OrganizationNamespace(`${name}-namespace`, {
            name: names.namespace,
            environment: env,
            quota: org.quota,
            serviceAccounts: [...org.apps.map((app, i) => ({
                name: apps[i].serviceAccount,
                annotations: aws && app.credentials === "secretsmanager" ? irsaAnnotations(iamRoleArn(aws, apps[i].iamRole)) : requestRole(apps[i].serviceAccount),
                // No pod needs the API token: IRSA, the Vault CSI provider and the Vault Secrets Operator
                // request their own tokens, and the Vault agent logs in with a projected token of audience
                // vault (the volume its annotations name).
                automountToken: false,
            })), ...requestOnlyServiceAccounts(org.accessRequests, apps.map((a) => a.serviceAccount)).map((sa) => ({
                name: sa,
                annotations: requestRole(sa),
                automountToken: false,
            }))],
            databasePort: connection.database.port,
            databaseEgress: connection.database.egress,
            // Only pods with a Vault agent sidecar talk to Vault themselves.
            extraEgress: org.apps.some((a) => a.delivery === "vault-agent") ? connection.vault?.egress : undefined,
            adoptExisting: org.adoptExisting,
        }, { parent: this });
    }
}
