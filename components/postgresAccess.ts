/**
 * `PostgresAccess`: a whole platform's PostgreSQL access layer from one typed value (the config contract):
 * the server, the admin connections, the shared Vault and AWS pieces, and every organization with its apps.
 * The stack program is `new PostgresAccess("postgres-access", config)`; other programs (any language,
 * through the package schema) call it the same way.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { AppAccess } from "./appAccess";
import * as postgresql from "@pulumi/postgresql";
import * as vault from "@pulumi/vault";
import { DEFAULT_STATEFULSET, StackConfig, parseStackConfig } from "./config";
import { PostgresServer } from "./database/postgresServer";
import { StatefulSetPostgres } from "./database/statefulSetPostgres";
import { RdsPostgres } from "./database/rdsPostgres";
import { AwsAppPlatform, createAwsPlatform } from "./aws/awsPlatform";
import { vaultDynamicRequests } from "./config";
import { Organization } from "./organization";
import { MaintenanceDatabases } from "./postgres/maintenanceDatabases";
import { AppPlatform } from "./appAccess";
import { appCertificateCommonName } from "./kubernetes/spiffe";
import { appNames, organizationNames, vaultAdminRoleName, vaultName } from "./naming";
import { VaultAppPlatform } from "./vault/vaultPlatform";
import { VaultDatabaseEngine, VaultOrganizationSpec } from "./vault/vaultDatabaseEngine";
import { vaultAgentEgress } from "./kubernetes/vaultDelivery";
import { PostgresAccessArgs } from "./postgresAccessArgs";

export * from "./postgresAccessArgs";

/** An app's certificate identity and pod pieces, with tls "mtls". */
export interface AppMtlsInfo {
    /** URI SAN of the app's X509-SVID. */
    spiffeId: string;
    /** CN of the app's X509-SVID: the one login it maps to. */
    certificateCommonName: string;
    /** Labels the app's pods carry (the ClusterSPIFFEID selects them). */
    podLabels: Record<string, string>;
    /** The pod pieces (spiffe-helper sidecar, volumes, PG* environment) for the app's Deployment. */
    pod: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** What one app gets: names and how its credentials reach it (never a password). */
export interface AppAccessInfo {
    /** The app's login role. */
    username: string;
    /** The app's ServiceAccount. */
    serviceAccount: string;
    /** How the app authenticates, in words. */
    authentication: string;
    /** Where its credentials are delivered (object names in its namespace, Vault path, secret ARN). */
    delivered: Record<string, string>;
    /** Vault credentials: the path the app reads. */
    vaultPath?: string;
    /** delivery vault-agent: the annotations of the app's pods. */
    vaultAgentAnnotations?: Record<string, string>;
    /** delivery vault-agent: the projected ServiceAccount token volume (audience vault) the annotations name. */
    vaultAgentTokenVolume?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    /** tls "mtls": the app's certificate identity and pod pieces. */
    mtls?: AppMtlsInfo;
}

/** What one organization gets. */
export interface OrganizationAccessInfo {
    /** Its namespace. */
    namespace: string;
    /** Its database. */
    database: string;
    /** Its apps, by name. */
    apps: Record<string, AppAccessInfo>;
    /** Its approved access requests, by name: where the requester finds its credentials, and until when. */
    accessRequests: Record<string, AccessRequestInfo>;
}

/** An approved access request's login and delivery (no password: only the requester's ServiceAccount reads it). */
export interface AccessRequestInfo {
    /** Its login (absent for vault-dynamic: Vault creates users per lease). */
    username?: string;
    /** When access ends (RFC 3339). */
    expires: string;
    /** Where its credentials are delivered (object names in the organization's namespace). */
    delivered: Record<string, string>;
}

/** What `PostgresAccess` built, for TypeScript callers (the stack program, tests). */
interface Built {
    config: StackConfig;
    server: PostgresServer;
    organizations: Organization[];
}
const built = new WeakMap<PostgresAccess, Built>();

/**
 * The namespaces whose pods may open connections to the in-cluster server: the organizations', and
 * Vault's when Vault runs in the cluster and manages logins here.
 */
export function serverClientNamespaces(config: StackConfig): string[] {
    const vaultManagesLogins = config.organizations.some((org) => org.apps.some((app) => app.credentials.startsWith("vault-")) || vaultDynamicRequests(org, config.env).length > 0);
    const vaultNamespace = vaultManagesLogins ? config.vault?.kubernetesNamespace : undefined;
    return [...config.organizations.map((o) => o.name), ...(vaultNamespace ? [vaultNamespace] : [])];
}

/**
 * Writes the server CA where the postgresql provider reads it (`.pulumi-access/<env>-server-ca.pem` in the
 * project, git-ignored) and returns the path. Runs only once the CA is known (`pulumi up`, or preview of an
 * existing stack).
 */
export function writeServerCaFile(env: string, pem: string): string {
    return writeProjectFile(`${env}-server-ca.pem`, pem);
}

/** Writes a file under the project's git-ignored `.pulumi-access/` and returns its path. */
function writeProjectFile(name: string, contents: string): string {
    const dir = path.resolve(__dirname, "..", ".pulumi-access");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    fs.writeFileSync(file, contents, { mode: 0o644 });
    return file;
}

/** What database resources wait for: the server component (for the StatefulSet, its pod Ready). */
function serverReady(server: PostgresServer): pulumi.Resource[] {
    return server instanceof pulumi.Resource ? [server] : [];
}

/**
 * Least-privilege, TLS-protected PostgreSQL access for every organization of a platform: the server
 * (in-cluster StatefulSet or RDS), and per organization its namespace, database, group roles and per app a
 * login with its credentials delivered (Kubernetes Secret, AWS Secrets Manager or Vault). The args are
 * validated as the stack config is (every problem with its path) before any child is created.
 */
export class PostgresAccess extends pulumi.ComponentResource {
    /** `statefulset` or `rds`. */
    public readonly engine: pulumi.Output<string>;
    /** PostgreSQL major version of the server. */
    public readonly majorVersion: pulumi.Output<string>;
    /** Host name apps connect to. */
    public readonly databaseHost: pulumi.Output<string>;
    /** Port apps connect to. */
    public readonly databasePort: pulumi.Output<number>;
    /** PEM bundle of the CA(s) the server certificate chains to. */
    public readonly databaseCaCertPem: pulumi.Output<string>;
    /** TLS mode the server enforces. */
    public readonly tls: pulumi.Output<string>;
    /** Every organization's namespace, database and apps (names and delivery; no passwords), by name. */
    public readonly organizations: pulumi.Output<Record<string, OrganizationAccessInfo>>;
    /**
     * The passwords Pulumi generated for apps whose login it manages (credentials "kubernetes" or
     * "secretsmanager"; not Vault's, not mtls), keyed `<organization>/<app>`; a secret.
     */
    public readonly appPasswords: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: PostgresAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validation first: a ConfigError (every problem, with its path) before anything is registered.
        const { env, versionCheck, ...contract } = args;
        const config = parseStackConfig(contract, env);
        super("postgres-access:index:PostgresAccess", name, {}, opts);
        const child = { parent: this, aliases: [{ parent: pulumi.rootStackResource }] };
        const server = createServer(config, versionCheck, child);
        const organizations = config.database.phase === "server" ? [] : createOrganizations(config, server, child);
        built.set(this, { config, server, organizations });

