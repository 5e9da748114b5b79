/**
 * What Vault's PostgreSQL database plugin does with the statements and connection we register
 * (hashicorp/vault plugins/database/postgresql/postgresql.go and scram/scram.go), so the tests can run
 * them on a real PostgreSQL exactly as Vault would:
 *
 * - {{name}}/{{username}}, {{password}}, {{expiration}} are substituted as text (dbutil.QueryHelper);
 * - with `password_authentication = scram-sha-256` {{password}} becomes a SCRAM-SHA-256 verifier built
 *   from the generated password (PBKDF2-SHA256, 4096 iterations, random 16-byte salt), never the plaintext,
 *   for creation (NewUser) and for static / root rotation (UpdateUser → changeUserPassword);
 * - every entry of a list runs in one transaction; a creation or revocation entry containing the word END
 *   outside quotes (containsMultilineStatement) is executed as-is, any other entry is split on ';';
 *   rotation and renewal entries are always split;
 * - the connection's login runs them, in the connection URL's database.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "crypto";
import { Client } from "pg";
import { TestServer } from "../support/realPostgres";

/** PostgreSQL's SCRAM-SHA-256 verifier, as Vault's scram.Hash builds it. */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
    const salted = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** A password like Vault's default password policy makes (20 characters, [A-Za-z0-9-]). */
export function vaultPassword(): string {
    const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    return `A1a-${Array.from(randomBytes(16), (b) => alnum[b % alnum.length]).join("")}`;
}

/** Vault's default username template for PostgreSQL, rendered as Vault does. */
export function vaultDefaultUsername(displayName: string, roleName: string, now = new Date()): string {
    const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const random = Array.from(randomBytes(20), (b) => alnum[b % alnum.length]).join("");
    return `v-${displayName.slice(0, 8)}-${roleName.slice(0, 8)}-${random}-${Math.floor(now.getTime() / 1000)}`.slice(0, 63);
}

/** Vault's {{expiration}}: Go layout "2006-01-02 15:04:05-0700". */
export function vaultExpiration(date: Date): string {
    return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "+0000");
}

/** containsMultilineStatement, ported with its quirk (only the last quoted literal is removed). */
export function containsMultilineStatement(stmt: string): boolean {
    const literals = [...(stmt.match(/(".*?")/g) ?? []), ...(stmt.match(/('.*?')/g) ?? [])];
    let without = stmt;
    for (const literal of literals) without = stmt.split(literal).join("");
    return /\bEND\b/.test(without);
}

function render(statement: string, values: Record<string, string>): string {
    return statement.replace(/\{\{(\w+)\}\}/g, (_, key) => {
        if (!(key in values)) throw new Error(`no value for {{${key}}} (Vault would leave it in the SQL)`);
        return values[key];
    });
}

export type VaultOperation = "creation" | "revocation" | "rotation" | "renewal";

/**
 * Runs a statement list as Vault does for `operation`. `password` is the plaintext Vault generated; with
 * scram-sha-256 the statements see its verifier.
 */
export async function runAsVault(client: Client, operation: VaultOperation, statements: string[], values: { name: string; password?: string; expiration?: string }, passwordAuthentication: "password" | "scram-sha-256" = "scram-sha-256"): Promise<void> {
    const map: Record<string, string> = { name: values.name, username: values.name };
    if (values.password !== undefined) map.password = passwordAuthentication === "scram-sha-256" ? scramSha256Verifier(values.password) : values.password;
    if (values.expiration !== undefined) map.expiration = values.expiration;
    await client.query("BEGIN");
    try {
        for (const entry of statements) {
            const whole = (operation === "creation" || operation === "revocation") && containsMultilineStatement(entry);
            const queries = whole ? [entry] : entry.split(";").map((q) => q.trim()).filter(Boolean);
            for (const query of queries) await client.query(render(query, map));
        }
        await client.query("COMMIT");
    } catch (err) {
        await client.query("ROLLBACK");
        throw err;
    }
}

/** Connects the way a registered SecretBackendConnection would: its login, its URL's database. */
export async function connectAsConnection(server: TestServer, connection: { postgresql: { connectionUrl: string; username: string } }, password: string): Promise<Client> {
    const url = new URL(connection.postgresql.connectionUrl.replace("{{username}}:{{password}}", "u:p"));
    return server.connect({ user: connection.postgresql.username, password, database: decodeURIComponent(url.pathname.slice(1)) });
}
