/**
 * Delivery `csi` from AWS Secrets Manager in the staging and prod stacks: the Secrets Manager entries
 * (names, JSON keys, encryption, recovery window), every SecretProviderClass validated against the CRD's
 * schema (ajv) with its `objects` parsed back and checked key by key against the secret's JSON, the CA
 * ConfigMap for verify-full, and every password kept a Pulumi secret in resource inputs and stack exports.
 */
import * as assert from "assert";
import * as yaml from "js-yaml";
import Ajv from "ajv";
import * as pulumi from "@pulumi/pulumi";
import { RunResult, RecordedResource, fakeRandom, isSecret, valueOf } from "../../testing/offlineRun";
import { AWS_ENVS, AppAws, appsOf, awsStackRun, runAwsStack } from "../support/awsStacks";
import { readStackFile } from "../../tools/plan/stackFile";
import { secretProviderClassSchema } from "../support/secretProviderClassSchema";
import { POD_CA_PATH } from "../../components/appAccess";
import { awsSecretObjects, awsSecretProviderClassSpec, jmesPathOf, secretJsonKeys } from "../../components/kubernetes/awsSecretProviderClass";

const SPC_TYPE = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass";
const ajv = new Ajv({ allErrors: true, strict: true });
const validateSpc = ajv.compile<any>(secretProviderClassSchema);

/** The object the API server would receive. */
function spcObject(r: RecordedResource): any {
    return { apiVersion: r.inputs.apiVersion ?? "secrets-store.csi.x-k8s.io/v1", kind: r.inputs.kind ?? "SecretProviderClass", metadata: r.inputs.metadata, spec: r.inputs.spec };
}

