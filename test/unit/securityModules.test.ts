/**
 * The security-critical pure functions, each called inside its test (so mutation testing can tell which
 * test sees which line; see docs/development.md, Mutation testing) and judged by behaviour: IAM and KMS documents by
 * iam-simulate, the organization database by the statements the provider would run for it.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import {
    accountOfArn, appSecretAccessPolicy, deployerLockoutProblem, irsaTrustPolicy, issuerHost, organizationKeyPolicy, secretArnPattern, secretResourcePolicy,
} from "../../components/aws/policies";
import { OrganizationDatabase } from "../../components/postgres/organizationDatabase";
import { derivedNameProblems, organizationNames } from "../../components/naming";
import { MTLS_SERVER_PATHS, renderPgHba, renderPgIdent, serverSettings, settingsAsArgs } from "../../components/database/serverConfig";
import { dynamicCreationStatements, dynamicRenewStatements, dynamicRevocationStatements, rootRotationStatements, staticRotationStatements } from "../../components/vault/postgresStatements";
import { runPulumi } from "../../testing/offlineRun";
import { irsaTrustViolations, simulate } from "../support/iamSimulation";
import { providerSteps } from "../support/postgresqlProviderSql";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const ISSUER_URL = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789";
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789`;
const APP_ROLE = `arn:aws:iam::${ACCOUNT}:role/acme-prod-billing-db`;
const OTHER_APP_ROLE = `arn:aws:iam::${ACCOUNT}:role/globex-prod-globex-db`;
const DEPLOYER = `arn:aws:iam::${ACCOUNT}:role/platform-deployer`;
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1111aaaa-11aa-11aa-11aa-111111aaaaaa`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/2222bbbb-22bb-22bb-22bb-222222bbbbbb`;
const VIA = { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` };
/** AWS's default key policy: the account's IAM policies decide. */
const delegatingKeyPolicy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" }] };
const NO_POLICY = { Version: "2012-10-17", Statement: [] };

