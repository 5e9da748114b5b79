/**
 * The stack program: read and validate the config, create the server, then every organization.
 * `createStack()` is what `stacks/index.ts` (pulumi up / preview), the offline plan and the tests run.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { DEFAULT_STATEFULSET, StackConfig, parseStackConfig } from "./config";
import { PostgresServer } from "../components/database/postgresServer";
import { StatefulSetPostgres } from "../components/database/statefulSetPostgres";
import { RdsPostgres } from "../components/database/rdsPostgres";
import { AwsAppPlatform, createAwsPlatform } from "../components/aws/awsPlatform";
import { Organization } from "../components/organization";
import { MaintenanceDatabases } from "../components/postgres/maintenanceDatabases";
import { AppPlatform } from "../components/appAccess";
import { appCertificateCommonName } from "../components/kubernetes/spiffe";
import { appNames, organizationNames, vaultAdminRoleName, vaultName } from "../components/naming";
import * as vault from "@pulumi/vault";
import { VaultAppPlatform } from "../components/vault/vaultPlatform";
import { VaultDatabaseEngine, VaultOrganizationSpec } from "../components/vault/vaultDatabaseEngine";
import { checkedAgainstPreviousDeployment, deploymentRecord } from "./previousDeployment";
import { vaultAgentEgress } from "../components/kubernetes/vaultDelivery";

/**
 * Reads every `postgres-access:*` key of the current stack as raw (unvalidated) objects, including keys
 * the program does not know, so a misspelt key is reported instead of silently ignored.
 */
export function readRawConfig(): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
        const [project, key] = fullKey.split(":", 2);
        if (project !== "postgres-access" || key === undefined) continue;
        try {
            raw[key] = JSON.parse(text);
        } catch {
            raw[key] = text;
        }
    }
    return raw;
}

/** What the program exports and the plan prints. */
export interface StackOutputs {
    config: StackConfig;
    server: PostgresServer;
    /** Empty in `database.phase: server`. */
    organizations: Organization[];
    /**
     * The config checked against the stack's previous deployment (`stacks/previousDeployment.ts`): resolves
     * to the server's major version, fails the run when the change is refused.
     */
    deploymentCheck: pulumi.Output<string>;
}

/**
 * The namespaces whose pods may open connections to the in-cluster server: the organizations', and
 * Vault's when Vault runs in the cluster and manages logins here.
 */
export function serverClientNamespaces(config: StackConfig): string[] {
    const vaultManagesLogins = config.organizations.some((org) => org.apps.some((app) => app.credentials.startsWith("vault-")));
    const vaultNamespace = vaultManagesLogins ? config.vault?.kubernetesNamespace : undefined;
    return [...config.organizations.map((o) => o.name), ...(vaultNamespace ? [vaultNamespace] : [])];
}

function createServer(config: StackConfig, deploymentCheck: pulumi.Output<string>): PostgresServer {
    const db = config.database;
    if (db.engine === "statefulset") {
        const sts = db.statefulset ?? DEFAULT_STATEFULSET;
        return new StatefulSetPostgres("postgres", {
            namespace: sts.namespace,
            version: db.version,
            upgradeFrom: sts.upgradeFrom,
            versionCheck: deploymentCheck,
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
        }, { protect: false });
    }
    const rds = db.rds!;
    const awsShared = awsPlatform(config);
    return new RdsPostgres("postgres", {
        env: config.env,
        version: db.version,
        tls: db.tls === "mtls" ? "verify-full" : db.tls,
        ...rds,
        // the account and partition the stack looked up once (its provider's region)
        account: awsShared ? { accountId: awsShared.accountId, partition: awsShared.partition, region: awsShared.region } : undefined,
    }, { provider: awsShared?.provider });
}

/**
 * The explicit postgresql provider every database resource uses: the server's admin login, reached
 * through `adminEndpoint` when set (port-forward, NodePort, tunnel), always over TLS.
 */
export function createAdminProvider(config: StackConfig, server: PostgresServer, database = "postgres", name = "postgres-admin"): postgresql.Provider {
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
    });
}

/**
 * The same admin connected to an organization's own database. The provider runs a role's delete
 * (`REASSIGN OWNED` / `DROP OWNED` / `DROP ROLE`) in its connection's database only, so the
 * organization's logins and roles use this one: removing an app succeeds whatever its login created in
 * the organization's database (the provider's documented one-provider-per-database pattern).
 */
