/**
 * Scheduled rotation with alternating logins (`apps[].rotation`), as pure functions of the clock.
 *
 * Time is cut into periods of `every` counted from an anchor: period k = floor((now - anchor) / every).
 * Each rotating app has two logins, slot `a` (active in even periods) and slot `b` (active in odd ones). A
 * slot's password is generated anew only when the slot becomes active (its RandomPassword's `keepers` hold
 * the period in which it last became active), so:
 * - within a period nothing changes;
 * - at the start of period k+1 the other slot gets a fresh password and becomes the delivered one, while the
 *   slot delivered in k keeps its password for one more period (the grace period);
 * - at the start of k+2 that slot gets a fresh password in turn.
 * The default anchor is the Unix epoch shifted by a per-app offset (a hash of organization and app, in
 * whole minutes below `every`), so the apps of an organization do not all rotate at the same instant.
 */
import { parseDuration } from "./duration";
import { shortHash } from "./naming";
import { parseRfc3339 } from "./clock";

/** How an app rotates (config `apps[].rotation`). */
export interface RotationSpec {
    /** Period as a duration: a number and a unit, `m` (minutes), `h`, `d` or `w`, e.g. `30d`, `12h`. */
    every: string;
    /** RFC 3339 instant periods are counted from; default: the epoch plus a per-app offset. */
    anchor?: string;
}

/** The two alternating logins of a rotating app. */
export const ROTATION_SLOTS = ["a", "b"] as const;
export type RotationSlot = (typeof ROTATION_SLOTS)[number];

/**
 * Shortest and longest allowed `rotation.every`. The scheduled run (.github/workflows/rotate.yml) comes
 * hourly, so the shortest period still gets six chances to rotate, and clients have hours to re-read.
 */
export const ROTATION_MIN_SECONDS = 6 * 3600;
export const ROTATION_MAX_SECONDS = 366 * 86400;


/** Why `every` is not an allowed rotation period, or undefined. */
export function rotationEveryProblem(every: unknown): string | undefined {
    const seconds = typeof every === "string" ? parseDuration(every) : undefined;
    if (seconds === undefined) return "expected a duration such as \"30d\", \"12h\", \"90m\" or \"2w\" (whole numbers with units s, m, h, d, w)";
    if (seconds < ROTATION_MIN_SECONDS) return `"${every}" is shorter than 6h: the scheduled run (hourly, .github/workflows/rotate.yml) must come several times per period, and clients need time to re-read their credentials`;
    if (seconds > ROTATION_MAX_SECONDS) return `"${every}" is longer than 366d; rotate at least once a year`;
    return undefined;
}

/** Where in its schedule an app stands at one instant. */
export interface RotationStatus {
    /** Period number k = floor((now - anchor) / every). */
    period: number;
    /** The slot whose login is delivered now. */
    activeSlot: RotationSlot;
    /** The other slot: the login delivered in the previous period, still valid (grace) until `nextRotation`. */
    previousSlot: RotationSlot;
    /** Start of period k: when the active login got its password and became the delivered one. */
    activeSince: Date;
    /** Start of period k+1: the next run after it delivers the other slot with a fresh password. */
    nextRotation: Date;
    /**
     * Until when the previous login's password keeps working: the start of period k+1, when a run gives that
     * slot a fresh password (it stays valid longer if no run happens then).
     */
    previousValidUntil: Date;
    /** Per slot, the period in which it last became active: what its password's `keepers` hold. */
    slotPeriods: Record<RotationSlot, number>;
}

/** The anchor (ms since the epoch) periods of an app are counted from. */
export function rotationAnchorMs(organization: string, app: string, rotation: RotationSpec): number {
    if (rotation.anchor !== undefined) {
        const anchor = parseRfc3339(rotation.anchor);
        if (!anchor) throw new Error(`rotation.anchor: expected an RFC 3339 date-time, got "${rotation.anchor}"`);
        return anchor.getTime();
    }
    const everyMinutes = Math.floor(rotationEverySeconds(rotation) / 60);
    const offsetMinutes = parseInt(shortHash(`${organization}/${app}`), 16) % everyMinutes;
    return offsetMinutes * 60_000;
}

/** `rotation.every` in seconds (throws on an invalid one; the config has validated it). */
export function rotationEverySeconds(rotation: RotationSpec): number {
    const problem = rotationEveryProblem(rotation.every);
    if (problem) throw new Error(`rotation.every: ${problem}`);
    return parseDuration(rotation.every)!;
}

const slotOf = (period: number): RotationSlot => (((period % 2) + 2) % 2 === 0 ? "a" : "b");

/** Which login of a rotating app is active at `now`, since when, and when the next rotation is due. */
export function rotationStatus(app: { organization: string; name: string; rotation: RotationSpec }, now: Date): RotationStatus {
    const everyMs = rotationEverySeconds(app.rotation) * 1000;
    const anchor = rotationAnchorMs(app.organization, app.name, app.rotation);
    const period = Math.floor((now.getTime() - anchor) / everyMs);
    const activeSlot = slotOf(period);
    const previousSlot: RotationSlot = activeSlot === "a" ? "b" : "a";
    const start = (k: number) => new Date(anchor + k * everyMs);
    return {
        period,
        activeSlot,
        previousSlot,
        activeSince: start(period),
        nextRotation: start(period + 1),
        previousValidUntil: start(period + 1),
        slotPeriods: { [activeSlot]: period, [previousSlot]: period - 1 } as Record<RotationSlot, number>,
    };
}