describe("policies (pure, judged by iam-simulate)", function () {
    this.timeout(60000);

    it("writes condition keys with the issuer's host and path only", () => {
        assert.strictEqual(issuerHost(ISSUER_URL), ISSUER_URL.slice("https://".length));
        assert.strictEqual(issuerHost(`${ISSUER_URL}/`), ISSUER_URL.slice("https://".length), "a trailing slash is not part of the key");
        assert.strictEqual(accountOfArn(APP_ROLE), ACCOUNT);
        assert.strictEqual(accountOfArn("not-an-arn"), "");
    });

    it("irsaTrustPolicy admits the app's ServiceAccount token and nothing near it, with or without a trailing slash on the issuer URL", () => {
        for (const url of [ISSUER_URL, `${ISSUER_URL}/`]) {
            const trust = irsaTrustPolicy(PROVIDER, url, "acme", "billing");
            const expected = { oidcProviderArn: PROVIDER, issuer: issuerHost(ISSUER_URL), namespace: "acme", serviceAccount: "billing", otherServiceAccounts: ["acme/reporting", "globex/globex"] };
            assert.deepStrictEqual(irsaTrustViolations(trust, APP_ROLE, expected), [], url);
        }
    });

    it("secretArnPattern matches the secret's own ARN (6 random characters) and not a longer name", async () => {
        const pattern = secretArnPattern("aws", REGION, ACCOUNT, "acme-prod-billing-database-credentials");
        const policy = appSecretAccessPolicy(pattern, KEY, REGION);
        const read = (resource: string) => simulate({ identityPolicies: [policy], roleArn: APP_ROLE, action: "secretsmanager:GetSecretValue", resource });
        const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:acme-prod-billing-database-credentials`;
        assert.strictEqual(await read(`${arn}-AbCdEf`), "Allowed");
        assert.strictEqual(await read(`${arn}-x-AbCdEf`), "ImplicitlyDenied");
        assert.strictEqual(await read(`${arn}-AbCdE`), "ImplicitlyDenied");
        assert.strictEqual(await read(arn.replace(ACCOUNT, "999999999999") + "-AbCdEf"), "ImplicitlyDenied");
    });

    it("appSecretAccessPolicy: reads its secret, decrypts with its key only through Secrets Manager of its region, nothing else", async () => {
        const secret = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:acme-prod-billing-database-credentials-AbCdEf`;
        const policy = appSecretAccessPolicy(secret, KEY, REGION);
        const ask = (action: string, resource: string, context?: Record<string, string>) =>
            simulate({ identityPolicies: [policy], resourcePolicy: resource.includes(":kms:") ? delegatingKeyPolicy : undefined, roleArn: APP_ROLE, action, resource, context });
        assert.strictEqual(await ask("secretsmanager:GetSecretValue", secret), "Allowed");
        assert.strictEqual(await ask("secretsmanager:DescribeSecret", secret), "Allowed");
        assert.strictEqual(await ask("secretsmanager:PutSecretValue", secret), "ImplicitlyDenied");
        assert.strictEqual(await ask("kms:Decrypt", KEY, VIA), "Allowed");
        assert.strictEqual(await ask("kms:Decrypt", OTHER_KEY, VIA), "ImplicitlyDenied", "another key, even one whose policy delegates to IAM");
        assert.strictEqual(await ask("kms:Decrypt", KEY), "ImplicitlyDenied", "not directly");
        assert.strictEqual(await ask("kms:Decrypt", KEY, { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" }), "ImplicitlyDenied", "not via another region");
        assert.strictEqual(await ask("kms:Encrypt", KEY, VIA), "ImplicitlyDenied");
    });

    it("secretResourcePolicy: denies every principal but the app and the platform admins", async () => {
        const secret = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:acme-prod-billing-database-credentials-AbCdEf`;
        const broad = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }] };
        const policy = secretResourcePolicy(APP_ROLE, [DEPLOYER]);
        const ask = (roleArn: string, action = "secretsmanager:GetSecretValue") => simulate({ identityPolicies: [broad], resourcePolicy: policy, roleArn, action, resource: secret });
        assert.strictEqual(await ask(APP_ROLE), "Allowed");
        assert.strictEqual(await ask(DEPLOYER, "secretsmanager:PutSecretValue"), "Allowed");
        assert.strictEqual(await ask(OTHER_APP_ROLE), "ExplicitlyDenied");
        assert.strictEqual(await ask(`arn:aws:iam::${ACCOUNT}:role/some-admin-workload`), "ExplicitlyDenied");
    });

    it("organizationKeyPolicy: apps decrypt and admins use it only via Secrets Manager; the account administers but cannot use it", async () => {
        const policy = organizationKeyPolicy("aws", ACCOUNT, REGION, [APP_ROLE], [DEPLOYER]);
        const broadKms = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] };
        const ask = (roleArn: string, action: string, context?: Record<string, string>, identity: object = NO_POLICY) =>
            simulate({ identityPolicies: [identity], resourcePolicy: policy, roleArn, action, resource: KEY, context });
        assert.strictEqual(await ask(APP_ROLE, "kms:Decrypt", VIA), "Allowed");
        assert.strictEqual(await ask(APP_ROLE, "kms:Decrypt"), "ImplicitlyDenied");
        assert.strictEqual(await ask(APP_ROLE, "kms:Encrypt", VIA), "ImplicitlyDenied");
        assert.strictEqual(await ask(OTHER_APP_ROLE, "kms:Decrypt", VIA), "ImplicitlyDenied");
        assert.strictEqual(await ask(DEPLOYER, "kms:GenerateDataKey", VIA), "Allowed");
        assert.strictEqual(await ask(DEPLOYER, "kms:GenerateDataKey"), "ImplicitlyDenied");
        const workload = `arn:aws:iam::${ACCOUNT}:role/some-admin-workload`;
        assert.strictEqual(await ask(workload, "kms:EnableKeyRotation", undefined, broadKms), "Allowed");
        assert.strictEqual(await ask(workload, "kms:ScheduleKeyDeletion", undefined, broadKms), "Allowed");
        for (const action of ["kms:Decrypt", "kms:Encrypt", "kms:CreateGrant"]) {
            assert.strictEqual(await ask(workload, action, VIA, broadKms), "ImplicitlyDenied", action);
        }
        const another = `arn:aws:iam::999999999999:role/acme-prod-billing-db`;
        assert.strictEqual(await ask(another, "kms:Decrypt", VIA), "ImplicitlyDenied", "a same-named role of another account");
        const noApps = organizationKeyPolicy("aws", ACCOUNT, REGION, [], [DEPLOYER]);
        assert.strictEqual(await simulate({ identityPolicies: [NO_POLICY], resourcePolicy: noApps, roleArn: APP_ROLE, action: "kms:Decrypt", resource: KEY, context: VIA }), "ImplicitlyDenied");
        const noAdmins = organizationKeyPolicy("aws", ACCOUNT, REGION, [APP_ROLE], []);
        assert.strictEqual(await simulate({ identityPolicies: [NO_POLICY], resourcePolicy: noAdmins, roleArn: DEPLOYER, action: "kms:GenerateDataKey", resource: KEY, context: VIA }), "ImplicitlyDenied");
        assert.strictEqual(noAdmins.Statement.length, 2, "no statement with an empty role list");
        assert.strictEqual(noApps.Statement.length, 2, "no statement with an empty role list");
    });

    it("deployerLockoutProblem: accepts a listed admin, and says why another identity would lock itself out", () => {
        assert.strictEqual(deployerLockoutProblem(DEPLOYER, [DEPLOYER]), undefined);
        const user = deployerLockoutProblem(`arn:aws:iam::${ACCOUNT}:user/alice`, [DEPLOYER])!;
        assert.match(user, /^aws\.platformAdminRoleArns: .*user\/alice.*as an IAM role, not a user/);
        const otherAccount = deployerLockoutProblem(DEPLOYER, ["arn:aws:iam::999999999999:role/platform-deployer"])!;
        assert.match(otherAccount, /is a role of account 999999999999; pulumi runs in account 123456789012/);
        const withPath = `arn:aws:iam::${ACCOUNT}:role/ci/platform-deployer`;
        assert.match(deployerLockoutProblem(withPath, [DEPLOYER])!, /names the same role without its path/);
        const unrelated = deployerLockoutProblem(`arn:aws:iam::${ACCOUNT}:role/someone`, [DEPLOYER])!;
        assert.match(unrelated, /is not listed; each secret's resource policy would deny it/);
        assert.doesNotMatch(unrelated, /\(/, "no hint when nothing similar is listed");
    });
});

describe("OrganizationDatabase: what the provider would execute (built inside the test)", function () {
    this.timeout(60000);

    for (const nonSuperuserAdmin of [undefined, "pgadmin"]) {
        it(`revokes PUBLIC's privileges on the database and on schema public, grants the groups only their level (${nonSuperuserAdmin ? "RDS admin" : "superuser"})`, async () => {
            const names = organizationNames("acme");
            const run = await runPulumi(async () => {
                const provider = new postgresql.Provider("pg", { host: "localhost", port: 5432, username: "postgres", password: pulumi.secret("pw"), sslmode: "require", superuser: !nonSuperuserAdmin });
                new OrganizationDatabase("acme", { names, connectionLimit: 40, nonSuperuserAdmin }, { provider });
                return {};
            }, {});
            const sql = providerSteps(run.resources).flatMap((s) => s.statements.map((q) => `${s.database ?? "-"}: ${q}`));
            assert.ok(sql.includes('acme: REVOKE ALL PRIVILEGES ON DATABASE "acme" FROM "public"'), sql.join("\n"));
            assert.ok(sql.includes('acme: REVOKE ALL PRIVILEGES ON SCHEMA "public" FROM "public"'), sql.join("\n"));
            assert.ok(!sql.some((q) => / TO "public"/.test(q)), "nothing granted to PUBLIC");
            assert.ok(sql.some((q) => q.startsWith('-: CREATE DATABASE "acme" OWNER "acme_owner"') && q.includes("CONNECTION LIMIT 40")));
            const grantsTo = (role: string) => sql.filter((q) => q.includes(` TO "${role}"`) && q.includes("GRANT ") && !q.includes("DEFAULT")).map((q) => q.replace(/^acme: /, ""));
            assert.deepStrictEqual(grantsTo("acme_readonly").sort(), [
                'GRANT CONNECT ON DATABASE "acme" TO "acme_readonly"',
                'GRANT SELECT ON ALL SEQUENCES IN SCHEMA "public" TO "acme_readonly"',
                'GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "acme_readonly"',
                'GRANT USAGE ON SCHEMA "public" TO "acme_readonly"',
            ]);
            assert.deepStrictEqual(grantsTo("acme_owner").sort(), ['GRANT CREATE,USAGE ON SCHEMA "public" TO "acme_owner"']);
            const defaults = sql.filter((q) => q.includes("ALTER DEFAULT PRIVILEGES") && q.includes(" GRANT ") && q.includes('"acme_readonly"')).map((q) => q.replace(/\s+/g, " "));
            assert.deepStrictEqual(defaults.sort(), [
                'acme: ALTER DEFAULT PRIVILEGES FOR ROLE "acme_owner" IN SCHEMA "public" GRANT SELECT ON SEQUENCES TO "acme_readonly"',
                'acme: ALTER DEFAULT PRIVILEGES FOR ROLE "acme_owner" IN SCHEMA "public" GRANT SELECT ON TABLES TO "acme_readonly"',
            ], "what the owner creates later is readable too");
            const database = run.ofType("postgresql:index/database:Database")[0];
            assert.deepStrictEqual([database.inputs.template, database.inputs.encoding, database.inputs.allowConnections], ["template0", "UTF8", true]);
            // logical names are the resources' identity in the state: renaming one would drop and re-create it
            assert.deepStrictEqual(run.resources.filter((r) => r.type === "postgresql:index/role:Role" || r.type === "postgresql:index/database:Database").map((r) => r.name).sort(), ["acme-database", "acme-owner", "acme-readonly", "acme-readwrite"]);
            const roles = sql.filter((q) => q.includes("CREATE ROLE"));
            assert.strictEqual(roles.length, 3);
            for (const r of roles) assert.match(r, /NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOLOGIN NOBYPASSRLS NOREPLICATION/, r);
            const memberships = run.ofType("postgresql:index/grantRole:GrantRole").map((r) => `${r.inputs.grantRole} TO ${r.inputs.role}${r.inputs.withAdminOption ? " WITH ADMIN" : ""}`);
            assert.deepStrictEqual(memberships, nonSuperuserAdmin ? ["acme_owner TO pgadmin"] : []);
        });
    }
});

describe("Vault's PostgreSQL statements (pure; executed for real in test/vault/vaultStatements.test.ts)", () => {
    it("rotates passwords with Vault's templated verifier, never a literal", () => {
        assert.deepStrictEqual(staticRotationStatements(), [`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`]);
        assert.deepStrictEqual(rootRotationStatements(), [`ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`]);
        assert.deepStrictEqual(dynamicRenewStatements(), [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`]);
    });

    it("creates a dynamic user as a plain, expiring LOGIN inside its group only, with a whole connection limit", () => {
        const [create, ...rest] = dynamicCreationStatements('acme_read"only', 3.7);
        assert.deepStrictEqual(rest, []);
        assert.match(create, /^CREATE ROLE "\{\{name\}\}" WITH LOGIN PASSWORD '\{\{password\}\}' VALID UNTIL '\{\{expiration\}\}' /);
        for (const attribute of ["NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOREPLICATION", "NOBYPASSRLS", "INHERIT"]) assert.ok(create.includes(` ${attribute} `), attribute);
        assert.ok(create.endsWith(' CONNECTION LIMIT 3 IN ROLE "acme_read""only";'), create);
    });

    it("revokes in one guarded DO block: membership, act as the user, end its sessions, drop what it owns, then the role", () => {
        const [block, ...rest] = dynamicRevocationStatements("acme_vault_admin");
        assert.deepStrictEqual(rest, []);
        const lines = block.split("\n").map((l) => l.trim());
        assert.deepStrictEqual([lines[0], lines[1], lines.at(-2), lines.at(-1)], ["DO $revoke$", "BEGIN", "END", "$revoke$;"]);
        const order = [
            "IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{{name}}') THEN",
            'GRANT "{{name}}" TO "acme_vault_admin";',
            'SET LOCAL ROLE "{{name}}";',
            "PERFORM pg_catalog.pg_terminate_backend(pid, 5000) FROM pg_catalog.pg_stat_activity WHERE usename = '{{name}}' AND pid <> pg_catalog.pg_backend_pid();",
            'DROP OWNED BY "{{name}}";',
            "RESET ROLE;",
            'DROP ROLE "{{name}}";',
            "END IF;",
        ];
        assert.deepStrictEqual(lines.slice(2, -2), order);
    });
});

describe("pg_hba.conf, pg_ident.conf and server settings (pure)", () => {
    /** The rules of a pg_hba.conf text, whitespace-normalized, comments dropped. */
    const rules = (text: string) => text.split("\n").map((l) => l.trim().split(/\s+/).join(" ")).filter((l) => l && !l.startsWith("#"));

    it("mtls: apps only by a certificate mapped to their login, the admin by password from loopback only, everything else rejected", () => {
        const hba = rules(renderPgHba({ tls: "mtls", adminUser: "postgres", maxConnections: 10 }));
        const admitting = hba.filter((r) => r.startsWith("hostssl") && !r.endsWith(" reject"));
        assert.deepStrictEqual(admitting, [
            "hostssl all postgres 127.0.0.1/32 scram-sha-256",
            "hostssl all postgres ::1/128 scram-sha-256",
            "hostssl all all 0.0.0.0/0 cert map=spiffe clientname=CN",
            "hostssl all all ::/0 cert map=spiffe clientname=CN",
        ]);
        const adminElsewhere = hba.indexOf("hostssl all postgres all reject");
        assert.ok(adminElsewhere > hba.indexOf("hostssl all postgres ::1/128 scram-sha-256") && adminElsewhere < hba.indexOf("hostssl all all 0.0.0.0/0 cert map=spiffe clientname=CN"), "the admin's reject comes before the app rules (first match wins)");
    });

    it("require / verify-full: scram-sha-256 over TLS from IPv4 and IPv6, every plaintext connection rejected", () => {
        for (const tls of ["require", "verify-full"] as const) {
            const text = renderPgHba({ tls, adminUser: "postgres", maxConnections: 10 });
            assert.ok(text.endsWith("\n") && text.startsWith("#"), "a comment header and a final newline");
            const hba = rules(text);
            assert.deepStrictEqual(hba.filter((r) => r.startsWith("hostssl")), ["hostssl all all 0.0.0.0/0 scram-sha-256", "hostssl all all ::/0 scram-sha-256"], tls);
            assert.deepStrictEqual(hba.filter((r) => r.startsWith("hostnossl") || r.startsWith("host ")), ["hostnossl all all 0.0.0.0/0 reject", "hostnossl all all ::/0 reject"], tls);
        }
    });

    it("server settings: TLS 1.2+, SCRAM verifiers, listening on the pod's addresses; mtls needs both the bundle and the ident map", () => {
        const s = serverSettings({ tls: "require", adminUser: "postgres", maxConnections: 10 });
        assert.deepStrictEqual([s.ssl, s.ssl_min_protocol_version, s.password_encryption, s.listen_addresses], ["on", "TLSv1.2", "scram-sha-256", "*"]);
        assert.deepStrictEqual(settingsAsArgs({ ssl: "on", max_connections: "10" }), ["-c", "ssl=on", "-c", "max_connections=10"]);
        const mtls = serverSettings({ tls: "mtls", adminUser: "postgres", maxConnections: 10 }, MTLS_SERVER_PATHS);
        assert.deepStrictEqual([mtls.ssl_ca_file, mtls.ident_file], [MTLS_SERVER_PATHS.clientCaFile, MTLS_SERVER_PATHS.identFile]);
        assert.throws(() => serverSettings({ tls: "mtls", adminUser: "postgres", maxConnections: 10 }, { ...MTLS_SERVER_PATHS, identFile: undefined }), /identFile/);
        assert.throws(() => serverSettings({ tls: "mtls", adminUser: "postgres", maxConnections: 10 }, { ...MTLS_SERVER_PATHS, clientCaFile: undefined }), /clientCaFile/);
    });

    it("pg_ident.conf maps each certificate CN to its one login and refuses anything that could inject a rule", () => {
        const ident = renderPgIdent([{ commonName: "billing.acme.svc", role: "acme_billing" }, { commonName: "ledger.globex.svc", role: "globex_ledger" }]);
        assert.deepStrictEqual(rules(ident), ["spiffe billing.acme.svc acme_billing", "spiffe ledger.globex.svc globex_ledger"]);
        assert.ok(ident.startsWith("#") && ident.endsWith("\n"));
        for (const bad of [{ commonName: "/^.*$", role: "acme_billing" }, { commonName: "billing.acme.svc", role: "postgres all" }, { commonName: "a b", role: "x" }, { commonName: "ok", role: "1abc" }, { commonName: "ok", role: "x\nspiffe all postgres" }]) {
            assert.throws(() => renderPgIdent([bad]), /unsafe identity/, JSON.stringify(bad));
        }
    });
});

describe("derivedNameProblems (pure): a collision names the system, the name and who holds it first", () => {
    const org = (name: string, path: string, apps: string[]) => ({ name, path, apps: apps.map((a, i) => ({ name: a, path: `${path}.apps[${i}]`, isDefaultApp: false })) });

    it("reports Vault role, IAM role and Secrets Manager collisions with the first app that derived the name", () => {
        // Names shared across environments join org, env and app with '_', which no name contains, so distinct
        // triples never collide (property test in naming tests); the same app listed twice does.
        const problems = derivedNameProblems("dev", [org("a", "organizations[0]", ["y", "y"])]);
        const held = 'which is already used by app "y" of organization "a"; rename one of them';
        for (const system of ["Vault role", "IAM role", "Secrets Manager secret"]) {
            assert.ok(problems.some((p) => p.path === "organizations[0].apps[1].name" && p.message.startsWith(`derives the ${system} "`) && p.message.endsWith(held)), `${system}: ${JSON.stringify(problems)}`);
        }
        assert.deepStrictEqual(derivedNameProblems("dev", [org("a", "organizations[0]", ["x-dev-y"]), org("a-dev-x", "organizations[1]", ["y"])]), [], "what '-' joined names let collide");
    });

    it("reports a login colliding with a group role, the Vault admin login, a reserved role or another organization's database", () => {
        const groupRole = derivedNameProblems("dev", [org("a-b", "organizations[0]", []), org("a", "organizations[1]", ["b-owner"])]);
        assert.deepStrictEqual(groupRole, [{ path: "organizations[1].apps[0].name", message: 'derives the PostgreSQL role "a_b_owner", which is already the owner group role of organization "a-b"; rename one of them' }]);
        const vaultAdmin = derivedNameProblems("dev", [org("acme", "organizations[0]", ["vault-admin"])]);
        assert.deepStrictEqual(vaultAdmin, [{ path: "organizations[0].apps[0].name", message: 'derives the PostgreSQL role "acme_vault_admin", which is already the Vault admin login of organization "acme"; rename one of them' }]);
        const reserved = derivedNameProblems("dev", [org("acme", "organizations[0]", ["admin"])], ["acme_admin"]);
        assert.deepStrictEqual(reserved, [{ path: "organizations[0].apps[0].name", message: 'derives the PostgreSQL role "acme_admin", which is already a role postgres-access reserves for itself; rename one of them' }]);
        const database = derivedNameProblems("dev", [org("acme", "organizations[0]", []), org("acme", "organizations[1]", [])]);
        assert.ok(database.some((p) => p.path === "organizations[1].name" && p.message === 'derives the PostgreSQL database "acme", which is already the database of organization "acme"; rename one of them'), JSON.stringify(database));
    });
});
