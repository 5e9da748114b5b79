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
        const { message, resources } = await failedConstruction(() => new AppAccess("acme-web", {
            env: "dev", organization: { name: "acme", connectionLimit: 100, quota: { cpu: "4", memory: "8Gi", pods: 50 }, apps: [app] },
            app, server, database: database as never, namespace: "acme", platform: {},
        }));
        assert.match(message, /credentials "secretsmanager" need the AWS settings/);
        assert.deepStrictEqual(resources.map((r) => r.type), ["postgres-access:index:AppAccess"]);
    });
});