for (const env of AWS_ENVS) {
    describe(`${env} stack: Secrets Manager entries and SecretProviderClasses`, function () {
        this.timeout(60000);
        let run: RunResult<Record<string, any>>;
        let apps: AppAws[];
        const sslmode = env === "prod" ? "verify-full" : "require";
        before(async () => {
            run = await awsStackRun(env);
            apps = appsOf(run, env);
        });

        it("stores the RDS-style JSON (plus DATABASE_URL) as a secret, encrypted with the org key, recoverable", () => {
            const expectedKeys = ["engine", "host", "port", "database", "dbname", "username", "password", "sslmode", "DATABASE_URL", ...(sslmode === "verify-full" ? ["sslrootcert"] : [])];
            for (const a of apps) {
                const version = run.byName("aws:secretsmanager/secretVersion:SecretVersion", a.secret.name.replace(/-secret$/, "-secret-value"));
                assert.ok(version.secretPaths.includes("secretString"), `${a.key}: secretString is a secret input`);
                const json = a.secretJson;
                assert.deepStrictEqual(Object.keys(json), expectedKeys);
                assert.strictEqual(json.engine, "postgres");
                assert.match(json.host, /\.rds\.amazonaws\.com$/);
                assert.strictEqual(json.port, "5432");
                assert.strictEqual(json.database, a.namespace);
                assert.strictEqual(json.dbname, a.namespace);
                assert.strictEqual(json.username, `${a.namespace}_${a.serviceAccount}`.replace(/-/g, "_"));
                assert.strictEqual(json.sslmode, sslmode);
                const url = new URL(json.DATABASE_URL);
                assert.deepStrictEqual([decodeURIComponent(url.username), decodeURIComponent(url.password), url.hostname, url.port, url.pathname, url.searchParams.get("sslmode")], [json.username, json.password, json.host, "5432", `/${json.database}`, sslmode]);
                if (sslmode === "verify-full") assert.strictEqual(url.searchParams.get("sslrootcert"), POD_CA_PATH);
                assert.strictEqual(a.secret.inputs.recoveryWindowInDays, 0, "deleted at once: the app can be added back (test/aws/secretReAdd.test.ts)");
                assert.strictEqual(a.secret.inputs.kmsKeyId, a.keyArn);
                assert.match(a.secret.inputs.kmsKeyId, /^arn:aws:kms:/, "a customer-managed key, not aws/secretsmanager");
                assert.strictEqual(run.byName("aws:secretsmanager/secretPolicy:SecretPolicy", a.secret.name + "-policy").inputs.blockPublicPolicy, true);
            }
        });

        it("gives every organization with secretsmanager apps its own rotated key", () => {
            const keys = run.ofType("aws:kms/key:Key").filter((k) => k.name.endsWith("-secrets-key"));
            assert.deepStrictEqual(keys.map((k) => k.inputs.tags.organization).sort(), ["acme", "globex"]);
            for (const k of keys) {
                assert.strictEqual(k.inputs.enableKeyRotation, true);
                assert.strictEqual(k.inputs.deletionWindowInDays, 30);
                assert.ok(k.provider?.includes("pulumi:providers:aws::aws"));
            }
            const aliases = run.ofType("aws:kms/alias:Alias").map((a) => a.inputs.name).sort();
            assert.deepStrictEqual(aliases, [`alias/postgres-access/${env}-postgres-storage`, `alias/postgres-access/${env}/acme`, `alias/postgres-access/${env}/globex`].sort());
        });

        it("validates every SecretProviderClass against the CRD schema, and its objects key by key against the secret's JSON", () => {
            const spcs = run.ofType(SPC_TYPE);
            assert.strictEqual(spcs.length, apps.length, "one per secretsmanager app");
            assert.strictEqual(spcs.filter((spc) => spcObject(spc).spec.secretObjects === undefined).length, env === "prod" ? 1 : 0, "prod's reporting app opts out of the synced Secret");
            for (const spc of spcs) {
                const obj = spcObject(spc);
                assert.ok(validateSpc(obj), `${spc.name}: ${ajv.errorsText(validateSpc.errors)}`);
                assert.strictEqual(obj.spec.provider, "aws");
                assert.deepStrictEqual(Object.keys(obj.spec.parameters).sort(), ["objects", "region", "usePodIdentity"]);
                assert.ok(Object.values(obj.spec.parameters).every((v) => typeof v === "string"), "every parameter a string");
                assert.strictEqual(obj.spec.parameters.region, "eu-west-1");
                assert.strictEqual(obj.spec.parameters.usePodIdentity, "false", "IRSA, not EKS Pod Identity");

                const app = apps.find((a) => a.namespace === obj.metadata.namespace && obj.metadata.name === `${a.serviceAccount}-database`);
                assert.ok(app, `${spc.name} belongs to a secretsmanager app in its own namespace`);
                const objects = yaml.load(obj.spec.parameters.objects) as any[];
                assert.strictEqual(objects.length, 1);
                assert.deepStrictEqual(Object.keys(objects[0]).sort(), ["jmesPath", "objectName", "objectType"]);
                assert.strictEqual(objects[0].objectName, app!.secret.inputs.name, "the app's own secret, by name");
                assert.strictEqual(objects[0].objectType, "secretsmanager");
                // key by key, both ways: every JSON key mounted as a file of its own name, nothing else asked for
                const aliases: string[] = objects[0].jmesPath.map((e: any) => e.objectAlias);
                assert.deepStrictEqual(aliases, Object.keys(app!.secretJson));
                for (const entry of objects[0].jmesPath) {
                    assert.strictEqual(entry.path, jmesPathOf(entry.objectAlias));
                    assert.ok(typeof app!.secretJson[entry.objectAlias] === "string", `${entry.path} finds a string in the secret`);
                }
                // the synced Secret: every mounted key, including DATABASE_URL, under the same name; none
                // where the app's config says syncSecret: false
                const appConfig = (readStackFile(env).organizations as any[]).find((o) => o.name === app!.namespace).apps?.find((x: any) => x.name === app!.serviceAccount);
                if (appConfig?.syncSecret === false) {
                    assert.strictEqual(obj.spec.secretObjects, undefined, `${spc.name}: files only`);
                    continue;
                }
                assert.strictEqual(obj.spec.secretObjects.length, 1);
                const synced = obj.spec.secretObjects[0];
                assert.deepStrictEqual([synced.secretName, synced.type], [obj.metadata.name, "Opaque"]);
                assert.deepStrictEqual(synced.data, aliases.map((k) => ({ objectName: k, key: k })));
                assert.ok(synced.data.some((d: any) => d.key === "DATABASE_URL"));
                assert.ok(!spc.provider?.includes("pulumi:providers:aws"), "a Kubernetes object, not an AWS one");
            }
        });

        it(sslmode === "verify-full" ? "puts the RDS CA beside it, where sslrootcert points" : "adds no CA ConfigMap with sslmode=require", () => {
            const configMaps = run.ofType("kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.data?.["ca.crt"] !== undefined);
            if (sslmode !== "verify-full") {
                assert.deepStrictEqual(configMaps, []);
                return;
            }
            assert.strictEqual(configMaps.length, apps.length);
            for (const a of apps) {
                const cm = configMaps.find((c) => c.inputs.metadata.namespace === a.namespace && c.inputs.metadata.name === `${a.serviceAccount}-database-ca`);
                assert.ok(cm, a.key);
                assert.match(cm!.inputs.data["ca.crt"], /-----BEGIN CERTIFICATE-----/);
                assert.strictEqual(a.secretJson.sslrootcert, POD_CA_PATH, "mount the ConfigMap at /etc/postgres-access");
                assert.strictEqual(POD_CA_PATH.split("/").pop(), "ca.crt");
            }
        });

        it("keeps every password a Pulumi secret in every resource input", () => {
            const passwords = run.ofType("random:index/randomPassword:RandomPassword").map((r) => fakeRandom(r.name, r.inputs.length));
            assert.ok(passwords.length >= 5);
            const leaks: string[] = [];
            let carriers = 0;
            for (const r of run.resources.filter((x) => x.type !== "random:index/randomPassword:RandomPassword")) {
                walk(r.inputs, "", (path, value) => {
                    if (!passwords.some((p) => value.includes(p))) return;
                    carriers++;
                    const covered = r.secretPaths.some((s) => s === "(root)" || path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));
                    if (!covered) leaks.push(`${r.type} ${r.name} ${path}`);
                });
            }
            assert.deepStrictEqual(leaks, []);
            assert.ok(carriers >= apps.length + 2, `the scan sees the passwords where they are used (${carriers})`);
            const provider = run.ofType("pulumi:providers:postgresql")[0];
            assert.ok(passwords.includes(provider.inputs.password) && provider.secretPaths.includes("password"), "the admin provider's password too");
        });

        it("exports no credential in clear", async () => {
            const passwords = run.ofType("random:index/randomPassword:RandomPassword").map((r) => fakeRandom(r.name, r.inputs.length));
            const clear: string[] = [];
            await walkOutputs(run.result, "", async (path, output) => {
                const value = await valueOf(output);
                if (!(await isSecret(output)) && passwords.some((p) => JSON.stringify(value ?? null).includes(p))) clear.push(path);
            });
            assert.deepStrictEqual(clear, []);
            for (const org of Object.values<any>(run.result.organizations)) {
                for (const app of Object.values<any>(org.apps)) assert.ok(await isSecret(app.password));
            }
            const delivered = await valueOf(run.result.organizations.acme.apps.billing.delivered);
            assert.strictEqual(delivered.secretProviderClass, "billing-database");
            assert.match(delivered.secretsManagerSecret, new RegExp(`:secret:acme_${env}_billing_database-credentials-`));
        });
    });
}

