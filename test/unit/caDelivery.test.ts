/**
 * tls verify-full: every app gets the server CA where its sslrootcert points, whatever carries its
 * credentials: in its own Secret (`kubernetes`), or as a ConfigMap `<app>-database-ca` beside them
 * (Secrets Manager and every Vault delivery mode), in its own namespace only.
 */
import * as assert from "assert";
import { runPulumi, RecordedResource, valueOf } from "../../testing/offlineRun";
import { POD_CA_PATH } from "../../components/appAccess";
import type { StackOutputs } from "../../stacks/program";

const config = {
    database: { engine: "statefulset", version: "17", tls: "verify-full" },
    vault: { address: "https://vault.example.internal:8200", kubernetesNamespace: "vault" },
    organizations: [
        { name: "acme", apps: [{ name: "web", credentials: "kubernetes" }, { name: "payroll", credentials: "vault-static", delivery: "vault-secrets-operator" }] },
        { name: "globex", apps: [{ name: "analytics", access: "readonly", credentials: "vault-dynamic", delivery: "csi" }, { name: "batch", credentials: "vault-static", delivery: "vault-agent" }] },
    ],
};

for (const preview of [false, true]) {
    describe(`server CA delivery with tls verify-full (${preview ? "preview" : "up"})`, function () {
        this.timeout(60000);
        let resources: RecordedResource[];
        let outputs: StackOutputs;
        before(async () => {
            const run = await runPulumi(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require("../../stacks/program") as typeof import("../../stacks/program");
                return program.createStack();
            }, { stack: "dev", preview, config });
            resources = run.resources;
            outputs = run.result;
        });

        const caConfigMaps = () => resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.data?.["ca.crt"] !== undefined);

        it("puts a CA ConfigMap beside every credential that does not carry the CA itself, in the app's namespace", () => {
            const found = caConfigMaps().map((r) => `${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`).sort();
            assert.deepStrictEqual(found, ["acme/payroll-database-ca", "globex/analytics-database-ca", "globex/batch-database-ca"]);
            const web = resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata?.name === "web-database")!;
            assert.ok(web.inputs.stringData?.["ca.crt"] !== undefined || preview, "the kubernetes app's Secret carries ca.crt itself");
        });

        it("names the ConfigMap in what each app is told was delivered, and points sslrootcert at the mount", async function () {
            if (preview) this.skip(); // delivered/settings are computed from outputs the preview does not know
            for (const org of outputs.organizations) {
                for (const app of org.apps) {
                    const delivered = await valueOf(app.delivered);
                    const settings = await valueOf(app.settings);
                    assert.strictEqual(settings.sslmode, "verify-full", app.appName);
                    assert.strictEqual(settings.sslrootcert, POD_CA_PATH, app.appName);
                    assert.strictEqual(delivered.caConfigMap, app.appName === "web" ? undefined : `${app.appName}-database-ca`, app.appName);
                }
            }
        });

        it("ships the server's own CA, and Vault's connections verify the server against it", async function () {
            if (preview) this.skip(); // the CA is computed by the TLS provider
            const ca = await valueOf(outputs.server!.caCertPem);
            assert.match(ca, /BEGIN CERTIFICATE/);
            for (const cm of caConfigMaps()) assert.strictEqual(cm.inputs.data["ca.crt"], ca, cm.inputs.metadata.name);
            const connections = resources.filter((r) => r.type === "vault:database/secretBackendConnection:SecretBackendConnection");
            assert.strictEqual(connections.length, 2, "one per organization");
            for (const c of connections) {
                assert.strictEqual(new URL(c.inputs.postgresql.connectionUrl.replace("{{username}}:{{password}}", "u:p")).searchParams.get("sslmode"), "verify-full", c.name);
                assert.strictEqual(c.inputs.postgresql.tlsCa, ca, `${c.name}: verified against the server's CA`);
            }
        });
    });
}
