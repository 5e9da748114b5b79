import * as pulumi from "@pulumi/pulumi";
import { ServerTlsMode, clientSslMode } from "./database/postgresServer";
import { ConnectionSettings } from "./connectionInfo";
import { AppNames, rotationLoginNames } from "./naming";
import { AppSpec, OrganizationSpec } from "./types";
import { OrganizationDatabase } from "./postgres/organizationDatabase";
import { AppLogin } from "./postgres/appLogin";
import { RotatingAppLogin } from "./postgres/rotatingAppLogin";
import { rotationStatus } from "./rotation";
import { currentTime } from "./clock";
import { DatabaseSecret } from "./kubernetes/databaseSecret";
import { VaultOrganizationAccess } from "./vault/vaultPlatform";
import { PlatformConnection } from "./platformConnection";
import { AppSpiffeIdentity } from "./kubernetes/appSpiffeIdentity";
import { VaultAppCredentials } from "./vault/vaultAppCredentials";
import { AppSecretsManagerCredentials } from "./aws/appSecretsManagerCredentials";
import { awsSecretProviderClass, secretJsonKeys } from "./kubernetes/awsSecretProviderClass";
import { databaseCaConfigMap } from "./kubernetes/databaseCaConfigMap";
import { SVID_FILES, SpiffeSettings, appCertificateCommonName, spiffeId } from "./kubernetes/spiffe";
import { spiffeSettingsOf } from "./organizationValidation";

/** Where pods find the CA bundle when a delivery mode mounts it (sslrootcert). */
export const POD_CA_PATH = "/etc/postgres-access/ca.crt";

export interface AppAccessArgs {
    /** Environment (stack) name. */
    env: string;
    /** The app's organization. */
    organization: OrganizationSpec;
    /** The app. */
    app: AppSpec;
    /** Every name derived for the app (computed once, by the organization). */
    names: AppNames;
    /** The organization's database and group roles. */
    database: OrganizationDatabase;
    /** The organization's namespace. */
    namespace: pulumi.Input<string>;
    /** The shared platform: the server, Vault, AWS, SPIRE (providers come from `opts.providers`). */
    connection: PlatformConnection;
    /** The organization's Vault connection (vault-static / vault-dynamic apps). */
    vaultConnection?: VaultOrganizationAccess;
    /** The organization's KMS key for Secrets Manager entries (secretsmanager apps). */
    secretsKeyArn?: pulumi.Output<string>;
    /** The run's current time (scheduled rotation); default: the clock (`currentTime`). */
    now?: Date;
}

/**
 * Annotations on a rotating app's Kubernetes Secret for Stakater Reloader: Deployments annotated
 * `reloader.stakater.com/search: "true"` get a rolling restart (within their maxSurge / maxUnavailable)
 * when the Secret's value changes (README "Scheduled rotation").
 */
export const RELOADER_SECRET_ANNOTATIONS: Record<string, string> = { "reloader.stakater.com/match": "true" };

/** An app's certificate identity with tls "mtls". */
export interface CertificateIdentityDescription {
    /** URI SAN of its X509-SVID. */
    spiffeId: string;
    /** CN (= first DNS SAN) of its X509-SVID: what PostgreSQL maps. */
    commonName: string;
    /** The one login that CN may use. */
    login: string;
}

/** How an app authenticates, in words (plan output, README, stack exports). */
export function describeAuthentication(app: AppSpec, server: { tls: ServerTlsMode }, identity?: CertificateIdentityDescription): string {
    if (server.tls === "mtls") {
        const who = identity ? `${identity.spiffeId}, CN ${identity.commonName} -> login ${identity.login} only` : "CN mapped to its login";
        return `mutual TLS: its SPIFFE X509-SVID (${who}; pg_hba \`cert map=spiffe\`, no password), written by its spiffe-helper sidecar; server verified (verify-full) against the trust bundle`;
    }
    const tls = server.tls === "verify-full"
        ? `TLS (verify-full: server CA delivered beside its credentials, sslrootcert=${POD_CA_PATH}) and`
        : "TLS (sslmode=require: encrypted, server not verified) and";
    const how: Record<AppSpec["credentials"], string> = {
        kubernetes: "a generated password (scram-sha-256) from a Kubernetes Secret",
        secretsmanager: "a generated password (scram-sha-256) from AWS Secrets Manager through its IRSA role",
        "vault-static": "a password Vault rotates (static role) read with its ServiceAccount's Kubernetes auth",
        "vault-dynamic": "a short-lived user Vault creates per lease (dynamic role) read with its ServiceAccount's Kubernetes auth",
    };
    const rotated = app.rotation && (app.credentials === "kubernetes" || app.credentials === "secretsmanager")
        ? `, rotated every ${app.rotation.every} over two alternating logins`
        : "";
    return `${tls} ${how[app.credentials]}${rotated}`;
}

