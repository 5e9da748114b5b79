/**
 * The whole program from Pulumi.dev.yaml under mocks, in up and in preview mode: what is registered per
 * organization, which provider the database resources use, which values stay secret (inputs and stack
 * exports), Pod Security of every pod, and Kubernetes schema validity of every built-in object.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, RunResult, isSecret, runPulumi, valueOf } from "../../testing/offlineRun";
import { mockOutputs } from "../../testing/mockOutputs";
import { checkPodSecurityRestricted } from "../../policy/podSecurityRestricted";
import { parseStackConfig, StackConfig } from "../../components/config";
import { readStackFile, stackFilePath } from "../../tools/plan/stackFile";
import { organizationNames, appNames } from "../../components/naming";
import type { StackOutputs } from "../../stacks/program";
import { T, assertKubernetesValid, plaintextLeaks, stringLeaves } from "./helpers";
import { scramParameters, scramSha256Verifier } from "../../components/postgres/scramVerifier";

interface Program { outputs: StackOutputs; exports: Record<string, any> }

/** The dev stack's config, read with js-yaml straight from the stack file (as `pulumi config` would). */
function devConfigFromYaml(): Record<string, unknown> {
    const doc = yaml.load(fs.readFileSync(stackFilePath("dev"), "utf8")) as { config: Record<string, unknown> };
    return doc.config;
}

function runDev(preview: boolean): Promise<RunResult<Program>> {
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        const outputs = program.createStack();
        return { outputs, exports: program.stackExports(outputs) };
    }, { stack: "dev", preview, config: devConfigFromYaml() });
}

/** Every value the mocks generate that must stay secret: passwords and private keys (and key bodies). */
function generatedSecrets(run: RunResult<unknown>): string[] {
    const values: string[] = [];
    for (const r of run.resources) {
        if (r.type === T.randomPassword) values.push(mockOutputs(r.type, r.name, r.inputs).result as string);
        if (r.type === T.privateKey) {
            const pem = mockOutputs(r.type, r.name, r.inputs).privateKeyPem as string;
            values.push(pem, pem.split("\n")[1]);
        }
    }
    return values;
}

/** The Outputs of a stack export tree, with their paths. */
function outputLeaves(value: unknown, at = ""): { path: string; output: pulumi.Output<unknown> }[] {
    if (pulumi.Output.isInstance(value)) return [{ path: at, output: value as pulumi.Output<unknown> }];
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => outputLeaves(v, at ? `${at}.${k}` : k));
    return [];
}

const config: StackConfig = parseStackConfig(readStackFile("dev"), "dev");
const runs: Partial<Record<"up" | "preview", RunResult<Program>>> = {};
async function devRun(preview: boolean): Promise<RunResult<Program>> {
    const key = preview ? "preview" : "up";
    return (runs[key] ??= await runDev(preview));
}

describe("program: the dev stack file", () => {
    it("reads the same config through js-yaml and tools/plan/stackFile", () => {
        const viaYaml = Object.fromEntries(Object.entries(devConfigFromYaml()).map(([k, v]) => [k.replace(/^postgres-access:/, ""), v]));
        assert.deepStrictEqual(viaYaml, readStackFile("dev"));
        assert.ok(config.organizations.length >= 2);
        const levels = new Set(config.organizations.flatMap((o) => o.apps.map((a) => a.access)));
        assert.deepStrictEqual([...levels].sort(), ["owner", "readonly", "readwrite"], "the dev stack covers every access level");
    });
});

