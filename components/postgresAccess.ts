/**
 * `PostgresAccess`: a whole platform's PostgreSQL access layer from one typed value (the config contract):
 * the server, the admin connections, the shared Vault and AWS pieces, and every organization with its apps.
 * The stack program is `new PostgresAccess("postgres-access", config)`; other programs (any language,
 * through the package schema) call it the same way.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppAccess } from "./appAccess";
import { DEFAULT_STATEFULSET, StackConfig, parseStackConfig } from "./config";
import { PostgresServer } from "./database/postgresServer";
import { StatefulSetPostgres } from "./database/statefulSetPostgres";
import { RdsPostgres } from "./database/rdsPostgres";
import { awsConnection, createAwsProvider } from "./aws/awsPlatform";
import { ORGANIZATION_TYPE, Organization } from "./organization";
import { MaintenanceDatabases } from "./postgres/maintenanceDatabases";
import { appCertificateCommonName } from "./kubernetes/spiffe";
import { appNames } from "./naming";
import { VAULT_ENGINE_NAME, VaultDatabaseEngine } from "./vault/vaultDatabaseEngine";
import { ENVIRONMENT_LABEL } from "./kubernetes/organizationNamespace";
import { OrganizationSettings, PostgresAccessArgs, StackPart } from "./postgresAccessArgs";
import { platformFromStack, usesSecretsManager, usesVault, vaultConnectionOf } from "./platformStack";
import { DatabaseServerConnection, PlatformConnection } from "./platformConnection";
import { PlatformProviders, adminPostgresProvider, platformProviders, vaultProvider } from "./platformProviders";
import { recordTypeChain, topLevelUrn } from "./urns";

export * from "./postgresAccessArgs";
export { writeServerCaFile } from "./platformProviders";

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
    server?: PostgresServer;
    connection: PlatformConnection;
    organizations: Organization[];
}
const built = new WeakMap<PostgresAccess, Built>();

/**
 * The namespaces whose pods may open connections to the in-cluster server: the organizations', and
 * Vault's when Vault runs in the cluster and manages logins here.
 */
export function serverClientNamespaces(config: StackConfig): string[] {
    const vaultNamespace = usesVault(config) ? config.vault?.kubernetesNamespace : undefined;
    return [...config.organizations.map((o) => o.name), ...(vaultNamespace ? [vaultNamespace] : [])];
}

/** What database resources wait for: the server component (for the StatefulSet, its pod Ready). */
function serverReady(server: PostgresServer): pulumi.Resource[] {
    return server instanceof pulumi.Resource ? [server] : [];
}

