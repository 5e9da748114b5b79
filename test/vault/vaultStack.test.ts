/**
 * The Vault side of the dev stack under mocks (up and preview): the engine's connection, per-app policies
 * (parsed by a real HCL parser), Kubernetes auth roles, and each delivery mode's objects.
 */
import * as assert from "assert";
import * as yaml from "js-yaml";
import { runPulumi, RunResult } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";
import { parseStackConfig, ConfigError } from "../../components/config";
import { checkPodSecurityRestricted } from "../../policy/podSecurityRestricted";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hcl = require("@cdktn/hcl2json") as { parse(file: string, text: string): Promise<any> };

const V = {
    connection: "vault:database/secretBackendConnection:SecretBackendConnection",
    staticRole: "vault:database/secretBackendStaticRole:SecretBackendStaticRole",
    dynamicRole: "vault:database/secretBackendRole:SecretBackendRole",
    policy: "vault:index/policy:Policy",
    authRole: "vault:kubernetes/authBackendRole:AuthBackendRole",
    mount: "vault:index/mount:Mount",
    pgRole: "postgresql:index/role:Role",
    pgGrant: "postgresql:index/grant:Grant",
    grantRole: "postgresql:index/grantRole:GrantRole",
};

function runDev(preview: boolean) {
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        const outputs = program.createStack();
        return program.stackExports(outputs);
    }, { stack: "dev", preview, config: readStackFile("dev") });
}

