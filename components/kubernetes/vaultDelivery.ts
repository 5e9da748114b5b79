/**
 * Objects that bring Vault-issued database credentials into an app's namespace: a SecretProviderClass for
 * the Secrets Store CSI driver's Vault provider, Vault Secrets Operator objects (VaultAuth +
 * VaultDynamicSecret writing a Secret with DATABASE_URL and restarting the workload on rotation), and the
 * annotations the Vault Agent injector reads with the projected token volume it logs in with.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as yaml from "js-yaml";
import { ConnectionSettings } from "../connectionInfo";
import { managedLabels } from "./organizationNamespace";

/** The audience every Kubernetes auth role requires and every delivery mode's token carries. */
export const VAULT_AUDIENCE = "vault";

export interface VaultDeliveryArgs {
    namespace: pulumi.Input<string>;
    /** The app (its Deployment is assumed to be named like it unless `workload` is given). */
    app: string;
    workload?: string;
    serviceAccount: string;
    /** Vault Kubernetes auth role of the app. */
    vaultRole: string;
    vaultNamespace?: string;
    kubernetesAuthMount: string;
    /** `<mount>` and the path within it (`static-creds/<role>` or `creds/<role>`). */
    mount: pulumi.Input<string>;
    credentialsPath: pulumi.Input<string>;
    dynamic: boolean;
    /** Name of the object(s) and of the Secret they produce. */
    name: string;
    /** Connection settings without credentials (username comes from Vault). */
    settings: pulumi.Input<ConnectionSettings>;
    /** csi: also sync the files into the Secret `name` (default true). */
    syncSecret?: boolean;
}

/** A Go template (VSO / agent) rendering DATABASE_URL from Vault's username and password. */
export function databaseUrlTemplate(settings: ConnectionSettings, user: string, password: string): string {
    const query = [`sslmode=${settings.sslmode}`, ...(["sslrootcert", "sslcert", "sslkey"] as const).filter((k) => settings[k]).map((k) => `${k}=${encodeURIComponent(settings[k]!)}`)];
    // urlquery percent-encodes everything outside [A-Za-z0-9-_.~] except space (→ '+'); Vault's default
    // password policy and username template produce only [A-Za-z0-9-], so the result is exact.
    return `postgresql://${user}:${password}@${settings.host}:${settings.port}/${encodeURIComponent(settings.database)}?${query.join("&")}`;
}

/** The SecretProviderClass (provider vault) objects parameter, as YAML (every value a string). */
export function vaultCsiObjects(secretPath: string): string {
    return yaml.dump([
        { objectName: "username", secretPath, secretKey: "username" },
        { objectName: "password", secretPath, secretKey: "password" },
    ]);
}

/** Delivery `csi` with the Vault provider. */
export function vaultSecretProviderClass(name: string, args: VaultDeliveryArgs, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
    const secretPath = pulumi.all([args.mount, args.credentialsPath]).apply(([m, p]) => `${m}/${p}`);
    return new k8s.apiextensions.CustomResource(name, {
        apiVersion: "secrets-store.csi.x-k8s.io/v1",
        kind: "SecretProviderClass",
        metadata: { name: args.name, namespace: args.namespace, labels: managedLabels({ "app.kubernetes.io/name": args.app }) },
        spec: {
            provider: "vault",
            parameters: {
                roleName: args.vaultRole,
                // No vaultAddress: the provider then talks to Vault through the Vault Agent sidecar the Helm
                // chart installs beside it (set the address there), which caches tokens and renews leases;
                // an address here bypasses that agent.
                vaultKubernetesMountPath: args.kubernetesAuthMount,
                ...(args.vaultNamespace ? { vaultNamespace: args.vaultNamespace } : {}),
                audience: VAULT_AUDIENCE,
                objects: secretPath.apply(vaultCsiObjects),
            },
            ...(args.syncSecret === false ? {} : {
                secretObjects: [{
                    secretName: args.name,
                    type: "Opaque",
                    data: [{ objectName: "username", key: "username" }, { objectName: "password", key: "password" }],
                }],
            }),
        },
    }, opts);
}

