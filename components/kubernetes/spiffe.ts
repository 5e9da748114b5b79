/**
 * SPIFFE/SPIRE pieces for mutual TLS: ClusterSPIFFEID objects (spire.spiffe.io/v1alpha1, read by the SPIRE
 * controller manager), the spiffe-helper configuration, and the pod pieces (native sidecar, the SPIFFE CSI
 * driver volume `csi.spiffe.io`, the shared certificate directory) for the server and for app pods.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { managedLabels } from "./organizationNamespace";

/** Settings of the SPIRE installation (config `database.spiffe`). */
export interface SpiffeSettings {
    trustDomain: string;
    /** Pinned spiffe-helper image. */
    helperImage: string;
    /** Path of the agent socket inside the pod (under the csi.spiffe.io volume). */
    agentSocketPath: string;
    /** className of the SPIRE controller manager that should reconcile the ClusterSPIFFEIDs. */
    className?: string;
}

/** Directory (emptyDir) where spiffe-helper writes svid.pem, svid_key.pem and svid_bundle.pem. */
export const CERT_DIR = "/spiffe-certs";
const AGENT_DIR = "/spiffe-workload-api";

/** The SPIFFE ID SPIRE gives a pod running as `serviceAccount` in `namespace`. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
    return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * The DNS name (and so the subject CN, which SPIRE sets to the first DNS name) of an app's SVID; the server
 * maps exactly this CN to the app's login in pg_ident.conf. X.509 limits a CN to 64 characters.
 */
export function appCertificateCommonName(trustDomain: string, namespace: string, serviceAccount: string): string {
    const cn = `${serviceAccount}.${namespace}.pg.${trustDomain}`;
    if (cn.length > 64) {
        throw new Error(`certificate CN "${cn}" is longer than 64 characters; shorten the app, organization or trust domain name`);
    }
    return cn;
}

/** spiffe-helper's helper.conf (HCL). On renewal it sends `renewSignal` to the process in `pidFile`. */
export function spiffeHelperConfig(options: { agentSocketPath: string; pidFile?: string; renewSignal?: string }): string {
    const lines = [
        `agent_address = "${options.agentSocketPath}"`,
        `cert_dir = "${CERT_DIR}"`,
        `svid_file_name = "svid.pem"`,
        `svid_key_file_name = "svid_key.pem"`,
        `svid_bundle_file_name = "svid_bundle.pem"`,
        // PostgreSQL refuses a key readable by others; the helper runs as the same uid as the server.
        `cert_file_mode = 0644`,
        `key_file_mode = 0600`,
        `add_intermediates_to_bundle = false`,
        `daemon_mode = true`,
    ];
    if (options.pidFile) {
        lines.push(`pid_file_name = "${options.pidFile}"`, `renew_signal = "${options.renewSignal ?? "SIGHUP"}"`);
    }
    return lines.join("\n") + "\n";
}

/** Container security context meeting Pod Security "restricted". */
function restricted(uid: number): k8s.types.input.core.v1.SecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** What a pod needs for SPIFFE certificates: a native sidecar (restartPolicy Always) plus volumes. */
export interface SpiffePodPieces {
    initContainers: k8s.types.input.core.v1.Container[];
    volumes: k8s.types.input.core.v1.Volume[];
    /** Mount of the certificate directory for the main container (read-only). */
    certMount: k8s.types.input.core.v1.VolumeMount;
}

/**
 * The spiffe-helper native sidecar writing the pod's SVID to CERT_DIR, with the SPIFFE CSI driver volume for
 * the agent socket and the helper.conf ConfigMap. `uid` must match the main container's so that the key
 * (0600) is readable by it and the helper may signal it.
 */
export function spiffePodPieces(settings: SpiffeSettings, helperConfigMap: pulumi.Input<string>, uid: number, waitImage?: string): SpiffePodPieces {
    const initContainers: k8s.types.input.core.v1.Container[] = [{
        name: "spiffe-helper",
        image: settings.helperImage,
        args: ["-config", "/etc/spiffe-helper/helper.conf"],
        restartPolicy: "Always",
        securityContext: restricted(uid),
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
        volumeMounts: [
            { name: "spiffe-workload-api", mountPath: AGENT_DIR, readOnly: true },
            { name: "spiffe-certs", mountPath: CERT_DIR },
            { name: "spiffe-helper-config", mountPath: "/etc/spiffe-helper", readOnly: true },
        ],
    }];
    if (waitImage) {
        // The main container starts only once the first SVID is on disk.
        initContainers.push({
            name: "wait-for-svid",
            image: waitImage,
            command: ["sh", "-c", `until [ -s ${CERT_DIR}/svid.pem ] && [ -s ${CERT_DIR}/svid_key.pem ]; do sleep 1; done`],
            securityContext: restricted(uid),
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
            volumeMounts: [{ name: "spiffe-certs", mountPath: CERT_DIR, readOnly: true }],
        });
    }
    return {
        initContainers,
        volumes: [
            { name: "spiffe-workload-api", csi: { driver: "csi.spiffe.io", readOnly: true } },
            { name: "spiffe-certs", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
            { name: "spiffe-helper-config", configMap: { name: helperConfigMap } },
        ],
        certMount: { name: "spiffe-certs", mountPath: CERT_DIR, readOnly: true },
    };
}

export interface ClusterSpiffeIdArgs {
    settings: SpiffeSettings;
    /** Namespace of the workload. */
    namespace: string;
    /** ServiceAccount of the workload: only its pods get the identity. */
    serviceAccount: string;
    /** Extra pod label selector (e.g. the server's labels). */
    podLabels?: Record<string, string>;
    /** DNS names of the SVID; the first becomes the subject CN. */
    dnsNames: string[];
}

/**
 * A ClusterSPIFFEID giving exactly one ServiceAccount's pods in one namespace the SPIFFE ID
 * `spiffe://<td>/ns/<ns>/sa/<sa>` with the given DNS names.
 */
export class ClusterSpiffeId extends pulumi.ComponentResource {
    constructor(name: string, args: ClusterSpiffeIdArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:ClusterSpiffeId", name, {}, opts);
        new k8s.apiextensions.CustomResource(name, {
            apiVersion: "spire.spiffe.io/v1alpha1",
            kind: "ClusterSPIFFEID",
            metadata: { name, labels: managedLabels() },
            spec: {
                className: args.settings.className,
                spiffeIDTemplate: "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.namespace } },
                podSelector: args.podLabels ? { matchLabels: args.podLabels } : {},
                workloadSelectorTemplates: [`k8s:ns:${args.namespace}`, `k8s:sa:${args.serviceAccount}`],
                dnsNameTemplates: args.dnsNames,
                hint: args.serviceAccount,
            },
        }, { parent: this });
        this.registerOutputs({});
    }
}