for (const preview of [false, true]) {
    describe(`Vault under mocks (${preview ? "preview" : "up"})`, function () {
        this.timeout(60000);
        let run: RunResult<Record<string, unknown>>;
        before(async () => {
            run = await runDev(preview);
        });

        it("mounts one database engine with one connection per Vault organization, logging in to its database as its own admin", () => {
            assert.deepStrictEqual(run.ofType(V.mount).map((m) => [m.inputs.path, m.inputs.type]), [["database-dev", "database"]]);
            const connections = run.ofType(V.connection);
            assert.deepStrictEqual(connections.map((c) => c.inputs.name), ["initech"], "only organizations with Vault apps get one");
            const c = connections[0];
            assert.deepStrictEqual(c.inputs.allowedRoles.sort(), ["initech_dev_analytics", "initech_dev_batch", "initech_dev_payroll"]);
            assert.strictEqual(c.inputs.verifyConnection, true);
            assert.strictEqual(c.inputs.postgresql.username, "initech_vault_admin");
            assert.strictEqual(c.inputs.postgresql.passwordAuthentication, "scram-sha-256");
            assert.ok(c.inputs.postgresql.passwordWo && c.inputs.postgresql.password === undefined, "write-only password: root rotation never fights Pulumi");
            assert.ok(c.secretPaths.some((p) => p === "postgresql" || p.startsWith("postgresql.passwordWo")), "the password travels as a secret");
            if (!preview) assert.match(c.inputs.postgresql.connectionUrl, /^postgresql:\/\/\{\{username\}\}:\{\{password\}\}@postgres\.postgres\.svc\.cluster\.local:5432\/initech\?sslmode=require$/);
            const admin = run.ofType(V.pgRole).find((r) => r.inputs.name === "initech_vault_admin")!.inputs;
            assert.deepStrictEqual([admin.login, admin.createRole, admin.inherit, admin.superuser, admin.createDatabase], [true, true, false, false, false]);
            const connect = run.ofType(V.pgGrant).filter((g) => g.inputs.role === "initech_vault_admin");
            assert.deepStrictEqual(connect.map((g) => [g.inputs.objectType, g.inputs.database, g.inputs.privileges]), [["database", "initech", ["CONNECT"]]], "CONNECT on its own database only");
            const grants = run.ofType(V.grantRole).filter((g) => /vault_admin/.test(g.inputs.role)).map((g) => [g.inputs.role, g.inputs.grantRole, g.inputs.withAdminOption]);
            assert.deepStrictEqual(grants.sort(), [["initech_vault_admin", "initech_batch", true], ["initech_vault_admin", "initech_payroll", true], ["initech_vault_admin", "initech_readonly", true]]);
            assert.ok(!run.resources.some((r) => JSON.stringify(r.inputs ?? {}).includes("pg_signal_backend")), "no pg_signal_backend grant");
            for (const r of run.resources.filter((x) => x.type.startsWith("vault:"))) {
                assert.ok(r.provider?.includes("pulumi:providers:vault::vault"), `${r.type} uses the explicit Vault provider`);
            }
        });

        it("rotates static roles on their schedule and bounds dynamic leases", () => {
            const statics = Object.fromEntries(run.ofType(V.staticRole).map((r) => [r.inputs.name, r.inputs]));
            assert.deepStrictEqual([statics["initech_dev_payroll"].rotationSchedule, statics["initech_dev_payroll"].rotationWindow, statics["initech_dev_payroll"].rotationPeriod], ["0 3 * * SUN", 7200, undefined]);
            assert.deepStrictEqual([statics["initech_dev_batch"].rotationPeriod, statics["initech_dev_batch"].rotationSchedule], [86400, undefined]);
            assert.strictEqual(statics["initech_dev_payroll"].username, "initech_payroll");
            const dynamic = run.ofType(V.dynamicRole)[0].inputs;
            assert.deepStrictEqual([dynamic.name, dynamic.defaultTtl, dynamic.maxTtl], ["initech_dev_analytics", 3600, 14400]);
            if (!preview) assert.match(dynamic.creationStatements[0], /VALID UNTIL '\{\{expiration\}\}'.* IN ROLE "initech_readonly";$/);
            assert.strictEqual(dynamic.dbName, "initech");
            assert.deepStrictEqual(dynamic.revocationStatements.length, 1, "one DO block");
            assert.match(dynamic.revocationStatements[0], /^DO \$revoke\$[\s\S]*GRANT "\{\{name\}\}" TO "initech_vault_admin";[\s\S]*DROP OWNED BY "\{\{name\}\}";[\s\S]*DROP ROLE "\{\{name\}\}";[\s\S]*\bEND\b[\s\S]*\$revoke\$;$/);
            for (const r of run.ofType(V.staticRole)) assert.strictEqual(r.inputs.dbName, "initech");
        });

        it("gives each app a policy with only `read` on its own credentials path", async function () {
            if (preview) this.skip(); // the mount path is an output
            const policies = run.ofType(V.policy);
            assert.strictEqual(policies.length, 3);
            for (const p of policies) {
                const parsed = await hcl.parse(`${p.inputs.name}.hcl`, p.inputs.policy);
                const paths = Object.keys(parsed.path);
                const kind = p.inputs.name.endsWith("analytics") ? "creds" : "static-creds";
                assert.deepStrictEqual(paths, [`database-dev/${kind}/${p.inputs.name}`], "exactly its own path");
                assert.deepStrictEqual(parsed.path[paths[0]], [{ capabilities: ["read"] }]);
                assert.ok(!paths[0].includes("*") && !paths[0].includes("+"), "no globs");
            }
        });

        it("binds each Kubernetes auth role to exactly the app's ServiceAccount and namespace", () => {
            const roles = run.ofType(V.authRole).map((r) => r.inputs);
            assert.deepStrictEqual(roles.map((r) => [r.roleName, r.boundServiceAccountNames, r.boundServiceAccountNamespaces, r.tokenPolicies]).sort(), [
                ["initech_dev_analytics", ["analytics"], ["initech"], ["initech_dev_analytics"]],
                ["initech_dev_batch", ["batch"], ["initech"], ["initech_dev_batch"]],
                ["initech_dev_payroll", ["payroll"], ["initech"], ["initech_dev_payroll"]],
            ]);
            for (const r of roles) assert.ok(!JSON.stringify(r).includes("*"), "no wildcards");
        });

        it("delivers through the Vault Secrets Operator with DATABASE_URL and rollout restarts", () => {
            const dynamicSecret = run.resources.find((r) => r.type === "kubernetes:secrets.hashicorp.com/v1beta1:VaultDynamicSecret")!.inputs;
            assert.strictEqual(dynamicSecret.metadata.namespace, "initech");
            assert.strictEqual(dynamicSecret.spec.path, "static-creds/initech_dev_payroll");
            assert.strictEqual(dynamicSecret.spec.allowStaticCreds, true);
            assert.deepStrictEqual(dynamicSecret.spec.rolloutRestartTargets, [{ kind: "Deployment", name: "payroll" }]);
            assert.strictEqual(dynamicSecret.spec.destination.create, true);
            if (!preview) assert.match(dynamicSecret.spec.destination.transformation.templates.DATABASE_URL.text, /^postgresql:\/\/\{\{ get \.Secrets "username" \| urlquery \}\}:\{\{ get \.Secrets "password" \| urlquery \}\}@postgres\.postgres\.svc\.cluster\.local:5432\/initech\?sslmode=require$/);
            const auth = run.resources.find((r) => r.type === "kubernetes:secrets.hashicorp.com/v1beta1:VaultAuth")!.inputs.spec;
            assert.deepStrictEqual(auth.kubernetes, { role: "initech_dev_payroll", serviceAccount: "payroll", audiences: ["vault"] });
        });

        it("delivers through the CSI driver's Vault provider with string parameters", () => {
            const spc = run.resources.find((r) => r.type === "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")!.inputs;
            assert.strictEqual(spc.spec.provider, "vault");
            for (const [k, v] of Object.entries(spc.spec.parameters)) assert.strictEqual(typeof v, "string", `parameters.${k} is a string`);
            assert.strictEqual(spc.spec.parameters.roleName, "initech_dev_analytics");
            assert.strictEqual(spc.spec.parameters.vaultAddress, undefined, "no address: the provider's own Vault Agent caches and renews leases");
            if (!preview) {
                const objects = yaml.load(spc.spec.parameters.objects) as any[];
                assert.deepStrictEqual(objects.map((o) => [o.objectName, o.secretPath, o.secretKey]), [
                    ["username", "database-dev/creds/initech_dev_analytics", "username"],
                    ["password", "database-dev/creds/initech_dev_analytics", "password"],
                ]);
            }
        });

        it("publishes the agent-injector annotations for vault-agent apps", async function () {
            if (preview) this.skip();
            const cm = run.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata?.name === "batch-database-vault-agent")!.inputs;
            const annotations = JSON.parse(cm.data["annotations.json"]);
            assert.strictEqual(annotations["vault.hashicorp.com/agent-inject"], "true");
            assert.strictEqual(annotations["vault.hashicorp.com/role"], "initech_dev_batch");
            assert.strictEqual(annotations["vault.hashicorp.com/agent-inject-secret-database-url"], "database-dev/static-creds/initech_dev_batch");
            assert.match(annotations["vault.hashicorp.com/agent-inject-template-database-url"], /\{\{- with secret "database-dev\/static-creds\/initech_dev_batch" -\}\}\npostgresql:\/\/\{\{ \.Data\.username \| urlquery \}\}:/);
        });

        it("makes the agent log in with a projected token for audience `vault`, which the auth role requires", async function () {
            if (preview) this.skip();
            const cm = run.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata?.name === "batch-database-vault-agent")!.inputs;
            const patch = JSON.parse(cm.data["deployment-patch.json"]);
            assert.deepStrictEqual(patch.spec.template.metadata.annotations, JSON.parse(cm.data["annotations.json"]));
            assert.deepStrictEqual(patch.spec.template.spec.volumes, JSON.parse(cm.data["volumes.json"]));
            const authRole = run.ofType(V.authRole).find((r) => r.inputs.roleName === "initech_dev_batch")!.inputs;
            assert.strictEqual(authRole.audience, "vault");

            // The app's pod after the API server's ServiceAccount admission (default token mounted, audience
            // = the API server) and with the published patch applied.
            const pod = appPod(patch.spec.template);
            const source = injectorLoginToken(pod);
            assert.deepStrictEqual([source.volume, source.mountPath, source.tokenPath], ["vault-token", "/var/run/secrets/vault.hashicorp.com/serviceaccount", "token"]);
            assert.strictEqual(source.audience, authRole.audience, "the token the agent presents carries the audience Vault checks");
            assert.ok(source.expirationSeconds! >= 600, "kubelet minimum; it rotates the file before expiry");
            // What the annotations alone did before: the injector fell back to the pod's API token
            const withoutVolume = appPod({ metadata: { annotations: { ...patch.spec.template.metadata.annotations, "vault.hashicorp.com/agent-service-account-token-volume-name": undefined } }, spec: {} });
            assert.notStrictEqual(injectorLoginToken(withoutVolume).audience, authRole.audience, "the default token would be refused");

            assert.deepStrictEqual(checkPodSecurityRestricted({ apiVersion: "v1", kind: "Pod", ...pod }), [], "still Pod Security restricted");
            const models = await (new Function("s", "return import(s)") as (s: string) => Promise<any>)("kubernetes-models/v1");
            new models.Pod({ apiVersion: "v1", kind: "Pod", ...pod }).validate();
        });
    });
}

