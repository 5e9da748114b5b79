import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { restrictedSecurityContexts } from "../kubernetes/podSecurity";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { DatabaseEngine, PostgresServer, ServerTlsMode } from "./postgresServer";
import { CertificateIdentity, DEFAULT_SERVER_PATHS, MTLS_SERVER_PATHS, ServerPaths, renderPgHba, renderPgIdent, serverSettings, settingsAsArgs } from "./serverConfig";
import { ClusterSpiffeId, SpiffeSettings, spiffeHelperConfig, spiffeId, spiffePodPieces } from "../kubernetes/spiffe";
import { SERVER_PID_DIR, SERVER_PID_FILE, SOCKET_DIR } from "./serverConfig";
import { dnsLabel } from "../naming";
import { DATA_DIRECTORY_CHECK, dataDirectoryCheckScript, dataLayout } from "./dataDirectory";
import { RESTRICTED_POD_SECURITY_LABELS, managedLabels } from "../kubernetes/organizationNamespace";

/** uid/gid of the `postgres` user in the official image. */
export const POSTGRES_UID = 999;
export const POSTGRES_PORT = 5432;
/** Data volume mount up to PostgreSQL 17; PGDATA lives one level below, so initdb never meets lost+found. 18+: `dataLayout`. */
export const DATA_MOUNT = dataLayout("17").mountPath;
export const PGDATA = dataLayout("17").pgdata;
/**
 * Where the `initdb` init container (only it) mounts the admin password from the `<svc>-admin` Secret, for
 * the image's `POSTGRES_PASSWORD_FILE`.
 */
export const ADMIN_PASSWORD_MOUNT = "/etc/postgresql/admin";
export const ADMIN_PASSWORD_FILE = `${ADMIN_PASSWORD_MOUNT}/password`;

export interface StatefulSetPostgresArgs {
    /** Namespace for the server (created here, Pod Security "restricted"). */
    namespace: string;
    /** PostgreSQL major version. */
    version: string;
    /**
     * The major of the data directory being upgraded from, set only while following the documented upgrade
     * procedure (docs/operations.md): the `data-directory-check` init container then keeps that major's data directory
     * (renamed, on the same volume) and lets initdb create an empty cluster of `version` for the restore.
     * Without it a pod of `version` refuses to start on another major's data.
     */
    upgradeFrom?: string;
    /**
     * Resolves to `version` once a version change has been checked against the running server (the stack's
     * guard, `stacks/previousDeployment.ts`); the StatefulSet waits for it (pod annotation
     * `postgres-access/major-version`), so a refused change never reaches the pod.
     */
    versionCheck?: pulumi.Input<string>;
    /** Container image; defaults to the official `postgres:<version>-bookworm`. */
    image?: string;
    /** TLS mode the server enforces. */
    tls: ServerTlsMode;
    /** Size of the data volume (PVC template). */
    storageSize: string;
    /** StorageClass of the data volume. */
    storageClassName?: string;
    /** Container resources. */
    resources: ContainerResources;
    /** max_connections. */
    maxConnections: number;
    /** Namespaces whose pods may connect on 5432 (the organizations'). */
    clientNamespaces: string[];
    /**
     * Namespaces carrying all these labels may connect too: a platform stack's organizations, whose
     * namespaces other stacks create (`ENVIRONMENT_LABEL`). @default none
     */
    clientNamespaceLabels?: Record<string, string>;
    /** Extra DNS names / IPs for the server certificate (e.g. the adminEndpoint host used with verify-full). */
    extraCertificateNames?: string[];
    /** Service name (also the StatefulSet's). */
    serviceName?: string;
    /**
     * tls "mtls" only: the SPIRE installation, and for every app the certificate CN that may log in as its
     * login role (pg_ident.conf).
     */
    spiffe?: ServerSpiffeSettings;
}

/** CPU and memory of a container. */
export interface ContainerQuantities {
    /** CPU as a Kubernetes quantity, e.g. "250m". */
    cpu: string;
    /** Memory as a Kubernetes quantity, e.g. "512Mi". */
    memory: string;
}

/** Requests and limits of the server container. */
export interface ContainerResources {
    /** What the scheduler reserves. */
    requests: ContainerQuantities;
    /** The ceiling. */
    limits: ContainerQuantities;
}