/** What the app's delivery needs from the platform and is missing (checked before any child exists). */
export function appAccessProblems(args: Pick<AppAccessArgs, "app" | "connection" | "vaultConnection" | "secretsKeyArn">): string[] {
    const { app, connection } = args;
    const problems: string[] = [];
    if (connection.database.tls === "mtls" && !connection.spiffe) problems.push("tls \"mtls\" needs the SPIFFE settings");
    if (app.credentials === "secretsmanager" && (!connection.aws || !args.secretsKeyArn)) problems.push("credentials \"secretsmanager\" need the AWS settings");
    if (app.credentials.startsWith("vault-") && (!connection.vault || !args.vaultConnection)) problems.push(`credentials "${app.credentials}" need the Vault settings`);
    return problems;
}

/**
 * One app's access end to end: its least-privilege LOGIN role (unless Vault creates users on demand) and
 * its credential delivery (Secret, Secrets Manager + SecretProviderClass, or Vault).
 */
export class AppAccess extends pulumi.ComponentResource {
    /** Every name derived for the app. */
    public readonly names: AppNames;
    /** The app's name. */
    public readonly appName: string;
    /** The login its credentials name: with `rotation`, the active one of the two alternating logins. */
    public readonly username: string;
    /**
     * The login role (static credentials); with `rotation` the two alternating logins (the delivered one's
     * `username`/`password`); undefined for vault-dynamic.
     */
    public readonly login?: AppLogin | RotatingAppLogin;
    /** Connection settings (no password). */
    public readonly settings: pulumi.Output<ConnectionSettings>;
    /** How the app authenticates. */
    public readonly authentication: string;
    /** tls "mtls": the app's SPIFFE identity, helper ConfigMap and pod pieces. */
    public readonly spiffe?: AppSpiffeIdentity;
    /** AWS side (secretsmanager). */
    public readonly secretsManager?: AppSecretsManagerCredentials;
    /** Vault side (vault-static / vault-dynamic). */
    public readonly vault?: VaultAppCredentials;
    /** Where the app's credentials are delivered (object names in its namespace). */
    public readonly delivered: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: AppAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:AppAccess", name, {}, opts);
        const problems = appAccessProblems(args);
        if (problems.length) throw new Error(`app ${args.organization.name}/${args.app.name}: ${problems.join("; ")}`);
        const { app, organization, database } = args;
        const server = args.connection.database;
        const spiffe: SpiffeSettings | undefined = args.connection.spiffe ? spiffeSettingsOf(args.connection.spiffe) : undefined;
        this.appName = app.name;
        this.names = args.names;
        this.authentication = describeAuthentication(app, server, server.tls === "mtls" && spiffe ? {
            spiffeId: spiffeId(spiffe.trustDomain, organization.name, this.names.serviceAccount),
            commonName: appCertificateCommonName(spiffe.trustDomain, organization.name, this.names.serviceAccount),
            login: this.names.loginRole,
        } : undefined);
        const groupRole = database.groupRoles[app.access];

        // scheduled rotation (kubernetes / secretsmanager): two alternating logins, the active one delivered
        const rotation = app.rotation && server.tls !== "mtls" && (app.credentials === "kubernetes" || app.credentials === "secretsmanager") ? app.rotation : undefined;
        if (rotation) {
            this.login = new RotatingAppLogin(`${name}-login`, {
                roleNames: rotationLoginNames(organization.name, app.name),
                access: app.access,
                groupRole: groupRole.name,
                connectionLimit: app.connectionLimit,
                status: rotationStatus({ organization: organization.name, name: app.name, rotation }, args.now ?? currentTime()),
            }, { parent: this, dependsOn: database.privilegesReady });
        } else if (app.credentials !== "vault-dynamic") {
            this.login = new AppLogin(`${name}-login`, {
                roleName: this.names.loginRole,
                access: app.access,
                groupRole: groupRole.name,
                connectionLimit: app.connectionLimit,
                // mtls: the client certificate is the only credential, so the login gets no password at all
                passwordManagedBy: server.tls === "mtls" ? "none" : app.credentials === "vault-static" ? "vault" : "pulumi",
            }, { parent: this, dependsOn: database.privilegesReady });
        }

        const loginName = this.login instanceof RotatingAppLogin ? rotationLoginNames(organization.name, app.name)[this.login.status.activeSlot] : this.names.loginRole;
        this.username = loginName;
        const sslmode = clientSslMode(server.tls);
        const tlsFiles = server.tls === "mtls"
            ? { sslrootcert: SVID_FILES.bundle, sslcert: SVID_FILES.cert, sslkey: SVID_FILES.key }
            : sslmode === "verify-full" ? { sslrootcert: POD_CA_PATH } : {};
        this.settings = pulumi.all([server.host, server.port, database.databaseName]).apply(([host, port, db]) => ({
            host,
            port,
            database: db,
            username: loginName,
            sslmode,
            ...tlsFiles,
        }));