/** A restricted pod for the app, as it reaches the injector: the kube-api-access volume is mounted. */
function appPod(template: { metadata?: { annotations?: Record<string, string | undefined> }; spec?: { volumes?: any[] } }): any {
    const annotations = Object.fromEntries(Object.entries(template.metadata?.annotations ?? {}).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return {
        metadata: { name: "batch-0", namespace: "initech", annotations },
        spec: {
            serviceAccountName: "batch",
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: [{
                name: "batch",
                image: "registry.example.com/initech/batch:1.0",
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, runAsUser: 1000 },
                volumeMounts: [{ name: "kube-api-access-x1y2z", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true }],
            }],
            volumes: [
                { name: "kube-api-access-x1y2z", projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3607 } }, { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } }] } },
                ...(template.spec?.volumes ?? []),
            ],
        },
    };
}

/**
 * Where the Vault Agent injector takes the login token from: hashicorp/vault-k8s agent-inject/agent/agent.go
 * `serviceaccount()` (annotation `vault.hashicorp.com/agent-service-account-token-volume-name`: that
 * volume, mounted at DefaultServiceAccountMount unless a container mounts it; otherwise the first mount
 * whose path contains "serviceaccount", file `token`), with the audience that token carries (a projected
 * token without `audience` gets the API server's).
 */
