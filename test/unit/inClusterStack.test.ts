/**
 * The dev stack (in-cluster server, Kubernetes Secret delivery) under mocks, in up and preview mode:
 * what is registered, with which settings, which values stay secret, and what Kubernetes would accept.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { runPulumi, RunResult, isSecret, valueOf } from "../support/harness";
import { readStackFile } from "../../stacks/stackFile";
import { checkPodSecurityRestricted } from "../support/podSecurityRestricted";
import type { StackOutputs } from "../../stacks/program";

const K = {
    namespace: "kubernetes:core/v1:Namespace",
    secret: "kubernetes:core/v1:Secret",
    sts: "kubernetes:apps/v1:StatefulSet",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    sa: "kubernetes:core/v1:ServiceAccount",
    role: "postgresql:index/role:Role",
    grant: "postgresql:index/grant:Grant",
    database: "postgresql:index/database:Database",
};

function runDev(preview: boolean): Promise<RunResult<{ outputs: StackOutputs; exports: Record<string, unknown> }>> {
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        const outputs = program.createStack();
        return { outputs, exports: program.stackExports(outputs) };
    }, { stack: "dev", preview, config: readStackFile("dev") });
}

/** Loads the ESM-only kubernetes-models module for an API group version. */
async function kubernetesModels(groupVersion: string): Promise<any> {
    const load = new Function("s", "return import(s)") as (s: string) => Promise<any>;
    return load(`kubernetes-models/${groupVersion}`);
}

