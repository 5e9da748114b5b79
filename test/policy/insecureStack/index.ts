/**
 * A deliberately insecure program (test fixture): raw resources, no components, each breaking one rule of
 * the policy pack. test/policy/insecureProgram.test.ts runs it through `npm run plan -- --program … --policy`
 * and expects each policy named beside its resource below.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as postgresql from "@pulumi/postgresql";
import * as vault from "@pulumi/vault";

const config = new pulumi.Config();
const namespace = config.require("namespace");
const issuer = config.require("oidcIssuer");
const account = "123456789012";

// postgresql-role-least-privilege: a login with SUPERUSER
new postgresql.Role("app-login", { name: "app", login: true, superuser: true, password: pulumi.secret("s3cret-Passw0rd") });
// postgresql-createrole-only-vault-admin: CREATEROLE on a login no Vault connection uses
new postgresql.Role("migrator", { name: "migrator", login: true, createRole: true });
// postgresql-no-public-privileges: CONNECT for everyone
new postgresql.Grant("public-connect", { database: "team_a", role: "public", objectType: "database", privileges: ["CONNECT"] });
// postgresql-database-revokes-public: a database that keeps PUBLIC's defaults
new postgresql.Database("team-a-db", { name: "team_a" });

// rds-storage-encrypted, rds-not-publicly-accessible, rds-force-ssl (default parameter group),
// rds-deletion-protection, rds-final-snapshot (advisory)
new aws.rds.Instance("db", {
    engine: "postgres",
    engineVersion: "16",
    instanceClass: "db.t4g.micro",
    allocatedStorage: 20,
    username: "pgadmin",
    password: pulumi.secret("another-Passw0rd"),
    publiclyAccessible: true,
    storageEncrypted: false,
    skipFinalSnapshot: true,
});

// iam-irsa-trust-exact: StringLike with a wildcard subject
new aws.iam.Role("app-irsa", {
    assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
            Effect: "Allow",
            Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${issuer}` },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringLike: { [`${issuer}:sub`]: `system:serviceaccount:${namespace}:*` } },
        }],
    }),
});
// iam-secrets-read-single-secret: every secret of the account
new aws.iam.Policy("read-secrets", {
    policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*" }] }),
});
// kms-key-no-root-decrypt: the account root may decrypt
new aws.kms.Key("secrets-key", {
    policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" }] }),
});

// vault-allowed-roles-no-wildcard
new vault.database.SecretBackendConnection("team-a-connection", {
    backend: "database",
    name: "team-a",
    allowedRoles: ["*"],
    postgresql: { connectionUrl: "postgresql://{{username}}:{{password}}@db:5432/team_a", username: "vault" },
});
// vault-app-policy-read-only: more than read on the credentials
new vault.Policy("app-policy", { name: "team-a-app", policy: `path "database/creds/team-a-app" {\n  capabilities = ["read", "update", "delete"]\n}\npath "secret/*" {\n  capabilities = ["read"]\n}\n` });
// vault-kubernetes-auth-role-single-service-account: any ServiceAccount
new vault.kubernetes.AuthBackendRole("app-auth", { roleName: "team-a-app", boundServiceAccountNames: ["*"], boundServiceAccountNamespaces: [namespace], tokenPolicies: ["team-a-app"] });

// kubernetes-namespace-enforces-restricted (advisory): no Pod Security label
new k8s.core.v1.Namespace("team-a", { metadata: { name: namespace } });
// kubernetes-no-credentials-in-configmaps
new k8s.core.v1.ConfigMap("app-config", { metadata: { namespace }, data: { DATABASE_URL: "postgresql://app:s3cret-Passw0rd@db:5432/team_a", "db-password": "s3cret-Passw0rd" } });
// kubernetes-pod-security-restricted (privileged, no securityContext) and kubernetes-no-credentials-in-env
new k8s.apps.v1.Deployment("app", {
    metadata: { namespace },
    spec: {
        selector: { matchLabels: { app: "app" } },
        template: {
            metadata: { labels: { app: "app" } },
            spec: {
                containers: [{
                    name: "app",
                    image: "example/app:1",
                    securityContext: { privileged: true },
                    env: [{ name: "PGPASSWORD", value: "s3cret-Passw0rd" }, { name: "PGHOST", value: "db" }],
                }],
            },
        },
    },
});
