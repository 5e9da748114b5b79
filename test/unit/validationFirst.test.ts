/**
 * Building blocks refuse bad args before their first child exists: a failed construction leaves nothing
 * behind but the component's own registration (no namespace, password or login of a half-built server or
 * app reaches the engine).
 */
import * as assert from "assert";
import { RecordedResource, runPulumi } from "../../testing/offlineRun";

/** Runs `build` under mocks, expecting it to throw; returns the message and what was registered. */
async function failedConstruction(build: () => unknown): Promise<{ message: string; resources: RecordedResource[] }> {
    let message = "";
    const run = await runPulumi(() => {
        try {
            build();
        } catch (err) {
            message = (err as Error).message;
        }
    });
    assert.ok(message, "construction did not fail");
    return { message, resources: run.resources };
}

describe("validation before the first child", () => {
    it("StatefulSetPostgres: tls mtls without spiffe settings", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { StatefulSetPostgres } = require("../../components/database/statefulSetPostgres") as typeof import("../../components/database/statefulSetPostgres");
        const { message, resources } = await failedConstruction(() => new StatefulSetPostgres("postgres", {
            namespace: "postgres", version: "18", tls: "mtls", storageSize: "20Gi", maxConnections: 100, clientNamespaces: ["acme"],
            resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        }));
        assert.match(message, /tls "mtls" needs spiffe settings/);
        assert.deepStrictEqual(resources.map((r) => r.type), ["postgres-access:index:StatefulSetPostgres"]);
    });

    it("AppAccess: secretsmanager credentials without the AWS platform", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { AppAccess } = require("../../components/appAccess") as typeof import("../../components/appAccess");
        const pulumi = await import("@pulumi/pulumi");
        const app = { name: "web", access: "readwrite", credentials: "secretsmanager", delivery: "csi", connectionLimit: 20, isDefaultApp: false } as const;
        const server = {
            engine: "rds", majorVersion: "18", host: pulumi.output("db"), port: pulumi.output(5432), adminUsername: pulumi.output("pgadmin"),
            adminPassword: pulumi.secret("pw"), adminIsSuperuser: false, caCertPem: pulumi.output(""), tls: "require",
        } as const;
        const database = { groupRoles: { readwrite: { name: pulumi.output("acme_readwrite") } }, privilegesReady: [], databaseName: pulumi.output("acme") };
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { appNames } = require("../../components/naming") as typeof import("../../components/naming");
        const { message, resources } = await failedConstruction(() => new AppAccess("acme-web", {
            env: "dev", organization: { name: "acme", connectionLimit: 100, quota: { cpu: "4", memory: "8Gi", pods: 50 }, apps: [app] },
            app, names: appNames("acme", "web", "dev", false), database: database as never, namespace: "acme", connection: { database: { ...server, egress: { cidrBlocks: [] } } },
        }));
        assert.match(message, /credentials "secretsmanager" need the AWS settings/);
        assert.deepStrictEqual(resources.map((r) => r.type), ["postgres-access:index:AppAccess"]);
    });

    it("Organization: every problem of its args with its path, nothing registered, not even the component", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { Organization } = require("../../components/organization") as typeof import("../../components/organization");
        const connection: import("../../components/platformConnection").PlatformConnection = {
            database: {
                engine: "rds", majorVersion: "18", tls: "verify-full", host: "db", port: 5432, adminUsername: "pgadmin",
                adminPassword: "pw", adminIsSuperuser: false, caCertPem: "", egress: { cidrBlocks: ["10.0.1.0/24"] },
            },
        } as const;
        const { message, resources } = await failedConstruction(() => new Organization("acme", {
            env: "dev",
            organization: { name: "acme", apps: [{ name: "web", access: "admin" as never }, { name: "jobs", credentials: "secretsmanager" }, { name: "web" }] },
            accessPolicy: { requiredApprovals: 0 },
            connection,
        }));
        for (const expected of [
            /organization\.apps\[0\]\.access: expected one of/,
            /organization\.apps\[1\]\.credentials: "secretsmanager" needs the postgres-access:aws config/,
            /organization\.apps\[2\]\.name: duplicate app "web"/,
            /accessPolicy\.requiredApprovals/,
        ]) assert.match(message, expected);
        assert.deepStrictEqual(resources, []);
    });
});
