import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as vault from "@pulumi/vault";
import * as k8s from "@pulumi/kubernetes";
import { AppSpec } from "../types";
import { ConnectionSettings } from "../connectionInfo";
import { VaultOrganizationAccess } from "./vaultPlatform";
import { VaultConnection } from "../platformConnection";
import { VAULT_TOKEN_MAX_TTL, appPolicy, credentialsPath } from "./vaultPolicies";
import { dynamicCreationStatements, dynamicRenewStatements, dynamicRevocationStatements, staticRotationStatements } from "./postgresStatements";
import { VAULT_AUDIENCE, vaultAgentAnnotations, vaultAgentTokenVolume, vaultSecretProviderClass, vaultSecretsOperatorObjects } from "../kubernetes/vaultDelivery";
import { managedLabels } from "../kubernetes/organizationNamespace";

export interface VaultAppCredentialsArgs {
    app: AppSpec;
    /** Namespace name (from config) and as created. */
    namespaceName: string;
    namespace: pulumi.Input<string>;
    serviceAccount: string;
    /** Vault role / policy / auth role name. */
    vaultRole: string;
    /** The app's login role (vault-static) or group role (vault-dynamic). */
    loginRole?: pulumi.Input<string>;
    groupRole: pulumi.Input<string>;
    /** Resources the Vault role needs first (login role, grants). */
    dependsOn: pulumi.Resource[];
    /** Name of the delivered objects / Secret. */
    deliveryName: string;
    /** Connection settings without credentials. */
    settings: pulumi.Input<ConnectionSettings>;
    /** The shared Vault engine. The Vault and postgresql providers come from the parent's `providers`. */
    vault: VaultConnection;
    /** The organization's own connection in the mount. */
    connection: VaultOrganizationAccess;
    /** PostgreSQL major version: from 16 on, the organization's admin needs ADMIN OPTION on the login it rotates. */
    majorVersion: number;
}

/**
 * One app's Vault side, on its organization's own connection (created by the organization): for a static app ADMIN OPTION for the organization's admin on the app's login (PostgreSQL 16+; a
 * dynamic app's group role gets it once, from the connection), the static role (rotation) or dynamic role
 * (TTL), a policy allowing only `read` on the app's own credentials path (and, for a dynamic app the Vault
 * Secrets Operator delivers, revoking its own leases), a Kubernetes auth role bound to
 * exactly the app's ServiceAccount and namespace (audience `vault`), and the delivery objects.
 */
export class VaultAppCredentials extends pulumi.ComponentResource {
    /** The app's credentials path (`<mount>/static-creds/<role>` or `<mount>/creds/<role>`). */
    public readonly credentialsPath: pulumi.Output<string>;
    /** The policy text. */
    public readonly policy: pulumi.Output<string>;
    /** vault-agent delivery: the annotations to put on the app's pod template. */
    public readonly agentAnnotations?: pulumi.Output<Record<string, string>>;
    /** vault-agent delivery: the projected token volume (audience `vault`) the annotations name; add it to the pod spec. */
    public readonly agentTokenVolume?: ReturnType<typeof vaultAgentTokenVolume>;

