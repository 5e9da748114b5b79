/**
 * scramSha256Verifier against verifiers that real PostgreSQL servers computed themselves
 * (`password_encryption = scram-sha-256`, read back from pg_authid): given the same salt and iteration
 * count, it must produce exactly the server's string. (test/integration/passwordsNeverLogged.test.ts
 * repeats the comparison live on PostgreSQL 15 and 17 with random passwords.)
 */
import * as assert from "assert";
import { isScramSha256Verifier, scramParameters, scramSha256Verifier, scramSha256VerifierAsync } from "../../components/postgres/scramVerifier";

/** [server, password, pg_authid.rolpassword] as PostgreSQL stored them. */
const SERVER_VECTORS: [string, string, string][] = [
    ["15", "pencil", "SCRAM-SHA-256$4096:z1lrQMl5wAieM6T+2MKUBw==$BOkXkI/iRz+uvr5BE1CvfwCpnsnetKP2XveGAH3/fnQ=:1OE14YKvi1YyCnj1bE4gzQMBBpn/mfuDfbyf6JJNF/s="],
    ["15", "A1a-Zx_9.~!*Tq", "SCRAM-SHA-256$4096:TipF+FAOInsU6U3UpwBIbw==$MAfh741RkuXTcFyzQoe89HEE6bjUGBJV8qUc2J+sszM=:uvZjvfO7eQI106Q4zLjoPnDV4U5vu8kBfh+L2P3o5Hk="],
    ["17", "pencil", "SCRAM-SHA-256$4096:LugGGyeJt8fWxSHvnV8jqQ==$FmYnscfQOVHvCorSmrF56s32BwzRbOKQ7pXqLF6+cR8=:KraCfIPLrms3CTdgTlnwncH78vqz2+3EfDd6mb4DOss="],
    ["17", "A1a-Zx_9.~!*Tq", "SCRAM-SHA-256$4096:+xTtVcCVd+Hdc9SAZIAQUQ==$4uh9wTHsP8/v6yGXGf8Tu0edzDT/5mlA16tI5GMVgT4=:z9Mk84u5sO/d/aUOn7Xgrjv4lxcGHrCg2SPB7jC9JXE="],
    // scram_iterations = 10000 (PostgreSQL 16+)
    ["17", "correct horse battery staple", "SCRAM-SHA-256$10000:fWl+NJvb3e0g+RMDyl6oNA==$ZJP4ygDhskLfWM35KnsSmHgFdTB6ich+ntcsHkxixGc=:TMQ1dUyPL06z83O9KZK79j128zb+qsG0FcwjMT7nBtA="],
];

describe("scramSha256Verifier", () => {
    for (const [server, password, stored] of SERVER_VECTORS) {
        it(`matches what PostgreSQL ${server} stored for ${JSON.stringify(password)} (${scramParameters(stored).iterations} iterations)`, () => {
            const { salt, iterations } = scramParameters(stored);
            assert.strictEqual(scramSha256Verifier(password, salt, iterations), stored);
        });
    }

    it("depends on the password and on the salt", () => {
        const salt = Buffer.alloc(16, 7);
        const v = scramSha256Verifier("pencil", salt);
        assert.notStrictEqual(scramSha256Verifier("pencil2", salt), v);
        assert.notStrictEqual(scramSha256Verifier("pencil", Buffer.alloc(16, 8)), v);
        assert.strictEqual(scramSha256Verifier("pencil", Buffer.alloc(16, 7)), v, "deterministic for a given salt");
        assert.ok(!v.includes("pencil"));
        assert.ok(isScramSha256Verifier(v));
        assert.match(v, /^SCRAM-SHA-256\$4096:/, "PostgreSQL's default iteration count");
    });

    it("refuses what PostgreSQL would normalize or reject: empty or non-ASCII passwords, empty salts, bad iteration counts", () => {
        const salt = Buffer.alloc(16, 1);
        assert.throws(() => scramSha256Verifier("", salt), /empty/);
        assert.throws(() => scramSha256Verifier("päss", salt), /printable ASCII/);
        assert.throws(() => scramSha256Verifier("tab\there", salt), /printable ASCII/);
        assert.throws(() => scramSha256Verifier("pencil", Buffer.alloc(0)), /salt is empty/);
        assert.throws(() => scramSha256Verifier("pencil", salt, 0), /iterations/);
        assert.throws(() => scramSha256Verifier("pencil", salt, 1.5), /iterations/);
    });

    it("the thread-pool variant the components use gives exactly what the servers stored, and refuses the same inputs", async () => {
        for (const [, password, stored] of SERVER_VECTORS) {
            const { salt, iterations } = scramParameters(stored);
            assert.strictEqual(await scramSha256VerifierAsync(password, salt, iterations), stored);
        }
        const salt = Buffer.alloc(16, 1);
        assert.throws(() => scramSha256VerifierAsync("", salt), /empty/);
        assert.throws(() => scramSha256VerifierAsync("päss", salt), /printable ASCII/);
        assert.throws(() => scramSha256VerifierAsync("pencil", Buffer.alloc(0)), /salt is empty/);
        assert.throws(() => scramSha256VerifierAsync("pencil", salt, 0), /iterations/);
    });

    it("recognizes verifiers and nothing else", () => {
        assert.ok(SERVER_VECTORS.every(([, , stored]) => isScramSha256Verifier(stored)));
        for (const notVerifier of ["pencil", "md5c2e8f5b1a3c4d5e6f708192a3b4c5d6e", "SCRAM-SHA-256$4096:abc", "SCRAM-SHA-256$4096:z1lrQMl5wAieM6T+2MKUBw==$short:short"]) {
            assert.ok(!isScramSha256Verifier(notVerifier), notVerifier);
        }
    });
});
