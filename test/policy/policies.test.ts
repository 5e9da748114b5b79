/**
 * Every policy of the pack (policy/) on a resource that passes and on resources that fail, run through the
 * offline runner the way `npm run plan -- --policy` runs them.
 */
import * as assert from "assert";
import { policies } from "../../policy/policies";
import { roleLeastPrivilege, createRoleOnlyForVault, noPublicPrivileges, databaseRevokesPublic } from "../../policy/postgresql";
import { rdsStorageEncrypted, rdsNotPublic, rdsForceSsl, rdsDeletionProtection, rdsFinalSnapshot } from "../../policy/rds";
import { irsaTrustExact, secretsReadSingleSecret, kmsNoRootDecrypt } from "../../policy/aws";
import { vaultAllowedRolesNamed, vaultAppPolicyReadOnly, vaultAuthRoleSingleServiceAccount } from "../../policy/vault";
import { noCredentialsInConfigMaps, noCredentialsInEnv, podSecurityRestricted, namespaceEnforcesRestricted } from "../../policy/kubernetes";
import { appPolicy } from "../../components/vault/vaultPolicies";
import { messages, resource, violations } from "./helpers";

const ROLE = "postgresql:index/role:Role";
const GRANT = "postgresql:index/grant:Grant";
const ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${ISSUER}`;
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme-prod-web-database-credentials-??????";

const appLogin = (extra: Record<string, unknown> = {}) => resource(ROLE, "acme-web-login", {
    name: "acme_web", login: true, inherit: true, superuser: false, createRole: false, createDatabase: false,
    bypassRowLevelSecurity: false, replication: false, roles: ["acme_readwrite"], ...extra,
});
const trust = (condition: unknown, principal: unknown = { Federated: PROVIDER }) => JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: principal, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition }],
});
const identityPolicy = (...statements: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const rdsInstance = (extra: Record<string, unknown> = {}) => resource("aws:rds/instance:Instance", "db", {
    engine: "postgres", storageEncrypted: true, publiclyAccessible: false, deletionProtection: true,
    skipFinalSnapshot: false, finalSnapshotIdentifier: "prod-postgres-final", parameterGroupName: "prod-postgres-pg16", ...extra,
});
const parameterGroup = (value: string) => resource("aws:rds/parameterGroup:ParameterGroup", "params", {
    name: "prod-postgres-pg16", family: "postgres16", parameters: [{ name: "rds.force_ssl", value }, { name: "password_encryption", value: "scram-sha-256" }],
});
/** A Deployment whose pod meets restricted, with optional changes to its container. */
const deployment = (container: Record<string, unknown> = {}) => resource("kubernetes:apps/v1:Deployment", "web", {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "acme" },
    spec: {
        selector: { matchLabels: { app: "web" } },
        template: {
            metadata: { labels: { app: "web" } },
            spec: {
                securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                containers: [{
                    name: "web", image: "example/web:1",
                    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                    env: [{ name: "PGHOST", value: "db" }, { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "web-database", key: "password" } } }],
                    ...container,
                }],
            },
        },
    },
});

describe("policy pack: each policy passes a good resource and fails bad ones", function () {
    this.timeout(60000);

    it("has unique names, a description and a level for every policy", () => {
        const names = policies.map((p) => p.name);
        assert.strictEqual(new Set(names).size, names.length);
        for (const p of policies) {
            assert.ok(p.description.length > 20, p.name);
            assert.ok(p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory", p.name);
        }
        assert.deepStrictEqual(policies.filter((p) => p.enforcementLevel === "advisory").map((p) => p.name).sort(), ["kubernetes-namespace-enforces-restricted", "rds-final-snapshot"]);
    });

    describe("postgresql-role-least-privilege", () => {
        it("passes an app login and its group role", async () => {
            assert.deepStrictEqual(await messages(roleLeastPrivilege, [appLogin(), resource(ROLE, "g", { name: "acme_readwrite", login: false })]), []);
        });
        it("fails SUPERUSER, CREATEDB, BYPASSRLS, REPLICATION and elevated predefined roles", async () => {
            for (const [attr, sql] of [["superuser", "SUPERUSER"], ["createDatabase", "CREATEDB"], ["bypassRowLevelSecurity", "BYPASSRLS"], ["replication", "REPLICATION"]]) {
                assert.deepStrictEqual(await messages(roleLeastPrivilege, [appLogin({ [attr]: true })]), [`login role acme_web has ${sql} (${attr}: true); app and group roles never do`]);
            }
            assert.match((await messages(roleLeastPrivilege, [appLogin({ roles: ["acme_readonly", "pg_read_all_data"] })]))[0], /member of pg_read_all_data/);
            assert.match((await messages(roleLeastPrivilege, [resource("postgresql:index/grantRole:GrantRole", "gr", { role: "acme_web", grantRole: "rds_superuser" })]))[0], /grants rds_superuser to acme_web/);
            assert.deepStrictEqual(await messages(roleLeastPrivilege, [resource("postgresql:index/grantRole:GrantRole", "gr", { role: "acme_web", grantRole: "acme_readonly" })]), []);
        });
    });

    describe("postgresql-createrole-only-vault-admin", () => {
        const vaultAdmin = resource(ROLE, "vault-admin", { name: "initech_vault_admin", login: true, createRole: true });
        const connection = resource("vault:database/secretBackendConnection:SecretBackendConnection", "conn", {
            backend: "database-dev", name: "initech", allowedRoles: ["initech-dev-batch"], postgresql: { username: "initech_vault_admin", connectionUrl: "postgresql://{{username}}:{{password}}@db:5432/initech" },
        });
        it("passes CREATEROLE on the login a Vault connection uses (also through a SecretsMount)", async () => {
            assert.deepStrictEqual(await messages(createRoleOnlyForVault, [vaultAdmin, connection, appLogin()]), []);
            const mount = resource("vault:database/secretsMount:SecretsMount", "mount", { path: "database", postgresqls: [{ name: "initech", username: "initech_vault_admin", allowedRoles: ["r"] }] });
            assert.deepStrictEqual(await messages(createRoleOnlyForVault, [vaultAdmin, mount]), []);
        });
        it("fails CREATEROLE on any other role", async () => {
            const found = await violations(createRoleOnlyForVault, [vaultAdmin, appLogin({ createRole: true })]);
            assert.deepStrictEqual(found.map((v) => [v.resource?.name, v.message]), [
                ["vault-admin", "role initech_vault_admin has CREATEROLE but is not the login of a Vault database connection in this stack"],
                ["acme-web-login", "role acme_web has CREATEROLE but is not the login of a Vault database connection in this stack"],
            ]);
        });
    });

    describe("postgresql-no-public-privileges", () => {
        it("passes the revokes (empty privileges for PUBLIC) and grants to named roles", async () => {
            assert.deepStrictEqual(await messages(noPublicPrivileges, [
                resource(GRANT, "revoke", { database: "acme", objectType: "database", privileges: [], role: "public" }),
                resource(GRANT, "rw", { database: "acme", objectType: "table", schema: "public", objects: [], privileges: ["SELECT"], role: "acme_readonly" }),
                resource("postgresql:index/schema:Schema", "s", { name: "app", policies: [{ role: "acme_owner", create: true, usage: true }] }),
            ]), []);
        });
        it("fails grants, default privileges and schema policies for PUBLIC", async () => {
            assert.deepStrictEqual(await messages(noPublicPrivileges, [resource(GRANT, "g", { database: "acme", objectType: "schema", schema: "public", privileges: ["CREATE"], role: "PUBLIC" })]),
                ["grants CREATE on schema in database acme to PUBLIC (every role on the server); only revokes (privileges: []) may name PUBLIC"]);
            assert.match((await messages(noPublicPrivileges, [resource("postgresql:index/defaultPrivileges:DefaultPrivileges", "d", { database: "acme", objectType: "table", owner: "acme_owner", privileges: ["SELECT"], role: "public" })]))[0], /future tables in database acme to PUBLIC/);
            assert.match((await messages(noPublicPrivileges, [resource("postgresql:index/schema:Schema", "s", { name: "app", policies: [{ usage: true }] })]))[0], /policies\[0\] grants usage on schema app to PUBLIC/);
        });
    });

    describe("postgresql-database-revokes-public", () => {
        const db = resource("postgresql:index/database:Database", "acme-db", { name: "acme", owner: "acme_owner" });
        it("passes a database with PUBLIC's rights revoked", async () => {
            assert.deepStrictEqual(await messages(databaseRevokesPublic, [db, resource(GRANT, "revoke", { database: "acme", objectType: "database", privileges: [], role: "public" })]), []);
        });
        it("fails a database without (or with another database's) revoke", async () => {
            assert.strictEqual((await messages(databaseRevokesPublic, [db, resource(GRANT, "revoke", { database: "globex", objectType: "database", privileges: [], role: "public" })])).length, 1);
        });
    });

    describe("rds", () => {
        it("rds-storage-encrypted", async () => {
            assert.deepStrictEqual(await messages(rdsStorageEncrypted, [rdsInstance()]), []);
            assert.strictEqual((await messages(rdsStorageEncrypted, [rdsInstance({ storageEncrypted: false })])).length, 1);
            assert.strictEqual((await messages(rdsStorageEncrypted, [rdsInstance({ storageEncrypted: undefined })])).length, 1, "absent = the provider's default, unencrypted");
        });
        it("rds-not-publicly-accessible", async () => {
            assert.deepStrictEqual(await messages(rdsNotPublic, [rdsInstance()]), []);
            assert.strictEqual((await messages(rdsNotPublic, [rdsInstance({ publiclyAccessible: true })])).length, 1);
        });
        it("rds-force-ssl (stack): the instance's parameter group must set rds.force_ssl = 1", async () => {
            assert.deepStrictEqual(await messages(rdsForceSsl, [rdsInstance(), parameterGroup("1")]), []);
            assert.deepStrictEqual(await messages(rdsForceSsl, [rdsInstance(), parameterGroup("0")]), ['parameter group prod-postgres-pg16 does not set rds.force_ssl = 1 (it sets "0")']);
            assert.match((await messages(rdsForceSsl, [rdsInstance({ parameterGroupName: undefined }), parameterGroup("1")]))[0], /default parameter group/);
            assert.match((await messages(rdsForceSsl, [rdsInstance({ parameterGroupName: "shared-pg" }), parameterGroup("1")]))[0], /shared-pg is not one of this stack's/);
        });
        it("rds-deletion-protection: required outside dev (configurable)", async () => {
            assert.deepStrictEqual(await messages(rdsDeletionProtection, [rdsInstance()]), []);
            assert.deepStrictEqual(await messages(rdsDeletionProtection, [rdsInstance({ deletionProtection: false })], "dev"), []);
            assert.strictEqual((await messages(rdsDeletionProtection, [rdsInstance({ deletionProtection: false })], "staging")).length, 1);
            assert.strictEqual((await messages(rdsDeletionProtection, [rdsInstance({ deletionProtection: false })], "dev", { "rds-deletion-protection": { disposableStacks: ["sandbox"] } })).length, 1);
        });
        it("rds-final-snapshot (advisory)", async () => {
            assert.deepStrictEqual(await messages(rdsFinalSnapshot, [rdsInstance()]), []);
            const found = await violations(rdsFinalSnapshot, [rdsInstance({ skipFinalSnapshot: true })]);
            assert.deepStrictEqual(found.map((v) => v.enforcementLevel), ["advisory"]);
        });
    });

    describe("iam-irsa-trust-exact", () => {
        const role = (assumeRolePolicy: string) => resource("aws:iam/role:Role", "irsa", { assumeRolePolicy });
        const exact = { StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:acme:web", [`${ISSUER}:aud`]: "sts.amazonaws.com" } };
        it("passes StringEquals on exactly one :sub and :aud (and ignores non-web-identity trust)", async () => {
            assert.deepStrictEqual(await messages(irsaTrustExact, [role(trust(exact))]), []);
            assert.deepStrictEqual(await messages(irsaTrustExact, [resource("aws:iam/role:Role", "svc", { assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] }) })]), []);
        });
        it("fails StringLike, wildcards, a missing :aud or :sub, several subjects, any web identity", async () => {
            assert.match((await messages(irsaTrustExact, [role(trust({ ...exact, StringLike: { [`${ISSUER}:sub`]: "system:serviceaccount:acme:*" } }))])).join("\n"), /uses StringLike/);
            assert.match((await messages(irsaTrustExact, [role(trust({ StringEquals: { ...exact.StringEquals, [`${ISSUER}:sub`]: "system:serviceaccount:acme:*" } }))])).join("\n"), /wildcard in .*:sub/);
            assert.match((await messages(irsaTrustExact, [role(trust({ StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:acme:web" } }))])).join("\n"), /:aud to sts.amazonaws.com/);
            assert.match((await messages(irsaTrustExact, [role(trust({ StringEquals: { [`${ISSUER}:aud`]: "sts.amazonaws.com" } }))])).join("\n"), /:sub to exactly one subject .*found none/);
            assert.match((await messages(irsaTrustExact, [role(trust({ StringEquals: { ...exact.StringEquals, [`${ISSUER}:sub`]: ["system:serviceaccount:acme:web", "system:serviceaccount:globex:web"] } }))])).join("\n"), /exactly one subject/);
            assert.match((await messages(irsaTrustExact, [role(trust(exact, "*"))])).join("\n"), /any web identity/);
            assert.match((await messages(irsaTrustExact, [role(trust(undefined))])).join("\n"), /:sub to exactly one subject/);
        });
    });

    describe("iam-secrets-read-single-secret", () => {
        const read = (statement: Record<string, unknown>) => ({ Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], ...statement });
        it("passes one secret's ARN (with the -?????? suffix) plus its KMS key", async () => {
            assert.deepStrictEqual(await messages(secretsReadSingleSecret, [resource("aws:iam/rolePolicy:RolePolicy", "p", {
                role: "r", policy: identityPolicy(read({ Resource: SECRET }), { Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:eu-west-1:123456789012:key/k" }),
            })]), []);
        });
        it("fails *, a wildcard name, two secrets, NotResource, and secretsmanager:* in a role's inline policy", async () => {
            const check = async (statement: Record<string, unknown>) => (await messages(secretsReadSingleSecret, [resource("aws:iam/policy:Policy", "p", { policy: identityPolicy(read(statement)) })])).join("\n");
            assert.match(await check({ Resource: "*" }), /Resource "\*" \(every secret\)/);
            assert.match(await check({ Resource: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme-*" }), /wildcard in the secret's name/);
            assert.match(await check({ Resource: [SECRET, SECRET.replace("acme-prod-web", "globex-prod-web")] }), /read 2 secrets/);
            assert.match(await check({ NotResource: SECRET }), /NotResource/);
            const inline = await messages(secretsReadSingleSecret, [resource("aws:iam/role:Role", "r", { assumeRolePolicy: "{}", inlinePolicies: [{ name: "all", policy: identityPolicy({ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }) }] })]);
            assert.match(inline.join("\n"), /inlinePolicies\[0\] \(all\)/);
            // a Deny or an action that does not read the value is not read access
            assert.deepStrictEqual(await messages(secretsReadSingleSecret, [resource("aws:iam/policy:Policy", "p", { policy: identityPolicy({ Effect: "Deny", Action: "secretsmanager:*", Resource: "*" }, { Effect: "Allow", Action: "secretsmanager:ListSecrets", Resource: "*" }) })]), []);
        });
    });

    describe("kms-key-no-root-decrypt", () => {
        const key = (policy?: unknown) => resource("aws:kms/key:Key", "k", policy === undefined ? { enableKeyRotation: true } : { enableKeyRotation: true, policy: JSON.stringify(policy) });
        const adminOnly = { Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: ["kms:DescribeKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"], Resource: "*" };
        const viaService = { Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Decrypt", Resource: "*", Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } } };
        it("passes a policy where root only administers and apps decrypt under conditions", async () => {
            assert.deepStrictEqual(await messages(kmsNoRootDecrypt, [key({ Statement: [adminOnly, viaService] })]), []);
        });
        it("fails root with kms:* or kms:Decrypt (ARN or account id), * without condition, and no policy at all", async () => {
            assert.match((await messages(kmsNoRootDecrypt, [key({ Statement: [{ ...adminOnly, Action: "kms:*" }] })]))[0], /account root arn:aws:iam::123456789012:root/);
            assert.match((await messages(kmsNoRootDecrypt, [resource("aws:kms/keyPolicy:KeyPolicy", "kp", { keyId: "k", policy: JSON.stringify({ Statement: [{ ...adminOnly, Principal: { AWS: "123456789012" }, Action: "kms:Decrypt" }] }) })]))[0], /account root 123456789012/);
            assert.match((await messages(kmsNoRootDecrypt, [key({ Statement: [{ ...viaService, Condition: undefined }] })]))[0], /every principal/);
            assert.match((await messages(kmsNoRootDecrypt, [key()]))[0], /no key policy: AWS attaches its default key policy/);
        });
    });

    describe("vault", () => {
        it("vault-allowed-roles-no-wildcard", async () => {
            const conn = (allowedRoles: string[]) => resource("vault:database/secretBackendConnection:SecretBackendConnection", "c", { backend: "database", name: "acme", allowedRoles });
            assert.deepStrictEqual(await messages(vaultAllowedRolesNamed, [conn(["acme-prod-web"])]), []);
            assert.strictEqual((await messages(vaultAllowedRolesNamed, [conn(["*"])])).length, 1);
            assert.strictEqual((await messages(vaultAllowedRolesNamed, [conn(["acme-*"])])).length, 1);
            assert.match((await messages(vaultAllowedRolesNamed, [resource("vault:database/secretsMount:SecretsMount", "m", { path: "database", postgresqls: [{ name: "acme", allowedRoles: ["*"] }] })]))[0], /postgresqls\[0\]\.allowedRoles contains "\*"/);
        });
        it("vault-app-policy-read-only: passes the component's policies, fails more than read or foreign leases", async () => {
            const policy = (text: string) => resource("vault:index/policy:Policy", "p", { name: "acme-prod-web", policy: text });
            assert.deepStrictEqual(await messages(vaultAppPolicyReadOnly, [policy(appPolicy("database-prod", "static", "acme-prod-web"))]), []);
            assert.deepStrictEqual(await messages(vaultAppPolicyReadOnly, [policy(appPolicy("database-prod", "dynamic", "acme-prod-web", { revokeOwnLeases: true }))]), []);
            assert.deepStrictEqual(await messages(vaultAppPolicyReadOnly, [policy('path "secret/data/platform/*" {\n  capabilities = ["create", "update"]\n}\n')]), [], "not an app's credentials policy");
            assert.match((await messages(vaultAppPolicyReadOnly, [policy('path "database-prod/creds/acme-prod-web" {\n  capabilities = ["read", "list"]\n}\n')]))[0], /grants list/);
            assert.match((await messages(vaultAppPolicyReadOnly, [policy('path "database-prod/creds/*" {\n  capabilities = ["read"]\n}\n')]))[0], /not one exact credentials path/);
            assert.match((await messages(vaultAppPolicyReadOnly, [policy('path "database-prod/creds/acme-prod-web" {\n  capabilities = ["read"]\n}\npath "sys/leases/revoke" {\n  capabilities = ["update"]\n}\n')]))[0], /may revoke leases other than its own/);
            assert.match((await messages(vaultAppPolicyReadOnly, [policy('path "database-prod/creds/acme-prod-web" {\n  capabilities = ["read"]\n}\npath "sys/leases/revoke" {\n  capabilities = ["update"]\n  allowed_parameters = {\n    "lease_id" = ["database-prod/creds/globex-prod-web/*"]\n  }\n}\n')]))[0], /allows "database-prod\/creds\/globex-prod-web\/\*"/);
            assert.match((await messages(vaultAppPolicyReadOnly, [policy(JSON.stringify({ path: { "database-prod/static-creds/acme-prod-web": { capabilities: ["read", "update"] } } }))]))[0], /grants update/, "JSON policies too");
            assert.match((await messages(vaultAppPolicyReadOnly, [policy('path "database-prod/creds/x" {')]))[0], /cannot be parsed/);
        });
        it("vault-kubernetes-auth-role-single-service-account", async () => {
            const role = (names: string[], namespaces: string[], extra = {}) => resource("vault:kubernetes/authBackendRole:AuthBackendRole", "a", { roleName: "r", boundServiceAccountNames: names, boundServiceAccountNamespaces: namespaces, ...extra });
            assert.deepStrictEqual(await messages(vaultAuthRoleSingleServiceAccount, [role(["web"], ["acme"])]), []);
            assert.strictEqual((await messages(vaultAuthRoleSingleServiceAccount, [role(["*"], ["acme"])])).length, 1);
            assert.strictEqual((await messages(vaultAuthRoleSingleServiceAccount, [role(["web", "worker"], ["acme"])])).length, 1);
            assert.strictEqual((await messages(vaultAuthRoleSingleServiceAccount, [role(["web"], ["*"])])).length, 1);
            assert.match((await messages(vaultAuthRoleSingleServiceAccount, [role(["web"], [], { boundServiceAccountNamespaceSelector: '{"matchLabels":{"team":"a"}}' })])).join("\n"), /NamespaceSelector/);
        });
    });

    describe("kubernetes", () => {
        const configMap = (data: Record<string, string>, binaryData?: Record<string, string>) => resource("kubernetes:core/v1:ConfigMap", "cm", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data, binaryData });
        it("kubernetes-no-credentials-in-configmaps: CA bundles, server config and templates pass", async () => {
            assert.deepStrictEqual(await messages(noCredentialsInConfigMaps, [configMap({
                "ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                "postgresql.conf": "password_encryption = scram-sha-256\nssl = on\n",
                "template": "postgresql://{{ .Data.username }}:{{ .Data.password | urlquery }}@db:5432/acme",
                "token-audience": "vault",
            })]), []);
        });
        it("kubernetes-no-credentials-in-configmaps: passwords, URLs with passwords, DSNs, private keys fail", async () => {
            for (const data of <Record<string, string>[]>[{ password: "hunter2hunter2" }, { url: "postgres://app:hunter2@db/acme" }, { dsn: "host=db user=app password=hunter2 sslmode=require" },
                { "app.json": '{"db": {"password": "hunter2"}}' }, { "tls.key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n" }]) {
                assert.strictEqual((await messages(noCredentialsInConfigMaps, [configMap(data)])).length, 1, JSON.stringify(data));
            }
            assert.strictEqual((await messages(noCredentialsInConfigMaps, [configMap({}, { "db.env": Buffer.from("PGPASSWORD=hunter2\n").toString("base64") })])).length, 1, "binaryData too");
        });
        it("kubernetes-no-credentials-in-env: secretKeyRef passes, plain values fail (also in Jobs' and CronJobs' pods)", async () => {
            assert.deepStrictEqual(await messages(noCredentialsInEnv, [deployment()]), []);
            assert.strictEqual((await messages(noCredentialsInEnv, [deployment({ env: [{ name: "DB_PASSWORD", value: "hunter2" }] })])).length, 1);
            assert.strictEqual((await messages(noCredentialsInEnv, [deployment({ env: [{ name: "DATABASE_URL", value: "postgresql://app:hunter2@db:5432/acme" }] })])).length, 1);
            assert.deepStrictEqual(await messages(noCredentialsInEnv, [deployment({ env: [{ name: "POSTGRES_PASSWORD_FILE", value: "/run/secrets/pw" }, { name: "DATABASE_URL", value: "postgresql://app@db:5432/acme" }] })]), []);
            const cron = resource("kubernetes:batch/v1:CronJob", "c", { spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "i", env: [{ name: "API_TOKEN", value: "abc123abc" }] }] } } } } } });
            assert.strictEqual((await messages(noCredentialsInEnv, [cron])).length, 1);
        });
        it("kubernetes-pod-security-restricted: a restricted pod passes, a privileged one fails (StatefulSet and Pod too)", async () => {
            assert.deepStrictEqual(await messages(podSecurityRestricted, [deployment()]), []);
            const bad = await messages(podSecurityRestricted, [deployment({ securityContext: { privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } })]);
            assert.deepStrictEqual(bad, ["spec.template.spec.containers[0].securityContext.privileged must not be true"]);
            const pod = resource("kubernetes:core/v1:Pod", "p", { spec: { hostNetwork: true, containers: [{ name: "c", image: "i" }] } });
            assert.ok((await messages(podSecurityRestricted, [pod])).includes("spec.hostNetwork must not be true"));
            const sts = resource("kubernetes:apps/v1:StatefulSet", "s", { spec: { template: { spec: { containers: [{ name: "c", image: "i", securityContext: { runAsUser: 0 } }] } } } });
            assert.ok((await messages(podSecurityRestricted, [sts])).includes("spec.template.spec.containers[0].securityContext.runAsUser must not be 0"));
        });
        it("kubernetes-namespace-enforces-restricted (advisory)", async () => {
            const ns = (labels: Record<string, string>) => resource("kubernetes:core/v1:Namespace", "ns", { metadata: { name: "acme", labels } });
            assert.deepStrictEqual(await messages(namespaceEnforcesRestricted, [ns({ "pod-security.kubernetes.io/enforce": "restricted" })]), []);
            const found = await violations(namespaceEnforcesRestricted, [ns({ "pod-security.kubernetes.io/enforce": "baseline" })]);
            assert.deepStrictEqual(found.map((v) => [v.enforcementLevel, v.message]), [["advisory", 'label pod-security.kubernetes.io/enforce is "baseline"; set it to "restricted"']]);
        });
    });
});