export function createOrganizationProvider(config: StackConfig, server: PostgresServer, organization: string): postgresql.Provider {
    return createAdminProvider(config, server, organizationNames(organization).database, `${organization}-postgres-admin`);
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

/**
 * The Vault side shared by all apps, when any app takes its credentials from Vault: an explicit Vault
 * provider (address/namespace from config, token from VAULT_TOKEN) and one database secrets engine mount
 * per environment, with one connection per organization that has Vault apps: named after the
 * organization, logging in to the organization's database as its own `<org>_vault_admin`, allowed to serve
 * exactly that organization's Vault roles. Each connection is created with its organization's first Vault
 * app, once the organization's database and group roles exist.
 */
export function createVaultPlatform(config: StackConfig, server: PostgresServer, postgresProvider: postgresql.Provider, organizationProviders?: Record<string, postgresql.Provider>): VaultAppPlatform | undefined {
    const v = config.vault;
    const organizations: VaultOrganizationSpec[] = config.organizations.flatMap((org) => {
        const apps = org.apps.filter((a) => a.credentials.startsWith("vault-"));
        if (apps.length === 0) return [];
        const names = organizationNames(org.name);
        return [{
            organization: org.name,
            database: names.database,
            adminRole: vaultAdminRoleName(org.name),
            connectionName: vaultName(org.name),
            allowedRoles: apps.map((app) => appNames(org.name, app.name, config.env, app.isDefaultApp).vaultRole),
            dynamicGroupRoles: apps.filter((a) => a.credentials === "vault-dynamic").map((a) => names[`${a.access}Role`]),
        }];
    });
    if (!v || organizations.length === 0) return undefined;
    const provider = new vault.Provider("vault", {
        address: v.address,
        namespace: v.namespace,
        caCertFile: v.caCertPem ? writeProjectFile(`${config.env}-vault-ca.pem`, v.caCertPem) : undefined,
    });
    const engine = new VaultDatabaseEngine("vault", {
        mount: v.mount,
        server,
        organizations,
        postgresProvider,
        organizationProviders,
        vaultProvider: provider,
    }, { dependsOn: serverReady(server) });
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

let sharedAws: { config: StackConfig; platform: AwsAppPlatform } | undefined;
/** The shared AWS platform (one provider, account looked up once), when `postgres-access:aws` is set. */
function awsPlatform(config: StackConfig): AwsAppPlatform | undefined {
    if (!config.aws) return undefined;
    if (sharedAws?.config !== config) {
        sharedAws = { config, platform: createAwsPlatform({ env: config.env, ...config.aws }) };
    }
    return sharedAws.platform;
}

/** What database resources wait for: the server component (for the StatefulSet, its pod Ready). */
function serverReady(server: PostgresServer): pulumi.Resource[] {
    return server instanceof pulumi.Resource ? [server] : [];
}

/** Builds the whole stack from validated config. */
export function createStackFromConfig(config: StackConfig): StackOutputs {
    const deploymentCheck = checkedAgainstPreviousDeployment(config);
    const server = createServer(config, deploymentCheck);
    // First run through a tunnel to a server this run creates (README "First pulumi up of an RDS stack"):
    // the server only; nothing that logs in to it.
    if (config.database.phase === "server") return { config, server, organizations: [], deploymentCheck };
    const postgresProvider = createAdminProvider(config, server);
    const organizationProviders = Object.fromEntries(config.organizations.map((o) => [o.name, createOrganizationProvider(config, server, o.name)]));
    const platform: AppPlatform = {
        aws: awsPlatform(config),
        spiffe: config.database.tls === "mtls" ? config.database.spiffe : undefined,
        vault: createVaultPlatform(config, server, postgresProvider, organizationProviders),
    };
    const vaultEgress = config.vault ? vaultAgentEgress(config.vault) : undefined;
    const databaseEgress = config.database.engine === "statefulset"
        ? { namespace: (config.database.statefulset ?? DEFAULT_STATEFULSET).namespace }
        // RDS: only the instance's subnets (looked up and checked once, by RdsPostgres).
        : { cidrBlocks: (server as RdsPostgres).subnetCidrBlocks };
    new MaintenanceDatabases("maintenance-databases", {
        providers: { postgresql: postgresProvider },
        dependsOn: serverReady(server),
    });
    const organizations = config.organizations.map((organization) => new Organization(organization.name, {
        env: config.env,
        organization,
        server,
        postgresProvider,
        organizationPostgresProvider: organizationProviders[organization.name],
        databaseEgress,
        platform,
        vaultEgress,
    }));
    return { config, server, organizations, deploymentCheck };
}

/** Reads, validates (throwing ConfigError before any resource exists) and builds the stack. */
export function createStack(): StackOutputs {
    const config = parseStackConfig(readRawConfig(), pulumi.getStack());
    return createStackFromConfig(config);
}

/**
 * The stack exports: per organization and app, names and how to connect; app credentials as secrets.
 * The server's admin (or RDS master) password is never exported: apps never get the admin login, and
 * `pulumi stack output --show-secrets` rights must not grant it. Operators read it where the server keeps
 * it (README "The admin login").
 */
export function stackExports(outputs: StackOutputs): Record<string, unknown> {
    return {
        engine: outputs.server.engine,
        databaseHost: outputs.server.host,
        databasePort: outputs.server.port,
        databaseCaCertPem: outputs.server.caCertPem,
        // What this update deployed; the next run reads it back (stacks/previousDeployment.ts).
        deployment: outputs.deploymentCheck.apply(() => deploymentRecord(outputs.config)),
        organizations: Object.fromEntries(outputs.organizations.map((org) => [org.organizationName, {
            namespace: org.namespace,
            database: org.database,
            apps: Object.fromEntries(org.apps.map((app) => [app.appName, {
                username: app.names.loginRole,
                serviceAccount: app.names.serviceAccount,
                authentication: app.authentication,
                delivered: app.delivered,
                // Vault-managed logins: the initial password is rotated away at once, so it is not exported.
                password: app.login?.password && app.vault === undefined ? pulumi.secret(app.login.password) : undefined,
                vaultPath: app.vault?.credentialsPath,
                vaultAgentAnnotations: app.vault?.agentAnnotations,
                // vault-agent: the projected ServiceAccount token (audience vault) the annotations name.
                vaultAgentTokenVolume: app.vault?.agentTokenVolume,
                // mtls: the app's certificate identity and the pod pieces (sidecar, volumes, PG* env) for its Deployment.
                mtls: app.spiffe ? { spiffeId: app.spiffe.spiffeId, certificateCommonName: app.spiffe.commonName, podLabels: app.spiffe.podLabels, pod: app.spiffe.pod } : undefined,
            }])),
        }])),
    };
}