        this.engine = pulumi.output(server.engine);
        this.majorVersion = pulumi.output(server.majorVersion);
        this.databaseHost = server.host;
        this.databasePort = server.port;
        this.databaseCaCertPem = server.caCertPem;
        this.tls = pulumi.output(server.tls);
        this.organizations = pulumi.output(Object.fromEntries(organizations.map((org) => [org.organizationName, pulumi.output(organizationAccessInfo(org))])) as unknown as Record<string, pulumi.Input<OrganizationAccessInfo>>)
            .apply((all) => all as Record<string, OrganizationAccessInfo>);
        this.appPasswords = pulumi.secret(pulumi.output(Object.fromEntries(organizations.flatMap((org) => org.apps
            .flatMap((app) => { const password = appPassword(app); return password ? [[`${org.organizationName}/${app.appName}`, password]] : []; })))));
        this.registerOutputs({
            engine: this.engine,
            majorVersion: this.majorVersion,
            databaseHost: this.databaseHost,
            databasePort: this.databasePort,
            databaseCaCertPem: this.databaseCaCertPem,
            tls: this.tls,
            organizations: this.organizations,
            appPasswords: this.appPasswords,
        });
    }

    /** The validated, defaulted config the component built from (TypeScript callers). */
    public get config(): StackConfig {
        return built.get(this)!.config;
    }

