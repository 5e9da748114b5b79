/**
 * SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677) in the form PostgreSQL stores in `pg_authid.rolpassword`:
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (standard base64), computed as libpq's
 * `pg_fe_scram_build_secret` does. PostgreSQL stores a password given in this form as-is, so a role can
 * get its password without the password itself ever appearing in a SQL statement (which `log_statement`
 * or a failed statement would write to the server log).
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync } from "crypto";

/** PostgreSQL's default iteration count (`scram_iterations`, 16+; fixed at 4096 before). */
export const SCRAM_ITERATIONS = 4096;
/** PostgreSQL's salt length in bytes. */
export const SCRAM_SALT_BYTES = 16;

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]{43}=):([A-Za-z0-9+/]{43}=)$/;

/**
 * The SCRAM-SHA-256 verifier of `password` with `salt` and `iterations`.
 *
 * Only printable ASCII passwords are accepted: PostgreSQL passes them through SASLprep unchanged, while a
 * non-ASCII password would be normalized first (and a verifier of the raw bytes would not match what a
 * client sends). The salt must be random and stored (not derived from the password): it is what makes
 * each verifier expensive to attack on its own.
 */
export function scramSha256Verifier(password: string, salt: Buffer, iterations: number = SCRAM_ITERATIONS): string {
    checkScramInputs("scramSha256Verifier", password, salt, iterations);
    return verifierFromSaltedPassword(pbkdf2Sync(Buffer.from(password, "ascii"), salt, iterations, 32, "sha256"), salt, iterations);
}

/**
 * `scramSha256Verifier` with the PBKDF2 rounds run on libuv's thread pool instead of the calling thread
 * (what the components use: a stack computes one per login, and the main thread meanwhile registers
 * resources). Same inputs, same checks, same result.
 */
export function scramSha256VerifierAsync(password: string, salt: Buffer, iterations: number = SCRAM_ITERATIONS): Promise<string> {
    checkScramInputs("scramSha256VerifierAsync", password, salt, iterations);
    return new Promise((resolve, reject) => {
        pbkdf2(Buffer.from(password, "ascii"), salt, iterations, 32, "sha256", (err, saltedPassword) => {
            if (err) reject(err);
            else resolve(verifierFromSaltedPassword(saltedPassword, salt, iterations));
        });
    });
}

function checkScramInputs(fn: string, password: string, salt: Buffer, iterations: number): void {
    if (password.length === 0) throw new Error(`${fn}: the password is empty`);
    if (!/^[\x20-\x7e]+$/.test(password)) throw new Error(`${fn}: the password must be printable ASCII (PostgreSQL would SASLprep-normalize anything else)`);
    if (salt.length === 0) throw new Error(`${fn}: the salt is empty`);
    if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`${fn}: iterations must be a positive integer, got ${iterations}`);
}

function verifierFromSaltedPassword(saltedPassword: Buffer, salt: Buffer, iterations: number): string {
    const clientKey = createHmac("sha256", saltedPassword).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", saltedPassword).update("Server Key").digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** Whether `value` has the form of a SCRAM-SHA-256 verifier (which PostgreSQL stores as-is). */
export function isScramSha256Verifier(value: string): boolean {
    return VERIFIER.test(value);
}

/** The salt and iteration count of a verifier (e.g. one read from `pg_authid`). */
export function scramParameters(verifier: string): { salt: Buffer; iterations: number } {
    const m = VERIFIER.exec(verifier);
    if (!m) throw new Error("not a SCRAM-SHA-256 verifier");
    return { iterations: Number(m[1]), salt: Buffer.from(m[2], "base64") };
}
