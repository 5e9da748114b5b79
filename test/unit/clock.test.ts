import * as assert from "assert";
import { currentTime, parseRfc3339 } from "../../components/clock";

describe("clock: one reading per run, POSTGRES_ACCESS_NOW overrides it", () => {
    it("uses POSTGRES_ACCESS_NOW when set", () => {
        assert.strictEqual(currentTime({ POSTGRES_ACCESS_NOW: "2026-12-24T18:00:00Z" }).toISOString(), "2026-12-24T18:00:00.000Z");
        assert.strictEqual(currentTime({ POSTGRES_ACCESS_NOW: "2026-12-24T19:00:00+01:00" }).toISOString(), "2026-12-24T18:00:00.000Z");
    });
    it("reads the clock once while the variable is unset", async () => {
        const first = currentTime({});
        await new Promise((r) => setTimeout(r, 15));
        assert.strictEqual(currentTime({}).getTime(), first.getTime());
    });
    it("rejects a value that is not RFC 3339, naming the variable", () => {
        assert.throws(() => currentTime({ POSTGRES_ACCESS_NOW: "tomorrow" }), /POSTGRES_ACCESS_NOW: expected an RFC 3339/);
        assert.throws(() => currentTime({ POSTGRES_ACCESS_NOW: "2026-12-24 18:00" }), /POSTGRES_ACCESS_NOW/);
    });
    it("refuses impossible dates instead of rolling them over", () => {
        assert.strictEqual(parseRfc3339("2026-02-30T00:00:00Z"), undefined);
        assert.strictEqual(parseRfc3339("2028-02-29T00:00:00Z")?.toISOString(), "2028-02-29T00:00:00.000Z");
    });
});