function injectorLoginToken(pod: any): { volume: string; mountPath: string; tokenPath: string; audience: string; expirationSeconds?: number } {
    const projected = (volumeName: string) => {
        const volume = (pod.spec.volumes ?? []).find((v: any) => v.name === volumeName);
        const token = volume?.projected?.sources?.find((s: any) => s.serviceAccountToken?.path)?.serviceAccountToken;
        if (!token) throw new Error(`failed to find tokenPath for projected volume "${volumeName}"`);
        return { tokenPath: token.path as string, audience: (token.audience as string | undefined) ?? "https://kubernetes.default.svc", expirationSeconds: token.expirationSeconds as number | undefined };
    };
    const named = pod.metadata.annotations?.["vault.hashicorp.com/agent-service-account-token-volume-name"];
    if (named) {
        for (const c of pod.spec.containers) for (const m of c.volumeMounts ?? []) if (m.name === named) return { volume: named, mountPath: m.mountPath, ...projected(named) };
        if ((pod.spec.volumes ?? []).some((v: any) => v.name === named)) return { volume: named, mountPath: "/var/run/secrets/vault.hashicorp.com/serviceaccount", ...projected(named) };
        throw new Error(`failed to find service account volume "${named}"`);
    }
    for (const c of pod.spec.containers) for (const m of c.volumeMounts ?? []) if (m.mountPath.includes("serviceaccount")) return { volume: m.name, mountPath: m.mountPath, ...projected(m.name), tokenPath: "token" };
    throw new Error("failed to find service account volume mount");
}

