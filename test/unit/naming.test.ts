/**
 * Derived names: each within its system's limits and character set, shortened deterministically with a
 * hash (never silently truncated into a collision), and never colliding across organizations and apps.
 */
import * as assert from "assert";
import {
    DNS_LABEL_MAX, IAM_ROLE_NAME_MAX, PG_IDENTIFIER_MAX_BYTES, RDS_IDENTIFIER_MAX,
    appNames, dnsLabel, dnsSubdomain, fitWithHash, iamRoleName, organizationNames, pgIdentifier, rdsIdentifier, shortHash, vaultName,
} from "../../components/naming";
import { ConfigError, parseStackConfig } from "../../components/config";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PG_IDENT = /^[a-z_][a-z0-9_]*$/;
const IAM_ROLE = /^[\w+=,.@-]+$/;
const RDS_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const SECRETS_MANAGER = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** Names of every length from 1 to 130, in several shapes. */
const lengths = Array.from({ length: 130 }, (_, i) => i + 1);
const shapes = (n: number) => ["a".repeat(n), `${"ab-".repeat(n)}`.slice(0, n).replace(/-$/, "z"), `x${"9".repeat(n - 1)}`];

describe("naming: limits and character sets", () => {
    it("DNS labels are at most 63 characters of [a-z0-9-], and a 63-character name is kept as is", () => {
        for (const n of lengths) for (const s of shapes(n)) {
            const label = dnsLabel(s);
            assert.ok(label.length <= DNS_LABEL_MAX && DNS_LABEL.test(label), `${s} -> ${label}`);
            if (s.length <= DNS_LABEL_MAX) assert.strictEqual(label, s);
        }
        assert.strictEqual(dnsLabel("a".repeat(63)), "a".repeat(63));
        assert.notStrictEqual(dnsLabel("a".repeat(64)), "a".repeat(63), "64 characters are not cut to 63");
        assert.strictEqual(dnsLabel("a".repeat(64)).length, 63, "the hash version uses the whole limit");
    });

    it("PostgreSQL identifiers are at most 63 bytes (NAMEDATALEN-1) and lower-case [a-z0-9_]", () => {
        for (const n of lengths) for (const s of shapes(n)) {
            const id = pgIdentifier("org", s);
            assert.ok(Buffer.byteLength(id) <= PG_IDENTIFIER_MAX_BYTES && PG_IDENT.test(id), `${s} -> ${id}`);
        }
        assert.strictEqual(pgIdentifier("a".repeat(63)), "a".repeat(63));
        assert.strictEqual(pgIdentifier("a".repeat(64)).length, 63);
    });

    it("fitWithHash measures in the given unit: multi-byte names fit in 63 bytes, not 63 characters", () => {
        const bytes = (s: string) => Buffer.byteLength(s, "utf8");
        const fitted = fitWithHash("é".repeat(40), PG_IDENTIFIER_MAX_BYTES, "_", bytes); // 80 bytes, 40 characters
        assert.ok(bytes(fitted) <= PG_IDENTIFIER_MAX_BYTES, `${fitted} is ${bytes(fitted)} bytes`);
        assert.match(fitted, /_[0-9a-f]{8}$/);
    });

    it("IAM role names are at most 64, RDS identifiers at most 63 and start with a letter", () => {
        for (const n of lengths) for (const s of shapes(n)) {
            const role = iamRoleName(s, "prod", s, "db");
            assert.ok(role.length <= IAM_ROLE_NAME_MAX && IAM_ROLE.test(role), `${s} -> ${role}`);
            const rds = rdsIdentifier(s, "prod");
            assert.ok(rds.length <= RDS_IDENTIFIER_MAX && RDS_ID.test(rds), `${s} -> ${rds}`);
        }
        assert.strictEqual(iamRoleName("a".repeat(64)), "a".repeat(64), "IAM allows 64, one more than DNS");
        assert.strictEqual(iamRoleName("a".repeat(65)).length, 64);
        assert.strictEqual(rdsIdentifier("9lives"), "pg-9lives", "RDS identifiers must start with a letter");
    });

    it("refuses (clearly) a name its system cannot hold rather than emitting it", () => {
        assert.throws(() => rdsIdentifier("a--b"), /RDS identifier "a--b"/, "RDS forbids consecutive hyphens");
        assert.throws(() => pgIdentifier("1password"), /PostgreSQL identifier "1password" must start with a letter/);
        assert.throws(() => dnsLabel("Upper"), /Kubernetes DNS label "Upper"/);
    });

    it("Secrets Manager names follow the seed's pattern, {org}-{env}-database-credentials for the default app", () => {
        assert.strictEqual(appNames("acme", "acme", "prod", true).secretsManagerSecret, "acme-prod-database-credentials");
        assert.strictEqual(appNames("acme", "billing", "prod", false).secretsManagerSecret, "acme_prod_billing_database-credentials");
        assert.strictEqual(appNames("acme", "acme", "prod", false).secretsManagerSecret, "acme_prod_acme_database-credentials", "a named app is never the default");
        const longest = appNames("o".repeat(40), "a".repeat(40), "e".repeat(20), false);
        assert.match(longest.secretsManagerSecret, SECRETS_MANAGER);
    });

    it("derives one coherent set of names per organization and app", () => {
        assert.deepStrictEqual(organizationNames("acme-corp"), {
            namespace: "acme-corp", database: "acme_corp", ownerRole: "acme_corp_owner", readwriteRole: "acme_corp_readwrite", readonlyRole: "acme_corp_readonly",
        });
        assert.deepStrictEqual(appNames("acme-corp", "web-shop", "prod", false), {
            serviceAccount: "web-shop",
            loginRole: "acme_corp_web_shop",
            secret: "web-shop-database",
            secretProviderClass: "web-shop-database",
            secretsManagerSecret: "acme-corp_prod_web-shop_database-credentials",
            iamRole: "acme-corp_prod_web-shop_db",
            vaultRole: "acme-corp_prod_web-shop",
        });
    });
});