    /** The server component (`StatefulSetPostgres` or `RdsPostgres`; TypeScript callers). */
    public get server(): PostgresServer {
        return built.get(this)!.server;
    }

    /** The organization components (empty in `database.phase: server`; TypeScript callers). */
    public get organizationComponents(): Organization[] {
        return built.get(this)!.organizations;
    }
}

/**
 * An organization's names and delivery, as plain data (the component's output and the stack exports);
 * `passwords` adds each app's password as a secret (the stack exports keep them, the component's
 * `organizations` output does not).
 */
export function organizationAccessInfo(org: Organization, options: { passwords?: boolean } = {}): pulumi.Inputs {
    // a plain object of Outputs (not one Output): a secret password keeps only its own field secret
    return {
        namespace: org.namespace,
        database: org.database,
        apps: Object.fromEntries(org.apps.map((app) => [app.appName, {
            username: app.username,
            ...(options.passwords ? { password: appPassword(app) } : {}),
            serviceAccount: app.names.serviceAccount,
            authentication: app.authentication,
            delivered: app.delivered,
            vaultPath: app.vault?.credentialsPath,
            vaultAgentAnnotations: app.vault?.agentAnnotations,
            vaultAgentTokenVolume: app.vault?.agentTokenVolume,
            mtls: app.spiffe ? { spiffeId: app.spiffe.spiffeId, certificateCommonName: app.spiffe.commonName, podLabels: app.spiffe.podLabels, pod: app.spiffe.pod } : undefined,
        }])),
        accessRequests: Object.fromEntries(org.accessRequests.map((request) => [request.requestName, {
            username: request.login ? request.names.loginRole : undefined,
            expires: request.expires,
            delivered: request.delivered,
        }])),
    };
}

/** The password an app's credentials carry (secret); none for Vault-managed logins (rotated away at once) or without a password. */
function appPassword(app: AppAccess): pulumi.Output<string> | undefined {
    return app.login?.password && app.vault === undefined ? pulumi.secret(app.login.password) : undefined;
}

type ChildOptions = { parent: pulumi.Resource; aliases: pulumi.Input<pulumi.Alias>[] };

function createServer(config: StackConfig, versionCheck: pulumi.Input<string> | undefined, child: ChildOptions): PostgresServer {
    const db = config.database;
    if (db.engine === "statefulset") {
        const sts = db.statefulset ?? DEFAULT_STATEFULSET;
        return new StatefulSetPostgres("postgres", {
            namespace: sts.namespace,
            version: db.version,
            upgradeFrom: sts.upgradeFrom,
            versionCheck,
            image: sts.image,
            tls: db.tls,
            storageSize: sts.storageSize,
            storageClassName: sts.storageClassName,
            resources: sts.resources,
            maxConnections: sts.maxConnections,
            clientNamespaces: serverClientNamespaces(config),
            extraCertificateNames: db.adminEndpoint ? [db.adminEndpoint.host] : [],
            spiffe: db.tls === "mtls" && db.spiffe ? {
                ...db.spiffe,
                identities: config.organizations.flatMap((org) => org.apps
                    .filter((app) => app.credentials !== "vault-dynamic")
                    .map((app) => {
                        const names = appNames(org.name, app.name, config.env, app.isDefaultApp);
                        return { commonName: appCertificateCommonName(db.spiffe!.trustDomain, org.name, names.serviceAccount), role: names.loginRole };
                    })),
            } : undefined,
        }, { ...child, protect: false });
    }
    const rds = db.rds!;
    const platform = awsPlatform(config, child);
    return new RdsPostgres("postgres", {
        env: config.env,
        version: db.version,
        tls: db.tls === "mtls" ? "verify-full" : db.tls,
        ...rds,
        // the account the platform already looked up (no second getCallerIdentity)
        account: platform ? { partition: platform.partition, accountId: platform.accountId, region: platform.region } : undefined,
    }, { ...child, provider: platform?.provider });
}