    constructor(name: string, args: VaultAppCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:VaultAppCredentials", name, {}, opts);
        const { app, connection } = args;
        const platform = { ...args.vault, mount: pulumi.output(args.vault.mount), defaults: args.vault };
        const dynamic = app.credentials === "vault-dynamic";
        const kind = dynamic ? "dynamic" : "static";
        const vaultOpts = { parent: this };
        const pgOpts = { parent: this };

        // PostgreSQL 16+: CREATEROLE alone no longer lets the admin alter (rotate) a role; it needs ADMIN
        // OPTION on exactly that role. The login is this app's alone, so this is the one grant for it.
        const adminGrants: pulumi.Resource[] = [];
        if (!dynamic && args.majorVersion >= 16) {
            adminGrants.push(new postgresql.GrantRole(`${name}-vault-admin`, {
                role: connection.adminLogin.name,
                grantRole: args.loginRole!,
                withAdminOption: true,
            }, { ...pgOpts, dependsOn: [...args.dependsOn, connection.adminLogin] }));
        }
        const dependsOn = [...args.dependsOn, ...adminGrants, ...connection.ready];

        if (dynamic) {
            new vault.database.SecretBackendRole(`${name}-role`, {
                backend: platform.mount,
                name: args.vaultRole,
                dbName: connection.connectionName,
                creationStatements: pulumi.output(args.groupRole).apply((g) => dynamicCreationStatements(g, app.connectionLimit)),
                renewStatements: dynamicRenewStatements(),
                revocationStatements: dynamicRevocationStatements(connection.adminRole),
                defaultTtl: app.defaultTtl ?? platform.defaults.defaultTtl,
                maxTtl: app.maxTtl ?? platform.defaults.maxTtl,
            }, { ...vaultOpts, dependsOn });
        } else {
            new vault.database.SecretBackendStaticRole(`${name}-role`, {
                backend: platform.mount,
                name: args.vaultRole,
                dbName: connection.connectionName,
                username: args.loginRole!,
                rotationStatements: staticRotationStatements(),
                ...(app.rotationSchedule
                    ? { rotationSchedule: app.rotationSchedule, rotationWindow: app.rotationWindow }
                    : { rotationPeriod: app.rotationPeriod ?? platform.defaults.staticRotationPeriod }),
            }, { ...vaultOpts, dependsOn });
        }

        this.credentialsPath = platform.mount.apply((m) => credentialsPath(m, kind, args.vaultRole));
        this.policy = platform.mount.apply((m) => appPolicy(m, kind, args.vaultRole, { revokeOwnLeases: app.delivery === "vault-secrets-operator" }));
        const policy = new vault.Policy(`${name}-policy`, { name: args.vaultRole, policy: this.policy }, vaultOpts);
        new vault.kubernetes.AuthBackendRole(`${name}-auth`, {
            backend: platform.kubernetesAuthMount,
            roleName: args.vaultRole,
            boundServiceAccountNames: [args.serviceAccount],
            boundServiceAccountNamespaces: [args.namespaceName],
            audience: VAULT_AUDIENCE,
            tokenPolicies: [policy.name],
            tokenTtl: 3600,
            tokenMaxTtl: VAULT_TOKEN_MAX_TTL,
            tokenNoDefaultPolicy: false,
        }, vaultOpts);

        const relative = dynamic ? `creds/${args.vaultRole}` : `static-creds/${args.vaultRole}`;
        const delivery = {
            namespace: args.namespace,
            app: app.name,
            serviceAccount: args.serviceAccount,
            vaultRole: args.vaultRole,
            vaultNamespace: platform.namespace,
            kubernetesAuthMount: platform.kubernetesAuthMount,
            mount: platform.mount,
            credentialsPath: relative,
            dynamic,
            name: args.deliveryName,
            settings: args.settings,
            syncSecret: app.syncSecret,
        };
        const k8sOpts = { parent: this };
        switch (app.delivery) {
            case "csi":
                vaultSecretProviderClass(`${name}-spc`, delivery, k8sOpts);
                break;
            case "vault-secrets-operator":
                vaultSecretsOperatorObjects(`${name}-vso`, delivery, k8sOpts);
                break;
            case "vault-agent": {
                this.agentAnnotations = pulumi.all([this.credentialsPath, args.settings]).apply(([p, s]) => vaultAgentAnnotations({
                    vaultRole: args.vaultRole, secretPath: p, settings: s as ConnectionSettings, vaultNamespace: platform.namespace, authPath: platform.kubernetesAuthMount,
                    runAsUser: app.runAsUser, runAsGroup: app.runAsGroup,
                }));
                const tokenVolume = vaultAgentTokenVolume();
                this.agentTokenVolume = tokenVolume;
                // Published in the namespace so the app team can copy them into its pod template: the
                // annotations, the token volume they name, and both as one patch of a Deployment.
                new k8s.core.v1.ConfigMap(`${name}-agent`, {
                    metadata: { name: `${args.deliveryName}-vault-agent`, namespace: args.namespace, labels: managedLabels({ "app.kubernetes.io/name": app.name }) },
                    data: {
                        "annotations.json": this.agentAnnotations.apply((a) => JSON.stringify(a, null, 2)),
                        "volumes.json": JSON.stringify([tokenVolume], null, 2),
                        "deployment-patch.json": this.agentAnnotations.apply((a) => JSON.stringify({ spec: { template: { metadata: { annotations: a }, spec: { volumes: [tokenVolume] } } } }, null, 2)),
                    },
                }, k8sOpts);
                break;
            }
            default:
                throw new Error(`app ${app.name}: delivery "${app.delivery}" cannot carry Vault credentials`);
        }
        this.registerOutputs({ credentialsPath: this.credentialsPath });
    }
}
