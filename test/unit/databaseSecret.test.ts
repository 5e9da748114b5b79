/**
 * DatabaseSecret (delivery `secret`) on its own under mocks (up and preview): the keys apps read, a
 * DATABASE_URL that parses back to exactly those fields, and stringData that stays a Pulumi secret.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { RunResult, isSecret, runPulumi, valueOf } from "../../testing/offlineRun";
import { DatabaseSecret, DatabaseSecretArgs } from "../../components/kubernetes/databaseSecret";
import { T, assertKubernetesValid, plaintextLeaks } from "./helpers";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parse } = require("pg-connection-string") as { parse(url: string): Record<string, any> };

const PASSWORD = "p@ss:w/rd%#? x";
const CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const ARGS: DatabaseSecretArgs = {
    namespace: "acme",
    secretName: "web-database",
    settings: { host: "postgres.postgres.svc.cluster.local", port: 5432, database: "acme", username: "acme_web", sslmode: "require" },
    password: pulumi.secret(PASSWORD),
    caCertPem: CA,
    labels: { "app.kubernetes.io/name": "web" },
};

interface Result { dataSecret: boolean; secretName?: string }

function runSecret(preview: boolean, args: DatabaseSecretArgs = ARGS): Promise<RunResult<Result>> {
    return runPulumi(async () => {
        const s = new DatabaseSecret("acme-web-secret", args);
        return { dataSecret: await isSecret(s.data), secretName: preview ? undefined : await valueOf(s.secretName) };
    }, { preview });
}

for (const preview of [false, true]) {
    describe(`DatabaseSecret (${preview ? "preview" : "up"})`, function () {
        this.timeout(30000);
        let run: RunResult<Result>;
        before(async () => {
            run = await runSecret(preview);
        });

        it("writes one Opaque Secret in the app's namespace whose stringData is a Pulumi secret", () => {
            const secrets = run.ofType(T.secret);
            assert.strictEqual(secrets.length, 1);
            const s = secrets[0].inputs;
            assert.strictEqual(s.type, "Opaque");
            assert.strictEqual(s.metadata.name, "web-database");
            assert.strictEqual(s.metadata.namespace, "acme");
            assert.strictEqual(s.metadata.labels["app.kubernetes.io/name"], "web");
            assert.ok(secrets[0].secretPaths.includes("stringData"), `secret paths: ${secrets[0].secretPaths}`);
            assert.strictEqual(s.data, undefined, "no second, base64 copy outside stringData");
            assert.strictEqual(run.result.dataSecret, true);
        });

        it("holds host, port, database, dbname, username, password, sslmode, DATABASE_URL and ca.crt, consistent with each other", function () {
            const d = run.ofType(T.secret)[0].inputs.stringData;
            for (const key of ["host", "port", "database", "dbname", "username", "password", "sslmode", "DATABASE_URL", "ca.crt"]) assert.ok(key in d, key);
            assert.deepStrictEqual([d.host, d.port, d.database, d.dbname, d.username, d.password, d.sslmode, d["ca.crt"]],
                ["postgres.postgres.svc.cluster.local", "5432", "acme", "acme", "acme_web", PASSWORD, "require", CA]);
            const url = new URL(d.DATABASE_URL);
            assert.deepStrictEqual(
                [url.protocol, decodeURIComponent(url.username), decodeURIComponent(url.password), url.hostname, url.port, decodeURIComponent(url.pathname.slice(1)), url.searchParams.get("sslmode")],
                ["postgresql:", d.username, d.password, d.host, d.port, d.database, d.sslmode],
            );
            const pg = parse(d.DATABASE_URL);
            assert.deepStrictEqual([pg.user, pg.password, pg.host, String(pg.port), pg.database, pg.sslmode], [d.username, d.password, d.host, d.port, d.database, d.sslmode]);
            if (!preview) assert.strictEqual(run.result.secretName, "web-database");
        });

        it("never puts the password in a non-secret input", function () {
            assert.deepStrictEqual(plaintextLeaks(run.resources, [PASSWORD, encodeURIComponent(PASSWORD)]), []);
        });

        it("is a Secret Kubernetes accepts", async function () {
            assert.deepStrictEqual([...await assertKubernetesValid(run.resources)], ["Secret"]);
        });
    });
}

describe("DatabaseSecret for verify-full", function () {
    this.timeout(30000);

    it("points sslrootcert at the mounted CA and keeps it in DATABASE_URL; no ca.crt key without a CA", async () => {
        const run = await runSecret(false, { ...ARGS, caCertPem: undefined, settings: { ...ARGS.settings as object, sslmode: "verify-full", sslrootcert: "/etc/postgres-access/ca.crt" } as DatabaseSecretArgs["settings"] });
        const d = run.ofType(T.secret)[0].inputs.stringData;
        assert.ok(!("ca.crt" in d));
        assert.strictEqual(d.sslmode, "verify-full");
        assert.strictEqual(d.sslrootcert, "/etc/postgres-access/ca.crt");
        const q = new URL(d.DATABASE_URL).searchParams;
        assert.deepStrictEqual([q.get("sslmode"), q.get("sslrootcert")], ["verify-full", "/etc/postgres-access/ca.crt"]);
    });
});