/**
 * The explicit postgresql provider every database resource uses: the server's admin login, reached
 * through `adminEndpoint` when set (port-forward, NodePort, tunnel), always over TLS.
 */
export function createAdminProvider(config: StackConfig, server: PostgresServer, database = "postgres", name = "postgres-admin", opts?: pulumi.CustomResourceOptions): postgresql.Provider {
    const endpoint = config.database.adminEndpoint;
    // verify-full: the provider verifies the server against its CA, which it reads from a file (the
    // server certificate also names the adminEndpoint host). mtls: the server presents its SPIFFE SVID
    // (which names the adminEndpoint host too); Pulumi verifies it when the trust bundle is configured
    // (database.spiffe.trustBundlePem), otherwise it uses require through the authenticated tunnel.
    const verify = server.tls === "verify-full" || (server.tls === "mtls" && config.database.spiffe?.trustBundlePem !== undefined);
    return new postgresql.Provider(name, {
        host: endpoint ? endpoint.host : server.host,
        port: endpoint ? endpoint.port : server.port,
        username: server.adminUsername,
        password: server.adminPassword,
        database,
        // RDS through a tunnel (adminEndpoint): the RDS certificate cannot name the tunnel's host, so the
        // chain is verified against the RDS CA but not the host name (verify-ca); direct: verify-full.
        sslmode: verify ? (endpoint && server.engine === "rds" ? "verify-ca" : "verify-full") : "require",
        sslrootcert: verify ? server.caCertPem.apply((pem) => writeServerCaFile(config.env, pem)) : undefined,
        superuser: server.adminIsSuperuser,
        connectTimeout: 30,
        expectedVersion: server.majorVersion,
    }, opts);
}

/**
 * The same admin connected to an organization's own database. The provider runs a role's delete
 * (`REASSIGN OWNED` / `DROP OWNED` / `DROP ROLE`) in its connection's database only, so the
 * organization's logins and roles use this one: removing an app succeeds whatever its login created in
 * the organization's database (the provider's documented one-provider-per-database pattern).
 */
export function createOrganizationProvider(config: StackConfig, server: PostgresServer, organization: string, opts?: pulumi.CustomResourceOptions): postgresql.Provider {
    return createAdminProvider(config, server, organizationNames(organization).database, `${organization}-postgres-admin`, opts);
}

/**
 * The Vault side shared by all apps, when any app takes its credentials from Vault: an explicit Vault
 * provider (address/namespace from config, token from VAULT_TOKEN) and one database secrets engine mount
 * per environment, with one connection per organization that has Vault apps: named after the
 * organization, logging in to the organization's database as its own `<org>_vault_admin`, allowed to serve
 * exactly that organization's Vault roles. Each connection is created with its organization's first Vault
 * app, once the organization's database and group roles exist.
 */