/** Type token of {@link PostgresAccess}. */
export const POSTGRES_ACCESS_TYPE = "postgres-access:index:PostgresAccess";

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
        super(POSTGRES_ACCESS_TYPE, name, {}, opts);
        recordTypeChain(this, POSTGRES_ACCESS_TYPE, opts?.parent);
        const child = { parent: this, aliases: [{ parent: pulumi.rootStackResource }] };
        // Organizations were top-level before this component existed: their former URNs as strings (cheaper
        // than child's alias spec for every organization, components/urns.ts); their children inherit them.
        const formerlyTopLevel = (organization: string) => [topLevelUrn(ORGANIZATION_TYPE, organization)];
        let server: PostgresServer | undefined;
        let connection: PlatformConnection;
        let organizations: Organization[];
        if (config.split?.part === StackPart.Organizations) {
            // An organizations stack: the platform is another stack's (read through a StackReference).
            const platform = platformFromStack(config, child);
            connection = platform.connection;
            organizations = createOrganizations(config, connection, platform.providers, { parent: this }, formerlyTopLevel);
        } else {
            const platform = createPlatform(config, child, versionCheck);
            server = platform.server;
            connection = platform.connection;
            organizations = platform.providers ? createOrganizations(config, connection, platform.providers, { parent: this, dependsOn: serverReady(server) }, formerlyTopLevel) : [];
        }
        built.set(this, { config, server, connection, organizations });

        const db = connection.database;
        this.engine = pulumi.output(db.engine);
        this.majorVersion = pulumi.output(db.majorVersion);
        this.databaseHost = pulumi.output(db.host);
        this.databasePort = pulumi.output(db.port);
        this.databaseCaCertPem = pulumi.output(db.caCertPem);
        this.tls = pulumi.output(db.tls);
        this.organizations = pulumi.output(Object.fromEntries(organizations.map((org) => [org.organizationName, organizationAccessInfo(org)])) as unknown as Record<string, pulumi.Input<OrganizationAccessInfo>>)
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

    /** The server component (`StatefulSetPostgres` or `RdsPostgres`; TypeScript callers); absent in an organizations stack. */
    public get server(): PostgresServer | undefined {
        return built.get(this)!.server;
    }

    /** What the organizations are built on, as plain data (TypeScript callers; a platform stack exports it). */
    public get platformConnection(): PlatformConnection {
        return built.get(this)!.connection;
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

/** A platform: its server, the connection organizations are given, and the providers they use. */
export interface Platform {
    /** The server component (`StatefulSetPostgres` or `RdsPostgres`). */
    server: PostgresServer;
    /** Everything an organization needs of the platform, as plain data (a stack output for organization stacks). */
    connection: PlatformConnection;
    /** The explicit providers (absent in `database.phase: server`, where nothing of the database is touched yet). */
    providers?: PlatformProviders;
}

/**
 * The shared platform of a config: the server, the admin's postgresql provider and the maintenance
 * databases, the Vault provider and the engine's mount (when an organization uses Vault), the AWS provider
 * and the account lookups (when `aws` is set); and the connection that describes it all as plain data.
 * In `database.phase: server` only the server (and the AWS provider it needs).
 */
export function createPlatform(config: StackConfig, opts: ChildOptions, versionCheck?: pulumi.Input<string>): Platform {
    const awsProvider = config.aws ? createAwsProvider(config.aws, opts) : undefined;
    const aws = config.aws && awsProvider ? awsConnection({ env: config.env, ...config.aws }, awsProvider, usesSecretsManager(config)) : undefined;
    const server = createServer(config, versionCheck, opts, aws && awsProvider ? { account: { partition: aws.partition, accountId: aws.accountId, region: aws.region }, provider: awsProvider } : undefined);
    const db = config.database;
    const database: DatabaseServerConnection = {
        engine: server.engine,
        majorVersion: server.majorVersion,
        tls: server.tls,
        host: server.host,
        port: server.port,
        adminUsername: server.adminUsername,
        adminPassword: server.adminPassword,
        adminIsSuperuser: server.adminIsSuperuser,
        caCertPem: server.caCertPem,
        adminEndpoint: db.adminEndpoint,
        egress: db.engine === "statefulset"
            ? { namespace: (db.statefulset ?? DEFAULT_STATEFULSET).namespace }
            // RDS: only the instance's subnets (looked up and checked once, by RdsPostgres).
            : { cidrBlocks: db.rds!.subnetIds.map((_, i) => (server as RdsPostgres).subnetCidrBlocks.apply((blocks) => blocks[i])) },
    };
    const spiffe = db.tls === "mtls" ? db.spiffe : undefined;
    if (db.phase === "server") return { server, connection: { database, aws, spiffe } };

    const postgresql = adminPostgresProvider("postgres-admin", config.env, database, "postgres", spiffe?.trustBundlePem, opts);
    const v = usesVault(config) ? config.vault : undefined;
    const vault = v ? vaultProvider(config.env, { address: v.address, namespace: v.namespace, caCertPem: v.caCertPem }, opts) : undefined;
    const engine = v ? new VaultDatabaseEngine(VAULT_ENGINE_NAME, { mount: v.mount }, { ...opts, provider: vault, dependsOn: serverReady(server) }) : undefined;
    new MaintenanceDatabases("maintenance-databases", {
        ...opts,
        providers: { postgresql },
        dependsOn: serverReady(server),
    });
    const connection: PlatformConnection = {
        database,
        vault: v && engine ? vaultConnectionOf(v, engine.mount) : undefined,
        aws,
        spiffe,
    };
    return { server, connection, providers: { postgresql, vault, aws: awsProvider } };
}

export { platformProviders };

function createServer(config: StackConfig, versionCheck: pulumi.Input<string> | undefined, child: ChildOptions, aws: { account: import("./database/rdsPostgres").RdsPostgresArgs["account"]; provider: pulumi.ProviderResource } | undefined): PostgresServer {
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
            // A platform stack's organizations are in other stacks: their namespaces carry the environment.
            clientNamespaceLabels: config.split?.part === StackPart.Platform ? { [ENVIRONMENT_LABEL]: config.env } : undefined,
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
    return new RdsPostgres("postgres", {
        env: config.env,
        version: db.version,
        tls: db.tls === "mtls" ? "verify-full" : db.tls,
        ...rds,
        // the account the platform already looked up (no second getCallerIdentity)
        account: aws?.account,
    }, { ...child, provider: aws?.provider });
}

/** A duration in the config's notation (`1w2d3h`), from seconds. */
function durationText(seconds: number): string {
    let rest = seconds;
    let text = "";
    for (const [unit, size] of [["w", 604800], ["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
        if (rest >= size) {
            text += `${Math.floor(rest / size)}${unit}`;
            rest %= size;
        }
    }
    return text;
}

/** An organization of a validated config as the args `Organization` takes (the contract's own shape). */
export function organizationSettingsOf(org: StackConfig["organizations"][number]): OrganizationSettings {
    const { apps, ...rest } = org;
    const defaultApp = apps.length === 1 && apps[0].isDefaultApp ? apps[0] : undefined;
    return {
        ...rest,
        ...(defaultApp
            ? { access: defaultApp.access, credentials: defaultApp.credentials }
            : { apps: apps.map(({ isDefaultApp, ...app }) => { void isDefaultApp; return app; }) }),
    };
}

/**
 * Every organization of a validated config on a platform: each gets the connection and the platform's
 * providers (`opts.dependsOn`: what its database waits for, the server component); `aliasesOf` adds an
 * organization's own aliases (by its name) to `opts.aliases`.
 */
export function createOrganizations(config: StackConfig, connection: PlatformConnection, providers: PlatformProviders, opts?: pulumi.ComponentResourceOptions, aliasesOf?: (organization: string) => pulumi.Input<string | pulumi.Alias>[]): Organization[] {
    const accessPolicy = { requiredApprovals: config.accessPolicy.requiredApprovals, maxDuration: durationText(config.accessPolicy.maxDurationSeconds) };
    const organizationOpts = {
        ...opts,
        providers: { postgresql: providers.postgresql, ...(providers.vault ? { vault: providers.vault } : {}), ...(providers.aws ? { aws: providers.aws } : {}) },
    };
    // A loop, not `.map`: the SDK captures the whole call stack at every registration, so each frame
    // between here and a resource is paid once per resource of every organization.
    const organizations: Organization[] = [];
    for (const organization of config.organizations) {
        const aliases = aliasesOf ? [...(organizationOpts.aliases ?? []), ...aliasesOf(organization.name)] : organizationOpts.aliases;
        organizations.push(new Organization(organization.name, {
            env: config.env,
            organization: organizationSettingsOf(organization),
            connection,
            accessPolicy,
        }, { ...organizationOpts, aliases }));
    }
    return organizations;
}
