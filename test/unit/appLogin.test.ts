/**
 * AppLogin on its own under mocks (up and preview): one LOGIN role, a member of exactly its access level's
 * group, nothing elevated, a connection limit, and a generated password that is a Pulumi secret.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { RunResult, fakeRandom, isSecret, runPulumi, valueOf } from "../../testing/offlineRun";
import { AppLogin, AppLoginArgs, loginRoleSettings } from "../../components/postgres/appLogin";
import { ACCESS_LEVELS } from "../../components/types";
import { databaseUrl } from "../../components/connectionInfo";
import { T, plaintextLeaks } from "./helpers";
import { fakeBytes } from "../../testing/mockOutputs";
import { SCRAM_SALT_BYTES, scramParameters, scramSha256Verifier } from "../../components/postgres/scramVerifier";

const RANDOM_BYTES = "random:index/randomBytes:RandomBytes";

const ELEVATED = ["superuser", "createDatabase", "createRole", "replication", "bypassRowLevelSecurity"] as const;

interface Result { passwordSecret: boolean; password?: string; username?: string }

function runLogin(preview: boolean, args: AppLoginArgs): Promise<RunResult<Result>> {
    return runPulumi(async () => {
        const login = new AppLogin("acme-web-login", args);
        return {
            passwordSecret: login.password ? await isSecret(login.password) : false,
            password: preview || !login.password ? undefined : await valueOf(login.password),
            username: preview ? undefined : await valueOf(login.username),
        };
    }, { preview });
}

describe("loginRoleSettings (pure)", () => {
    for (const access of ACCESS_LEVELS) {
        it(`${access}: LOGIN, member of exactly the ${access} group, nothing elevated, connection limit`, () => {
            const s = loginRoleSettings({ roleName: "acme_web", access, groupRole: `acme_${access}`, connectionLimit: 7 });
            assert.strictEqual(s.name, "acme_web");
            assert.strictEqual(s.login, true);
            assert.deepStrictEqual(s.roles, [`acme_${access}`]);
            for (const flag of ELEVATED) assert.strictEqual(s[flag], false, flag);
            assert.strictEqual(s.connectionLimit, 7);
            assert.strictEqual(s.inherit, true, "privileges come through the group, so the login must inherit them");
            assert.strictEqual(s.assumeRole, access === "owner" ? "acme_owner" : undefined, "only owner apps act as their group (objects they create belong to it)");
            assert.ok(!("password" in s) && !("validUntil" in s));
        });
    }
});

for (const preview of [false, true]) {
    describe(`AppLogin (${preview ? "preview" : "up"})`, function () {
        this.timeout(30000);

        it("registers one LOGIN role whose password input is the SCRAM verifier of a generated secret password (managed by Pulumi)", async () => {
            const run = await runLogin(preview, { roleName: "acme_web", access: "readwrite", groupRole: pulumi.output("acme_readwrite"), connectionLimit: 12 });
            const [role] = run.ofType(T.role);
            assert.strictEqual(run.ofType(T.role).length, 1);
            assert.strictEqual(role.inputs.name, "acme_web");
            assert.strictEqual(role.inputs.login, true);
            assert.deepStrictEqual(role.inputs.roles, ["acme_readwrite"]);
            assert.strictEqual(role.inputs.connectionLimit, 12);
            assert.strictEqual(role.inputs.assumeRole, undefined);
            for (const flag of ELEVATED) assert.strictEqual(role.inputs[flag], false, flag);
            assert.ok(role.secretPaths.includes("password"), "password arrives as a secret");
            assert.strictEqual(role.inputs.passwordWo, undefined);
            assert.strictEqual(run.result.passwordSecret, true, "the password output is secret");

            const [random] = run.ofType(T.randomPassword);
            assert.ok(random.inputs.length >= 24, "long enough");
            const [salt] = run.ofType(RANDOM_BYTES);
            assert.strictEqual(salt.inputs.length, SCRAM_SALT_BYTES, "a random salt of PostgreSQL's length, kept in state");
            assert.ok(salt.secretPaths.includes("keepers"), "the salt is renewed with the password (keepers), which stays secret");
            if (!preview) {
                const expected = fakeRandom(random.name, random.inputs.length);
                const saltBytes = fakeBytes(salt.name, SCRAM_SALT_BYTES);
                assert.strictEqual(salt.inputs.keepers.password, expected, "a new password means a new salt");
                assert.strictEqual(role.inputs.password, scramSha256Verifier(expected, saltBytes), "the role gets the verifier of the generated password, with the stored random salt");
                assert.ok(!role.inputs.password.includes(expected), "never the password itself");
                assert.notDeepStrictEqual(scramParameters(role.inputs.password).salt, Buffer.from(expected), "the salt is not derived from the password");
                assert.strictEqual(run.result.password, expected, "the delivered password is the plaintext");
                assert.strictEqual(run.result.username, "acme_web");
                assert.deepStrictEqual(plaintextLeaks(run.resources, [expected]), []);
                assert.deepStrictEqual(plaintextLeaks(run.resources, [role.inputs.password]), []);
            }
        });

        it("gives the same verifier on every run (no diff on refresh or re-run)", async function () {
            if (preview) this.skip();
            const args: AppLoginArgs = { roleName: "acme_web", access: "readwrite", groupRole: "acme_readwrite", connectionLimit: 12 };
            const first = (await runLogin(false, args)).ofType(T.role)[0].inputs.password;
            const second = (await runLogin(false, args)).ofType(T.role)[0].inputs.password;
            assert.strictEqual(second, first);
        });

        it("lets Vault own a vault-static login's password: write-only initial password, no `password` Pulumi would restore", async () => {
            const run = await runLogin(preview, { roleName: "acme_batch", access: "owner", groupRole: "acme_owner", connectionLimit: 3, passwordManagedBy: "vault" });
            const [role] = run.ofType(T.role);
            assert.strictEqual(role.inputs.password, undefined, "a `password` input would undo every Vault rotation on the next up");
            assert.ok(role.secretPaths.includes("passwordWo"));
            assert.ok(role.inputs.passwordWoVersion !== undefined, "write-only values need a version to be sent at all");
            if (!preview) {
                const initial = fakeRandom(run.ofType(T.randomPassword)[0].name, run.ofType(T.randomPassword)[0].inputs.length);
                assert.strictEqual(role.inputs.passwordWo, scramSha256Verifier(initial, fakeBytes(run.ofType(RANDOM_BYTES)[0].name, SCRAM_SALT_BYTES)), "the initial password too travels only as a verifier");
            }
            assert.strictEqual(role.inputs.assumeRole, "acme_owner");
            assert.deepStrictEqual(role.inputs.roles, ["acme_owner"]);
        });

        it("gives a certificate-only (mtls) login no password at all", async () => {
            const run = await runLogin(preview, { roleName: "acme_web", access: "readwrite", groupRole: "acme_readwrite", connectionLimit: 5, passwordManagedBy: "none" });
            const [role] = run.ofType(T.role);
            assert.deepStrictEqual([role.inputs.password, role.inputs.passwordWo, role.inputs.login, role.inputs.roles], [undefined, undefined, true, ["acme_readwrite"]]);
            assert.deepStrictEqual(run.ofType(T.randomPassword), [], "no password is generated");
            assert.deepStrictEqual(run.ofType(RANDOM_BYTES), [], "nor a salt");
            assert.strictEqual(run.result.password, undefined);
        });
    });
}

describe("AppLogin password alphabet", function () {
    this.timeout(30000);

    it("uses only characters that survive shells and connection strings unencoded or encoded", async () => {
        const run = await runLogin(false, { roleName: "acme_web", access: "readonly", groupRole: "acme_readonly", connectionLimit: 1 });
        const random = run.ofType(T.randomPassword)[0].inputs;
        const specials: string = random.overrideSpecial ?? "";
        assert.ok(random.special === false || specials.length > 0, "special characters only from an explicit set");
        for (const ch of specials) {
            assert.ok(!/[\s'"`$\\%@:/?#&]/.test(ch), `special ${JSON.stringify(ch)} is shell- and URL-safe`);
            const url = databaseUrl({ host: "h", port: 5432, database: "d", username: "u", sslmode: "require" }, `a${ch}b`);
            assert.strictEqual(decodeURIComponent(new URL(url).password), `a${ch}b`);
        }
    });
});