describe("an organization without secretsmanager apps in an AWS stack", function () {
    this.timeout(60000);
    it("gets no KMS key, IAM role, Secrets Manager entry or SecretProviderClass", async () => {
        const raw = readStackFile("staging") as any;
        const config = { ...raw, organizations: [...raw.organizations, { name: "initech", apps: [{ name: "payroll", credentials: "kubernetes" }] }] };
        const run = await runAwsStack("staging", { config });
        const aws = run.resources.filter((r) => r.type.startsWith("aws:") && JSON.stringify(r.inputs).includes("initech"));
        assert.deepStrictEqual(aws.map((r) => r.name), []);
        assert.deepStrictEqual(run.ofType(SPC_TYPE).filter((r) => r.inputs.metadata.namespace === "initech"), []);
        const secret = run.ofType("kubernetes:core/v1:Secret").find((r) => r.inputs.metadata.namespace === "initech");
        assert.ok(secret && secret.inputs.stringData.DATABASE_URL, "its app gets a Kubernetes Secret");
        assert.strictEqual(run.ofType("aws:kms/key:Key").length, 3, "storage + acme + globex");
    });
});

describe("SecretProviderClass schema and objects (controls)", () => {
    const spec = awsSecretProviderClassSpec({ name: "api-database", app: "api", secretName: "acme-qa-api-database-credentials", keys: secretJsonKeys("require"), region: "eu-west-1" });
    const good = { apiVersion: "secrets-store.csi.x-k8s.io/v1", kind: "SecretProviderClass", metadata: { name: "api-database", namespace: "acme" }, spec };

    it("accepts ours and rejects what the API server would prune or the driver would refuse", () => {
        assert.ok(validateSpc(good), ajv.errorsText(validateSpc.errors));
        const bad = (mutate: (o: any) => void) => {
            const o = JSON.parse(JSON.stringify(good));
            mutate(o);
            return validateSpc(o);
        };
        assert.strictEqual(bad((o) => { o.spec.parameters.usePodIdentity = false; }), false, "a boolean parameter");
        assert.strictEqual(bad((o) => { o.spec.parameters.objects = [{ objectName: "x" }]; }), false, "objects not as a YAML string");
        assert.strictEqual(bad((o) => { o.spec.secretObject = o.spec.secretObjects; }), false, "a misspelt field");
        assert.strictEqual(bad((o) => { o.spec.secretObjects[0].data[0].objectname = "x"; }), false, "a misspelt nested field");
        assert.strictEqual(bad((o) => { delete o.spec.provider; }), false, "no provider");
        assert.strictEqual(bad((o) => { o.apiVersion = "secrets-store.csi.x-k8s.io/v1alpha1"; }), false, "the deprecated version");
    });

    it("derives the jmesPath keys from the JSON the secret really has", () => {
        assert.deepStrictEqual(secretJsonKeys("require"), ["engine", "host", "port", "database", "dbname", "username", "password", "sslmode", "DATABASE_URL"]);
        assert.deepStrictEqual(secretJsonKeys("verify-full", { sslrootcert: POD_CA_PATH }).slice(-1), ["sslrootcert"]);
        assert.strictEqual(jmesPathOf("DATABASE_URL"), "DATABASE_URL");
        assert.strictEqual(jmesPathOf("ca.crt"), "\"ca.crt\"", "keys that are not identifiers are quoted");
        const parsed = yaml.load(awsSecretObjects("s", ["host", "ca.crt"])) as any[];
        assert.deepStrictEqual(parsed[0].jmesPath, [{ path: "host", objectAlias: "host" }, { path: "\"ca.crt\"", objectAlias: "ca.crt" }]);
    });
});

