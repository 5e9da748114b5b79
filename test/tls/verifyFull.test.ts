/**
 * tls: verify-full — the CA travels with the credentials and DATABASE_URL says sslmode=verify-full with the
 * right sslrootcert; a real client (node-postgres, which reads sslmode/sslrootcert from the URL as libpq
 * does) then connects to a real PostgreSQL only when the server certificate chains to that CA and names
 * the host. The admin connection verifies too.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { runPulumi, RecordedResource } from "../../testing/offlineRun";
import { startPostgres, TestServer, TESTED_MAJORS } from "../support/realPostgres";
import { serverCertificates } from "../support/certificates";
import { applyProviderResources } from "../support/postgresqlProviderSql";
import { POD_CA_PATH } from "../../components/appAccess";

/** The newest supported major: verify-full is version-independent, so one server suffices. */
const NEWEST = TESTED_MAJORS[TESTED_MAJORS.length - 1];

const config = {
    database: { engine: "statefulset", version: NEWEST, tls: "verify-full", adminEndpoint: { host: "localhost", port: 15432 } },
    organizations: [{ name: "acme", apps: [{ name: "billing", access: "readwrite" }] }],
};

describe("tls verify-full", function () {
    this.timeout(120000);
    let resources: RecordedResource[];
    let server: TestServer;
    let ca: string;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pa-verify-"));

    before(async () => {
        const run = await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: "verifytest", config });
        resources = run.resources;
        const hba = run.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.data?.["pg_hba.conf"])!.inputs.data["pg_hba.conf"];
        const certs = serverCertificates();
        ca = certs.ca.certPem;
        server = await startPostgres({ version: NEWEST, tls: { certPem: certs.server.certPem, keyPem: certs.server.keyPem }, hba });
        await applyProviderResources(server, resources);
    });
    after(async () => {
        await server?.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
        fs.rmSync(path.resolve(__dirname, "../../.pulumi-access/verifytest-server-ca.pem"), { force: true });
    });

    it("delivers the server CA with the credentials and a verify-full DATABASE_URL", () => {
        const secret = resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata?.name === "billing-database")!.inputs.stringData;
        const serverCa = resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.type === "kubernetes.io/tls")!.inputs.stringData["ca.crt"];
        assert.strictEqual(secret["ca.crt"], serverCa, "the CA that signed the server certificate");
        const url = new URL(secret.DATABASE_URL);
        assert.strictEqual(url.searchParams.get("sslmode"), "verify-full");
        assert.strictEqual(url.searchParams.get("sslrootcert"), POD_CA_PATH);
        assert.strictEqual(secret.sslrootcert, POD_CA_PATH);
    });

    it("has the admin provider verify the server against the CA file it writes", () => {
        const provider = resources.find((r) => r.type === "pulumi:providers:postgresql")!.inputs;
        assert.strictEqual(provider.sslmode, "verify-full");
        assert.ok(fs.existsSync(provider.sslrootcert), provider.sslrootcert);
        const serverCa = resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.type === "kubernetes.io/tls")!.inputs.stringData["ca.crt"];
        assert.strictEqual(fs.readFileSync(provider.sslrootcert, "utf8"), serverCa);
        const csr = resources.find((r) => r.type === "tls:index/certRequest:CertRequest")!.inputs;
        assert.ok(csr.dnsNames.includes("localhost"), "the certificate names the adminEndpoint host");
    });

    it("rolls the server pod when its certificate is renewed (PostgreSQL reads it only at start or reload)", () => {
        const sts = resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")!.inputs;
        const tlsCrt: string = resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.type === "kubernetes.io/tls")!.inputs.stringData["tls.crt"];
        const annotation = sts.spec.template.metadata.annotations["postgres-access/server-cert-sha"];
        assert.strictEqual(annotation, createHash("sha256").update(tlsCrt).digest("hex").slice(0, 16));
        const tlsVolume = sts.spec.template.spec.volumes.find((v: any) => v.name === "tls");
        assert.ok(tlsVolume.secret && !sts.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === "tls").subPath, "mounted as a directory, so the renewed files reach the pod");
    });

    /** The app's DATABASE_URL as a pod would use it: CA mounted at sslrootcert, pointed at the test server. */
    function podUrl(caPem: string): string {
        const secret = resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata?.name === "billing-database")!.inputs.stringData;
        const caFile = path.join(tmp, `ca-${Math.random().toString(36).slice(2)}.crt`);
        fs.writeFileSync(caFile, caPem);
        const url = new URL(secret.DATABASE_URL);
        url.hostname = "localhost";
        url.port = String(server.port);
        url.searchParams.set("sslrootcert", caFile);
        return url.toString();
    }

    it("connects with the delivered URL when the server certificate chains to the CA and names the host", async () => {
        const client = new Client({ connectionString: podUrl(ca) });
        await client.connect();
        try {
            assert.strictEqual((await client.query("SELECT current_user")).rows[0].current_user, "acme_billing");
        } finally {
            await client.end();
        }
    });

    it("refuses a server whose certificate another CA signed", async () => {
        const other = serverCertificates().ca.certPem;
        const wrongCa = new Client({ connectionString: podUrl(other) });
        await assert.rejects(wrongCa.connect(), /self[- ]signed|unable to verify|certificate/i);
        await wrongCa.end().catch(() => undefined);
    });

    it("refuses sslmode=disable", async () => {
        const url = new URL(podUrl(ca));
        url.searchParams.delete("sslrootcert");
        url.searchParams.set("sslmode", "disable");
        const client = new Client({ connectionString: url.toString() });
        await assert.rejects(client.connect(), /no encryption/);
    });
});