describe("Vault config validation", () => {
    const base = { database: { engine: "statefulset" }, vault: { address: "https://vault:8200" } };
    const problems = (config: any) => {
        try {
            parseStackConfig(config, "dev");
            return [];
        } catch (err) {
            return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
        }
    };
    it("rejects a Vault delivery mode without Vault, a period with a schedule, a TTL above its max, a window without schedule", () => {
        assert.match(problems({ database: base.database, organizations: [{ name: "a", apps: [{ name: "x", credentials: "vault-dynamic", delivery: "vault-agent" }] }] }).join("\n"), /apps\[0\]\.credentials: "vault-dynamic" needs the postgres-access:vault config/);
        assert.match(problems({ ...base, organizations: [{ name: "a", apps: [{ name: "x", credentials: "vault-static", rotationPeriod: 3600, rotationSchedule: "0 * * * *" }] }] }).join("\n"), /rotationSchedule: set either rotationPeriod or rotationSchedule/);
        assert.match(problems({ ...base, organizations: [{ name: "a", apps: [{ name: "x", credentials: "vault-dynamic", defaultTtl: 7200, maxTtl: 600 }] }] }).join("\n"), /defaultTtl: must not exceed maxTtl \(600\)/);
        assert.match(problems({ ...base, organizations: [{ name: "a", apps: [{ name: "x", credentials: "vault-static", rotationWindow: 3600 }] }] }).join("\n"), /rotationWindow: only applies together with rotationSchedule/);
        assert.match(problems({ ...base, organizations: [{ name: "a", apps: [{ name: "x", credentials: "kubernetes", delivery: "vault-agent" }] }] }).join("\n"), /delivery: credentials "kubernetes" can be delivered by "secret", not "vault-agent"/);
        assert.match(problems({ ...base, vault: { address: "https://vault:8200", defaultTtl: 90000, maxTtl: 3600 }, organizations: [{ name: "a" }] }).join("\n"), /vault\.defaultTtl: must not exceed vault\.maxTtl/);
    });
});

describe("Vault Secrets Operator and the lease of a dynamic user", function () {
    this.timeout(60000);
    it("revokes a dynamic user's lease when its VaultDynamicSecret goes away (static credentials have no lease); csi syncs a Secret unless told not to", async () => {
        const run = await runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, {
            stack: "dev",
            config: {
                database: { engine: "statefulset" },
                vault: { address: "https://vault.example.internal:8200", kubernetesNamespace: "vault" },
                organizations: [{ name: "acme", apps: [
                    { name: "reports", access: "readonly", credentials: "vault-dynamic" },
                    { name: "api", credentials: "vault-static" },
                    { name: "files", access: "readonly", credentials: "vault-dynamic", delivery: "csi", syncSecret: false },
                    { name: "env", access: "readonly", credentials: "vault-dynamic", delivery: "csi" },
                ] }],
            },
        });
        const spcs = Object.fromEntries(run.ofType("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass").map((r) => [r.inputs.metadata.name, r.inputs.spec]));
        assert.strictEqual(spcs["files-database"].secretObjects, undefined, "syncSecret: false mounts files only");
        assert.strictEqual(spcs["env-database"].secretObjects[0].secretName, "env-database");
        const specs = Object.fromEntries(run.ofType("kubernetes:secrets.hashicorp.com/v1beta1:VaultDynamicSecret").map((r) => [r.inputs.metadata.name, r.inputs.spec]));
        assert.deepStrictEqual([specs["reports-database"].path, specs["reports-database"].allowStaticCreds, specs["reports-database"].revoke], ["creds/acme_dev_reports", false, true]);
        assert.deepStrictEqual([specs["api-database"].path, specs["api-database"].allowStaticCreds, specs["api-database"].revoke], ["static-creds/acme_dev_api", true, undefined]);
        // VSO revokes with the app's own token: the policy lets it revoke that role's leases and no others
        const policies = Object.fromEntries(await Promise.all(run.ofType(V.policy).map(async (p) => [p.inputs.name, await hcl.parse(`${p.inputs.name}.hcl`, p.inputs.policy)])));
        assert.deepStrictEqual(policies["acme_dev_reports"].path["sys/leases/revoke"], [{ capabilities: ["update"], allowed_parameters: { lease_id: ["database-dev/creds/acme_dev_reports/*"] } }]);
        assert.deepStrictEqual(Object.keys(policies["acme_dev_reports"].path).sort(), ["database-dev/creds/acme_dev_reports", "sys/leases/revoke"]);
        for (const name of ["acme_dev_api", "acme_dev_files", "acme_dev_env"]) {
            assert.deepStrictEqual(Object.keys(policies[name].path), [name === "acme_dev_api" ? `database-dev/static-creds/${name}` : `database-dev/creds/${name}`], `${name}: read on its own path only (no lease of its own for VSO to revoke)`);
        }
    });
});
