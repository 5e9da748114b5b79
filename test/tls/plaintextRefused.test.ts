/**
 * `sslmode=disable` is refused in every TLS mode, for apps and for the admin, and TLS connections work: a
 * real PostgreSQL 15 and 17 run with exactly the pg_hba.conf and TLS settings `renderPgHba` / `serverSettings`
 * generate for `require`, `verify-full` and `mtls`.
 */
import * as assert from "assert";
import { Client } from "pg";
import { PostgresMajor, startPostgres, TestServer, TESTED_MAJORS } from "../support/realPostgres";
import { serverCertificates, spiffeTrustDomain } from "../support/certificates";
import { MTLS_SERVER_PATHS, renderPgHba, renderPgIdent, serverSettings } from "../../components/database/serverConfig";
import { ServerTlsMode } from "../../components/database/postgresServer";

const TRUST_DOMAIN = "plain.example.org";

describe("plaintext is refused in every TLS mode: pg_hba.conf", () => {
    it("renders the same TLS-only pg_hba.conf for require and verify-full (they differ only in what clients verify)", () => {
        const options = { adminUser: "postgres", maxConnections: 50 };
        assert.strictEqual(renderPgHba({ ...options, tls: "require" }), renderPgHba({ ...options, tls: "verify-full" }));
        for (const tls of ["require", "verify-full", "mtls"] as ServerTlsMode[]) {
            const hba = renderPgHba({ ...options, tls });
            assert.match(hba, /^hostnossl\s+all\s+all\s+0\.0\.0\.0\/0\s+reject$/m);
            assert.match(hba, /^hostnossl\s+all\s+all\s+::\/0\s+reject$/m);
            assert.ok(!/^host\s/m.test(hba), "no `host` line (which would match plaintext too)");
        }
    });
});

for (const version of TESTED_MAJORS) describe(`plaintext is refused in every TLS mode (PostgreSQL ${version})`, function () {
    this.timeout(60000);
    const td = spiffeTrustDomain(TRUST_DOMAIN);
    const certs = serverCertificates();

    for (const tls of ["require", "verify-full", "mtls"] as ServerTlsMode[]) {
        describe(`tls: ${tls}`, () => {
            let server: TestServer;
            const open: Client[] = [];
            const svid = td.svid("acme", "billing", [`billing.acme.pg.${TRUST_DOMAIN}`]);
            before(async () => {
                const options = { tls, adminUser: "postgres", maxConnections: 50 };
                const generated = tls === "mtls" ? serverSettings(options, MTLS_SERVER_PATHS) : serverSettings(options);
                // the generated settings minus file locations and listen_addresses, which the harness maps
                const settings = Object.fromEntries(Object.entries(generated).filter(([k]) => !/_file$|^listen_addresses$/.test(k)));
                const serverSvid = td.svid("postgres", "postgres", ["localhost"]);
                server = await startPostgres({
                    version,
                    tls: tls === "mtls"
                        ? { certPem: serverSvid.certPem + serverSvid.chainPem, keyPem: serverSvid.keyPem, clientCaPem: td.root.certPem }
                        : { certPem: certs.server.certPem, keyPem: certs.server.keyPem },
                    hba: renderPgHba(options),
                    ident: tls === "mtls" ? renderPgIdent([{ commonName: `billing.acme.pg.${TRUST_DOMAIN}`, role: "acme_billing" }]) : undefined,
                    settings,
                });
                await server.query("CREATE ROLE acme_billing LOGIN PASSWORD 'app-Pw-1'");
            });
            after(async () => {
                for (const c of open) await c.end().catch(() => undefined);
                await server?.stop();
            });
            const appTls = () => tls === "mtls"
                ? { ca: td.root.certPem, servername: "localhost", cert: svid.certPem + svid.chainPem, key: svid.keyPem }
                : tls === "verify-full" ? { ca: certs.ca.certPem, servername: "localhost" } : { rejectUnauthorized: false };

            it("refuses sslmode=disable for an app and for the admin", async () => {
                await assert.rejects(server.connect({ user: "acme_billing", password: "app-Pw-1", ssl: false }), /no encryption/);
                await assert.rejects(server.connect({ user: "postgres", password: server.superuserPassword, ssl: false }), /no encryption/);
            });

            it("accepts the app over TLS the way the mode prescribes", async () => {
                const client = await server.connect({ user: "acme_billing", password: tls === "mtls" ? undefined : "app-Pw-1", ssl: appTls() });
                open.push(client);
                assert.strictEqual((await client.query("SELECT session_user")).rows[0].session_user, "acme_billing");
            });
        });
    }
});