describe("AWS stacks in preview mode", function () {
    this.timeout(60000);
    for (const env of AWS_ENVS) {
        it(`${env}: registers the same resources as up, with names, trust and SecretProviderClasses already known`, async () => {
            const up = await awsStackRun(env);
            const preview = await awsStackRun(env, true);
            const count = (r: RunResult<unknown>) => r.resources.map((x) => x.type).sort();
            assert.deepStrictEqual(count(preview), count(up));
            for (const role of preview.ofType("aws:iam/role:Role")) assert.doesNotThrow(() => JSON.parse(role.inputs.assumeRolePolicy), `${role.name}: trust known in preview`);
            for (const spc of preview.ofType(SPC_TYPE)) {
                const obj = spcObject(spc);
                assert.deepStrictEqual(obj.spec, up.ofType(SPC_TYPE).find((u) => u.name === spc.name)!.inputs.spec, "nothing in a SecretProviderClass waits for the cloud");
            }
            for (const v of preview.ofType("aws:secretsmanager/secretVersion:SecretVersion")) assert.ok(v.secretPaths.includes("secretString") || typeof v.inputs.secretString !== "string", `${v.name}: never a clear value`);
        });
    }
});

function walk(value: any, path: string, visit: (path: string, value: string) => void): void {
    if (typeof value === "string") visit(path, value);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, visit);
}

async function walkOutputs(value: any, path: string, visit: (path: string, output: pulumi.Output<unknown>) => Promise<void>): Promise<void> {
    if (pulumi.Output.isInstance(value)) await visit(path, value);
    else if (Array.isArray(value)) for (const [i, v] of value.entries()) await walkOutputs(v, `${path}[${i}]`, visit);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) await walkOutputs(v, path ? `${path}.${k}` : k, visit);
}
