/**
 * tls: mtls. Under mocks (up and preview): the server's spiffe-helper sidecar, the pieces that must agree
 * with each other (helper.conf, PostgreSQL's file settings, mounts, uid, PID file), the ClusterSPIFFEIDs and
 * the app pod pieces, all checked against Pod Security "restricted".
 *
 * On a real PostgreSQL (15 and 17): certificates are made the way SPIRE issues them (trust-domain root →
 * intermediate → X509-SVID with the URI SAN spiffe://td/ns/<ns>/sa/<sa>, and the DNS names of the entry, the
 * first being the CN), from the ClusterSPIFFEIDs the program registered, laid out as spiffe-helper writes
 * them; the server runs with exactly the pg_hba.conf, pg_ident.conf and settings the program generates
 * (only directories are mapped to a temporary one). Apps connect with what they are delivered: the
 * DATABASE_URL (node-postgres) and the exported pod environment (libpq's psql).
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as net from "net";
import * as tls from "tls";
import { execFile } from "child_process";
import { promisify } from "util";
import { Client, Pool } from "pg";
import { parse as parseConnectionString } from "pg-connection-string";
import * as pulumi from "@pulumi/pulumi";
import { runPulumi, RecordedResource, RunResult } from "../../testing/offlineRun";
import { startPostgres, TestServer, PostgresMajor, TESTED_MAJORS } from "../support/realPostgres";
import { spiffeTrustDomain, Issued } from "../support/certificates";
import { applyProviderResources } from "../support/postgresqlProviderSql";
import { checkPodSecurityRestricted } from "../../policy/podSecurityRestricted";
import { assertKubernetesValid } from "../unit/helpers";
import { MtlsAppPod, SVID_FILES, SVID_HINT } from "../../components/kubernetes/spiffe";
import { SOCKET_DIR } from "../../components/database/serverConfig";
import { describePlan } from "../../tools/plan/planReport";
import type { StackOutputs } from "../../stacks/program";

const TRUST_DOMAIN = "prod.example.org";
const STACK = "mtlstest";
const td = spiffeTrustDomain(TRUST_DOMAIN);
const config = {
    database: {
        engine: "statefulset", version: "17", tls: "mtls",
        adminEndpoint: { host: "localhost", port: 15432 },
        spiffe: { trustDomain: TRUST_DOMAIN, trustBundlePem: td.root.certPem },
    },
    organizations: [
        { name: "acme", apps: [{ name: "billing", access: "owner" }, { name: "storefront", access: "readwrite" }] },
        { name: "globex" },
    ],
};

const runs = new Map<boolean, Promise<RunResult<StackOutputs>>>();
/** The mtls stack under mocks (once per mode; the results are plain records). */
function mtlsStack(preview = false): Promise<RunResult<StackOutputs>> {
    if (!runs.has(preview)) {
        runs.set(preview, runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: STACK, preview, config }));
    }
    return runs.get(preview)!;
}

function resolve<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((done) => output.apply((v) => { done(v); return v; }));
}

/** key = value pairs of helper.conf (top level). */
function helperConf(text: string): Record<string, string> {
    return Object.fromEntries([...text.matchAll(/^(\w+) = (.*)$/gm)].map((m) => [m[1], m[2].replace(/^"(.*)"$/, "$1")]));
}

/** `-c name=value` arguments back to settings. */
function argsToSettings(args: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < args.length; i += 2) {
        assert.strictEqual(args[i], "-c");
        const [k, v] = args[i + 1].split(/=(.*)/s);
        out[k] = v;
    }
    return out;
}

interface ServerPod {
    pod: any;
    postgres: any;
    helper: any;
    initdb: any;
    settings: Record<string, string>;
    helperConf: Record<string, string>;
    helperConfText: string;
    pgHba: string;
    pgIdent: string;
    ids: any[];
}

function serverPod(run: RunResult<StackOutputs>): ServerPod {
    const sts = run.ofType("kubernetes:apps/v1:StatefulSet")[0].inputs;
    const pod = sts.spec.template.spec;
    const configMaps = run.ofType("kubernetes:core/v1:ConfigMap").map((c) => c.inputs);
    const helperConfText: string = configMaps.find((c) => c.metadata.name === "postgres-spiffe-helper")!.data["helper.conf"];
    const hba = configMaps.find((c) => c.data?.["pg_hba.conf"])!.data;
    return {
        pod,
        postgres: pod.containers.find((c: any) => c.name === "postgres"),
        helper: pod.initContainers.find((c: any) => c.name === "spiffe-helper"),
        initdb: pod.initContainers.find((c: any) => c.name === "initdb"),
        settings: argsToSettings(pod.containers[0].args),
        helperConf: helperConf(helperConfText),
        helperConfText,
        pgHba: hba["pg_hba.conf"],
        pgIdent: hba["pg_ident.conf"],
        ids: run.ofType("kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID").map((r) => ({ name: r.inputs.metadata.name, ...r.inputs.spec })),
    };
}