for (const preview of [false, true]) {
    describe(`program: dev stack under mocks (${preview ? "preview" : "up"})`, function () {
        this.timeout(60000);
        let run: RunResult<Program>;
        before(async () => {
            run = await devRun(preview); // does not crash with unknown outputs
        });

        it("registers the same resources in preview as in up (no apply-only registrations)", async function () {
            if (!preview) this.skip();
            const up = await devRun(false);
            const key = (r: RecordedResource) => `${r.type} ${r.name}`;
            assert.deepStrictEqual(run.resources.map(key).sort(), up.resources.map(key).sort());
        });

        it("registers per organization: namespace bundle, database, group roles, one login and delivery per app", () => {
            for (const org of config.organizations) {
                const names = organizationNames(org.name);
                const children = (type: string) => run.ofType(type).filter((r) => r.name.startsWith(`${org.name}-`));
                const kubernetesApps = org.apps.filter((a) => a.credentials === "kubernetes");
                const staticApps = org.apps.filter((a) => a.credentials !== "vault-dynamic");
                const counts = Object.fromEntries([T.namespace, T.serviceAccount, T.resourceQuota, T.limitRange, T.networkPolicy, T.database, T.secret, T.defaultPrivileges].map((t) => [t.split(":").pop(), children(t).length]));
                assert.deepStrictEqual(counts, {
                    Namespace: 1, ServiceAccount: org.apps.length, ResourceQuota: 1, LimitRange: 1, NetworkPolicy: 2, Database: 1,
                    Secret: kubernetesApps.length, DefaultPrivileges: 4,
                }, org.name);
                const roles = run.ofType(T.role).map((r) => r.inputs);
                const groups = [names.ownerRole, names.readwriteRole, names.readonlyRole];
                assert.deepStrictEqual(roles.filter((r) => groups.includes(r.name)).map((r) => r.login), [false, false, false], `${org.name} group roles`);
                const logins = roles.filter((r) => r.login && r.roles?.some((g: string) => groups.includes(g))).map((r) => r.name).sort();
                assert.deepStrictEqual(logins, staticApps.map((a) => appNames(org.name, a.name, "dev", a.isDefaultApp).loginRole).sort(), `${org.name} logins`);
                assert.strictEqual(children(T.grant).length, 2 + 1 + 2 * 4, `${org.name}: revokes, owner schema, 4 per group`);
            }
            assert.strictEqual(run.ofType(T.statefulSet).length, 1, "one shared server");
        });

        it("sends every postgresql resource through an explicit admin provider (adminEndpoint, TLS): the server's, or one per organization database", () => {
            const providers = run.ofType(T.postgresProvider);
            // the maintenance database's, and one per organization (its roles are deleted where their objects are)
            assert.deepStrictEqual(providers.map((p) => p.inputs.database).sort(), ["acme", "globex", "initech", "postgres"]);
            const pg = run.resources.filter((r) => r.type.startsWith("postgresql:"));
            assert.ok(pg.length > 30);
            for (const r of pg) {
                assert.ok(r.provider, `${r.type} ${r.name} has an explicit provider`);
                const cut = r.provider!.lastIndexOf("::");
                const provider = providers.find((p) => r.provider!.slice(0, cut) === p.urn);
                assert.ok(provider, `${r.type} ${r.name}: one of the admin providers`);
                if (!preview) assert.strictEqual(r.provider!.slice(cut + 2), provider.id);
            }
            for (const provider of providers) {
                assert.strictEqual(provider.inputs.host, "localhost", "adminEndpoint.host");
                if (!preview) assert.strictEqual(String(provider.inputs.port), "15432", "adminEndpoint.port");
                assert.ok(["require", "verify-ca", "verify-full"].includes(provider.inputs.sslmode), "TLS for the admin connection too");
                assert.strictEqual(provider.inputs.sslmode, providers[0].inputs.sslmode, "the same TLS settings for every admin connection");
            }
        });

        it("passes every password and key field as a secret: Secrets' stringData, Roles' password, the Provider's password", () => {
            assert.ok(run.ofType(T.postgresProvider)[0].secretPaths.includes("password"));
            for (const r of run.ofType(T.role).filter((x) => x.inputs.login)) {
                const field = r.inputs.password !== undefined ? "password" : "passwordWo";
                assert.ok(r.inputs[field] !== undefined, `${r.inputs.name} has a password`);
                assert.ok(r.secretPaths.includes(field), `${r.inputs.name}.${field} is secret`);
            }
            for (const r of run.ofType(T.secret)) {
                assert.ok(r.secretPaths.includes("stringData"), `${r.name} stringData is secret`);
                assert.strictEqual(r.inputs.data, undefined, `${r.name} has no plain data`);
            }
        });

        it("never lets a generated password or private key appear in a non-secret input (ConfigMaps, annotations, Vault, ...)", function () {
            if (preview) this.skip(); // generated values are unknown in preview
            const secrets = generatedSecrets(run);
            assert.ok(secrets.length >= 8 + 2 * 2, "every RandomPassword and PrivateKey");
            // each generated value is used somewhere (else this check would prove nothing)
            for (const s of secrets.filter((x) => !x.startsWith("-----"))) {
                assert.ok(run.resources.some((r) => r.type !== T.randomPassword && r.type !== T.privateKey && stringLeaves(r.inputs).some((l) => l.value.includes(s))), "a generated value is consumed");
            }
            assert.deepStrictEqual(plaintextLeaks(run.resources, secrets), []);
        });

        it("exports passwords only as secrets", async () => {
            const exports = run.result.exports;
            let appPasswords = 0;
            for (const [org, o] of Object.entries<any>(exports.organizations)) {
                for (const [app, a] of Object.entries<any>(o.apps)) {
                    if (a.password === undefined) continue;
                    appPasswords++;
                    assert.strictEqual(await isSecret(a.password), true, `${org}/${app} password`);
                }
            }
            assert.strictEqual(appPasswords, config.organizations.flatMap((o) => o.apps).filter((a) => a.credentials === "kubernetes").length, "every Kubernetes-Secret app's password is exported");
            if (!preview) {
                // any export whose value contains a generated password or key is a secret
                const secrets = generatedSecrets(run);
                for (const leaf of outputLeaves(exports)) {
                    const value = JSON.stringify((await valueOf(leaf.output)) ?? null);
                    if (secrets.some((s) => value.includes(s))) assert.strictEqual(await isSecret(leaf.output), true, `export ${leaf.path}`);
                }
            }
        });

        it("runs every pod spec it registers under Pod Security restricted", () => {
            const workloads = run.resources.filter((r) => r.custom && /^kubernetes:(apps|batch|core)\/v1:(StatefulSet|Deployment|DaemonSet|ReplicaSet|Job|CronJob|Pod)$/.test(r.type));
            assert.ok(workloads.length >= 1);
            for (const w of workloads) {
                const kind = w.type.split(":").pop();
                assert.deepStrictEqual(checkPodSecurityRestricted({ kind, ...w.inputs }), [], `${w.type} ${w.name}`);
            }
        });

        it("enforces Pod Security restricted on every namespace it creates", () => {
            const namespaces = run.ofType(T.namespace);
            assert.strictEqual(namespaces.length, config.organizations.length + 1);
            for (const ns of namespaces) assert.strictEqual(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted", ns.name);
        });

        it("produces Kubernetes objects that validate against the API schemas, for every built-in kind used", async function () {
            if (preview) this.skip(); // unknown values are not valid objects
            const kinds = await assertKubernetesValid(run.resources.filter((r) => /^kubernetes:(core|apps|networking\.k8s\.io|policy|batch|rbac\.authorization\.k8s\.io)\//.test(r.type)));
            for (const kind of ["Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "ServiceAccount", "Secret", "ConfigMap", "Service", "StatefulSet"]) {
                assert.ok(kinds.has(kind), `${kind} validated`);
            }
        });
    });
}

describe("program: dev stack settings flow from config (up)", function () {
    this.timeout(60000);
    let run: RunResult<Program>;
    before(async () => {
        run = await devRun(false);
    });

    it("gives logins exactly one group (their access level's), connection limits from config, SET ROLE only for owners", () => {
        const logins = run.ofType(T.role).map((r) => r.inputs).filter((r) => r.login && r.name !== "vault_admin");
        for (const org of config.organizations) {
            const names = organizationNames(org.name);
            for (const app of org.apps.filter((a) => a.credentials !== "vault-dynamic")) {
                const login = logins.find((r) => r.name === appNames(org.name, app.name, "dev", app.isDefaultApp).loginRole)!;
                const group = names[`${app.access}Role`];
                assert.deepStrictEqual(login.roles, [group], `${org.name}/${app.name}`);
                assert.strictEqual(login.connectionLimit, app.connectionLimit, `${org.name}/${app.name} connection limit`);
                assert.strictEqual(login.assumeRole, app.access === "owner" ? group : undefined, `${org.name}/${app.name} assumeRole`);
                for (const flag of ["superuser", "createRole", "createDatabase", "replication", "bypassRowLevelSecurity"]) assert.strictEqual(login[flag], false, `${login.name}.${flag}`);
            }
        }
        assert.strictEqual(logins.find((r) => r.name === "acme_reporting")!.connectionLimit, 5, "the stack file's value");
        const acme = run.ofType(T.database).find((r) => r.inputs.name === "acme")!.inputs;
        assert.deepStrictEqual([acme.owner, acme.connectionLimit], ["acme_owner", 60]);
    });

    it("gives the organization without apps one readwrite app named after it", () => {
        const globex = run.ofType(T.role).find((r) => r.inputs.name === "globex_globex")!.inputs;
        assert.deepStrictEqual(globex.roles, ["globex_readwrite"]);
        assert.strictEqual(run.byName(T.secret, "globex-globex-secret").inputs.metadata.namespace, "globex");
    });

    it("keeps organizations apart: logins, Secrets and egress stay inside their own organization", () => {
        for (const org of config.organizations) {
            const names = organizationNames(org.name);
            const own = new Set([names.ownerRole, names.readwriteRole, names.readonlyRole]);
            for (const app of org.apps.filter((a) => a.credentials !== "vault-dynamic")) {
                const login = run.ofType(T.role).find((r) => r.inputs.name === appNames(org.name, app.name, "dev", app.isDefaultApp).loginRole)!;
                assert.ok(login.inputs.roles.every((g: string) => own.has(g)), `${login.inputs.name} only in ${org.name}'s groups`);
            }
            for (const s of run.ofType(T.secret).filter((r) => r.inputs.metadata.namespace === org.name)) {
                assert.strictEqual(s.inputs.stringData.database, names.database, `${s.name}: its own database`);
                assert.ok(s.inputs.stringData.username.startsWith(`${names.database}_`), `${s.name}: its own login`);
            }
            const egress = run.ofType(T.networkPolicy).filter((r) => r.inputs.metadata.namespace === org.name).flatMap((p) => p.inputs.spec.egress ?? []);
            for (const rule of egress) {
                for (const peer of rule.to) {
                    const ns = peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
                    // Vault's namespace only from organizations whose pods run the Vault agent
                    const allowed = ["kube-system", "postgres", ...(org.apps.some((a) => a.delivery === "vault-agent") ? [config.vault!.kubernetesNamespace] : [])];
                    assert.ok(ns === undefined || allowed.includes(ns), `${org.name} may not reach namespace ${ns}`);
                }
            }
        }
        const serverPolicy = run.ofType(T.networkPolicy).find((r) => r.inputs.metadata.namespace === "postgres")!.inputs.spec;
        assert.deepStrictEqual(serverPolicy.ingress[0].from[0].namespaceSelector.matchExpressions[0].values.sort(), [...config.organizations.map((o) => o.name), config.vault!.kubernetesNamespace].sort(),
            "the organizations' namespaces, and Vault's (it logs in to rotate passwords and create users)");
    });

    it("delivers each Kubernetes-Secret app a DATABASE_URL that parses back to its own fields", () => {
        for (const s of run.ofType(T.secret).filter((r) => r.inputs.stringData?.DATABASE_URL)) {
            const d = s.inputs.stringData;
            const url = new URL(d.DATABASE_URL);
            assert.deepStrictEqual(
                [decodeURIComponent(url.username), decodeURIComponent(url.password), url.hostname, url.port, url.pathname.slice(1), url.searchParams.get("sslmode")],
                [d.username, d.password, d.host, d.port, d.database, d.sslmode], s.name,
            );
            assert.strictEqual(d.host, "postgres.postgres.svc.cluster.local");
            const login = run.ofType(T.role).find((r) => r.inputs.name === d.username)!;
            assert.strictEqual(login.inputs.password, scramSha256Verifier(d.password, scramParameters(login.inputs.password).salt), `${s.name}: the verifier of the login's own password`);
        }
    });

    it("builds the server from database.statefulset (storage, resources, max_connections)", () => {
        const sts = config.database.statefulset!;
        const spec = run.ofType(T.statefulSet)[0].inputs.spec;
        assert.deepStrictEqual(spec.volumeClaimTemplates[0].spec.resources.requests, { storage: sts.storageSize });
        assert.deepStrictEqual(spec.template.spec.containers[0].resources, sts.resources);
        assert.ok(spec.template.spec.containers[0].args.includes(`max_connections=${sts.maxConnections}`));
        assert.ok(spec.template.spec.containers[0].image.includes(`:${config.database.version}`), "the configured major version");
    });

    it("opens egress to Vault's pods (by namespace, port 8200) only in namespaces whose pods run the Vault agent", () => {
        for (const org of config.organizations) {
            const egress = run.ofType(T.networkPolicy).filter((r) => r.inputs.metadata.namespace === org.name).flatMap((p) => p.inputs.spec.egress ?? []);
            const toVault = egress.some((rule: any) => rule.ports.some((p: any) => p.port === 8200)
                && rule.to.some((peer: any) => peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === config.vault!.kubernetesNamespace));
            assert.strictEqual(toVault, org.apps.some((a) => a.delivery === "vault-agent"), org.name);
        }
    });

    it("mounts no API token into any app's pods (the Vault agent has a projected token of its own)", async () => {
        for (const sa of run.ofType(T.serviceAccount)) {
            assert.strictEqual(sa.inputs.automountServiceAccountToken, false, `${sa.inputs.metadata.namespace}/${sa.inputs.metadata.name}`);
        }
        const exported = (await valueOf(run.result.exports.organizations as any)) as any;
        for (const org of config.organizations) {
            for (const app of org.apps.filter((a) => a.delivery === "vault-agent")) {
                const volume = exported[org.name].apps[app.name].vaultAgentTokenVolume;
                const annotations = await valueOf(exported[org.name].apps[app.name].vaultAgentAnnotations as any) as Record<string, string>;
                assert.strictEqual(volume?.name, annotations["vault.hashicorp.com/agent-service-account-token-volume-name"], `${org.name}/${app.name}: the exported volume is the one the annotations name`);
                assert.strictEqual(volume.projected.sources[0].serviceAccountToken.audience, "vault");
            }
        }
    });
});

