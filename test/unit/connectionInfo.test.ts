import * as assert from "assert";
import { connectionFields, databaseUrl } from "../../components/connectionInfo";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parse } = require("pg-connection-string") as { parse(url: string): Record<string, any> };

describe("connection info", () => {
    const settings = { host: "postgres.postgres.svc.cluster.local", port: 5432, database: "acme", username: "acme_billing", sslmode: "verify-full" as const, sslrootcert: "/etc/postgres-access/ca.crt" };
    for (const password of ["plain", "p@ss:w/rd", "100%#?&=+ spaces", "ünïcødé'\""]) {
        it(`encodes a DATABASE_URL that libpq-style parsers read back (${JSON.stringify(password)})`, () => {
            const url = databaseUrl(settings, password);
            const parsed = parse(url.replace(/&sslrootcert=[^&]*/, "")); // the parser would open the CA file
            assert.strictEqual(parsed.password, password);
            assert.strictEqual(parsed.user, "acme_billing");
            assert.strictEqual(parsed.database, "acme");
            assert.strictEqual(parsed.host, settings.host);
            assert.strictEqual(String(parsed.port), "5432");
            const u = new URL(url);
            assert.strictEqual(u.searchParams.get("sslmode"), "verify-full");
            assert.strictEqual(u.searchParams.get("sslrootcert"), "/etc/postgres-access/ca.crt");
        });
    }
    it("carries the RDS-style JSON keys", () => {
        const f = connectionFields({ ...settings, sslmode: "require", sslrootcert: undefined }, "pw");
        assert.deepStrictEqual(Object.keys(f).sort(), ["DATABASE_URL", "database", "dbname", "engine", "host", "password", "port", "sslmode", "username"]);
        assert.strictEqual(f.engine, "postgres");
        assert.strictEqual(f.dbname, f.database);
        assert.strictEqual(f.port, "5432");
    });
});
