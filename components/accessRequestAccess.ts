import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as k8s from "@pulumi/kubernetes";
import * as vault from "@pulumi/vault";
import { clientSslMode } from "./database/postgresServer";
import { PlatformConnection } from "./platformConnection";
import { VaultOrganizationAccess } from "./vault/vaultPlatform";
import { ConnectionSettings } from "./connectionInfo";
import { OrganizationSpec } from "./types";
import { OrganizationDatabase } from "./postgres/organizationDatabase";
import { generatedLoginPassword, loginRoleSettings, scramVerifierOf } from "./postgres/appLogin";
import { DatabaseSecret } from "./kubernetes/databaseSecret";
import { managedLabels } from "./kubernetes/organizationNamespace";
import { databaseCaConfigMap } from "./kubernetes/databaseCaConfigMap";
import { VAULT_AUDIENCE, vaultSecretsOperatorObjects } from "./kubernetes/vaultDelivery";
import { AppSecretsManagerCredentials } from "./aws/appSecretsManagerCredentials";
import { POD_CA_PATH } from "./appAccess";
import { VAULT_TOKEN_MAX_TTL, appPolicy, credentialsPath } from "./vault/vaultPolicies";
import { dynamicRevocationStatements } from "./vault/postgresStatements";
import {
    AccessRequestNames, AccessRequestSpec, expiryTimestamp, postgresValidUntil, requestCreationStatements, requestLeaseTtls, requestRenewStatements,
} from "./accessRequests";

/** CONNECTION LIMIT of a request's login (a person's or a job's temporary access, not a service's pool). */
export const ACCESS_REQUEST_CONNECTION_LIMIT = 5;

export interface AccessRequestAccessArgs {
    /** Environment (stack) name. */
    env: string;
    /** The request's organization. */
    organization: OrganizationSpec;
    /** The request; only approved, unexpired requests get this component. */
    request: AccessRequestSpec;
    /** Every name derived for the request (computed once, by the organization). */
    names: AccessRequestNames;
    /** The current time of this run (components/clock.ts): Vault lease TTLs are capped by what is left until the expiry. */
    now: Date;
    /** The organization's database and group roles. */
    database: OrganizationDatabase;
    /** The organization's namespace (as created). */
    namespace: pulumi.Input<string>;
    /** The shared platform: the server, Vault, AWS (providers come from `opts.providers`). */
    connection: PlatformConnection;
    /** The organization's Vault connection (vault-dynamic requests). */
    vaultConnection?: VaultOrganizationAccess;
    /** The organization's KMS key for Secrets Manager entries (secretsmanager requests). */
    secretsKeyArn?: pulumi.Output<string>;
}

/**
 * An approved access request's access, delivered like an app's and ending at its expiry by every layer on
 * its own:
 * - `kubernetes` / `secretsmanager`: a LOGIN role `VALID UNTIL` the expiry (PostgreSQL refuses the password
 *   afterwards), member of exactly the requested group role, no elevated attribute, password sent as its
 *   SCRAM verifier; its credentials in a Secret only the requester's ServiceAccount may read through the API
 *   (kubernetes) or in Secrets Manager behind an IRSA role whose permissions carry
 *   `DateLessThan aws:CurrentTime <expires>` (secretsmanager);
 * - `vault-dynamic`: a dynamic role whose users are created `VALID UNTIL` the earlier of their lease end and
 *   the expiry, with TTLs capped so that no lease issued now outlives it, readable only by the requester's
 *   ServiceAccount (Kubernetes auth), delivered by the Vault Secrets Operator.
 * When the request is no longer approved (removed, expired, denied) the organization stops registering
 * this component, so the next `pulumi up` deletes all of it: the login is dropped like an app's.
 */
export class AccessRequestAccess extends pulumi.ComponentResource {
    /** Every name derived for the request. */
    public readonly names: AccessRequestNames;
    /** The request's name. */
    public readonly requestName: string;
    /** The expiry as every layer is told it (`2026-12-24T18:00:00Z`). */
    public readonly expires: string;
    /** The login role (kubernetes / secretsmanager); undefined for vault-dynamic. */
    public readonly login?: postgresql.Role;
    /** The login's password (secret); undefined for vault-dynamic. */
    public readonly password?: pulumi.Output<string>;
    /** Connection settings (no password). */
    public readonly settings: pulumi.Output<ConnectionSettings>;
    /** Where the credentials are delivered (object names, ARN or Vault path). */
    public readonly delivered: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: AccessRequestAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:AccessRequestAccess", name, {}, opts);
        const { request, organization, database } = args;
        const server = args.connection.database;
        this.requestName = request.name;
        this.names = args.names;
        this.expires = expiryTimestamp(request.expires);
        const groupRole = database.groupRoles[request.access];
        const labels = { "app.kubernetes.io/name": request.serviceAccount, "postgres-access/access-request": request.name };

        if (request.credentials !== "vault-dynamic") {
            this.password = generatedLoginPassword(`${name}-password`, this);
            this.login = new postgresql.Role(`${name}-login`, {
                ...loginRoleSettings({ roleName: this.names.loginRole, access: request.access, groupRole: groupRole.name, connectionLimit: ACCESS_REQUEST_CONNECTION_LIMIT }),
                // PostgreSQL refuses the login's password from this instant on, whoever runs what.
                validUntil: postgresValidUntil(request.expires),
                password: scramVerifierOf(`${name}-login`, this.password, this),
            }, { parent: this, dependsOn: database.privilegesReady, additionalSecretOutputs: ["password"] });
        }

        const sslmode = clientSslMode(server.tls);
        const verify = sslmode === "verify-full";
        this.settings = pulumi.all([server.host, server.port, database.databaseName]).apply(([host, port, db]) => ({
            host,
            port,
            database: db,
            username: this.names.loginRole,
            sslmode,
            ...(verify ? { sslrootcert: POD_CA_PATH } : {}),
        }));