/** The SPIRE installation and the certificate identities the server maps to logins (tls "mtls"). */
export interface ServerSpiffeSettings extends SpiffeSettings {
    /** Per app: the certificate CN that may log in as its login role (pg_ident.conf). */
    identities: CertificateIdentity[];
}

/** The server's SPIFFE identity (tls "mtls"). */
export interface ServerSpiffeIdentity {
    /** URI SAN of the server's X509-SVID. */
    spiffeId: string;
    /** DNS names of the SVID (the first is its CN). */
    dnsNames: string[];
}

/** Where the data volume is mounted and PGDATA lies. */
export interface DataLayout {
    /** Mount path of the data volume. */
    mountPath: string;
    /** PGDATA. */
    pgdata: string;
}

/** Every problem with the args that would fail after registering children (empty = valid). */
export function statefulSetPostgresProblems(args: StatefulSetPostgresArgs): string[] {
    const problems: string[] = [];
    if (!Object.values(ServerTlsMode).includes(args.tls)) problems.push(`tls "${args.tls}" must be one of ${Object.values(ServerTlsMode).join(", ")}`);
    if (args.tls === "mtls" && !args.spiffe) problems.push("tls \"mtls\" needs spiffe settings");
    if (!/^\d+$/.test(args.version)) problems.push(`version "${args.version}" must be a PostgreSQL major version such as "18"`);
    if (args.upgradeFrom !== undefined && !(Number(args.upgradeFrom) < Number(args.version))) problems.push(`upgradeFrom "${args.upgradeFrom}" must be an older major than version "${args.version}"`);
    return problems;
}

/** The admin login inside the in-cluster server. */
export const ADMIN_USER = "postgres";

export { restrictedSecurityContexts };

/**
 * PostgreSQL as a hardened single-replica StatefulSet: generated admin password (secret; read from a file
 * only by the `initdb` init container, the image's docker-ensure-initdb.sh), a private CA and server
 * certificate, TLS-only pg_hba with scram-sha-256, a Pod Security "restricted" pod, probes, requests/limits,
 * PGDATA below the mount, a retained PVC, headless and client Services, and a NetworkPolicy admitting 5432
 * only from the organizations' namespaces.
 *
 * tls "mtls": no private CA; the server presents its SPIFFE X509-SVID, which a spiffe-helper native sidecar
 * writes into a shared in-memory emptyDir (ClusterSPIFFEID with the Service's DNS names, first = CN), and
 * renews with a SIGHUP to the postmaster's PID file (a reload: open connections keep their TLS session), which
 * lives in its own emptyDir: the helper (same uid) gets no access to the socket directory;
 * every app connection must present its own SVID, mapped by CN to exactly one login (pg_ident.conf); the
 * admin logs in only from loopback (`kubectl port-forward`) with its password.
 *
 * No PodDisruptionBudget: with one replica any PDB that protects the pod also blocks every node drain.
 */
export class StatefulSetPostgres extends pulumi.ComponentResource implements PostgresServer {
    /** Always `statefulset`. */
    public readonly engine: DatabaseEngine = "statefulset";
    /** PostgreSQL major version, e.g. "18". */
    public readonly majorVersion: string;
    /** Host name apps connect to. */
    public readonly host: pulumi.Output<string>;
    /** Port apps connect to. */
    public readonly port: pulumi.Output<number>;
    /** The admin login `pulumi up` uses (never given to apps). */
    public readonly adminUsername: pulumi.Output<string>;
    /** Its password; a Pulumi secret. */
    public readonly adminPassword: pulumi.Output<string>;
    /** Always true: the admin login is a real SUPERUSER. */
    public readonly adminIsSuperuser: boolean = true;
    /** PEM bundle of the CA(s) the server certificate chains to. */
    public readonly caCertPem: pulumi.Output<string>;
    /** TLS mode the server enforces. */
    public readonly tls: ServerTlsMode;
    /** The rendered pg_hba.conf. */
    public readonly pgHba: string;
    /** The rendered pg_ident.conf (mtls). */
    public readonly pgIdent?: string;
    /** mtls: the server's SPIFFE ID and the DNS names (first = CN) of its SVID. */
    public readonly spiffeIdentity?: ServerSpiffeIdentity;
    /** The server settings passed as `-c` flags. */
    public readonly settings: Record<string, string>;
    /** The StatefulSet (for dependsOn and for tests). */
    public readonly statefulSet: k8s.apps.v1.StatefulSet;
    /** Name of the namespace. */
    public readonly namespaceName: pulumi.Output<string>;
    /** Where the data PVC is mounted and PGDATA lies (per major: the official image's layout). */
    public readonly dataLayout: DataLayout;

