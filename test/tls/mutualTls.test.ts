/**
 * Mutual TLS with SPIFFE identities on a real PostgreSQL (15 and 17): certificates are made the way SPIRE
 * issues them (trust-domain root → intermediate → X509-SVID with the URI SAN spiffe://td/ns/<ns>/sa/<sa>
 * and a DNS SAN that becomes the CN), and the server runs with exactly the pg_hba.conf, pg_ident.conf and
 * settings the program generates for `tls: mtls`.
 */
import * as assert from "assert";
import { Client } from "pg";
import { TLSSocket } from "tls";
import { runPulumi, RecordedResource } from "../support/harness";
import { startPostgres, TestServer, PostgresMajor } from "../support/realPostgres";
import { spiffeTrustDomain, Issued } from "../support/certificates";
import { applyProviderResources } from "../support/postgresqlProviderSql";
import { checkPodSecurityRestricted } from "../support/podSecurityRestricted";
import { spiffePodPieces } from "../../components/kubernetes/spiffe";

const TRUST_DOMAIN = "prod.example.org";
const config = {
    database: { engine: "statefulset", version: "17", tls: "mtls", spiffe: { trustDomain: TRUST_DOMAIN } },
    organizations: [
        { name: "acme", apps: [{ name: "billing", access: "owner" }, { name: "storefront", access: "readwrite" }] },
        { name: "globex" },
    ],
};

function runMtlsStack(preview = false) {
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.createStack();
    }, { stack: "prod", preview, config });
}

function peerFingerprint(client: Client): string {
    const socket = (client as unknown as { connection: { stream: TLSSocket } }).connection.stream;
    return socket.getPeerCertificate().fingerprint256;
}

describe("mtls stack under mocks", function () {
    this.timeout(60000);
    for (const preview of [false, true]) {
        it(`wires spiffe-helper, the SPIFFE CSI volume and ClusterSPIFFEIDs (${preview ? "preview" : "up"})`, async () => {
            const run = await runMtlsStack(preview);
            const sts = run.ofType("kubernetes:apps/v1:StatefulSet")[0].inputs;
            const pod = sts.spec.template.spec;
            assert.deepStrictEqual(checkPodSecurityRestricted({ kind: "StatefulSet", ...sts }), []);
            const helper = pod.initContainers.find((c: any) => c.name === "spiffe-helper");
            assert.strictEqual(helper.restartPolicy, "Always", "native sidecar");
            assert.strictEqual(helper.image, "ghcr.io/spiffe/spiffe-helper:0.10.0", "pinned");
            assert.deepStrictEqual(pod.volumes.find((v: any) => v.name === "spiffe-workload-api").csi, { driver: "csi.spiffe.io", readOnly: true });
            assert.strictEqual(pod.shareProcessNamespace, true);
            assert.strictEqual(pod.serviceAccountName, "postgres");
            const args: string[] = pod.containers[0].args;
            for (const s of ["ssl_cert_file=/spiffe-certs/svid.pem", "ssl_key_file=/spiffe-certs/svid_key.pem", "ssl_ca_file=/spiffe-certs/svid_bundle.pem", "external_pid_file=/var/run/postgresql/postgres.pid"]) {
                assert.ok(args.includes(s), s);
            }
            const helperConf = run.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.metadata.name === "postgres-spiffe-helper")!.inputs.data["helper.conf"];
            assert.match(helperConf, /pid_file_name = "\/var\/run\/postgresql\/postgres.pid"/);
            assert.match(helperConf, /renew_signal = "SIGHUP"/);
            assert.match(helperConf, /key_file_mode = 0600/);
            const ids = run.ofType("kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID").map((r) => r.inputs.spec);
            const server = ids.find((s) => s.hint === "postgres")!;
            assert.strictEqual(server.dnsNameTemplates[0], "postgres.postgres.svc.cluster.local");
            const billing = ids.find((s) => s.workloadSelectorTemplates.includes("k8s:sa:billing"))!;
            assert.deepStrictEqual(billing.workloadSelectorTemplates, ["k8s:ns:acme", "k8s:sa:billing"]);
            assert.deepStrictEqual(billing.dnsNameTemplates, [`billing.acme.pg.${TRUST_DOMAIN}`]);
            assert.deepStrictEqual(billing.namespaceSelector, { matchLabels: { "kubernetes.io/metadata.name": "acme" } });
            assert.strictEqual(ids.length, 4, "server + 3 apps");
            for (const id of ids) assert.ok(!JSON.stringify(id).includes("*"), "no wildcards");
            const secret = run.ofType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata?.name === "billing-database")!;
            if (!preview) {
                const url = new URL(secret.inputs.stringData.DATABASE_URL);
                assert.strictEqual(url.searchParams.get("sslmode"), "verify-full");
                assert.strictEqual(url.searchParams.get("sslcert"), "/spiffe-certs/svid.pem");
                assert.strictEqual(url.searchParams.get("sslrootcert"), "/spiffe-certs/svid_bundle.pem");
            }
        });
    }

    it("gives app pods a sidecar and volumes that pass Pod Security restricted", () => {
        const pieces = spiffePodPieces({ trustDomain: TRUST_DOMAIN, helperImage: "ghcr.io/spiffe/spiffe-helper:0.10.0", agentSocketPath: "/spiffe-workload-api/spire-agent.sock" }, "billing-spiffe-helper", 10001);
        const pod = {
            kind: "Pod",
            spec: {
                serviceAccountName: "billing",
                securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                initContainers: pieces.initContainers,
                containers: [{ name: "app", image: "app:1", volumeMounts: [pieces.certMount], securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
                volumes: pieces.volumes,
            },
        };
        assert.deepStrictEqual(checkPodSecurityRestricted(pod), []);
    });
});