describe("naming: deterministic hash shortening", () => {
    const a = "a".repeat(40);

    it("is deterministic and the suffix is the hash of the full name", () => {
        const full = `${a}_${"x".repeat(40)}`;
        const id = pgIdentifier(a, "x".repeat(40));
        assert.strictEqual(id, pgIdentifier(a, "x".repeat(40)));
        assert.ok(id.endsWith(`_${shortHash(full)}`), `${id} ends with the hash of ${full}`);
        assert.ok(full.startsWith(id.slice(0, -9)), "the rest is a prefix of the full name");
        assert.match(shortHash("x"), /^[0-9a-f]{8}$/);
    });

    it("two long names sharing a long prefix do not collide, in any system", () => {
        const pairs: [string, string][] = [[`${a}-x1`, `${a}-x2`], [`${a}${a}-tail`, `${a}${a}-tall`]];
        for (const [x, y] of pairs) {
            assert.notStrictEqual(dnsLabel(x), dnsLabel(y));
            assert.notStrictEqual(dnsSubdomain(x.repeat(4)), dnsSubdomain(y.repeat(4)));
            assert.notStrictEqual(pgIdentifier(x), pgIdentifier(y));
            assert.notStrictEqual(iamRoleName(x, "prod"), iamRoleName(y, "prod"));
            assert.notStrictEqual(rdsIdentifier(x), rdsIdentifier(y));
            assert.notStrictEqual(vaultName(x.repeat(3)), vaultName(y.repeat(3)));
            assert.notStrictEqual(appNames(a, x, "prod", false).loginRole, appNames(a, y, "prod", false).loginRole);
        }
    });

    it("a thousand long app names with one prefix give a thousand distinct logins and IAM roles", () => {
        const logins = new Set<string>();
        const roles = new Set<string>();
        for (let i = 0; i < 1000; i++) {
            const names = appNames(a, `${"b".repeat(36)}${i}`, "production", false);
            logins.add(names.loginRole);
            roles.add(names.iamRole);
        }
        assert.strictEqual(logins.size, 1000);
        assert.strictEqual(roles.size, 1000);
    });

    it("never leaves a separator before the hash", () => {
        for (const sep of ["-", "_"]) for (let max = 12; max < 40; max++) {
            const n = fitWithHash(`abc${sep}`.repeat(30), max, sep);
            assert.ok(n.length <= max, n);
            assert.ok(!n.includes(`${sep}${sep}`), `${n} has a doubled separator`);
            assert.match(n, new RegExp(`[a-z]\\${sep}[0-9a-f]{8}$`));
        }
    });
});

