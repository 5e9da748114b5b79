/**
 * A consumer of the npm package, as another team would be: `npm pack`, then a separate project in a temp
 * folder installs the tarball (and the @pulumi/* peers from this project's node_modules, so no download),
 * compiles small strict TypeScript programs against the published `.d.ts` (a two-organization platform
 * with `PostgresAccess`, and one from the building blocks), and runs the compiled JavaScript with plain
 * `node` under `postgres-access/testing`'s mocks: no ts-node, one copy of @pulumi/pulumi, and nothing that
 * would make Pulumi look for a `postgres-access` provider plugin. One pack and one install serve every case.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";

const ROOT = path.resolve(__dirname, "..", "..");
const PEERS = ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/kubernetes", "@pulumi/postgresql", "@pulumi/random", "@pulumi/tls", "@pulumi/vault"];
/** pack builds the package first (type-checked tsc); a busy 2-core machine can take minutes. */
const LIMIT_MS = 600_000;

function run(command: string, args: string[], cwd: string, timeout = LIMIT_MS): string {
    const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" } });
    assert.strictEqual(result.error, undefined, `${command} ${args.join(" ")}: ${result.error}`);
    assert.strictEqual(result.status, 0, `${command} ${args.join(" ")} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
}

/** What each consumer program prints: how it ran and what it registered. */
interface Report {
    tsNodeLoaded: boolean;
    pulumiCopies: string[];
    resources: { type: string; name: string }[];
    outputs: unknown;
}

const COMMON = `
import { runPulumi } from "postgres-access/testing";

/** The directories @pulumi/pulumi was loaded from (one expected). */
export function pulumiCopies(): string[] {
    const roots = new Set<string>();
    for (const file of Object.keys(require.cache)) {
        const m = /^(.*[\\\\/]@pulumi[\\\\/]pulumi)[\\\\/]/.exec(file);
        if (m) roots.add(m[1]);
    }
    return [...roots];
}

export async function report(build: () => unknown): Promise<void> {
    const result = await runPulumi(build, { stack: "consumer" });
    const outputs = await new Promise((resolve) => (result.result as { apply(f: (v: unknown) => unknown): unknown }).apply((v) => { resolve(v); return v; }));
    console.log(JSON.stringify({
        tsNodeLoaded: Object.keys(require.cache).some((f) => f.includes("ts-node")),
        pulumiCopies: pulumiCopies(),
        resources: result.resources.map((r) => ({ type: r.type, name: r.name })),
        outputs,
    }));
}
`;

const PLATFORM = `
import { AccessLevel, CredentialSource, DatabaseEngine, PostgresAccess, PostgresAccessArgs, ServerTlsMode } from "postgres-access";
import { report } from "./common";

const spec: PostgresAccessArgs = {
    env: "consumer",
    database: { engine: DatabaseEngine.StatefulSet, tls: ServerTlsMode.VerifyFull },
    organizations: [
        { name: "acme", apps: [{ name: "web", access: AccessLevel.ReadWrite }, { name: "reports", access: "readonly" }] },
        { name: "globex", apps: [{ name: "etl", access: AccessLevel.Owner, credentials: CredentialSource.Kubernetes }] },
    ],
};

void report(() => new PostgresAccess("platform", spec).organizations);
`;

const BLOCKS = `
import { Organization, OrganizationSettings, PlatformConnection, StatefulSetPostgres, ServerTlsMode, platformProviders } from "postgres-access";
import { report } from "./common";

void report(() => {
    const organizations: OrganizationSettings[] = [
        { name: "acme", apps: [{ name: "web" }] },
        { name: "globex", quota: { cpu: "2", memory: "4Gi", pods: 20 }, apps: [{ name: "etl", access: "owner" }, { name: "api", access: "readonly" }] },
    ];
    const server = new StatefulSetPostgres("postgres", {
        namespace: "postgres",
        version: "18",
        tls: ServerTlsMode.Require,
        storageSize: "10Gi",
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        maxConnections: 100,
        clientNamespaces: organizations.map((o) => o.name),
    });
    // What a platform stack would export for its organizations' stacks (plain data).
    const connection: PlatformConnection = {
        database: {
            engine: server.engine, majorVersion: server.majorVersion, tls: server.tls, host: server.host, port: server.port,
            adminUsername: server.adminUsername, adminPassword: server.adminPassword, adminIsSuperuser: server.adminIsSuperuser,
            caCertPem: server.caCertPem, egress: { namespace: "postgres" },
        },
    };
    const providers = platformProviders({ env: "consumer" }, connection);
    const built = organizations.map((organization) => new Organization(organization.name, { env: "consumer", organization, connection },
        { providers: { postgresql: providers.postgresql }, dependsOn: [server] }));
    return server.host.apply((host) => ({ host, organizations: built.map((o) => o.organizationName) }));
});
`;

describe("npm package consumer (separate project, compiled JavaScript, plain node)", function () {
    this.timeout(LIMIT_MS * 2);
    let project: string;
    let installed: string;

    before(() => {
        project = fs.mkdtempSync(path.join(os.tmpdir(), "postgres-access-consumer-"));
        const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", project], ROOT))[0] as { filename: string };
        const tarball = path.join(project, path.basename(packed.filename));
        const dependencies: Record<string, string> = { "postgres-access": `file:${tarball}` };
        for (const name of [...PEERS, "@types/node", "typescript"]) dependencies[name] = `file:${path.join(ROOT, "node_modules", name)}`;
        fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, dependencies }, null, 2));
        // --legacy-peer-deps: the peers are the linked ones (npm's peer placement trips over linked directories).
        run("npm", ["install", "--prefer-offline", "--legacy-peer-deps", "--no-audit", "--no-fund", "--ignore-scripts"], project);
        installed = path.join(project, "node_modules", "postgres-access");
        fs.mkdirSync(path.join(project, "src"));
        fs.writeFileSync(path.join(project, "src", "common.ts"), COMMON);
        fs.writeFileSync(path.join(project, "src", "platform.ts"), PLATFORM);
        fs.writeFileSync(path.join(project, "src", "blocks.ts"), BLOCKS);
        fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({
            compilerOptions: { target: "ES2022", module: "node16", moduleResolution: "node16", strict: true, noImplicitAny: true, outDir: "out", rootDir: "src", types: ["node"], skipLibCheck: true, esModuleInterop: true },
            include: ["src/*.ts"],
        }, null, 2));
        run(process.execPath, [path.join(project, "node_modules", "typescript", "bin", "tsc"), "-p", "."], project);
    });

    after(() => {
        if (project) fs.rmSync(project, { recursive: true, force: true });
    });

    function runCompiled(file: string): Report {
        const out = run(process.execPath, [path.join(project, "out", file)], project, 120_000);
        return JSON.parse(out.trim().split("\n").pop()!);
    }

    it("installs as a package: compiled JavaScript and declarations, no provider plugin declared", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"));
        assert.strictEqual(pkg.pulumi, undefined, "no pulumi.resource: Pulumi would look for a postgres-access plugin");
        assert.ok(!fs.existsSync(path.join(installed, "PulumiPlugin.yaml")), "the plugin manifest stays in the repository");
        assert.ok(fs.existsSync(path.join(installed, pkg.main)) && fs.existsSync(path.join(installed, pkg.types)));
        // The language host asks for the plugins of every installed package that declares one (pulumi.resource).
        const declaring = fs.readdirSync(path.join(project, "node_modules"), { recursive: true, encoding: "utf8" })
            .filter((f) => f.endsWith("package.json") && f.split(path.sep).length <= 3)
            .filter((f) => JSON.parse(fs.readFileSync(path.join(project, "node_modules", f), "utf8")).pulumi?.resource === true)
            .map((f) => path.dirname(f).split(path.sep).join("/"));
        assert.ok(declaring.includes("@pulumi/aws"), `peers declare theirs: ${declaring}`);
        assert.ok(!declaring.includes("postgres-access"), `${declaring}`);
    });

    it("PostgresAccess: a two-organization platform from the compiled program", () => {
        const report = runCompiled("platform.js");
        assert.strictEqual(report.tsNodeLoaded, false);
        assert.strictEqual(report.pulumiCopies.length, 1, `one @pulumi/pulumi: ${report.pulumiCopies}`);
        assert.strictEqual(report.resources.filter((r) => r.type === "postgres-access:index:PostgresAccess").length, 1);
        assert.deepStrictEqual(report.resources.filter((r) => r.type === "postgres-access:index:Organization").map((r) => r.name).sort(), ["acme", "globex"]);
        const outputs = report.outputs as Record<string, { namespace: string; apps: Record<string, { username: string }> }>;
        assert.deepStrictEqual(Object.keys(outputs).sort(), ["acme", "globex"]);
        assert.deepStrictEqual(Object.keys(outputs.acme.apps).sort(), ["reports", "web"]);
        assert.strictEqual(outputs.globex.namespace, "globex");
    });

    it("the building blocks: a server, its connection as plain data, the platform's providers and two organizations", () => {
        const report = runCompiled("blocks.js");
        assert.strictEqual(report.tsNodeLoaded, false);
        assert.strictEqual(report.pulumiCopies.length, 1, `one @pulumi/pulumi: ${report.pulumiCopies}`);
        assert.deepStrictEqual(report.outputs, { host: "postgres.postgres.svc.cluster.local", organizations: ["acme", "globex"] });
        assert.strictEqual(report.resources.filter((r) => r.type === "postgresql:index/role:Role" && r.name.endsWith("-login-role")).length, 3, "one login per app");
        assert.deepStrictEqual(report.resources.filter((r) => r.type === "pulumi:providers:postgresql").map((r) => r.name).sort(), ["acme-postgres-admin", "globex-postgres-admin", "postgres-admin"], "the admin, and each organization's own on its database");
        assert.ok(!report.resources.some((r) => r.type === "postgres-access:index:PostgresAccess"));
    });
});