/** Delivery `vault-secrets-operator`: VaultAuth + VaultDynamicSecret (also for static-creds). */
export function vaultSecretsOperatorObjects(name: string, args: VaultDeliveryArgs, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource[] {
    const labels = managedLabels({ "app.kubernetes.io/name": args.app });
    const auth = new k8s.apiextensions.CustomResource(`${name}-auth`, {
        apiVersion: "secrets.hashicorp.com/v1beta1",
        kind: "VaultAuth",
        metadata: { name: args.name, namespace: args.namespace, labels },
        spec: {
            method: "kubernetes",
            mount: args.kubernetesAuthMount,
            ...(args.vaultNamespace ? { namespace: args.vaultNamespace } : {}),
            kubernetes: { role: args.vaultRole, serviceAccount: args.serviceAccount, audiences: [VAULT_AUDIENCE] },
        },
    }, opts);
    const secret = new k8s.apiextensions.CustomResource(`${name}-secret`, {
        apiVersion: "secrets.hashicorp.com/v1beta1",
        kind: "VaultDynamicSecret",
        metadata: { name: args.name, namespace: args.namespace, labels },
        spec: {
            vaultAuthRef: args.name,
            mount: args.mount,
            path: args.credentialsPath,
            // static-creds: VSO re-reads when Vault's rotation is due (ttl), not on a lease
            allowStaticCreds: !args.dynamic,
            renewalPercent: 67,
            // dynamic: deleting the VaultDynamicSecret (the app's access request) revokes its lease, so
            // Vault drops the user at once instead of at the lease's end (seed 004).
            ...(args.dynamic ? { revoke: true } : {}),
            destination: {
                create: true,
                name: args.name,
                overwrite: true,
                transformation: {
                    templates: {
                        DATABASE_URL: { text: pulumi.output(args.settings).apply((s) => databaseUrlTemplate(s as ConnectionSettings, '{{ get .Secrets "username" | urlquery }}', '{{ get .Secrets "password" | urlquery }}')) },
                        host: { text: pulumi.output(args.settings).apply((s) => s.host) },
                        port: { text: pulumi.output(args.settings).apply((s) => String(s.port)) },
                        database: { text: pulumi.output(args.settings).apply((s) => s.database) },
                        sslmode: { text: pulumi.output(args.settings).apply((s) => s.sslmode) },
                        username: { text: '{{ get .Secrets "username" }}' },
                        password: { text: '{{ get .Secrets "password" }}' },
                    },
                },
            },
            // A rotated or re-issued credential rolls the app's pods so they read the new Secret.
            rolloutRestartTargets: [{ kind: "Deployment", name: args.workload ?? args.app }],
        },
    }, { ...opts, dependsOn: [auth] });
    return [auth, secret];
}

/** Name of the projected ServiceAccount token volume the Vault Agent logs in with. */
export const VAULT_AGENT_TOKEN_VOLUME = "vault-token";

/**
 * The annotation (hashicorp/vault-k8s `AnnotationAgentServiceAccountTokenVolumeName`) naming the volume the
 * agent injector mounts into its containers and reads the login token from, instead of the pod's default
 * API token (whose audience is the API server's, which the auth role's `audience: vault` refuses).
 */
export const VAULT_AGENT_TOKEN_VOLUME_ANNOTATION = "vault.hashicorp.com/agent-service-account-token-volume-name";

/**
 * The volume to add to the pod spec of a vault-agent app: a projected ServiceAccount token for audience
 * `vault`, renewed by the kubelet before it expires. No app container needs to mount it; the injector mounts
 * it into the agent containers (at /var/run/secrets/vault.hashicorp.com/serviceaccount, file `token`).
 */
export function vaultAgentTokenVolume(expirationSeconds = 3600): { name: string; projected: { sources: { serviceAccountToken: { audience: string; expirationSeconds: number; path: string } }[] } } {
    return {
        name: VAULT_AGENT_TOKEN_VOLUME,
        projected: { sources: [{ serviceAccountToken: { audience: VAULT_AUDIENCE, expirationSeconds, path: "token" } }] },
    };
}

/** Mode of the rendered credentials file: its owner (the uid the agent runs as) reads it, nobody else. */
export const VAULT_AGENT_FILE_MODE = "0400";

/** Who the Vault agent runs as, and so who owns the file it renders (mode 0400). */
export interface VaultAgentIdentity {
    /**
     * The uid of the app's container. The agent runs as it (`agent-run-as-user`), so the app owns and can read
     * the file. Absent: `agent-run-as-same-user`, the injector then takes the uid of the pod's first container,
     * which must set `securityContext.runAsUser` itself (a pod-level runAsUser does not count; the injector
     * refuses the pod otherwise, and refuses uid 0).
     */
    runAsUser?: number;
    /** The gid the agent runs as (default: runAsUser). */
    runAsGroup?: number;
}

/**
 * Delivery `vault-agent`: the pod annotations the Vault Agent injector reads. They name the token volume
 * from `vaultAgentTokenVolume()`, which the pod spec must carry too. The injector's agent runs as uid 100,
 * gid 1000 unless told otherwise and writes the file with the template's `perms`; the annotations make it run
 * as the app's own uid (the configured one, or the first container's) so the 0400 file is the app's.
 */
export function vaultAgentAnnotations(args: { vaultRole: string; secretPath: string; settings: ConnectionSettings; vaultNamespace?: string; authPath: string } & VaultAgentIdentity): Record<string, string> {
    const template = `{{- with secret "${args.secretPath}" -}}\n${databaseUrlTemplate(args.settings, "{{ .Data.username | urlquery }}", "{{ .Data.password | urlquery }}")}\n{{- end }}\n`;
    const identity: Record<string, string> = args.runAsUser !== undefined
        ? {
            "vault.hashicorp.com/agent-run-as-user": String(args.runAsUser),
            "vault.hashicorp.com/agent-run-as-group": String(args.runAsGroup ?? args.runAsUser),
            "vault.hashicorp.com/agent-run-as-same-user": "false",
        }
        : { "vault.hashicorp.com/agent-run-as-same-user": "true" };
    return {
        "vault.hashicorp.com/agent-inject": "true",
        "vault.hashicorp.com/role": args.vaultRole,
        "vault.hashicorp.com/auth-path": `auth/${args.authPath}`,
        [VAULT_AGENT_TOKEN_VOLUME_ANNOTATION]: VAULT_AGENT_TOKEN_VOLUME,
        ...(args.vaultNamespace ? { "vault.hashicorp.com/namespace": args.vaultNamespace } : {}),
        "vault.hashicorp.com/agent-pre-populate": "true",
        "vault.hashicorp.com/agent-inject-secret-database-url": args.secretPath,
        "vault.hashicorp.com/agent-inject-template-database-url": template,
        "vault.hashicorp.com/agent-inject-perms-database-url": VAULT_AGENT_FILE_MODE,
        "vault.hashicorp.com/agent-set-security-context": "true",
        ...identity,
    };
}

/** Where the agents of vault-agent apps reach Vault: an egress rule of the organization's namespace. */
export interface VaultEgress {
    /** Vault's namespace when it runs in this cluster (matched by `kubernetes.io/metadata.name`). */
    namespace?: string;
    /** Vault's address blocks when it runs outside the cluster. */
    cidrBlocks?: string[];
    port: number;
}

/**
 * The egress rules an organization's namespace needs for its vault-agent apps: to Vault's pods by namespace
 * (in-cluster: a Service CIDR would not match, network plugins see the pod address after translation) and
 * to `egressCidrBlocks` (external Vault). The port: `egressPort`, else the port of `address`, else 8200
 * in-cluster (the Vault pods' port) or 443.
 */
export function vaultAgentEgress(vault: { address: string; kubernetesNamespace?: string; egressCidrBlocks: string[]; egressPort?: number }): VaultEgress[] {
    const addressPort = new URL(vault.address).port;
    const port = vault.egressPort ?? (addressPort ? Number(addressPort) : vault.kubernetesNamespace ? 8200 : 443);
    return [
        ...(vault.kubernetesNamespace ? [{ namespace: vault.kubernetesNamespace, port }] : []),
        ...(vault.egressCidrBlocks.length ? [{ cidrBlocks: vault.egressCidrBlocks, port }] : []),
    ];
}