describe("naming: PostgreSQL mapping", () => {
    it("maps '-' to '_' and joins parts with '_'", () => {
        assert.strictEqual(pgIdentifier("a-b", "c-d"), "a_b_c_d");
        assert.strictEqual(organizationNames("my-org").readonlyRole, "my_org_readonly");
        assert.strictEqual(appNames("my-org", "my-app", "dev", false).loginRole, "my_org_my_app");
    });
});

describe("naming: derived names never collide across a stack (config validation)", () => {
    const parse = (organizations: unknown[], env = "dev") => parseStackConfig({ database: { engine: "statefulset" }, organizations }, env);
    function problemsOf(organizations: unknown[]): string[] {
        try {
            parse(organizations);
        } catch (err) {
            assert.ok(err instanceof ConfigError, String(err));
            return err.problems.map((p) => `${p.path}: ${p.message}`);
        }
        return [];
    }

    it("accepts ordinary organizations and apps", () => {
        assert.deepStrictEqual(problemsOf([{ name: "acme", apps: [{ name: "billing" }, { name: "web" }] }, { name: "globex" }]), []);
    });

    it("rejects an app whose login would be one of its organization's group roles", () => {
        for (const level of ["owner", "readwrite", "readonly"]) {
            const problems = problemsOf([{ name: "acme", apps: [{ name: "web" }, { name: level }] }]);
            assert.ok(problems.some((p) => p.startsWith("organizations[0].apps[1].name") && p.includes(`acme_${level}`)), `${level}: ${problems.join("; ")}`);
        }
    });

    it("rejects two organizations whose logins join to the same role (a-b/c and a/b-c)", () => {
        const problems = problemsOf([{ name: "a-b", apps: [{ name: "c" }] }, { name: "a", apps: [{ name: "b-c" }] }]);
        assert.ok(problems.some((p) => p.startsWith("organizations[1].apps[0].name") && p.includes("a_b_c")), problems.join("; "));
    });

    it("rejects an app login that is another organization's group role", () => {
        const problems = problemsOf([{ name: "a-b" }, { name: "a", apps: [{ name: "b-owner" }] }]);
        assert.ok(problems.some((p) => p.includes("a_b_owner")), problems.join("; "));
    });

    it("keeps apart two apps whose parts join the same way with '-' (a/x-dev-y and a-dev-x/y): '_' separates the parts", () => {
        assert.deepStrictEqual(problemsOf([{ name: "a", apps: [{ name: "x-dev-y" }] }, { name: "a-dev-x", apps: [{ name: "y" }] }]), []);
        assert.notStrictEqual(appNames("a", "x-dev-y", "dev", false).vaultRole, appNames("a-dev-x", "y", "dev", false).vaultRole);
    });

    it("rejects an app whose login would be its organization's Vault admin login", () => {
        const problems = problemsOf([{ name: "acme", apps: [{ name: "vault-admin" }] }]);
        assert.ok(problems.some((p) => p.startsWith("organizations[0].apps[0].name") && p.includes("acme_vault_admin")), problems.join("; "));
    });

    it("rejects organizations whose roles PostgreSQL reserves (pg_*) or whose database already exists", () => {
        for (const name of ["pg", "pg-data"]) {
            const problems = problemsOf([{ name }]);
            assert.ok(problems.some((p) => p.startsWith("organizations[0].name") && p.includes("pg_")), `${name}: ${problems.join("; ")}`);
        }
        for (const name of ["template0", "template1"]) {
            const problems = problemsOf([{ name }]);
            assert.ok(problems.some((p) => p.startsWith("organizations[0].name") && p.includes(name)), `${name}: ${problems.join("; ")}`);
        }
        const maintenance = (() => {
            try {
                parseStackConfig({ database: { engine: "statefulset", statefulset: { namespace: "db" } }, organizations: [{ name: "postgres" }] }, "dev");
                return [];
            } catch (err) {
                return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
            }
        })();
        assert.ok(maintenance.some((p) => p.startsWith("organizations[0].name")), `the maintenance database "postgres": ${maintenance.join("; ")}`);
    });

    it("rejects an organization name starting with a digit with its path, before any resource exists", () => {
        const problems = problemsOf([{ name: "1password" }]);
        assert.ok(problems.some((p) => p.startsWith("organizations[0].name")), problems.join("; "));
    });
});
