/**
 * SPIFFE/SPIRE pieces for mutual TLS: ClusterSPIFFEID objects (spire.spiffe.io/v1alpha1, read by the SPIRE
 * controller manager), the spiffe-helper configuration, and the pod pieces (native sidecar, the SPIFFE CSI
 * driver volume `csi.spiffe.io`, the shared certificate directory) for the server and for app pods.
 *
 * Versions these pieces rely on (checked against the sources): spiffe-helper ≥ 0.10.0 (`pid_file_name`,
 * `hint`, `cert_file_mode`/`key_file_mode`, `health_checks`), spire-controller-manager ≥ 0.6.0
 * (ClusterSPIFFEID `hint`), SPIRE ≥ 1.7 (hints in the Workload API), Kubernetes ≥ 1.29 (native sidecars:
 * init containers with `restartPolicy: Always`, feature gate SidecarContainers, beta and on by default since
 * 1.29, alpha and off in 1.28; where the field is not honoured the helper, which never exits, is an ordinary
 * init container and the pod never starts).
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { managedLabels } from "./organizationNamespace";
import { restrictedSecurityContexts } from "./podSecurity";

/** Settings of the SPIRE installation (config `database.spiffe`). */
export interface SpiffeSettings {
    /** SPIFFE trust domain, a DNS name such as example.org. */
    trustDomain: string;
    /** Pinned spiffe-helper image. */
    helperImage: string;
    /** Path of the agent socket inside the pod; its directory is where the csi.spiffe.io volume is mounted. */
    agentSocketPath: string;
    /** className of the SPIRE controller manager that should reconcile the ClusterSPIFFEIDs. */
    className?: string;
    /**
     * PEM of the trust domain's root CA(s), when it is stable (SPIRE with an UpstreamAuthority). With it
     * `pulumi up` (and Vault) verify the server's SVID (`verify-full`); without it the admin connection through
     * the `kubectl port-forward` tunnel uses `sslmode=require`.
     */
    trustBundlePem?: string;
}

/** Directory (emptyDir) where spiffe-helper writes svid.pem, svid_key.pem and svid_bundle.pem. */
export const CERT_DIR = "/spiffe-certs";
/** The files spiffe-helper writes: the SVID with its intermediates, its key (0600) and the trust bundle. */
export const SVID_FILES = {
    cert: `${CERT_DIR}/svid.pem`,
    key: `${CERT_DIR}/svid_key.pem`,
    bundle: `${CERT_DIR}/svid_bundle.pem`,
} as const;
const HELPER_CONFIG_DIR = "/etc/spiffe-helper";
/**
 * The entry hint of every ClusterSPIFFEID postgres-access registers; spiffe-helper writes the SVID with this
 * hint. A pod that also matches another ClusterSPIFFEID (e.g. the installation's catch-all default, which
 * carries no DNS name) then still gets the SVID whose CN the server maps.
 */
export const SVID_HINT = "postgres-access";
/** Port of spiffe-helper's health listener (`/ready` once the SVID is on disk); the startup probe uses it. */
export const HELPER_HEALTH_PORT = 18081;
/** Pod label an app pod must carry to be selected by its app's ClusterSPIFFEID (value: its ServiceAccount). */
export const DATABASE_CLIENT_LABEL = "postgres-access/database-client";
/** uid the app-side pieces assume when none is given (the app container must run as the same uid). */
export const DEFAULT_APP_UID = 10001;

/** The SPIFFE ID SPIRE gives a pod running as `serviceAccount` in `namespace`. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
    return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * The DNS name (and so the subject CN: SPIRE sets the CN to the first DNS name of an entry) of an app's SVID;
 * the server maps exactly this CN to the app's login in pg_ident.conf. X.509 limits a CN to 64 characters.
 */
export function appCertificateCommonName(trustDomain: string, namespace: string, serviceAccount: string): string {
    const cn = `${serviceAccount}.${namespace}.pg.${trustDomain}`;
    if (cn.length > 64) {
        throw new Error(`certificate CN "${cn}" is longer than 64 characters; shorten the app, organization or trust domain name`);
    }
    return cn;
}

/** Labels selecting an app's pods for its ClusterSPIFFEID (put them on the pod template). */
export function databaseClientLabels(serviceAccount: string): Record<string, string> {
    return { [DATABASE_CLIENT_LABEL]: serviceAccount };
}

export interface SpiffeHelperConfigOptions {
    agentSocketPath: string;
    /** Server: the PID file of the process to signal when a renewed SVID is written. */
    pidFile?: string;
    /** Signal sent to the PID in `pidFile` (PostgreSQL: SIGHUP = pg_reload_conf()). */
    renewSignal?: string;
}

