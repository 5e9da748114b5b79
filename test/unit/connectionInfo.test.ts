/**
 * DATABASE_URL and the connection fields: every password survives percent-encoding, read back by the
 * WHATWG URL parser and by pg-connection-string (what node-postgres uses for `connectionString`).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConnectionSettings, connectionFields, connectionFieldsOutput, databaseUrl } from "../../components/connectionInfo";
import { isSecret, runPulumi, valueOf } from "../../testing/offlineRun";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parse } = require("pg-connection-string") as { parse(url: string): Record<string, any> };

const NASTY_PASSWORDS = [
    "plain",
    "p@ss",
    "user:pass",
    "a/b/c",
    "100%",
    "%41%42", // already looks percent-encoded
    "%zz",
    "frag#ment",
    "what?now",
    "with space",
    " leading and trailing ",
    "+plus+",
    "a&b=c;d",
    "[ipv6]",
    "back\\slash",
    "quote'\"`",
    "ünïcødé ☃",
    "@:/%#? all of them",
    "-_.~!*", // what AppLogin's RandomPassword may contain
];

describe("connectionInfo: DATABASE_URL", () => {
    const settings: ConnectionSettings = { host: "postgres.postgres.svc.cluster.local", port: 5432, database: "acme_corp", username: "acme_corp_billing", sslmode: "require" };
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "conn info "));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const password of NASTY_PASSWORDS) {
        it(`round-trips ${JSON.stringify(password)} through new URL and pg-connection-string`, () => {
            const url = databaseUrl(settings, password);
            assert.ok(!/[\s#?@]/.test(url.slice("postgresql://".length).split("@").slice(0, -1).join("@")), `userinfo is fully encoded: ${url}`);
            const u = new URL(url);
            assert.strictEqual(u.protocol, "postgresql:");
            assert.strictEqual(decodeURIComponent(u.username), settings.username);
            assert.strictEqual(decodeURIComponent(u.password), password);
            assert.strictEqual(u.hostname, settings.host);
            assert.strictEqual(u.port, "5432");
            assert.strictEqual(decodeURIComponent(u.pathname.slice(1)), settings.database);
            assert.strictEqual(u.hash, "", "nothing spilled into a fragment");
            assert.deepStrictEqual([...u.searchParams.keys()], ["sslmode"], "nothing spilled into the query");

            const pg = parse(url);
            assert.strictEqual(pg.password, password);
            assert.strictEqual(pg.user, settings.username);
            assert.strictEqual(pg.database, settings.database);
            assert.strictEqual(pg.host, settings.host);
            assert.strictEqual(String(pg.port), "5432");
            assert.strictEqual(pg.sslmode, "require");
        });
    }

    it("puts sslmode and a percent-encoded sslrootcert in the query; pg-connection-string reads the CA file", () => {
        const caPath = path.join(dir, "ca & root#1.crt"); // a space, '&' and '#' in the path
        fs.writeFileSync(caPath, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        const url = databaseUrl({ ...settings, sslmode: "verify-full", sslrootcert: caPath }, "p@ss#");
        const u = new URL(url);
        assert.strictEqual(u.searchParams.get("sslmode"), "verify-full");
        assert.strictEqual(u.searchParams.get("sslrootcert"), caPath);
        const pg = parse(url);
        assert.strictEqual(pg.sslmode, "verify-full");
        assert.strictEqual(pg.sslrootcert, caPath);
        assert.strictEqual(pg.ssl.ca, fs.readFileSync(caPath, "utf8"), "the parser opened exactly that file");
        assert.strictEqual(pg.password, "p@ss#");
    });

    it("carries the mtls client certificate and key paths", () => {
        const url = databaseUrl({ ...settings, sslmode: "verify-full", sslrootcert: "/spiffe/bundle.pem", sslcert: "/spiffe/svid.pem", sslkey: "/spiffe/svid_key.pem" }, "x");
        const q = new URL(url).searchParams;
        assert.deepStrictEqual([q.get("sslrootcert"), q.get("sslcert"), q.get("sslkey")], ["/spiffe/bundle.pem", "/spiffe/svid.pem", "/spiffe/svid_key.pem"]);
    });

    it("never emits a weaker sslmode than the settings ask for, nor a query without sslmode", () => {
        for (const sslmode of ["require", "verify-full"] as const) {
            assert.strictEqual(new URL(databaseUrl({ ...settings, sslmode }, "pw")).searchParams.get("sslmode"), sslmode);
        }
    });

    it("brackets IPv6 hosts so the port is not read as part of the address", () => {
        const url = databaseUrl({ ...settings, host: "fd00::1" }, "pw");
        const u = new URL(url);
        assert.strictEqual(u.hostname, "[fd00::1]");
        assert.strictEqual(u.port, "5432");
        assert.strictEqual(parse(url).host, "fd00::1");
    });
});

describe("connectionInfo: connection fields", () => {
    const settings: ConnectionSettings = { host: "db.example", port: 6432, database: "acme", username: "acme_web", sslmode: "verify-full", sslrootcert: "/etc/postgres-access/ca.crt" };

    it("has the RDS secret keys plus DATABASE_URL, all strings, with a URL that parses back to the fields", () => {
        const password = "p@ss:w/rd%#? x";
        const f = connectionFields(settings, password);
        assert.deepStrictEqual(Object.keys(f).sort(), ["DATABASE_URL", "database", "dbname", "engine", "host", "password", "port", "sslmode", "sslrootcert", "username"]);
        for (const [k, v] of Object.entries(f)) assert.strictEqual(typeof v, "string", k);
        assert.strictEqual(f.engine, "postgres");
        assert.strictEqual(f.dbname, f.database);
        assert.strictEqual(f.port, "6432");
        const pg = parse(f.DATABASE_URL.replace(/&sslrootcert=[^&]*/, "")); // the parser would open the CA file
        assert.deepStrictEqual([pg.host, String(pg.port), pg.database, pg.user, pg.password, pg.sslmode], [f.host, f.port, f.database, f.username, f.password, f.sslmode]);
        assert.strictEqual(new URL(f.DATABASE_URL).searchParams.get("sslrootcert"), f.sslrootcert);
    });

    it("connectionFieldsOutput is a Pulumi secret", async () => {
        const run = await runPulumi(async () => {
            const fields = connectionFieldsOutput(settings, "pw");
            return { secret: await isSecret(fields), value: await valueOf(fields) };
        });
        assert.strictEqual(run.result.secret, true);
        assert.strictEqual(run.result.value.password, "pw");
    });
});