for (const preview of [false, true]) {
    describe(`dev stack under mocks (${preview ? "preview" : "up"})`, function () {
        this.timeout(60000);
        let run: RunResult<{ outputs: StackOutputs; exports: Record<string, unknown> }>;
        before(async () => {
            run = await runDev(preview);
        });

        it("registers both organizations, every app, and one server", () => {
            assert.deepStrictEqual(run.ofType(K.namespace).map((r) => r.inputs.metadata.name).sort(), ["acme", "globex", "initech", "postgres"]);
            assert.deepStrictEqual(run.ofType(K.sa).map((r) => `${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`).sort(), ["acme/billing", "acme/reporting", "acme/storefront", "globex/globex", "initech/analytics", "initech/batch", "initech/payroll"]);
            assert.strictEqual(run.ofType(K.sts).length, 1);
            assert.deepStrictEqual(run.ofType(K.database).map((r) => r.inputs.name).sort(), ["acme", "globex", "initech"]);
        });

        it("sends every database resource through the one explicit postgresql provider", () => {
            const providers = run.ofType("pulumi:providers:postgresql");
            assert.strictEqual(providers.length, 1);
            const pgResources = run.resources.filter((r) => r.type.startsWith("postgresql:index/"));
            assert.ok(pgResources.length > 20);
            for (const r of pgResources) {
                assert.ok(r.provider?.includes("pulumi:providers:postgresql::postgres-admin"), `${r.type} ${r.name} uses ${r.provider}`);
            }
            const provider = providers[0].inputs;
            assert.strictEqual(provider.host, "localhost", "adminEndpoint override");
            assert.strictEqual(provider.port, preview ? provider.port : "15432");
            assert.strictEqual(provider.sslmode, "require");
            assert.strictEqual(provider.superuser, "true");
        });

        it("keeps every password and key secret in resource inputs", () => {
            const provider = run.ofType("pulumi:providers:postgresql")[0];
            assert.ok(provider.secretPaths.includes("password"), "provider password");
            for (const r of run.ofType(K.role).filter((x) => x.inputs.login)) {
                const field = r.inputs.password !== undefined ? "password" : "passwordWo";
                assert.ok(r.inputs[field], `${r.name} has a password`);
                assert.ok(r.secretPaths.includes(field), `${r.name} ${field} is secret`);
            }
            const connection = run.ofType("vault:database/secretBackendConnection:SecretBackendConnection")[0];
            assert.ok(connection.secretPaths.some((p) => p === "postgresql" || p === "postgresql.passwordWo"), "Vault's admin password is secret");
            for (const r of run.ofType(K.secret)) {
                assert.ok(r.secretPaths.some((p) => p === "stringData" || p.startsWith("stringData.")), `${r.name} stringData is secret`);
            }
            const tlsSecret = run.ofType(K.secret).find((r) => r.inputs.type === "kubernetes.io/tls")!;
            assert.ok(tlsSecret.secretPaths.some((p) => p === "stringData" || p === "stringData.tls.key"));
        });

        it("exports passwords only as secrets", async () => {
            const exports = run.result.exports as any;
            assert.ok(await isSecret(exports.adminPassword), "adminPassword");
            for (const org of Object.values<any>(exports.organizations)) {
                for (const app of Object.values<any>(org.apps)) {
                    if (app.password !== undefined) assert.ok(await isSecret(app.password), "app password export");
                }
            }
            if (!preview) {
                const all = JSON.stringify(await valueOf(pulumi.output(exports).apply((e) => e)));
                assert.ok(all.length > 0);
            }
        });

        it("runs every pod under Pod Security restricted", () => {
            const workloads = run.resources.filter((r) => /:(StatefulSet|Deployment|DaemonSet|Job|CronJob|Pod)$/.test(r.type));
            assert.ok(workloads.length >= 1);
            for (const w of workloads) {
                const kind = w.type.split(":").pop();
                assert.deepStrictEqual(checkPodSecurityRestricted({ kind, ...w.inputs }), [], `${w.name}`);
            }
        });

        it("enforces restricted Pod Security on the organization and server namespaces", () => {
            for (const ns of run.ofType(K.namespace)) {
                assert.strictEqual(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted", ns.inputs.metadata.name);
            }
        });

        it("produces Kubernetes objects that validate against the API schemas", async function () {
            if (preview) this.skip(); // unknown values are not valid objects, by design
            // built-in kinds here; the CRDs (SecretProviderClass, Vault Secrets Operator, ClusterSPIFFEID) are checked against their own schemas
            for (const r of run.resources.filter((x) => x.custom && /^kubernetes:(core|apps|networking\.k8s\.io|policy)\//.test(x.type))) {
                const [, groupVersion, kind] = r.type.split(":");
                const [group, version] = groupVersion.split("/");
                const module = await kubernetesModels(group === "core" ? version : `${group}/${version}`);
                const apiVersion = group === "core" ? version : `${group}/${version}`;
                const model = new module[kind]({ apiVersion, kind, ...r.inputs });
                assert.doesNotThrow(() => model.validate(), `${r.type} ${r.name}`);
            }
        });
    });
}

describe("dev stack settings (up)", function () {
    this.timeout(60000);
    let run: RunResult<{ outputs: StackOutputs; exports: Record<string, unknown> }>;
    before(async () => {
        run = await runDev(false);
    });

    it("hardens the StatefulSet like a production operator", () => {
        const sts = run.ofType(K.sts)[0].inputs;
        const pod = sts.spec.template.spec;
        const c = pod.containers[0];
        assert.deepStrictEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
        assert.strictEqual(sts.spec.replicas, 1);
        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
        const dataMount = c.volumeMounts.find((m: any) => m.name === "data").mountPath;
        assert.ok(env.PGDATA.startsWith(`${dataMount}/`) && env.PGDATA !== dataMount, "PGDATA below the mount");
        assert.deepStrictEqual(env.POSTGRES_PASSWORD, { secretKeyRef: { name: "postgres-admin", key: "POSTGRES_PASSWORD" } }, "password from the Secret, never inline");
        assert.ok(c.readinessProbe?.exec && c.livenessProbe?.exec && c.startupProbe?.exec);
        assert.deepStrictEqual(c.resources, { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } });
        assert.strictEqual(pod.securityContext.runAsNonRoot, true);
        assert.strictEqual(c.securityContext.readOnlyRootFilesystem, true);
        assert.strictEqual(pod.automountServiceAccountToken, false);
        assert.deepStrictEqual(sts.spec.volumeClaimTemplates[0].spec.resources.requests, { storage: "10Gi" });
        const args: string[] = c.args;
        for (const s of ["ssl=on", "password_encryption=scram-sha-256", "max_connections=200"]) assert.ok(args.includes(s), s);
        const tlsVolume = pod.volumes.find((v: any) => v.name === "tls");
        assert.strictEqual(tlsVolume.secret.defaultMode, 0o640, "key readable by fsGroup only: a mode PostgreSQL accepts");
    });

    it("renders a TLS-only pg_hba with scram-sha-256", () => {
        const hba: string = run.ofType("kubernetes:core/v1:ConfigMap")[0].inputs.data["pg_hba.conf"];
        const rules = hba.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(/\s+/));
        assert.ok(rules.filter((r) => r[0] === "hostssl").every((r) => r[4] === "scram-sha-256"));
        assert.deepStrictEqual(rules.filter((r) => r[0] === "hostnossl").map((r) => r.at(-1)), ["reject", "reject"]);
        assert.ok(!rules.some((r) => ["trust", "password", "md5"].includes(r.at(-1)!)), "no weak methods");
        assert.ok(!rules.some((r) => r[0] === "host" && r.at(-1) !== "reject"), "no plain `host` rule that admits");
    });

    it("admits 5432 on the server only from the organizations' namespaces", () => {
        const policy = run.ofType(K.netpol).find((r) => r.inputs.metadata.namespace === "postgres")!.inputs.spec;
        assert.deepStrictEqual(policy.policyTypes, ["Ingress"]);
        assert.deepStrictEqual(policy.ingress[0].ports, [{ protocol: "TCP", port: 5432 }]);
        assert.deepStrictEqual(policy.ingress[0].from[0].namespaceSelector.matchExpressions[0].values.sort(), ["acme", "globex", "initech"]);
        assert.strictEqual(run.ofType("kubernetes:policy/v1:PodDisruptionBudget").length, 0, "a PDB would block node drains with one replica");
    });

    it("gives each organization a default-deny namespace with DNS and database egress only", () => {
        const acme = run.ofType(K.netpol).filter((r) => r.inputs.metadata.namespace === "acme");
        const deny = acme.find((r) => r.inputs.metadata.name === "default-deny")!.inputs.spec;
        assert.deepStrictEqual(deny, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        const egress = acme.find((r) => r.inputs.metadata.name === "allow-dns-and-database")!.inputs.spec.egress;
        assert.strictEqual(egress.length, 2);
        assert.deepStrictEqual(egress[1], { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "postgres" } } }], ports: [{ protocol: "TCP", port: 5432 }] });
        assert.deepStrictEqual(egress[0].ports.map((p: any) => `${p.protocol}/${p.port}`), ["UDP/53", "TCP/53"]);
        const quota = run.ofType("kubernetes:core/v1:ResourceQuota").find((r) => r.inputs.metadata.namespace === "globex")!.inputs.spec.hard;
        assert.deepStrictEqual(quota, { "requests.cpu": "2", "limits.cpu": "2", "requests.memory": "4Gi", "limits.memory": "4Gi", pods: "20" });
        for (const sa of run.ofType(K.sa)) {
            assert.strictEqual(sa.inputs.automountServiceAccountToken, sa.inputs.metadata.name === "batch", `${sa.inputs.metadata.name}: only the vault-agent app mounts its token`);
        }
        const initech = run.ofType(K.netpol).find((r) => r.inputs.metadata.namespace === "initech" && r.inputs.metadata.name === "allow-dns-and-database")!.inputs.spec.egress;
        assert.deepStrictEqual(initech[2], { to: [{ ipBlock: { cidr: "10.96.0.0/12" } }], ports: [{ protocol: "TCP", port: 8200 }] }, "egress to Vault for the agent");
    });

    it("creates group roles without login and app logins with exactly one group", () => {
        const roles = run.ofType(K.role).map((r) => r.inputs);
        const groups = roles.filter((r) => !r.login);
        assert.deepStrictEqual(groups.map((r) => r.name).sort(), ["acme_owner", "acme_readonly", "acme_readwrite", "globex_owner", "globex_readonly", "globex_readwrite", "initech_owner", "initech_readonly", "initech_readwrite"]);
        const logins = Object.fromEntries(roles.filter((r) => r.login).map((r) => [r.name, r]));
        assert.deepStrictEqual(Object.keys(logins).sort(), ["acme_billing", "acme_reporting", "acme_storefront", "globex_globex", "initech_batch", "initech_payroll", "vault_admin"]);
        assert.strictEqual(logins.vault_admin.createRole, true, "Vault's own admin may create roles");
        assert.strictEqual(logins.vault_admin.inherit, false, "and inherits no privileges of the roles it manages");
        delete logins.vault_admin;
        assert.deepStrictEqual(logins.acme_billing.roles, ["acme_owner"]);
        assert.strictEqual(logins.acme_billing.assumeRole, "acme_owner");
        assert.deepStrictEqual(logins.acme_storefront.roles, ["acme_readwrite"]);
        assert.strictEqual(logins.acme_storefront.assumeRole, undefined);
        assert.deepStrictEqual(logins.acme_reporting.roles, ["acme_readonly"]);
        assert.strictEqual(logins.acme_reporting.connectionLimit, 5);
        for (const r of roles.filter((x) => x.name !== "vault_admin")) {
            for (const flag of ["superuser", "createRole", "createDatabase", "replication", "bypassRowLevelSecurity"]) assert.strictEqual(r[flag], false, `${r.name}.${flag}`);
        }
        const revokes = run.ofType(K.grant).filter((g) => g.inputs.role === "public");
        assert.deepStrictEqual(revokes.map((g) => `${g.inputs.database}:${g.inputs.objectType}:${g.inputs.privileges.length}`).sort(), ["acme:database:0", "acme:schema:0", "globex:database:0", "globex:schema:0", "initech:database:0", "initech:schema:0"]);
        const db = run.ofType(K.database).find((r) => r.inputs.name === "acme")!.inputs;
        assert.strictEqual(db.owner, "acme_owner");
        assert.strictEqual(db.connectionLimit, 60);
    });

    it("delivers a Secret per app with a DATABASE_URL that parses back to its fields", () => {
        const secret = run.ofType(K.secret).find((r) => r.inputs.metadata.name === "storefront-database")!;
        const d = secret.inputs.stringData;
        assert.strictEqual(secret.inputs.metadata.namespace, "acme");
        assert.deepStrictEqual(Object.keys(d).sort(), ["DATABASE_URL", "ca.crt", "database", "dbname", "engine", "host", "password", "port", "sslmode", "username"]);
        const url = new URL(d.DATABASE_URL);
        assert.deepStrictEqual(
            [url.protocol, decodeURIComponent(url.username), decodeURIComponent(url.password), url.hostname, url.port, url.pathname, url.searchParams.get("sslmode")],
            ["postgresql:", d.username, d.password, d.host, d.port, `/${d.database}`, d.sslmode],
        );
        assert.strictEqual(d.host, "postgres.postgres.svc.cluster.local");
        assert.strictEqual(d.sslmode, "require");
    });
});