/**
 * spiffe-helper's helper.conf (HCL; file modes are octal). It writes the SVID whose hint is SVID_HINT, the
 * key 0600 (PostgreSQL and libpq refuse a key with group or world access unless root owns it), and serves
 * `/ready` once the files are written. With `pidFile` it sends `renewSignal` to that PID after each renewal.
 */
export function spiffeHelperConfig(options: SpiffeHelperConfigOptions): string {
    const lines = [
        `agent_address = "${options.agentSocketPath}"`,
        `cert_dir = "${CERT_DIR}"`,
        `svid_file_name = "${path.posix.basename(SVID_FILES.cert)}"`,
        `svid_key_file_name = "${path.posix.basename(SVID_FILES.key)}"`,
        `svid_bundle_file_name = "${path.posix.basename(SVID_FILES.bundle)}"`,
        `cert_file_mode = 0644`,
        `key_file_mode = 0600`,
        // svid.pem = leaf + intermediates (sent in the handshake); svid_bundle.pem = the trust domain's roots.
        `add_intermediates_to_bundle = false`,
        `include_federated_domains = false`,
        `hint = "${SVID_HINT}"`,
        `daemon_mode = true`,
    ];
    if (options.pidFile) {
        lines.push(`pid_file_name = "${options.pidFile}"`, `renew_signal = "${options.renewSignal ?? "SIGHUP"}"`);
    }
    lines.push(
        "health_checks {",
        "  listener_enabled = true",
        `  bind_port = ${HELPER_HEALTH_PORT}`,
        `  liveness_path = "/live"`,
        `  readiness_path = "/ready"`,
        "}",
    );
    return lines.join("\n") + "\n";
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
 * the agent socket and the helper.conf ConfigMap. Its startup probe (`/ready`) holds the pod's other
 * containers back until the first SVID is on disk. `uid` must be the uid of the container reading the key
 * (0600, owned by the helper), and of the process the helper signals.
 */
export function spiffePodPieces(
    settings: SpiffeSettings,
    helperConfigMap: pulumi.Input<string>,
    uid: number,
    extraHelperMounts: k8s.types.input.core.v1.VolumeMount[] = [],
): SpiffePodPieces {
    const probe = (p: string) => ({ httpGet: { path: p, port: HELPER_HEALTH_PORT, scheme: "HTTP" } });
    return {
        initContainers: [{
            name: "spiffe-helper",
            image: settings.helperImage,
            args: ["-config", `${HELPER_CONFIG_DIR}/helper.conf`],
            restartPolicy: "Always",
            securityContext: restrictedSecurityContexts(uid).container,
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
            startupProbe: { ...probe("/ready"), periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 150 },
            livenessProbe: { ...probe("/live"), periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
            volumeMounts: [
                { name: "spiffe-workload-api", mountPath: path.posix.dirname(settings.agentSocketPath), readOnly: true },
                { name: "spiffe-certs", mountPath: CERT_DIR },
                { name: "spiffe-helper-config", mountPath: HELPER_CONFIG_DIR, readOnly: true },
                ...extraHelperMounts,
            ],
        }],
        volumes: [
            { name: "spiffe-workload-api", csi: { driver: "csi.spiffe.io", readOnly: true } },
            { name: "spiffe-certs", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
            { name: "spiffe-helper-config", configMap: { name: helperConfigMap, defaultMode: 0o444 } },
        ],
        certMount: { name: "spiffe-certs", mountPath: CERT_DIR, readOnly: true },
    };
}

/** Where an app connects (PGHOST, PGPORT, PGDATABASE, PGUSER). */
export interface AppConnectionTarget {
    host: string;
    port: number;
    database: string;
    username: string;
}

export interface MtlsAppPodArgs {
    settings: SpiffeSettings;
    /** The app's ServiceAccount (its SPIFFE ID and certificate CN derive from it). */
    serviceAccount: string;
    /** The app's helper ConfigMap (`<sa>-spiffe-helper`, created by AppSpiffeIdentity). */
    helperConfigMap: string;
    /** uid of the app container; the helper runs as the same uid so the 0600 key is readable. */
    uid?: number;
    /** Connection target for the PG* variables (omit to take them from the credentials Secret instead). */
    connection?: AppConnectionTarget;
}

/** Everything an app's pod template needs for mutual TLS to the server. */
export interface MtlsAppPod {
    /** Labels for the pod template (the app's ClusterSPIFFEID selects pods by them). */
    labels: Record<string, string>;
    serviceAccountName: string;
    /** Pod securityContext (Pod Security "restricted", fsGroup for the shared emptyDir). */
    securityContext: k8s.types.input.core.v1.PodSecurityContext;
    /** The spiffe-helper native sidecar. */
    initContainers: k8s.types.input.core.v1.Container[];
    volumes: k8s.types.input.core.v1.Volume[];
    /** For the app container: the certificate directory, read-only. */
    volumeMounts: k8s.types.input.core.v1.VolumeMount[];
    /** For the app container: libpq's PGSSLMODE=verify-full, PGSSLCERT, PGSSLKEY, PGSSLROOTCERT (+ PGHOST...). */
    env: { name: string; value: string }[];
}

/**
 * The pod pieces of an app that connects with mutual TLS (pure; every piece passes Pod Security
 * "restricted"). libpq reads PGSSLCERT (the SVID and its intermediates, sent to the server), PGSSLKEY and
 * PGSSLROOTCERT (the trust bundle that verifies the server's SVID) on every new connection, and so does
 * node-postgres given the DATABASE_URL as `connectionString` (it parses the URL, reading the files, per new
 * connection); a client that reads the files once (a config parsed at startup, certificates loaded into
 * memory) keeps presenting the old SVID until it expires. Open connections are unaffected by a renewal.
 */
export function mtlsAppPod(args: MtlsAppPodArgs): MtlsAppPod {
    const uid = args.uid ?? DEFAULT_APP_UID;
    const pieces = spiffePodPieces(args.settings, args.helperConfigMap, uid);
    const env = [
        { name: "PGSSLMODE", value: "verify-full" },
        { name: "PGSSLCERT", value: SVID_FILES.cert },
        { name: "PGSSLKEY", value: SVID_FILES.key },
        { name: "PGSSLROOTCERT", value: SVID_FILES.bundle },
    ];
    if (args.connection) {
        env.push(
            { name: "PGHOST", value: args.connection.host },
            { name: "PGPORT", value: String(args.connection.port) },
            { name: "PGDATABASE", value: args.connection.database },
            { name: "PGUSER", value: args.connection.username },
        );
    }
    return {
        labels: databaseClientLabels(args.serviceAccount),
        serviceAccountName: args.serviceAccount,
        securityContext: { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } },
        initContainers: pieces.initContainers,
        volumes: pieces.volumes,
        volumeMounts: [pieces.certMount],
        env,
    };
}

export interface ClusterSpiffeIdArgs {
    settings: SpiffeSettings;
    /** Namespace of the workload. */
    namespace: string;
    /** ServiceAccount of the workload: only its pods get the identity. */
    serviceAccount: string;
    /** Labels the workload's pods carry; only pods with all of them are registered. */
    podLabels: Record<string, string>;
    /** DNS names of the SVID; the first becomes the subject CN. */
    dnsNames: string[];
}

/** The ClusterSPIFFEID spec for one workload (pure, for tests and the plan). */
export function clusterSpiffeIdSpec(args: ClusterSpiffeIdArgs): Record<string, unknown> {
    if (Object.keys(args.podLabels).length === 0) {
        throw new Error(`ClusterSPIFFEID for ${args.namespace}/${args.serviceAccount}: podLabels must select the workload's pods`);
    }
    return {
        className: args.settings.className,
        spiffeIDTemplate: "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.namespace } },
        podSelector: { matchLabels: args.podLabels },
        // Registered only for the workload's ServiceAccount, even if another pod copies the labels.
        workloadSelectorTemplates: [`k8s:ns:${args.namespace}`, `k8s:sa:${args.serviceAccount}`],
        dnsNameTemplates: args.dnsNames,
        hint: SVID_HINT,
    };
}

/**
 * A ClusterSPIFFEID giving exactly one ServiceAccount's labelled pods in one namespace the SPIFFE ID
 * `spiffe://<td>/ns/<ns>/sa/<sa>` with the given DNS names. ClusterSPIFFEIDs are cluster-scoped: `name`
 * (also the object's name) must be unique in the cluster, so callers derive it from namespace + account.
 */
export class ClusterSpiffeId extends pulumi.ComponentResource {
    constructor(name: string, args: ClusterSpiffeIdArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:ClusterSpiffeId", name, {}, opts);
        new k8s.apiextensions.CustomResource(name, {
            apiVersion: "spire.spiffe.io/v1alpha1",
            kind: "ClusterSPIFFEID",
            metadata: { name, labels: managedLabels() },
            spec: clusterSpiffeIdSpec(args),
        }, { parent: this });
        this.registerOutputs({});
    }
}
