/**
 * Test certificates made with the openssl CLI: a CA, server certificates, and SPIRE-like chains
 * (trust-domain root → intermediate → leaf with a URI SAN `spiffe://…`). EC P-256 keys for speed.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface Issued {
    certPem: string;
    keyPem: string;
    /** Intermediates between this certificate and its root, PEM (empty for a root or a root's child). */
    chainPem: string;
    /** True for a self-signed root. */
    isRoot: boolean;
}

export interface IssueOptions {
    /** Subject CN (omit for SPIRE-style SVIDs without a CN). */
    commonName?: string;
    organization?: string;
    dnsSans?: string[];
    ipSans?: string[];
    uriSans?: string[];
    /** Issue a CA certificate (pathlen optional). */
    isCa?: boolean;
    pathLen?: number;
    /** Signing CA; self-signed when absent. */
    issuer?: Issued;
    days?: number;
    /** Extended key usages for leaves (default serverAuth, clientAuth). */
    extendedKeyUsage?: string[];
}

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "pa-certs-"));
let counter = 0;

function openssl(args: string[]): string {
    return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Issues a certificate (a new P-256 key) per the options. */
export function issueCertificate(options: IssueOptions): Issued {
    const id = `c${++counter}`;
    const file = (suffix: string) => path.join(workDir, `${id}.${suffix}`);
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file("key")]);
    const subject = [options.organization ? `/O=${options.organization}` : "", options.commonName ? `/CN=${options.commonName}` : ""].join("") || "/O=SPIRE";
    const sans = [
        ...(options.dnsSans ?? []).map((d) => `DNS:${d}`),
        ...(options.ipSans ?? []).map((ip) => `IP:${ip}`),
        ...(options.uriSans ?? []).map((u) => `URI:${u}`),
    ];
    const ext = options.isCa
        ? [`basicConstraints=critical,CA:TRUE${options.pathLen !== undefined ? `,pathlen:${options.pathLen}` : ""}`, "keyUsage=critical,keyCertSign,cRLSign", "subjectKeyIdentifier=hash"]
        : ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment,keyAgreement", `extendedKeyUsage=${(options.extendedKeyUsage ?? ["serverAuth", "clientAuth"]).join(",")}`, "subjectKeyIdentifier=hash"];
    if (sans.length) ext.push(`subjectAltName=${options.uriSans?.length && !options.commonName ? "critical," : ""}${sans.join(",")}`);
    if (options.issuer) ext.push("authorityKeyIdentifier=keyid");
    fs.writeFileSync(file("cnf"), `[req]\ndistinguished_name=dn\nprompt=no\n[dn]\n[v3]\n${ext.join("\n")}\n`);
    const days = String(options.days ?? 30);
    if (options.issuer) {
        fs.writeFileSync(file("issuer.crt"), options.issuer.certPem);
        fs.writeFileSync(file("issuer.key"), options.issuer.keyPem);
        openssl(["req", "-new", "-key", file("key"), "-subj", subject, "-config", file("cnf"), "-out", file("csr")]);
        openssl(["x509", "-req", "-in", file("csr"), "-CA", file("issuer.crt"), "-CAkey", file("issuer.key"), "-CAcreateserial", "-days", days, "-sha256", "-extfile", file("cnf"), "-extensions", "v3", "-out", file("crt")]);
    } else {
        openssl(["req", "-new", "-x509", "-key", file("key"), "-subj", subject, "-days", days, "-sha256", "-config", file("cnf"), "-extensions", "v3", "-out", file("crt")]);
    }
    return {
        certPem: fs.readFileSync(file("crt"), "utf8"),
        keyPem: fs.readFileSync(file("key"), "utf8"),
        chainPem: options.issuer && !options.issuer.isRoot ? options.issuer.certPem + options.issuer.chainPem : "",
        isRoot: !options.issuer,
    };
}

/** A CA plus a server certificate for localhost / 127.0.0.1 (and extra names). */
export function serverCertificates(extraDns: string[] = []): { ca: Issued; server: Issued } {
    const ca = issueCertificate({ commonName: "postgres-access test CA", isCa: true });
    const server = issueCertificate({ commonName: "localhost", dnsSans: ["localhost", ...extraDns], ipSans: ["127.0.0.1"], issuer: ca, extendedKeyUsage: ["serverAuth"] });
    return { ca, server };
}

/**
 * A SPIRE-like trust domain: a self-signed root (the trust bundle) and an intermediate that signs SVIDs,
 * as SPIRE does with an UpstreamAuthority or its own intermediate CA.
 */
export function spiffeTrustDomain(trustDomain: string): { trustDomain: string; root: Issued; intermediate: Issued; svid(ns: string, sa: string, dns?: string[]): Issued } {
    const root = issueCertificate({ organization: "SPIFFE", commonName: `${trustDomain} root`, isCa: true, uriSans: [`spiffe://${trustDomain}`], days: 365 });
    const intermediate = issueCertificate({ organization: "SPIFFE", commonName: `${trustDomain} intermediate`, isCa: true, pathLen: 0, issuer: root, uriSans: [`spiffe://${trustDomain}`] });
    return {
        trustDomain,
        root,
        intermediate,
        // SPIRE X509-SVIDs: subject O=SPIRE (no CN unless a DNS name is requested, then CN = first DNS name),
        // the SPIFFE ID as the only URI SAN.
        svid: (ns: string, sa: string, dns: string[] = []) => issueCertificate({
            organization: "SPIRE",
            commonName: dns[0],
            uriSans: [`spiffe://${trustDomain}/ns/${ns}/sa/${sa}`],
            dnsSans: dns,
            issuer: intermediate,
            days: 1,
        }),
    };
}

/** Subject and SANs of a PEM certificate, as openssl prints them. */
export function describeCertificate(certPem: string): string {
    const file = path.join(workDir, `describe-${++counter}.crt`);
    fs.writeFileSync(file, certPem);
    return openssl(["x509", "-in", file, "-noout", "-subject", "-ext", "subjectAltName", "-fingerprint", "-sha256"]);
}