        if (server.tls === "mtls") {
            if (!spiffe) throw new Error(`app ${organization.name}/${app.name}: tls "mtls" needs the SPIFFE settings`);
            this.spiffe = new AppSpiffeIdentity(`${name}-spiffe`, {
                settings: spiffe,
                namespace: organization.name,
                namespaceOutput: args.namespace,
                serviceAccount: this.names.serviceAccount,
                connection: this.settings,
            }, { parent: this });
        }

        switch (app.credentials) {
            case "kubernetes": {
                const secret = new DatabaseSecret(`${name}-secret`, {
                    namespace: args.namespace,
                    secretName: this.names.secret,
                    settings: this.settings,
                    password: this.login!.password,
                    caCertPem: server.caCertPem,
                    labels: { "app.kubernetes.io/name": app.name },
                    ...(rotation ? { annotations: RELOADER_SECRET_ANNOTATIONS } : {}),
                }, { parent: this, dependsOn: [this.login!] });
                this.delivered = secret.secretName.apply((secretName): Record<string, string> => ({ secret: secretName }));
                break;
            }
            case "secretsmanager": {
                const aws = args.connection.aws;
                if (!aws || !args.secretsKeyArn) throw new Error(`app ${organization.name}/${app.name}: credentials "secretsmanager" need the AWS settings`);
                this.secretsManager = new AppSecretsManagerCredentials(`${name}-aws`, {
                    secretName: this.names.secretsManagerSecret,
                    roleName: this.names.iamRole,
                    namespace: organization.name,
                    serviceAccount: this.names.serviceAccount,
                    keyArn: args.secretsKeyArn,
                    settings: this.settings,
                    password: this.login!.password,
                    env: args.env,
                    aws,
                }, { parent: this, dependsOn: [this.login!] });
                awsSecretProviderClass(`${name}-spc`, {
                    namespace: args.namespace,
                    name: this.names.secretProviderClass,
                    app: app.name,
                    secretName: this.names.secretsManagerSecret,
                    // exactly the keys the secret's JSON has (a jmesPath that finds nothing fails the mount)
                    keys: secretJsonKeys(sslmode, tlsFiles),
                    region: aws.region,
                    syncSecret: app.syncSecret,
                }, { parent: this, dependsOn: [this.secretsManager] });
                this.delivered = this.secretsManager.secretArn.apply((arn): Record<string, string> => ({
                    secretsManagerSecret: arn,
                    secretProviderClass: this.names.secretProviderClass,
                    ...(app.syncSecret === false ? {} : { syncedSecret: this.names.secretProviderClass }),
                }));
                break;
            }
            case "vault-static":
            case "vault-dynamic": {
                if (!args.connection.vault || !args.vaultConnection) throw new Error(`app ${organization.name}/${app.name}: credentials "${app.credentials}" need the Vault settings`);
                this.vault = new VaultAppCredentials(`${name}-vault`, {
                    app,
                    namespaceName: organization.name,
                    namespace: args.namespace,
                    serviceAccount: this.names.serviceAccount,
                    vaultRole: this.names.vaultRole,
                    loginRole: this.login?.username,
                    groupRole: groupRole.name,
                    dependsOn: [...(this.login ? [this.login] : []), ...database.privilegesReady],
                    deliveryName: this.names.secret,
                    settings: this.settings,
                    vault: args.connection.vault,
                    connection: args.vaultConnection,
                    majorVersion: Number(server.majorVersion),
                }, { parent: this });
                this.delivered = this.vault.credentialsPath.apply((p): Record<string, string> => ({ vaultPath: p, [app.delivery === "vault-agent" ? "annotationsConfigMap" : app.delivery === "csi" ? "secretProviderClass" : "secret"]: app.delivery === "vault-agent" ? `${this.names.secret}-vault-agent` : this.names.secret }));
                break;
            }
        }
        // verify-full: credentials other than the app's own Secret (which holds ca.crt) do not carry the
        // server CA, so it travels beside them, mounted where sslrootcert (POD_CA_PATH) points.
        if (tlsFiles.sslrootcert === POD_CA_PATH && app.credentials !== "kubernetes") {
            const caConfigMap = `${this.names.secret}-ca`;
            databaseCaConfigMap(`${name}-ca`, { namespace: args.namespace, name: caConfigMap, app: app.name, caCertPem: server.caCertPem }, { parent: this });
            this.delivered = this.delivered!.apply((d): Record<string, string> => ({ ...d, caConfigMap }));
        }
        this.registerOutputs({ settings: this.settings });
    }
}
