/**
 * Names that several environments share (one Vault: policies and the `kubernetes` auth mount's roles; one
 * AWS account: IAM roles, Secrets Manager secrets, KMS aliases, RDS identifiers) are unambiguous for every
 * (environment, organization, app) triple the config accepts, and meet their system's limits. Property
 * tests (fast-check) over random triples and over triples built from a few short tokens, which are the
 * ones that join into the same strings when the separator may occur inside a part.
 */
import * as assert from "assert";
import fc from "fast-check";
import { ENV_NAME_MAX, ENV_NAME_PATTERN, IAM_ROLE_NAME_MAX, NAME_PATTERN, RDS_IDENTIFIER_MAX, appNames, derivedNameProblems, organizationKeyAlias, rdsIdentifier } from "../../components/naming";
import { parseStackConfig } from "../../components/config";

/** An organization's or app's name as the config accepts it: a DNS-1123 label of at most 40 characters. */
const randomName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/);
const randomEnv = fc.stringMatching(/^[a-z][a-z0-9]{0,19}$/);
/** Names made of a few tokens joined with '-': the shapes that collide when parts are joined with '-'. */
const TOKENS = ["a", "b", "x", "dev", "qa", "prod", "db", "database", "credentials"];
const tokenName = fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 4 }).map((t) => t.join("-")).filter((n) => n.length <= 40);
const tokenEnv = fc.constantFrom("dev", "qa", "prod", "a", "x", "db", "devqa");

interface Triple { env: string; org: string; app: string; isDefaultApp: boolean }
const triple = (name: fc.Arbitrary<string>, env: fc.Arbitrary<string>): fc.Arbitrary<Triple> =>
    fc.record({ env, org: name, app: name, isDefaultApp: fc.boolean() }).map((t) => (t.isDefaultApp ? { ...t, app: t.org } : t));

/** Every name of a triple that lands in a namespace shared across environments, by system. */
function sharedNames(t: Triple): Record<string, string> {
    const n = appNames(t.org, t.app, t.env, t.isDefaultApp);
    return {
        "Vault policy / auth role": n.vaultRole,
        "IAM role": n.iamRole,
        "Secrets Manager secret": n.secretsManagerSecret,
    };
}

/** The config accepts the triple: names as its schema wants them, and the derived names its rules check (on RDS, the stricter). */
function accepted(t: Triple): boolean {
    return ENV_NAME_PATTERN.test(t.env) && t.env.length <= ENV_NAME_MAX && [t.org, t.app].every((n) => NAME_PATTERN.test(n) && n.length <= 40)
        && derivedNameProblems(t.env, [{ name: t.org, path: "o", apps: [{ name: t.app, path: "a", isDefaultApp: t.isDefaultApp }] }], [], true).length === 0;
}

/**
 * Two triples cut from one token sequence at different places (org = tokens before the environment token,
 * app = tokens after it): joined with '-', both spell the same string, the ambiguity to rule out.
 */
const sameSpelling: fc.Arbitrary<[Triple, Triple]> = fc
    .array(fc.constantFrom("a", "x", "dev", "qa", "prod", "db"), { minLength: 3, maxLength: 7 })
    .chain((tokens) => fc.tuple(fc.constant(tokens), fc.integer({ min: 1, max: tokens.length - 2 }), fc.integer({ min: 1, max: tokens.length - 2 }), fc.boolean(), fc.boolean()))
    .map(([tokens, i, j, d1, d2]) => {
        const cut = (k: number, isDefaultApp: boolean): Triple => {
            const org = tokens.slice(0, k).join("-");
            return { env: tokens[k], org, app: isDefaultApp ? org : tokens.slice(k + 1).join("-"), isDefaultApp };
        };
        return [cut(i, d1), cut(j, d2)];
    });

const runs = { numRuns: 3000 };

describe("names shared across environments", () => {
    it("the issue's example: org a / app qa-x in dev and org a-dev / app x in qa get different names", () => {
        const dev = sharedNames({ env: "dev", org: "a", app: "qa-x", isDefaultApp: false });
        const qa = sharedNames({ env: "qa", org: "a-dev", app: "x", isDefaultApp: false });
        for (const system of Object.keys(dev)) assert.notStrictEqual(dev[system], qa[system], system);
    });

    const pairs: [string, fc.Arbitrary<[Triple, Triple]>][] = [
        ["random", fc.tuple(triple(randomName, randomEnv), triple(randomName, randomEnv))],
        ["token-built", fc.tuple(triple(tokenName, tokenEnv), triple(tokenName, tokenEnv))],
        ["same-spelling (one token sequence cut at two places)", sameSpelling],
    ];
    for (const [what, pair] of pairs) {
        it(`never coincide for two distinct ${what} triples, in any system`, () => {
            fc.assert(fc.property(pair, ([t1, t2]) => {
                fc.pre(accepted(t1) && accepted(t2));
                const sameApp = t1.env === t2.env && t1.org === t2.org && t1.app === t2.app;
                const a = sharedNames(t1);
                const b = sharedNames(t2);
                for (const system of Object.keys(a)) {
                    if (!sameApp) assert.notStrictEqual(a[system], b[system], `${system}: ${JSON.stringify(t1)} and ${JSON.stringify(t2)} both give "${a[system]}"`);
                }
                if (t1.env !== t2.env || t1.org !== t2.org) assert.notStrictEqual(organizationKeyAlias(t1.env, t1.org), organizationKeyAlias(t2.env, t2.org));
                if (t1.env !== t2.env) assert.notStrictEqual(rdsIdentifier(t1.env, "postgres"), rdsIdentifier(t2.env, "postgres"));
            }), runs);
        });
    }

    it("meet every system's limits (length, characters) for every accepted triple", () => {
        fc.assert(fc.property(triple(randomName, randomEnv), (t) => {
            fc.pre(accepted(t));
            const n = sharedNames(t);
            assert.ok(n["IAM role"].length <= IAM_ROLE_NAME_MAX && /^[\w+=,.@-]+$/.test(n["IAM role"]), n["IAM role"]);
            assert.ok(n["Secrets Manager secret"].length <= 512 && /^[A-Za-z0-9/_+=.@-]+$/.test(n["Secrets Manager secret"]), n["Secrets Manager secret"]);
            // Vault role and policy names: its GenericNameRegex (\w([\w-.]*\w)?), lower-case (policies are lower-cased).
            assert.ok(/^\w([\w.-]*\w)?$/.test(n["Vault policy / auth role"]) && n["Vault policy / auth role"] === n["Vault policy / auth role"].toLowerCase(), n["Vault policy / auth role"]);
            const alias = organizationKeyAlias(t.env, t.org);
            assert.ok(alias.length <= 256 && /^alias\/[a-zA-Z0-9/_-]+$/.test(alias) && !alias.startsWith("alias/aws/"), alias);
            const rds = rdsIdentifier(t.env, "postgres");
            assert.ok(rds.length <= RDS_IDENTIFIER_MAX && /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(rds), rds);
        }), runs);
    });

    it("the config accepts exactly the environments these names rely on (no '-', a letter first)", () => {
        const ok = (env: string) => {
            try {
                parseStackConfig({ database: { engine: "statefulset" }, organizations: [{ name: "acme" }] }, env);
                return true;
            } catch {
                return false;
            }
        };
        assert.deepStrictEqual(["dev", "prod2", "a".repeat(20)].map(ok), [true, true, true]);
        assert.deepStrictEqual(["prod-eu", "2prod", "a".repeat(21), "Prod"].map(ok), [false, false, false, false]);
    });
});
