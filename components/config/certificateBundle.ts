/**
 * PEM certificate inputs (RDS CA bundle, Vault's CA, the SPIFFE trust bundle) parsed for real: every
 * certificate of a bundle must be an X.509 certificate Node can read, valid now, and a CA where a CA is
 * required. A text that merely contains a `BEGIN CERTIFICATE` header is not a certificate.
 */
import { currentTime } from "../clock";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n([\s\S]*?)-----END CERTIFICATE-----/g;

/** The current time of this run (components/clock.ts: `POSTGRES_ACCESS_NOW` when set, else the clock, read once). */
export function runTime(): Date {
    return currentTime();
}

function subjectCn(cert: X509Certificate): string {
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject);
    return cn ? cn[1] : cert.subject.replace(/\n/g, ", ");
}

/**
 * What is wrong with a PEM bundle, one message per problem (empty when it is fine).
 * @param requireCa every certificate must be a CA (basicConstraints CA:TRUE): the bundle is a trust anchor.
 */
export function pemBundleProblems(pem: string, now: Date, requireCa: boolean): string[] {
    const blocks = [...pem.matchAll(PEM_BLOCK)];
    const leftover = pem.replace(PEM_BLOCK, "").trim();
    const problems: string[] = [];
    if (blocks.length === 0) return ["expected one or more PEM certificates (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)"];
    // Text between certificates (comments) is skipped by OpenSSL, but a stray header is a broken certificate.
    if (/-----(BEGIN|END)/.test(leftover)) problems.push("has a BEGIN or END line without its other half: a certificate is cut off; paste the whole PEM file");
    blocks.forEach((block, i) => {
        const which = blocks.length === 1 ? "the certificate" : `certificate ${i + 1} of ${blocks.length}`;
        let cert: X509Certificate;
        try {
            cert = new X509Certificate(block[0]);
        } catch (err) {
            problems.push(`${which} is not a valid X.509 certificate (${(err as Error).message}); paste the whole PEM file`);
            return;
        }
        const name = `${which} ("${subjectCn(cert)}")`;
        if (new Date(cert.validTo).getTime() < now.getTime()) problems.push(`${name} expired on ${new Date(cert.validTo).toISOString()}; use a current bundle`);
        if (new Date(cert.validFrom).getTime() > now.getTime()) problems.push(`${name} is not valid before ${new Date(cert.validFrom).toISOString()}`);
        if (requireCa && !cert.ca) problems.push(`${name} is not a CA certificate (basicConstraints CA:TRUE); give the CA that issued the server's certificate, not the server's own`);
    });
    return problems;
}

/** Reads a PEM file named relative to the project directory; the error says what to do. */
export function readPemFile(file: string, projectDir: string): { pem?: string; problem?: string } {
    const full = path.resolve(projectDir, file);
    try {
        return { pem: fs.readFileSync(full, "utf8") };
    } catch (err) {
        return { problem: `cannot read ${full} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
    }
}