for (const version of ["15", "17"] as PostgresMajor[]) {
    describe(`mutual TLS on real PostgreSQL ${version}`, function () {
        this.timeout(120000);
        const td = spiffeTrustDomain(TRUST_DOMAIN);
        const otherTd = spiffeTrustDomain("evil.example.com");
        let server: TestServer;
        let resources: RecordedResource[];
        const open: Client[] = [];
        const svids: Record<string, Issued> = {};

        const connectAs = async (user: string, cert: Issued | undefined, extra: { ssl?: false } = {}) => {
            const client = await server.connect({
                user,
                database: user.startsWith("acme") ? "acme" : "globex",
                ssl: extra.ssl === false ? false : { ca: td.root.certPem, servername: "localhost", ...(cert ? { cert: cert.certPem + cert.chainPem, key: cert.keyPem } : {}) },
            });
            open.push(client);
            return client;
        };

        before(async () => {
            const run = await runMtlsStack();
            resources = run.resources;
            const conf = run.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.data?.["pg_hba.conf"])!.inputs.data;
            const sts = run.ofType("kubernetes:apps/v1:StatefulSet")[0];
            const podArgs: string[] = sts.inputs.spec.template.spec.containers[0].args;
            const settings = Object.fromEntries(podArgs.filter((_, i) => i % 2 === 1).map((kv) => kv.split(/=(.*)/s).slice(0, 2))
                .filter(([k]) => !/_file$|^listen_addresses$/.test(k)));
            const serverSvid = td.svid("postgres", "postgres", ["localhost"]);
            server = await startPostgres({
                version,
                tls: { certPem: serverSvid.certPem + serverSvid.chainPem, keyPem: serverSvid.keyPem, clientCaPem: td.root.certPem },
                hba: conf["pg_hba.conf"],
                ident: conf["pg_ident.conf"],
                settings,
            });
            await applyProviderResources(server, resources);
            // SVIDs as SPIRE would issue them from the ClusterSPIFFEIDs the program registered.
            for (const id of run.ofType("kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID").map((r) => r.inputs.spec).filter((s) => s.hint !== "postgres")) {
                const [ns, sa] = [id.workloadSelectorTemplates[0].slice("k8s:ns:".length), id.workloadSelectorTemplates[1].slice("k8s:sa:".length)];
                svids[`${ns}/${sa}`] = td.svid(ns, sa, id.dnsNameTemplates);
            }
        });
        after(async () => {
            for (const c of open) await c.end().catch(() => undefined);
            await server?.stop();
        });

        it("lets each app in with its own SVID, as its own login", async () => {
            for (const [key, user] of [["acme/billing", "acme_billing"], ["acme/storefront", "acme_storefront"], ["globex/globex", "globex_globex"]]) {
                const client = await connectAs(user, svids[key]);
                const pid = (await client.query("SELECT pg_backend_pid() AS pid, session_user")).rows[0];
                assert.strictEqual(pid.session_user, user);
                // the server's own view of that connection (as the superuser: apps see only their own role's rows)
                const row = (await server.query("SELECT usename, ssl, client_dn FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE pid = $1", [pid.pid])).rows[0];
                assert.strictEqual(row.usename, user);
                assert.strictEqual(row.ssl, true);
                assert.match(row.client_dn, new RegExp(`CN=${key.split("/")[1]}\\.${key.split("/")[0]}\\.pg`));
            }
        });

        it("refuses a connection without a client certificate", async () => {
            await assert.rejects(connectAs("acme_billing", undefined), /certificate/i);
        });

        it("refuses a certificate from another trust domain", async () => {
            const forged = otherTd.svid("acme", "billing", [`billing.acme.pg.${TRUST_DOMAIN}`]);
            await assert.rejects(connectAs("acme_billing", forged), (err: Error) => /certificate|unknown ca|alert/i.test(err.message));
        });

        it("does not let app A's certificate log in as app B", async () => {
            await assert.rejects(connectAs("acme_storefront", svids["acme/billing"]), /certificate authentication failed for user "acme_storefront"/);
            await assert.rejects(connectAs("globex_globex", svids["acme/billing"]), /certificate authentication failed for user "globex_globex"/);
        });

        it("refuses sslmode=disable, even for the admin", async () => {
            await assert.rejects(connectAs("acme_billing", undefined, { ssl: false }), /no encryption/);
            await assert.rejects(server.connect({ user: "postgres", password: server.superuserPassword, ssl: false }), /no encryption/);
        });

        it("serves a rotated server certificate after a reload, without dropping open connections", async () => {
            const before = await connectAs("acme_storefront", svids["acme/storefront"]);
            const oldFingerprint = peerFingerprint(before);
            const rotated = td.svid("postgres", "postgres", ["localhost"]);
            // what spiffe-helper does on renewal: write the files, then SIGHUP the server (= pg_reload_conf())
            server.writeFile("server.crt", rotated.certPem + rotated.chainPem, 0o644);
            server.writeFile("server.key", rotated.keyPem, 0o600);
            await server.reload();
            const after = await connectAs("acme_storefront", svids["acme/storefront"]);
            assert.notStrictEqual(peerFingerprint(after), oldFingerprint, "new connections see the new certificate");
            assert.strictEqual(peerFingerprint(before), oldFingerprint);
            assert.strictEqual((await before.query("SELECT 1 AS one")).rows[0].one, 1, "the old connection keeps working");
        });
    });
}
