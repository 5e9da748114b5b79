/**
 * Bad config fails before any resource is registered, with every problem listed at once, each naming
 * its field and what is allowed. Each case runs the real program (createStack) under mocks.
 */
import * as assert from "assert";
import { RejectedConfig, assertRejected } from "./rejectedConfig";
import { ConfigError, parseStackConfig } from "../../components/config";

const statefulset = { engine: "statefulset", version: "17", tls: "require" };
const rdsOk = { vpcId: "vpc-0abc123", subnetIds: ["subnet-0aaa111", "subnet-0bbb222"] };
const awsOk = {
    region: "eu-west-1",
    eksOidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
    eksOidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
};
const vaultOk = { address: "https://vault.example.com:8200", kubernetesNamespace: "vault" };
const org = (apps?: unknown[]) => ({ name: "acme", ...(apps ? { apps } : {}) });


const cases: RejectedConfig[] = [
    { name: "missing database", config: { organizations: [org()] }, expect: [["database", /required/]] },
    { name: "unknown engine", config: { database: { ...statefulset, engine: "aurora" }, organizations: [org()] }, expect: [["database.engine", /expected one of "statefulset" \| "rds"/]] },
    { name: "unsupported version", config: { database: { ...statefulset, version: "12" }, organizations: [org()] }, expect: [["database.version", /"15" \| "16" \| "17" \| "18"/]] },
    { name: "version as a number", config: { database: { ...statefulset, version: 17 }, organizations: [org()] }, expect: [["database.version", /expected one of/]] },
    { name: "tls disabled", config: { database: { ...statefulset, tls: "disable" }, organizations: [org()] }, expect: [["database.tls", /"require" \| "verify-full" \| "mtls"/]] },
    { name: "no organizations", config: { database: statefulset, organizations: [] }, expect: [["organizations", /at least one organization/]] },
    { name: "organization name not a DNS label", config: { database: statefulset, organizations: [{ name: "Acme_Corp" }] }, expect: [["organizations[0].name", /DNS-1123 label/]] },
    { name: "organization name too long", config: { database: statefulset, organizations: [{ name: "a".repeat(41) }] }, expect: [["organizations[0].name", /at most 40/]] },
    { name: "bad access level", config: { database: statefulset, organizations: [org([{ name: "billing", access: "admin" }])] }, expect: [["organizations[0].apps[0].access", /expected one of "owner" \| "readwrite" \| "readonly"/]] },
    { name: "bad credentials source", config: { database: statefulset, organizations: [org([{ name: "billing", credentials: "env" }])] }, expect: [["organizations[0].apps[0].credentials", /"kubernetes" \| "secretsmanager" \| "vault-static" \| "vault-dynamic"/]] },
    { name: "delivery incompatible with credentials", config: { database: statefulset, organizations: [org([{ name: "billing", credentials: "kubernetes", delivery: "csi" }])] }, expect: [["organizations[0].apps[0].delivery", /can be delivered by "secret", not "csi"/]] },
    { name: "duplicate organizations", config: { database: statefulset, organizations: [org(), org()] }, expect: [["organizations[1].name", /duplicate organization "acme"/]] },
    { name: "duplicate apps", config: { database: statefulset, organizations: [org([{ name: "api" }, { name: "api" }])] }, expect: [["organizations[0].apps[1].name", /duplicate app "api"/]] },
    { name: "reserved namespace", config: { database: statefulset, organizations: [{ name: "kube-system" }] }, expect: [["organizations[0].name", /reserved Kubernetes namespace/]] },
    { name: "organization in Vault's namespace", config: { database: statefulset, vault: { ...vaultOk, kubernetesNamespace: "vault" }, organizations: [{ name: "vault" }] }, expect: [["organizations[0].name", /Vault's namespace \(vault.kubernetesNamespace\)/]] },
    { name: "syncSecret without csi delivery", config: { database: statefulset, organizations: [org([{ name: "api", syncSecret: false }])] }, expect: [["organizations[0].apps[0].syncSecret", /only applies to delivery "csi"/]] },
    { name: "a kube- namespace", config: { database: statefulset, organizations: [{ name: "kube-tenant" }] }, expect: [["organizations[0].name", /reserved Kubernetes namespace/]] },
    { name: "requests above limits", config: { database: { ...statefulset, statefulset: { resources: { limits: { memory: "256Mi" } } } }, organizations: [org()] }, expect: [["database.statefulset.resources.requests.memory", /512Mi exceeds the limit 256Mi/]] },
    { name: "the same subnet twice", config: { database: { ...statefulset, engine: "rds", rds: { ...rdsOk, subnetIds: ["subnet-0aaa111", "subnet-0aaa111"] } }, aws: awsOk, organizations: [org()] }, expect: [["database.rds.subnetIds[1]", /duplicate subnet "subnet-0aaa111"/]] },
    { name: "a CIDR that is no address", config: { database: { ...statefulset, engine: "rds", rds: { ...rdsOk, allowedCidrBlocks: ["999.1.1.1/99"] } }, aws: awsOk, organizations: [org()] }, expect: [["database.rds.allowedCidrBlocks[0]", /octets 0-255, prefix 0-32/]] },
    { name: "protected instance with a day of backups", config: { database: { ...statefulset, engine: "rds", rds: { ...rdsOk, backupRetentionDays: 1, allowedSecurityGroupIds: ["sg-0abc123"] } }, aws: awsOk, organizations: [org()] }, expect: [["database.rds.backupRetentionDays", /at least 7 days of backups/]] },
    { name: "a Vault mount with a trailing slash", config: { database: statefulset, vault: { ...vaultOk, mount: "database-dev/" }, organizations: [org()] }, expect: [["vault.mount", /no leading, trailing or double slash/]] },
    { name: "a lease longer than the login token lives", config: { database: statefulset, vault: vaultOk, organizations: [org([{ name: "api", credentials: "vault-dynamic", maxTtl: 604800 }])] }, expect: [["organizations[0].apps[0].maxTtl", /at most 86400 \(seconds; Vault revokes a lease when the login token that created it expires/]] },
    { name: "a minute that does not exist", config: { database: statefulset, vault: vaultOk, organizations: [org([{ name: "api", credentials: "vault-static", rotationSchedule: "61 * * * *", rotationWindow: 3600 }])] }, expect: [["organizations[0].apps[0].rotationSchedule", /minute "61" is not valid \(0-59/]] },
    { name: "a schedule that is not cron", config: { database: statefulset, vault: vaultOk, organizations: [org([{ name: "api", credentials: "vault-static", rotationSchedule: "banana * * * *", rotationWindow: 3600 }])] }, expect: [["organizations[0].apps[0].rotationSchedule", /minute "banana" is not valid/]] },
    { name: "Vault logins on the in-cluster server without Vault's namespace", config: { database: statefulset, vault: { address: "https://vault.example.com:8200" }, organizations: [org([{ name: "api", credentials: "vault-static" }])] }, expect: [["vault.kubernetesNamespace", /Vault must run in this cluster to reach it/]] },
    { name: "organization in the server's namespace", config: { database: statefulset, organizations: [{ name: "postgres" }] }, expect: [["organizations[0].name", /database server's namespace/]] },
    { name: "misspelt field", config: { database: statefulset, organizations: [org([{ name: "api", acess: "readonly" }])] }, expect: [["organizations[0].apps[0]", /unknown field "acess"/]] },
    { name: "misspelt top-level key", config: { database: statefulset, organisations: [org()] }, expect: [["(root)", /unknown field "organisations"/], ["organizations", /required/]] },
    { name: "rds without rds or aws settings", config: { database: { ...statefulset, engine: "rds" }, organizations: [org()] }, expect: [["database.rds", /required when database.engine is "rds"/], ["aws", /required when database.engine is "rds"/]] },
    { name: "mtls on rds", config: { database: { ...statefulset, engine: "rds", tls: "mtls", rds: rdsOk }, aws: awsOk, organizations: [org()] }, expect: [["database.tls", /IAM database authentication/]] },
    { name: "mtls without spiffe", config: { database: { ...statefulset, tls: "mtls" }, organizations: [org()] }, expect: [["database.spiffe", /required when database.tls is "mtls"/]] },
    { name: "rds with one subnet", config: { database: { ...statefulset, engine: "rds", rds: { ...rdsOk, subnetIds: ["subnet-0aaa111"] } }, aws: awsOk, organizations: [org()] }, expect: [["database.rds.subnetIds", /at least 2 private subnets/]] },
    { name: "backup retention out of range", config: { database: { ...statefulset, engine: "rds", rds: { ...rdsOk, backupRetentionDays: 0 } }, aws: awsOk, organizations: [org()] }, expect: [["database.rds.backupRetentionDays", /at least 1/]] },
    { name: "secretsmanager without aws", config: { database: statefulset, organizations: [org([{ name: "api", credentials: "secretsmanager" }])] }, expect: [["organizations[0].apps[0].credentials", /needs the postgres-access:aws config/]] },
    { name: "vault credentials without vault", config: { database: statefulset, organizations: [org([{ name: "api", credentials: "vault-static" }])] }, expect: [["organizations[0].apps[0].credentials", /needs the postgres-access:vault config/]] },
    { name: "plain-http vault address", config: { database: statefulset, vault: { address: "http://vault:8200" }, organizations: [org()] }, expect: [["vault.address", /https:\/\//]] },
    { name: "rotation period and schedule together", config: { database: statefulset, vault: vaultOk, organizations: [org([{ name: "api", credentials: "vault-static", rotationPeriod: 3600, rotationSchedule: "0 3 * * SAT" }])] }, expect: [["organizations[0].apps[0].rotationSchedule", /either rotationPeriod or rotationSchedule/]] },
    { name: "ttl above max ttl", config: { database: statefulset, vault: vaultOk, organizations: [org([{ name: "api", credentials: "vault-dynamic", defaultTtl: 7200, maxTtl: 3600 }])] }, expect: [["organizations[0].apps[0].defaultTtl", /must not exceed maxTtl \(3600\)/]] },
    { name: "owner with dynamic users", config: { database: statefulset, vault: vaultOk, organizations: [org([{ name: "api", access: "owner", credentials: "vault-dynamic" }])] }, expect: [["organizations[0].apps[0].access", /use vault-static/]] },
    { name: "stack name not a DNS label", stack: "Prod_EU", config: { database: statefulset, organizations: [org()] }, expect: [["(stack name)", /DNS-1123 label/]] },
    { name: "connection limit not a whole number", config: { database: statefulset, organizations: [org([{ name: "api", connectionLimit: 2.5 }])] }, expect: [["organizations[0].apps[0].connectionLimit", /whole number/]] },
    { name: "adoptExisting not a boolean", config: { database: statefulset, organizations: [{ name: "acme", adoptExisting: "yes" }] }, expect: [["organizations[0].adoptExisting", /expected true \(re-adding a removed organization/]] },
];

describe("malformed config", () => {
    it("covers at least 15 distinct mistakes", () => {
        assert.ok(cases.length >= 15, `${cases.length} cases`);
    });

    for (const c of cases) {
        it(`rejects ${c.name}, naming the field, with nothing registered`, () => assertRejected(c));
    }

    it("reports every problem of a config at once", () => {
        try {
            parseStackConfig({
                database: { engine: "statefulset", tls: "none" },
                organizations: [{ name: "Bad Name", apps: [{ name: "x", access: "god", credentials: "vault-static" }] }],
            }, "dev");
            assert.fail("accepted");
        } catch (err) {
            assert.ok(err instanceof ConfigError);
            const paths = err.problems.map((p) => p.path).sort();
            assert.deepStrictEqual(paths, [
                "database.tls",
                "organizations[0].apps[0].access",
                "organizations[0].apps[0].credentials",
                "organizations[0].name",
            ]);
        }
    });

    it("accepts the shipped dev stack and applies defaults", () => {
        const config = parseStackConfig({ database: { engine: "statefulset" }, organizations: [{ name: "globex" }] }, "dev");
        assert.strictEqual(config.database.version, "18");
        assert.strictEqual(config.database.tls, "require");
        const app = config.organizations[0].apps[0];
        assert.deepStrictEqual([app.name, app.access, app.credentials, app.delivery, app.isDefaultApp], ["globex", "readwrite", "kubernetes", "secret", true]);
    });
});
