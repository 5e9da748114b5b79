/**
 * The program's one reading of the current time. Rotation schedules and access-request expiry are decided
 * against it, so a run sees one instant from start to end. `POSTGRES_ACCESS_NOW` (RFC 3339, e.g.
 * `2026-12-24T18:00:00Z`) overrides the clock, so plans and tests are reproducible.
 */

/** The environment variable that overrides the clock. */
export const NOW_VARIABLE = "POSTGRES_ACCESS_NOW";

/** RFC 3339 date-time with a time zone (`Z` or `±hh:mm`), optional fractional seconds. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Parses an RFC 3339 date-time; undefined when the text is not one (or names an impossible date). */
export function parseRfc3339(text: string): Date | undefined {
    if (!RFC3339.test(text)) return undefined;
    const [y, m, d] = text.slice(0, 10).split("-").map(Number);
    const day = new Date(Date.UTC(y, m - 1, d));
    if (day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return undefined;
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? undefined : date;
}

let cached: { key: string | undefined; time: Date } | undefined;

/**
 * The current time for this run: `POSTGRES_ACCESS_NOW` when set (an invalid value is an error naming the
 * variable), otherwise the clock, read once and kept while the variable does not change.
 */
export function currentTime(env: NodeJS.ProcessEnv = process.env): Date {
    const override = env[NOW_VARIABLE];
    if (cached && cached.key === override) return new Date(cached.time.getTime());
    let time: Date;
    if (override !== undefined && override !== "") {
        const parsed = parseRfc3339(override);
        if (!parsed) throw new Error(`${NOW_VARIABLE}: expected an RFC 3339 date-time such as 2026-12-24T18:00:00Z, got "${override}"`);
        time = parsed;
    } else {
        time = new Date();
    }
    cached = { key: override, time };
    return new Date(time.getTime());
}