/** The volume a container mounts at a directory containing `file`. */
function volumeHolding(container: any, file: string): string | undefined {
    return container.volumeMounts.find((m: any) => file.startsWith(m.mountPath.replace(/\/?$/, "/")))?.name;
}

describe("mtls stack under mocks", function () {
    this.timeout(60000);
    for (const preview of [false, true]) {
        const mode = preview ? "preview" : "up";

        it(`runs spiffe-helper as a native sidecar that holds the server back until its first SVID (${mode})`, async () => {
            const s = serverPod(await mtlsStack(preview));
            assert.strictEqual(s.helper.restartPolicy, "Always", "native sidecar");
            assert.strictEqual(s.helper.image, "ghcr.io/spiffe/spiffe-helper:0.10.0", "pinned");
            assert.deepStrictEqual(s.helper.startupProbe.httpGet, { path: "/ready", port: 18081, scheme: "HTTP" });
            assert.match(s.helperConfText, /health_checks \{\n {2}listener_enabled = true\n {2}bind_port = 18081\n/);
            assert.deepStrictEqual(s.pod.volumes.find((v: any) => v.name === "spiffe-workload-api").csi, { driver: "csi.spiffe.io", readOnly: true });
            assert.strictEqual(volumeHolding(s.helper, s.helperConf.agent_address), "spiffe-workload-api", "the agent socket is inside the CSI volume");
            assert.deepStrictEqual(s.pod.initContainers.map((c: any) => c.name), ["spiffe-helper", "data-directory-check", "initdb"], "the helper starts first: initdb's temporary server loads the SVID");
            assert.deepStrictEqual(s.initdb.command, ["docker-ensure-initdb.sh"], "the image's own initializer, no shell-based wait loop");
            assert.deepStrictEqual(s.initdb.args, s.postgres.args, "initdb's temporary server runs with the server's settings");
            assert.deepStrictEqual(checkPodSecurityRestricted({ kind: "StatefulSet", spec: { template: { spec: s.pod } } }), []);
        });

        it(`points PostgreSQL at the files the helper writes and lets the helper signal its PID (${mode})`, async () => {
            const s = serverPod(await mtlsStack(preview));
            const written = (key: string) => `${s.helperConf.cert_dir}/${s.helperConf[key]}`;
            assert.strictEqual(s.settings.ssl_cert_file, written("svid_file_name"));
            assert.strictEqual(s.settings.ssl_key_file, written("svid_key_file_name"));
            assert.strictEqual(s.settings.ssl_ca_file, written("svid_bundle_file_name"));
            assert.strictEqual(volumeHolding(s.postgres, s.settings.ssl_cert_file), volumeHolding(s.helper, s.settings.ssl_cert_file));
            assert.strictEqual(s.helperConf.key_file_mode, "0600", "PostgreSQL refuses a key readable by group/others");
            assert.strictEqual(s.helperConf.add_intermediates_to_bundle, "false", "svid.pem carries the intermediates");
            // reload on renewal: SIGHUP to the PID PostgreSQL writes, read through a volume both containers mount
            assert.strictEqual(s.helperConf.pid_file_name, s.settings.external_pid_file);
            assert.strictEqual(s.helperConf.renew_signal, "SIGHUP");
            const pidVolume = volumeHolding(s.helper, s.settings.external_pid_file);
            assert.ok(pidVolume, "the helper mounts the PID file's directory");
            assert.strictEqual(volumeHolding(s.postgres, s.settings.external_pid_file), pidVolume);
            assert.strictEqual(s.helper.volumeMounts.find((m: any) => m.name === pidVolume).readOnly, true, "the helper only reads the PID");
            assert.ok(s.pod.volumes.find((v: any) => v.name === pidVolume).emptyDir, "the PID file has its own emptyDir");
            assert.strictEqual(s.pod.shareProcessNamespace, true, "the helper can see the postmaster's PID");
            assert.strictEqual(s.helper.securityContext.runAsUser, s.postgres.securityContext.runAsUser, "same uid: may signal it, and the 0600 key is the server's");
            assert.strictEqual(s.helperConf.hint, SVID_HINT);
        });

        it(`gives the helper (postgres's uid, so \`local … peer\` would make it the superuser) no way to the socket nor the admin password (${mode})`, async () => {
            const s = serverPod(await mtlsStack(preview));
            const socketDir = s.settings.unix_socket_directories ?? SOCKET_DIR;
            assert.strictEqual(socketDir, "/var/run/postgresql", "the image's default socket directory");
            const socketVolume = volumeHolding(s.postgres, `${socketDir}/.s.PGSQL.5432`);
            assert.ok(socketVolume, "the server's socket directory is a volume");
            assert.strictEqual(volumeHolding(s.helper, `${socketDir}/.s.PGSQL.5432`), undefined, "the helper mounts nothing at the socket directory");
            assert.ok(!s.helper.volumeMounts.some((m: any) => m.name === socketVolume), "the helper mounts the socket's volume nowhere");
            assert.deepStrictEqual(s.helper.volumeMounts.map((m: any) => m.name).sort(), ["pid", "spiffe-certs", "spiffe-helper-config", "spiffe-workload-api"]);
            assert.match(s.pgHba, /^local\s+all\s+postgres\s+peer$/m, "(why: peer maps uid 999 to the superuser)");
            // the admin password: only in initdb's read-only mount, never in an environment
            const adminVolumes = s.pod.volumes.filter((v: any) => v.secret?.secretName === "postgres-admin").map((v: any) => v.name);
            assert.strictEqual(adminVolumes.length, 1);
            for (const c of [...s.pod.initContainers, ...s.pod.containers]) {
                assert.ok(!(c.env ?? []).some((e: any) => e.name === "POSTGRES_PASSWORD" || e.valueFrom?.secretKeyRef), `${c.name}: no password in the environment`);
                assert.strictEqual(c.volumeMounts.some((m: any) => adminVolumes.includes(m.name)), c.name === "initdb", `${c.name}: mounts the admin Secret only if it is initdb`);
            }
        });

        it(`registers one ClusterSPIFFEID per workload, bound to its namespace, pods and ServiceAccount (${mode})`, async () => {
            const run = await mtlsStack(preview);
            const s = serverPod(run);
            assert.strictEqual(s.ids.length, 4, "server + 3 apps");
            for (const id of s.ids) {
                assert.strictEqual(id.spiffeIDTemplate, "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}");
                assert.ok(Object.keys(id.podSelector.matchLabels).length > 0, `${id.name}: pods selected by label`);
                assert.strictEqual(id.hint, SVID_HINT, "the hint the helpers ask for");
                assert.ok(!JSON.stringify(id).includes("*"), "no wildcards");
            }
            const server = s.ids.find((i) => i.workloadSelectorTemplates.includes("k8s:sa:postgres"))!;
            assert.strictEqual(server.name, "postgres-postgres-postgres-server", "cluster-scoped name carries the namespace");
            assert.deepStrictEqual(server.namespaceSelector, { matchLabels: { "kubernetes.io/metadata.name": "postgres" } });
            assert.strictEqual(server.dnsNameTemplates[0], "postgres.postgres.svc.cluster.local", "CN = the host apps verify");
            assert.ok(server.dnsNameTemplates.includes("localhost"), "the adminEndpoint host, for pulumi's verify-full");
            const billing = s.ids.find((i) => i.workloadSelectorTemplates.includes("k8s:sa:billing"))!;
            assert.deepStrictEqual(billing.workloadSelectorTemplates, ["k8s:ns:acme", "k8s:sa:billing"]);
            assert.deepStrictEqual(billing.namespaceSelector, { matchLabels: { "kubernetes.io/metadata.name": "acme" } });
            assert.deepStrictEqual(billing.podSelector, { matchLabels: { "postgres-access/database-client": "billing" } });
            assert.deepStrictEqual(billing.dnsNameTemplates, [`billing.acme.pg.${TRUST_DOMAIN}`]);
            assert.match(s.pgIdent, new RegExp(`^spiffe\\s+billing\\.acme\\.pg\\.prod\\.example\\.org\\s+acme_billing$`, "m"));
            assert.deepStrictEqual(run.ofType("kubernetes:core/v1:ConfigMap").filter((c) => /-spiffe-helper$/.test(c.inputs.metadata.name ?? "")).map((c) => c.inputs.metadata.name).sort(),
                ["billing-spiffe-helper", "globex-spiffe-helper", "postgres-spiffe-helper", "storefront-spiffe-helper"]);
            assert.strictEqual(run.resources.filter((r) => r.type.startsWith("tls:")).length, 0, "no private CA with mtls");
        });
    }

    it("hands each app a verify-full DATABASE_URL and pod pieces that pass Pod Security restricted and match its ClusterSPIFFEID", async () => {
        const run = await mtlsStack();
        const s = serverPod(run);
        const secret = run.ofType("kubernetes:core/v1:Secret").find((x) => x.inputs.metadata?.name === "billing-database")!.inputs.stringData;
        const url = new URL(secret.DATABASE_URL);
        assert.strictEqual(url.searchParams.get("sslmode"), "verify-full");
        assert.deepStrictEqual([url.username, url.password], ["acme_billing", ""], "the certificate is the credential: no password in the URL");
        assert.strictEqual(secret.password, undefined, "nor in the Secret");
        const logins = run.ofType("postgresql:index/role:Role").filter((r) => r.inputs.login && r.inputs.name !== "postgres");
        assert.ok(logins.length > 0 && logins.every((r) => r.inputs.password === undefined && r.inputs.passwordWo === undefined), "the app logins have no password at all");
        assert.deepStrictEqual(run.ofType("random:index/randomPassword:RandomPassword").map((r) => r.name).filter((n) => !n.startsWith("postgres")), [], "only the server's admin password is generated");
        assert.deepStrictEqual([url.searchParams.get("sslcert"), url.searchParams.get("sslkey"), url.searchParams.get("sslrootcert")], [SVID_FILES.cert, SVID_FILES.key, SVID_FILES.bundle]);
        const billing = run.result.organizations.find((o) => o.organizationName === "acme")!.apps.find((a) => a.appName === "billing")!;
        const pod: MtlsAppPod = await resolve(billing.spiffe!.pod);
        const id = s.ids.find((i) => i.workloadSelectorTemplates.includes("k8s:sa:billing"))!;
        for (const [k, v] of Object.entries(id.podSelector.matchLabels)) assert.strictEqual(pod.labels[k], v, "the pod carries the labels its ClusterSPIFFEID selects");
        assert.strictEqual(pod.serviceAccountName, "billing");
        const env = Object.fromEntries(pod.env.map((e) => [e.name, e.value]));
        assert.deepStrictEqual(env, {
            PGSSLMODE: "verify-full", PGSSLCERT: SVID_FILES.cert, PGSSLKEY: SVID_FILES.key, PGSSLROOTCERT: SVID_FILES.bundle,
            PGHOST: "postgres.postgres.svc.cluster.local", PGPORT: "5432", PGDATABASE: "acme", PGUSER: "acme_billing",
        });
        const deployment = {
            kind: "Deployment",
            spec: {
                template: {
                    metadata: { labels: { app: "billing", ...pod.labels } },
                    spec: {
                        serviceAccountName: pod.serviceAccountName,
                        securityContext: pod.securityContext,
                        initContainers: pod.initContainers,
                        containers: [{ name: "app", image: "registry.example.com/billing:1", env: pod.env, volumeMounts: pod.volumeMounts, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
                        volumes: pod.volumes,
                    },
                },
            },
        };
        assert.deepStrictEqual(checkPodSecurityRestricted(deployment), []);
        const helperConfigMap = (pod.volumes.find((v) => v.name === "spiffe-helper-config") as { configMap: { name: string } }).configMap.name;
        const conf = helperConf(run.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.metadata.name === helperConfigMap)!.inputs.data["helper.conf"]);
        assert.strictEqual(`${conf.cert_dir}/${conf.svid_key_file_name}`, env.PGSSLKEY);
        assert.strictEqual(conf.pid_file_name, undefined, "app helpers signal nothing: libpq reads the files per connection");
        assert.strictEqual(pod.securityContext.runAsUser, (pod.initContainers[0].securityContext as any).runAsUser, "the helper writes the 0600 key as the app's uid");
    });

    it("produces a server pod (sidecar, initdb, PID and password volumes) the Kubernetes schemas accept", async () => {
        const run = await mtlsStack();
        await assertKubernetesValid(run.resources.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet"));
    });

    it("says in the plan how the server and each app authenticate", async () => {
        const run = await mtlsStack();
        const text = describePlan(STACK, run.result, run.resources, { preview: false, stacks: [STACK] });
        assert.match(text, /TLS: {4}mutual TLS: the server presents its SPIFFE SVID \(spiffe:\/\/prod\.example\.org\/ns\/postgres\/sa\/postgres\)/);
        assert.match(text, /app billing:[^\n]*\n[^\n]*\n {4}authenticates: mutual TLS: its SPIFFE X509-SVID \(spiffe:\/\/prod\.example\.org\/ns\/acme\/sa\/billing, CN billing\.acme\.pg\.prod\.example\.org -> login acme_billing only/);
    });
});

/** Writes an SVID the way spiffe-helper does (svid.pem = leaf + intermediates, key 0600, bundle = roots). */
function helperFiles(svid: Issued, bundlePem: string): Record<string, { contents: string; mode: number }> {
    return {
        [path.basename(SVID_FILES.cert)]: { contents: svid.certPem + svid.chainPem, mode: 0o644 },
        [path.basename(SVID_FILES.key)]: { contents: svid.keyPem, mode: 0o600 },
        [path.basename(SVID_FILES.bundle)]: { contents: bundlePem, mode: 0o644 },
    };
}

function writeHelperDir(svid: Issued, bundlePem: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pa-svid-"));
    for (const [name, f] of Object.entries(helperFiles(svid, bundlePem))) fs.writeFileSync(path.join(dir, name), f.contents, { mode: f.mode });
    return dir;
}

/** Maps the pod's absolute directories to the test server's config directory. */
function mapToConfigDir(settings: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(settings)) {
        if (k === "listen_addresses") continue;
        out[k] = /^\/(spiffe-certs|etc\/postgresql\/conf|var\/run\/postgres-pid)\//.test(v) ? `{configDir}/${path.basename(v)}` : v;
    }
    return out;
}

function peerFingerprint(client: Client): string {
    const socket = (client as unknown as { connection: { stream: tls.TLSSocket } }).connection.stream;
    return socket.getPeerCertificate().fingerprint256;
}

interface Handshake {
    /** The client verified the server's chain and name. */
    authorized: boolean;
    authorizationError?: string;
    peerCommonName?: string;
    /** What ended the connection after the handshake (e.g. the server's alert). */
    error?: NodeJS.ErrnoException;
}

/**
 * PostgreSQL's SSLRequest, then a TLS handshake with `options`, then a read until the server ends it
 * (with a client certificate it refuses, PostgreSQL's OpenSSL sends its alert after the client's Finished).
 */
function tlsHandshake(port: number, options: tls.ConnectionOptions): Promise<Handshake> {
    return new Promise((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1", () => {
            const request = Buffer.alloc(8);
            request.writeInt32BE(8, 0);
            request.writeInt32BE(80877103, 4); // SSLRequest
            socket.write(request);
        });
        socket.on("error", reject);
        socket.once("data", (answer) => {
            if (answer.toString() !== "S") return reject(new Error(`server refused TLS: ${answer.toString()}`));
            const result: Handshake = { authorized: false };
            const secure = tls.connect({ ...options, socket, rejectUnauthorized: false });
            secure.on("secureConnect", () => {
                result.authorized = secure.authorized;
                result.authorizationError = secure.authorizationError ? String(secure.authorizationError) : undefined;
                result.peerCommonName = secure.getPeerCertificate().subject?.CN as string | undefined;
            });
            secure.on("error", (err) => { result.error = err; });
            secure.on("close", () => resolve(result));
            setTimeout(() => secure.destroy(), 10000).unref();
        });
    });
}

/** A non-loopback IPv4 address of this machine, to connect from somewhere other than 127.0.0.1. */
function nonLoopbackAddress(): string | undefined {
    return Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

for (const version of TESTED_MAJORS) {
    describe(`mutual TLS on real PostgreSQL ${version}`, function () {
        this.timeout(120000);
        const otherTd = spiffeTrustDomain("evil.example.com");
        const externalAddress = nonLoopbackAddress();
        let server: TestServer;
        let resources: RecordedResource[];
        let host: string;
        const open: Client[] = [];
        const svids: Record<string, Issued> = {};
        const dirs: string[] = [];

        /**
         * node-postgres with the app's delivered DATABASE_URL, its /spiffe-certs files taken from `dir` (as the
         * app's helper wrote them), connecting to `address` while verifying the URL's host name.
         */
        /** The app's delivered DATABASE_URL with its /spiffe-certs files taken from `dir`. */
        const deliveredUrl = (secretName: string, dir: string): URL => {
            const secret = resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata?.name === secretName)!.inputs.stringData;
            const url = new URL(secret.DATABASE_URL);
            for (const key of ["sslcert", "sslkey", "sslrootcert"]) url.searchParams.set(key, url.searchParams.get(key)!.replace(path.dirname(SVID_FILES.cert), dir));
            return url;
        };
        const connectWithUrl = async (secretName: string, dir: string, overrides: { user?: string; password?: string; sslmode?: string; address?: string; noClientCert?: boolean } = {}) => {
            const url = deliveredUrl(secretName, dir);
            if (overrides.noClientCert) for (const key of ["sslcert", "sslkey"]) url.searchParams.delete(key);
            if (overrides.user) url.username = overrides.user;
            if (overrides.password) url.password = overrides.password;
            if (overrides.sslmode) url.searchParams.set("sslmode", overrides.sslmode);
            const parsed = parseConnectionString(url.toString()) as any;
            const client = new Client({
                ...parsed,
                host: overrides.address ?? "127.0.0.1",
                port: server.port,
                // the name the certificate must carry stays the service host of the URL
                ssl: parsed.ssl ? { ...parsed.ssl, servername: url.hostname } : false,
                connectionTimeoutMillis: 10000,
            });
            client.on("error", () => undefined);
            await client.connect();
            open.push(client);
            return client;
        };

        before(async () => {
            const run = await mtlsStack();
            resources = run.resources;
            const s = serverPod(run);
            host = run.result.server!.host ? await resolve(run.result.server!.host) : "";
            const serverId = s.ids.find((i) => i.workloadSelectorTemplates.includes("k8s:sa:postgres"))!;
            // the server's SVID as SPIRE would issue it from its ClusterSPIFFEID
            const serverSvid = td.svid("postgres", "postgres", serverId.dnsNameTemplates);
            server = await startPostgres({
                version,
                tls: { certPem: serverSvid.certPem + serverSvid.chainPem, keyPem: serverSvid.keyPem },
                hba: s.pgHba,
                ident: s.pgIdent,
                settings: { ...mapToConfigDir(s.settings), ...(externalAddress ? { listen_addresses: `127.0.0.1,${externalAddress}` } : {}) },
                files: helperFiles(serverSvid, td.root.certPem),
            });
            // the admin path: superuser over TLS with its password from 127.0.0.1 (kubectl port-forward)
            await applyProviderResources(server, resources);
            for (const id of s.ids.filter((i) => i !== serverId)) {
                const ns = id.namespaceSelector.matchLabels["kubernetes.io/metadata.name"];
                const sa = id.workloadSelectorTemplates.find((t: string) => t.startsWith("k8s:sa:")).slice("k8s:sa:".length);
                svids[`${ns}/${sa}`] = td.svid(ns, sa, id.dnsNameTemplates);
            }
        });
        after(async () => {
            for (const c of open) await c.end().catch(() => undefined);
            await server?.stop();
            for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
        });
        const helperDir = (key: string, svid: Issued = svids[key], bundle = td.root.certPem) => {
            const dir = writeHelperDir(svid, bundle);
            dirs.push(dir);
            return dir;
        };

        it("lets each app in with its delivered DATABASE_URL and its SVID files, as its own login, verifying the server for the service host", async () => {
            assert.strictEqual(host, "postgres.postgres.svc.cluster.local");
            for (const [key, secretName, user] of [["acme/billing", "billing-database", "acme_billing"], ["acme/storefront", "storefront-database", "acme_storefront"], ["globex/globex", "globex-database", "globex_globex"]]) {
                const client = await connectWithUrl(secretName, helperDir(key));
                const me = (await client.query("SELECT pg_backend_pid() AS pid, session_user")).rows[0];
                assert.strictEqual(me.session_user, user);
                const row = (await server.query("SELECT usename, ssl, client_dn FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE pid = $1", [me.pid])).rows[0];
                assert.deepStrictEqual([row.usename, row.ssl], [user, true]);
                assert.match(row.client_dn, new RegExp(`CN=${key.split("/")[1]}\\.${key.split("/")[0]}\\.pg\\.`));
            }
        });

        it("lets libpq (psql) in with exactly the exported pod environment", async () => {
            const billing = (await mtlsStack()).result.organizations[0].apps.find((a) => a.appName === "billing")!;
            const pod = await resolve(billing.spiffe!.pod);
            const dir = helperDir("acme/billing");
            const env: Record<string, string> = {};
            for (const e of pod.env) env[e.name] = e.value.startsWith(path.dirname(SVID_FILES.cert) + "/") ? path.join(dir, path.basename(e.value)) : e.value;
            // PGHOST stays the service name (verify-full checks it); PGHOSTADDR says where it really is
            const { stdout } = await promisify(execFile)("psql", ["-w", "-X", "-A", "-t", "-c", "SELECT session_user"],
                { env: { PATH: process.env.PATH ?? "", ...env, PGHOSTADDR: "127.0.0.1", PGPORT: String(server.port), PGCONNECT_TIMEOUT: "10" } });
            // (PGSSLMODE=verify-full: libpq insists on TLS and on the server's SVID naming PGHOST; the `cert` line
            // of pg_hba then accepted the client's SVID chain from PGSSLCERT and the 0600 key from PGSSLKEY)
            assert.strictEqual(stdout.trim(), "acme_billing");
        });

        it("refuses a connection without a client certificate", async () => {
            await assert.rejects(connectWithUrl("billing-database", helperDir("acme/billing"), { noClientCert: true }), /certificate/i);
        });

        it("refuses a certificate from another trust domain, even with the right CN: the server refuses it, after the client verified the server", async () => {
            const forged = otherTd.svid("acme", "billing", [`billing.acme.pg.${TRUST_DOMAIN}`]);
            const forgedDir = helperDir("forged", forged);
            // control: the same URL and bundle with the app's real SVID get in
            const real = await connectWithUrl("billing-database", helperDir("acme/billing"));
            assert.strictEqual((await real.query("SELECT session_user")).rows[0].session_user, "acme_billing");
            // the foreign chain: the server answers with the TLS alert unknown_ca (48), which OpenSSL reports as
            // received from the peer; a client failing to verify the server fails with its own codes instead
            await assert.rejects(connectWithUrl("billing-database", forgedDir), (err: NodeJS.ErrnoException) => {
                assert.strictEqual(err.code, "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", err.message);
                assert.match(err.message, /SSL alert number 48/);
                return true;
            });
            // the same handshake by hand: the client accepts the server's SVID for the service host (TLS 1.3
            // completes on the client's side first), then the server's alert arrives
            const url = deliveredUrl("billing-database", forgedDir);
            const probe = await tlsHandshake(server.port, {
                servername: host,
                ca: fs.readFileSync(url.searchParams.get("sslrootcert")!, "utf8"),
                cert: fs.readFileSync(url.searchParams.get("sslcert")!, "utf8"),
                key: fs.readFileSync(url.searchParams.get("sslkey")!, "utf8"),
            });
            assert.deepStrictEqual([probe.authorized, probe.authorizationError, probe.peerCommonName], [true, undefined, host], "the client verified the server");
            assert.strictEqual(probe.error?.code, "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "then the server refused the client's certificate");
        });

        it("does not let app A's certificate log in as app B", async () => {
            await assert.rejects(connectWithUrl("storefront-database", helperDir("acme/billing")), /certificate authentication failed for user "acme_storefront"/);
            await assert.rejects(connectWithUrl("globex-database", helperDir("acme/billing")), /certificate authentication failed for user "globex_globex"/);
            // nor as the admin: from loopback the admin needs its own password (the certificate is not enough)
            await assert.rejects(connectWithUrl("billing-database", helperDir("acme/billing"), { user: "postgres", password: "not-the-admin-password" }), /password authentication failed for user "postgres"/);
        });

        it("refuses valid SVIDs of the trust domain that carry no mapped CN (e.g. a catch-all registration)", async () => {
            await assert.rejects(connectWithUrl("billing-database", helperDir("no-dns", td.svid("acme", "billing"))), /certificate authentication failed/);
            await assert.rejects(connectWithUrl("billing-database", helperDir("other-dns", td.svid("acme", "billing", ["billing.acme.svc"]))), /certificate authentication failed/);
        });

        it("refuses sslmode=disable, for apps and the admin", async () => {
            await assert.rejects(connectWithUrl("billing-database", helperDir("acme/billing"), { sslmode: "disable" }), /no encryption/);
            await assert.rejects(server.connect({ user: "postgres", password: server.superuserPassword, ssl: false }), /no encryption/);
        });

        it("admits the admin from loopback only (port-forward), and pulumi verifies the server against the configured trust bundle", async () => {
            const provider = resources.find((r) => r.type === "pulumi:providers:postgresql")!.inputs;
            assert.deepStrictEqual([provider.host, provider.sslmode], ["localhost", "verify-full"]);
            const caPem = fs.readFileSync(provider.sslrootcert, "utf8");
            assert.strictEqual(caPem, td.root.certPem);
            const admin = await server.connect({ user: "postgres", password: server.superuserPassword, ssl: { ca: caPem, servername: provider.host } });
            open.push(admin);
            assert.strictEqual((await admin.query("SELECT current_user")).rows[0].current_user, "postgres");
        });

        it("refuses the admin from a non-loopback address, and lets apps in from the network", async function () {
            if (!externalAddress) {
                this.skip(); // no non-loopback IPv4 address on this machine to connect from: not tested here
            }
            await assert.rejects(server.connect({ host: externalAddress, user: "postgres", password: server.superuserPassword }), /pg_hba.conf rejects connection for host "[^"]+", user "postgres"/);
            const app = await connectWithUrl("billing-database", helperDir("acme/billing"), { address: externalAddress });
            const row = (await app.query("SELECT session_user, inet_client_addr()::text AS addr")).rows[0];
            assert.deepStrictEqual([row.session_user, row.addr], ["acme_billing", `${externalAddress}/32`], "apps come from the network");
        });

        it("serves a renewed server SVID after the helper's SIGHUP to the PID file, without dropping open connections", async () => {
            const dir = helperDir("acme/storefront");
            const before = await connectWithUrl("storefront-database", dir);
            const oldFingerprint = peerFingerprint(before);
            const serverId = serverPod(await mtlsStack()).ids.find((i) => i.workloadSelectorTemplates.includes("k8s:sa:postgres"))!;
            const renewed = td.svid("postgres", "postgres", serverId.dnsNameTemplates);
            // what spiffe-helper does on renewal: rewrite the three files, then signal the PID in pid_file_name
            for (const [name, f] of Object.entries(helperFiles(renewed, td.root.certPem))) server.writeFile(name, f.contents, f.mode);
            const pidFile = mapToConfigDir({ p: serverPod(await mtlsStack()).settings.external_pid_file }).p.replace("{configDir}", server.dataDir);
            process.kill(Number(fs.readFileSync(pidFile, "utf8").trim()), "SIGHUP");
            let after: Client | undefined;
            for (let i = 0; i < 50; i++) {
                await new Promise((r) => setTimeout(r, 100));
                const c = await connectWithUrl("storefront-database", dir);
                if (peerFingerprint(c) !== oldFingerprint) { after = c; break; }
            }
            assert.ok(after, "new connections see the renewed certificate");
            assert.strictEqual(peerFingerprint(before), oldFingerprint);
            assert.strictEqual((await before.query("SELECT 1 AS one")).rows[0].one, 1, "the old connection keeps working");
        });

        it("after the app's SVID renews, node-postgres given the URL (connectionString) or reading the files in getters presents the new one on its next connection; a config parsed once keeps the old", async () => {
            const dir = helperDir("acme/billing");
            const url = deliveredUrl("billing-database", dir).toString();
            // stands in for cluster DNS: the URL's service host is this test server
            const stream = () => {
                const socket = new net.Socket();
                const connect = socket.connect.bind(socket);
                (socket as unknown as { connect: (port: number, host: string) => net.Socket }).connect = () => connect(server.port, "127.0.0.1");
                return socket;
            };
            const fromUrl = new Pool({ connectionString: url, stream, max: 1 });
            const parsed = parseConnectionString(url) as any;
            const parsedOnce = new Pool({ ...parsed, stream, max: 1 });
            // the files read per connection through getters (what an app that builds its own config can do)
            const rereading = new Pool({
                ...parsed,
                stream,
                max: 1,
                ssl: {
                    get ca() { return fs.readFileSync(parsed.sslrootcert, "utf8"); },
                    get cert() { return fs.readFileSync(parsed.sslcert, "utf8"); },
                    get key() { return fs.readFileSync(parsed.sslkey, "utf8"); },
                },
            });
            const serialOnNewConnection = async (pool: Pool): Promise<string> => {
                const client = await pool.connect();
                try {
                    const pid = (await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
                    return (await server.query("SELECT client_serial::text AS serial FROM pg_stat_ssl WHERE pid = $1", [pid])).rows[0].serial;
                } finally {
                    client.release(true); // closed, so the next checkout opens a new connection
                }
            };
            const serial = (svid: Issued) => BigInt(`0x${new crypto.X509Certificate(svid.certPem).serialNumber}`).toString();
            try {
                for (const pool of [fromUrl, parsedOnce, rereading]) assert.strictEqual(await serialOnNewConnection(pool), serial(svids["acme/billing"]));
                // what the app's spiffe-helper does on renewal
                const renewed = td.svid("acme", "billing", [`billing.acme.pg.${TRUST_DOMAIN}`]);
                for (const [name, f] of Object.entries(helperFiles(renewed, td.root.certPem))) fs.writeFileSync(path.join(dir, name), f.contents, { mode: f.mode });
                assert.strictEqual(await serialOnNewConnection(fromUrl), serial(renewed), "pg parses the connectionString, and so reads the files, for every new connection");
                assert.strictEqual(await serialOnNewConnection(rereading), serial(renewed), "getters read the files per connection");
                assert.strictEqual(await serialOnNewConnection(parsedOnce), serial(svids["acme/billing"]), "the files were read once: the old SVID, until it expires");
            } finally {
                await fromUrl.end();
                await parsedOnce.end();
                await rereading.end();
            }
        });
    });
}

after(() => fs.rmSync(path.resolve(__dirname, `../../.pulumi-access/${STACK}-server-ca.pem`), { force: true }));

describe("mtls config", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parseStackConfig, ConfigError } = require("../../components/config") as typeof import("../../components/config");
    const problems = (raw: unknown): string[] => {
        try {
            parseStackConfig(raw, "dev");
            return [];
        } catch (err) {
            assert.ok(err instanceof ConfigError, String(err));
            return err.problems.map((p) => `${p.path}: ${p.message}`);
        }
    };
    const database = { engine: "statefulset", tls: "mtls", spiffe: { trustDomain: TRUST_DOMAIN } };
    const vault = { address: "https://vault.example.org:8200" };

    it("rejects Vault credentials with mtls (the certificate is the credential; Vault could not log in either)", () => {
        const found = problems({ database, vault, organizations: [{ name: "acme", apps: [{ name: "a", credentials: "vault-static" }, { name: "b", credentials: "vault-dynamic" }] }] });
        assert.deepStrictEqual(found.filter((p) => /does not combine with database.tls "mtls"/.test(p)).map((p) => p.split(":")[0]),
            ["organizations[0].apps[0].credentials", "organizations[0].apps[1].credentials"]);
    });

    it("rejects an IP adminEndpoint when pulumi is to verify the server's SVID", () => {
        const found = problems({ database: { ...database, spiffe: { ...database.spiffe, trustBundlePem: td.root.certPem }, adminEndpoint: { host: "127.0.0.1" } }, organizations: [{ name: "acme" }] });
        assert.ok(found.some((p) => /^database\.adminEndpoint\.host: .*DNS names only/.test(p)), found.join("\n"));
        assert.deepStrictEqual(problems({ database: { ...database, adminEndpoint: { host: "localhost" } }, organizations: [{ name: "acme" }] }), []);
    });

    it("points RDS users asking for mtls to IAM database authentication", () => {
        const found = problems({ database: { engine: "rds", tls: "mtls", rds: { vpcId: "vpc-0abc", subnetIds: ["subnet-0a", "subnet-0b"] } }, aws: { region: "eu-west-1", eksOidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC", eksOidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC" }, organizations: [{ name: "acme" }] });
        assert.ok(found.some((p) => /^database\.tls: .*IAM database authentication/.test(p)), found.join("\n"));
    });
});