        switch (request.credentials) {
            case "kubernetes": {
                const secret = new DatabaseSecret(`${name}-secret`, {
                    namespace: args.namespace,
                    secretName: this.names.secret,
                    settings: this.settings,
                    password: this.password,
                    caCertPem: verify ? server.caCertPem : undefined,
                    labels,
                }, { parent: this, dependsOn: this.login ? [this.login] : [] });
                // The requester's ServiceAccount may read this one Secret through the API (pods mount it anyway).
                const role = new k8s.rbac.v1.Role(`${name}-reader`, {
                    metadata: { name: this.names.secret, namespace: args.namespace, labels: managedLabels(labels) },
                    rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [this.names.secret], verbs: ["get"] }],
                }, { parent: this });
                new k8s.rbac.v1.RoleBinding(`${name}-reader`, {
                    metadata: { name: this.names.secret, namespace: args.namespace, labels: managedLabels(labels) },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                    subjects: [{ kind: "ServiceAccount", name: request.serviceAccount, namespace: organization.name }],
                }, { parent: this });
                this.delivered = secret.secretName.apply((s): Record<string, string> => ({ secret: s }));
                break;
            }
            case "secretsmanager": {
                if (!args.connection.aws || !args.secretsKeyArn) throw new Error(`access request ${organization.name}/${request.name}: credentials "secretsmanager" need the AWS settings`);
                const credentials = new AppSecretsManagerCredentials(`${name}-aws`, {
                    secretName: this.names.secretsManagerSecret,
                    roleName: this.names.iamRole,
                    namespace: organization.name,
                    serviceAccount: request.serviceAccount,
                    keyArn: args.secretsKeyArn,
                    settings: this.settings,
                    password: this.password,
                    env: args.env,
                    aws: args.connection.aws,
                    notAfter: this.expires,
                }, { parent: this, dependsOn: this.login ? [this.login] : [] });
                this.delivered = pulumi.all([credentials.secretArn, credentials.roleArn]).apply(([secretArn, roleArn]): Record<string, string> => ({ secretsManagerSecret: secretArn, iamRole: roleArn }));
                break;
            }
            case "vault-dynamic": {
                const vaultConnection = args.connection.vault;
                const connection = args.vaultConnection;
                if (!vaultConnection || !connection) throw new Error(`access request ${organization.name}/${request.name}: credentials "vault-dynamic" need the Vault settings`);
                const platform = { ...vaultConnection, mount: pulumi.output(vaultConnection.mount) };
                const vaultOpts = { parent: this };
                const ttls = requestLeaseTtls(request.expires, args.now, platform.maxTtl);
                new vault.database.SecretBackendRole(`${name}-role`, {
                    backend: platform.mount,
                    name: this.names.vaultRole,
                    dbName: connection.connectionName,
                    creationStatements: pulumi.output(groupRole.name).apply((g) => requestCreationStatements(g, request.expires)),
                    renewStatements: requestRenewStatements(),
                    revocationStatements: dynamicRevocationStatements(connection.adminRole),
                    defaultTtl: ttls.defaultTtl,
                    maxTtl: ttls.maxTtl,
                }, { ...vaultOpts, dependsOn: [...database.privilegesReady, ...connection.ready] });
                const path = platform.mount.apply((m) => credentialsPath(m, "dynamic", this.names.vaultRole));
                const policy = new vault.Policy(`${name}-policy`, {
                    name: this.names.vaultRole,
                    policy: platform.mount.apply((m) => appPolicy(m, "dynamic", this.names.vaultRole, { revokeOwnLeases: true })),
                }, vaultOpts);
                new vault.kubernetes.AuthBackendRole(`${name}-auth`, {
                    backend: platform.kubernetesAuthMount,
                    roleName: this.names.vaultRole,
                    boundServiceAccountNames: [request.serviceAccount],
                    boundServiceAccountNamespaces: [organization.name],
                    audience: VAULT_AUDIENCE,
                    tokenPolicies: [policy.name],
                    tokenTtl: Math.min(3600, ttls.maxTtl),
                    tokenMaxTtl: Math.min(VAULT_TOKEN_MAX_TTL, ttls.maxTtl),
                    tokenNoDefaultPolicy: false,
                }, vaultOpts);
                vaultSecretsOperatorObjects(`${name}-vso`, {
                    namespace: args.namespace,
                    app: request.serviceAccount,
                    workload: request.serviceAccount,
                    serviceAccount: request.serviceAccount,
                    vaultRole: this.names.vaultRole,
                    vaultNamespace: platform.namespace,
                    kubernetesAuthMount: platform.kubernetesAuthMount,
                    mount: platform.mount,
                    credentialsPath: `creds/${this.names.vaultRole}`,
                    dynamic: true,
                    name: this.names.secret,
                    settings: this.settings,
                }, { parent: this });
                this.delivered = path.apply((p): Record<string, string> => ({ vaultPath: p, secret: this.names.secret }));
                break;
            }
            default:
                throw new Error(`access request ${organization.name}/${request.name}: unknown credentials "${(request as AccessRequestSpec).credentials}"`);
        }
        if (verify && request.credentials !== "kubernetes") {
            const caConfigMap = `${this.names.secret}-ca`;
            databaseCaConfigMap(`${name}-ca`, { namespace: args.namespace, name: caConfigMap, app: request.serviceAccount, caCertPem: server.caCertPem }, { parent: this });
            this.delivered = this.delivered.apply((d): Record<string, string> => ({ ...d, caConfigMap }));
        }
        this.registerOutputs({ settings: this.settings, expires: this.expires });
    }
}