export function createVaultPlatform(config: StackConfig, server: PostgresServer, postgresProvider: postgresql.Provider, organizationProviders?: Record<string, postgresql.Provider>, opts?: ChildOptions): VaultAppPlatform | undefined {
    const v = config.vault;
    const organizations: VaultOrganizationSpec[] = config.organizations.flatMap((org) => {
        const apps = org.apps.filter((a) => a.credentials.startsWith("vault-"));
        // Access requests with vault-dynamic credentials keep the organization's connection while they are
        // in the config (whatever their state), so a request's end does not take the connection with it.
        const requests = vaultDynamicRequests(org, config.env);
        if (apps.length === 0 && requests.length === 0) return [];
        const names = organizationNames(org.name);
        return [{
            organization: org.name,
            database: names.database,
            adminRole: vaultAdminRoleName(org.name),
            connectionName: vaultName(org.name),
            allowedRoles: [...apps.map((app) => appNames(org.name, app.name, config.env, app.isDefaultApp).vaultRole), ...requests.map((r) => r.vaultRole)],
            dynamicGroupRoles: [...apps.filter((a) => a.credentials === "vault-dynamic").map((a) => names[`${a.access}Role`]), ...requests.map((r) => names[`${r.access}Role`])],
        }];
    });
    if (!v || organizations.length === 0) return undefined;
    const provider = new vault.Provider("vault", {
        address: v.address,
        namespace: v.namespace,
        caCertFile: v.caCertPem ? writeProjectFile(`${config.env}-vault-ca.pem`, v.caCertPem) : undefined,
    }, opts);
    const engine = new VaultDatabaseEngine("vault", {
        mount: v.mount,
        server,
        organizations,
        postgresProvider,
        organizationProviders,
        vaultProvider: provider,
    }, { ...opts, dependsOn: serverReady(server) });
    return {
        provider,
        namespace: v.namespace,
        mount: engine.mount,
        kubernetesAuthMount: v.kubernetesAuthMount,
        defaults: { defaultTtl: v.defaultTtl, maxTtl: v.maxTtl, staticRotationPeriod: v.staticRotationPeriod },
        majorVersion: Number(server.majorVersion),
        organizationConnection: (organization, dependsOn) => engine.connectionFor(organization, dependsOn),
    };
}

/** The shared AWS platform of one component (one provider, account looked up once), when `aws` is set. */
const awsPlatforms = new WeakMap<pulumi.Resource, AwsAppPlatform>();
function awsPlatform(config: StackConfig, child: ChildOptions): AwsAppPlatform | undefined {
    if (!config.aws) return undefined;
    let platform = awsPlatforms.get(child.parent);
    if (!platform) {
        platform = createAwsPlatform({ env: config.env, ...config.aws }, child);
        awsPlatforms.set(child.parent, platform);
    }
    return platform;
}

/** The admin providers, the shared platform pieces and every organization (`database.phase: full`). */
function createOrganizations(config: StackConfig, server: PostgresServer, child: ChildOptions): Organization[] {
    const postgresProvider = createAdminProvider(config, server, undefined, undefined, child);
    const organizationProviders = Object.fromEntries(config.organizations.map((o) => [o.name, createOrganizationProvider(config, server, o.name, child)]));
    const platform: AppPlatform = {
        aws: awsPlatform(config, child),
        spiffe: config.database.tls === "mtls" ? config.database.spiffe : undefined,
        vault: createVaultPlatform(config, server, postgresProvider, organizationProviders, child),
    };
    const vaultEgress = config.vault ? vaultAgentEgress(config.vault) : undefined;
    const databaseEgress = config.database.engine === "statefulset"
        ? { namespace: (config.database.statefulset ?? DEFAULT_STATEFULSET).namespace }
        // RDS: only the instance's subnets (looked up and checked once, by RdsPostgres).
        : { cidrBlocks: (server as RdsPostgres).subnetCidrBlocks };
    new MaintenanceDatabases("maintenance-databases", {
        ...child,
        providers: { postgresql: postgresProvider },
        dependsOn: serverReady(server),
    });
    return config.organizations.map((organization) => new Organization(organization.name, {
        env: config.env,
        organization,
        server,
        postgresProvider,
        organizationPostgresProvider: organizationProviders[organization.name],
        databaseEgress,
        platform,
        vaultEgress,
        accessPolicy: config.accessPolicy,
    }, child));
}