    constructor(name: string, args: StatefulSetPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:StatefulSetPostgres", name, {}, opts);
        const problems = statefulSetPostgresProblems(args);
        if (problems.length) throw new Error(`StatefulSetPostgres ${name}: ${problems.join("; ")}`);
        const { requests, limits } = args.resources;
        const containerResources = { requests: { cpu: requests.cpu, memory: requests.memory }, limits: { cpu: limits.cpu, memory: limits.memory } };
        const serviceName = args.serviceName ?? "postgres";
        const labels = managedLabels({ "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": serviceName });
        const selector = { "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": serviceName };
        this.majorVersion = args.version;
        this.tls = args.tls;

        // Kept on delete: deleting a namespace deletes every PVC in it, whatever the StatefulSet's retention
        // policy says, so `pulumi destroy` (or moving the server to another namespace) must leave it, and
        // the data volume in it, to be removed by hand.
        const namespace = new k8s.core.v1.Namespace(name, {
            metadata: { name: args.namespace, labels: { ...managedLabels(), ...RESTRICTED_POD_SECURITY_LABELS } },
        }, { parent: this, retainOnDelete: true });
        const ns = namespace.metadata.name;
        const inNamespace = { parent: this, dependsOn: [namespace] };
        const host = `${serviceName}.${args.namespace}.svc.cluster.local`;

        // Admin password: generated, secret, stored in a Secret for the pod; never handed to apps.
        const adminPassword = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this });
        const adminSecret = new k8s.core.v1.Secret(`${name}-admin`, {
            metadata: { name: `${serviceName}-admin`, namespace: ns, labels },
            type: "Opaque",
            stringData: { POSTGRES_USER: ADMIN_USER, POSTGRES_PASSWORD: pulumi.secret(adminPassword.result) },
        }, { ...inNamespace, additionalSecretOutputs: ["data", "stringData"] });

        const mtls = args.tls === "mtls" ? args.spiffe! : undefined;

        const extra = args.extraCertificateNames ?? [];
        const isIp = (n: string) => /^[0-9.:]+$/.test(n);
        // require / verify-full: a private CA and a server certificate for every name clients use. (With mtls
        // the server presents its SPIFFE SVID, written by spiffe-helper, and no private CA exists.)
        const serverTls = mtls ? undefined : this.privateServerCertificate(name, {
            namespace: args.namespace, serviceName, host, ns, labels, inNamespace,
            dnsNames: [serviceName, `${serviceName}.${args.namespace}`, `${serviceName}.${args.namespace}.svc`, host, `*.${serviceName}-headless.${args.namespace}.svc.cluster.local`, ...extra.filter((n) => !isIp(n))],
            ipAddresses: extra.filter(isIp),
        });

        const paths: ServerPaths = mtls ? MTLS_SERVER_PATHS : DEFAULT_SERVER_PATHS;
        const configOptions = { tls: args.tls, adminUser: ADMIN_USER, maxConnections: args.maxConnections };
        this.pgHba = renderPgHba(configOptions);
        this.pgIdent = mtls ? renderPgIdent(mtls.identities) : undefined;
        this.settings = serverSettings(configOptions, paths);
        // Mounted as a directory (not subPath) so edits reach the pod; pg_ident.conf changes (new apps) take
        // effect at the next reload, e.g. spiffe-helper's SIGHUP on SVID renewal.
        const hbaConfig = new k8s.core.v1.ConfigMap(`${name}-hba`, {
            metadata: { name: `${serviceName}-hba`, namespace: ns, labels },
            data: { "pg_hba.conf": this.pgHba, ...(this.pgIdent ? { "pg_ident.conf": this.pgIdent } : {}) },
        }, inNamespace);

        let spiffe: ReturnType<typeof spiffePodPieces> | undefined;
        let serviceAccountName: pulumi.Output<string> | undefined;
        if (mtls) {
            const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, {
                metadata: { name: serviceName, namespace: ns, labels },
                automountServiceAccountToken: false,
            }, inNamespace);
            serviceAccountName = serviceAccount.metadata.name;
            const helperConfig = new k8s.core.v1.ConfigMap(`${name}-spiffe-helper`, {
                metadata: { name: `${serviceName}-spiffe-helper`, namespace: ns, labels },
                data: { "helper.conf": spiffeHelperConfig({ agentSocketPath: mtls.agentSocketPath, pidFile: SERVER_PID_FILE, renewSignal: "SIGHUP" }) },
            }, inNamespace);
            // The helper reads the server's PID file (read-only) to signal it; it has its own emptyDir, so the
            // helper never sees the socket directory (uid 999 + `local … peer` = the superuser).
            spiffe = spiffePodPieces(mtls, helperConfig.metadata.name, POSTGRES_UID, [{ name: "pid", mountPath: SERVER_PID_DIR, readOnly: true }]);
            // The SVID names every host clients use (verify-full), the first being the CN; IP addresses are not
            // DNS names (SPIRE refuses them), so an adminEndpoint given as an IP cannot be verified.
            const svidDnsNames = [host, serviceName, `${serviceName}.${args.namespace}`, `${serviceName}.${args.namespace}.svc`, ...extra.filter((n) => !isIp(n))];
            this.spiffeIdentity = { spiffeId: spiffeId(mtls.trustDomain, args.namespace, serviceName), dnsNames: svidDnsNames };
            new ClusterSpiffeId(dnsLabel(args.namespace, serviceName, "postgres-server"), {
                settings: mtls,
                namespace: args.namespace,
                serviceAccount: serviceName,
                podLabels: selector,
                dnsNames: svidDnsNames,
            }, { parent: this });
        }

        const headless = new k8s.core.v1.Service(`${name}-headless`, {
            metadata: { name: `${serviceName}-headless`, namespace: ns, labels },
            spec: { clusterIP: "None", publishNotReadyAddresses: true, selector, ports: [{ name: "postgresql", port: POSTGRES_PORT, targetPort: "postgresql" }] },
        }, inNamespace);
        const clientService = new k8s.core.v1.Service(`${name}-client`, {
            metadata: { name: serviceName, namespace: ns, labels },
            spec: { type: "ClusterIP", selector, ports: [{ name: "postgresql", port: POSTGRES_PORT, targetPort: "postgresql" }] },
        }, inNamespace);

        const security = restrictedSecurityContexts(POSTGRES_UID);
        const image = args.image ?? `docker.io/library/postgres:${args.version}-bookworm`;
        const serverArgs = settingsAsArgs(this.settings);
        const layout = dataLayout(args.version);
        this.dataLayout = layout;
        // Everything the server reads and writes; the initdb init container's temporary server needs the same.
        const serverMounts: k8s.types.input.core.v1.VolumeMount[] = [
            { name: "data", mountPath: layout.mountPath },
            ...(spiffe ? [spiffe.certMount] : [{ name: "tls", mountPath: "/etc/postgresql/tls", readOnly: true }]),
            { name: "hba", mountPath: "/etc/postgresql/conf", readOnly: true },
            { name: "run", mountPath: SOCKET_DIR },
            ...(spiffe ? [{ name: "pid", mountPath: SERVER_PID_DIR }] : []),
            { name: "tmp", mountPath: "/tmp" },
        ];
        // The image's docker-ensure-initdb.sh (its documented Kubernetes init container; a no-op once PGDATA
        // exists) is the only container that gets the admin password, as a file. The image's entrypoint
        // exports POSTGRES_PASSWORD (also when read from POSTGRES_PASSWORD_FILE) into the environment of the
        // process it execs, so the server container runs `postgres` itself and never holds the password: not
        // in /proc/<pid>/environ, nor in a mount, both of which a same-uid process sharing the PID namespace
        // (spiffe-helper) can read. (initdb's own processes export it too, for the moment they run at each
        // pod start.)
        // Before initdb: refuses to go on when the volume holds another major's data (a version change without
        // the upgrade procedure), instead of a server that never becomes ready or an empty cluster beside it.
        const dataDirectoryCheck: k8s.types.input.core.v1.Container = {
            name: DATA_DIRECTORY_CHECK,
            image,
            command: ["sh", "-c", dataDirectoryCheckScript()],
            env: [
                { name: "PGDATA", value: layout.pgdata },
                { name: "DATA_VOLUME", value: layout.mountPath },
                { name: "EXPECTED_MAJOR", value: args.version },
                ...(args.upgradeFrom ? [{ name: "UPGRADE_FROM", value: args.upgradeFrom }] : []),
            ],
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
            securityContext: security.container,
            terminationMessagePolicy: "FallbackToLogsOnError",
            volumeMounts: [{ name: "data", mountPath: layout.mountPath }],
        };
        const initdb: k8s.types.input.core.v1.Container = {
            name: "initdb",
            image,
            command: ["docker-ensure-initdb.sh"],
            args: serverArgs,
            env: [
                { name: "PGDATA", value: layout.pgdata },
                { name: "POSTGRES_USER", value: ADMIN_USER },
                { name: "POSTGRES_PASSWORD_FILE", value: ADMIN_PASSWORD_FILE },
                { name: "POSTGRES_INITDB_ARGS", value: "--auth-host=scram-sha-256 --auth-local=peer --data-checksums" },
            ],
            resources: containerResources,
            securityContext: security.container,
            volumeMounts: [...serverMounts, { name: "admin-password", mountPath: ADMIN_PASSWORD_MOUNT, readOnly: true }],
        };
        const isReady = ["pg_isready", "--host=127.0.0.1", `--port=${POSTGRES_PORT}`, `--username=${ADMIN_USER}`, "--dbname=postgres"];
        this.statefulSet = new k8s.apps.v1.StatefulSet(`${name}-statefulset`, {
            metadata: { name: serviceName, namespace: ns, labels },
            spec: {
                serviceName: headless.metadata.name,
                replicas: 1,
                podManagementPolicy: "OrderedReady",
                updateStrategy: { type: "RollingUpdate" },
                selector: { matchLabels: selector },
                persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                template: {
                    metadata: {
                        labels: { ...labels, ...selector },
                        // A change of pg_hba.conf rules restarts the pod; pg_ident.conf entries (apps) do not (they
                        // take effect at the next reload). Without mtls nothing signals PostgreSQL when the
                        // server certificate Secret changes, so a renewed certificate rolls the pod (PostgreSQL
                        // only reads its certificate at start and on reload).
                        annotations: {
                            "postgres-access/major-version": args.versionCheck ?? args.version,
                            "postgres-access/pg-hba-sha": sha(this.pgHba),
                            ...(serverTls ? { "postgres-access/server-cert-sha": serverTls.certPem.apply(sha) } : {}),
                        },
                    },
                    spec: {
                        automountServiceAccountToken: false,
                        serviceAccountName,
                        enableServiceLinks: false,
                        // spiffe-helper (same uid) signals the server's PID on certificate renewal.
                        shareProcessNamespace: mtls ? true : undefined,
                        // spiffe-helper first: its startup probe holds initdb (whose temporary server loads the
                        // SVID) back until the first SVID is written.
                        initContainers: [...(spiffe?.initContainers ?? []), dataDirectoryCheck, initdb],
                        securityContext: security.pod,
                        terminationGracePeriodSeconds: 60,
                        containers: [{
                            name: "postgres",
                            image,
                            command: ["postgres"],
                            args: serverArgs,
                            ports: [{ name: "postgresql", containerPort: POSTGRES_PORT, protocol: "TCP" }],
                            env: [{ name: "PGDATA", value: layout.pgdata }],
                            resources: containerResources,
                            securityContext: security.container,
                            readinessProbe: { exec: { command: isReady }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
                            livenessProbe: { exec: { command: isReady }, initialDelaySeconds: 30, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
                            startupProbe: { exec: { command: isReady }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
                            volumeMounts: serverMounts,
                        }],
                        volumes: [
                            // 0640 root:postgres (fsGroup) is a key mode PostgreSQL accepts for root-owned files.
                            ...(spiffe ? spiffe.volumes : [{ name: "tls", secret: { secretName: serverTls!.secretName, defaultMode: 0o640 } }]),
                            { name: "hba", configMap: { name: hbaConfig.metadata.name, defaultMode: 0o444 } },
                            { name: "run", emptyDir: {} },
                            ...(spiffe ? [{ name: "pid", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }] : []),
                            // 0440 root:postgres (fsGroup); mounted by the initdb init container only.
                            { name: "admin-password", secret: { secretName: adminSecret.metadata.name, items: [{ key: "POSTGRES_PASSWORD", path: path.posix.basename(ADMIN_PASSWORD_FILE) }], defaultMode: 0o440 } },
                            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                        ],
                    },
                },
                volumeClaimTemplates: [{
                    metadata: { name: "data", labels },
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        storageClassName: args.storageClassName,
                        resources: { requests: { storage: args.storageSize } },
                    },
                }],
            },
        }, { ...inNamespace, dependsOn: [namespace, clientService], retainOnDelete: false });

        new k8s.networking.v1.NetworkPolicy(`${name}-ingress`, {
            metadata: { name: `${serviceName}-ingress`, namespace: ns, labels },
            spec: {
                podSelector: { matchLabels: selector },
                policyTypes: ["Ingress"],
                ingress: [{
                    from: [
                        { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: args.clientNamespaces.length ? args.clientNamespaces : ["-none-"] }] } },
                        ...(args.clientNamespaceLabels ? [{ namespaceSelector: { matchLabels: args.clientNamespaceLabels } }] : []),
                    ],
                    ports: [{ protocol: "TCP", port: POSTGRES_PORT }],
                }],
            },
        }, inNamespace);

        this.namespaceName = ns;
        this.host = pulumi.all([clientService.metadata.name, ns]).apply(([svc, n]) => `${svc}.${n}.svc.cluster.local`);
        this.port = pulumi.output(POSTGRES_PORT);
        this.adminUsername = pulumi.output(ADMIN_USER);
        this.adminPassword = pulumi.secret(adminPassword.result);
        // With mtls, apps verify the server's SVID against the trust bundle their own spiffe-helper writes;
        // pulumi and Vault can verify it only against a configured, stable trust bundle.
        this.caCertPem = serverTls ? serverTls.caCertPem : pulumi.output(mtls?.trustBundlePem ?? "");
        this.registerOutputs({ host: this.host, port: this.port, adminUsername: this.adminUsername, caCertPem: this.caCertPem });
    }

    /** The private CA, the server certificate (renewed 30 days before expiry) and the `<svc>-tls` Secret. */
    private privateServerCertificate(name: string, a: {
        namespace: string; serviceName: string; host: string; ns: pulumi.Output<string>; labels: Record<string, string>;
        inNamespace: pulumi.CustomResourceOptions; dnsNames: string[]; ipAddresses: string[];
    }): { caCertPem: pulumi.Output<string>; certPem: pulumi.Output<string>; secretName: pulumi.Output<string> } {
        const keyOpts = { parent: this, additionalSecretOutputs: ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"] };
        const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, keyOpts);
        const caCert = new tls.SelfSignedCert(`${name}-ca`, {
            privateKeyPem: caKey.privateKeyPem,
            isCaCertificate: true,
            validityPeriodHours: 24 * 365 * 10,
            subject: { commonName: `postgres-access ${a.namespace}/${a.serviceName} CA`, organization: "postgres-access" },
            allowedUses: ["cert_signing", "crl_signing"],
        }, { parent: this });
        const serverKey = new tls.PrivateKey(`${name}-server-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, keyOpts);
        const serverCert = new tls.LocallySignedCert(`${name}-server-cert`, {
            certRequestPem: new tls.CertRequest(`${name}-server-csr`, {
                privateKeyPem: serverKey.privateKeyPem,
                subject: { commonName: a.host, organization: "postgres-access" },
                dnsNames: a.dnsNames,
                ipAddresses: a.ipAddresses,
            }, { parent: this }).certRequestPem,
            caPrivateKeyPem: caKey.privateKeyPem,
            caCertPem: caCert.certPem,
            validityPeriodHours: 24 * 365,
            earlyRenewalHours: 24 * 30,
            allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        }, { parent: this });
        const secret = new k8s.core.v1.Secret(`${name}-tls`, {
            metadata: { name: `${a.serviceName}-tls`, namespace: a.ns, labels: a.labels },
            type: "kubernetes.io/tls",
            stringData: {
                "tls.crt": serverCert.certPem,
                "tls.key": pulumi.secret(serverKey.privateKeyPem),
                "ca.crt": caCert.certPem,
            },
        }, { ...a.inNamespace, additionalSecretOutputs: ["data", "stringData"] });
        return { caCertPem: caCert.certPem, certPem: serverCert.certPem, secretName: secret.metadata.name };
    }
}

function sha(text: string): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("crypto").createHash("sha256").update(text).digest("hex").slice(0, 16);
}
