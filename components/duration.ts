/**
 * Durations in config (`rotation.every`, `accessPolicy.maxDuration`): whole numbers with a unit, one or
 * several in decreasing order (`30d`, `12h`, `90m`, `2w`, `1h30m`); units s, m, h, d, w.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** Seconds of a duration such as `30d`, `168h`, `90m`, `2w` or `1h30m`; undefined when it is not one (or is zero). */
export function parseDuration(text: string): number | undefined {
    if (!/^(\d{1,6}[smhdw])+$/.test(text)) return undefined;
    const parts = [...text.matchAll(/(\d+)([smhdw])/g)].map(([, n, unit]) => ({ n: Number(n), size: UNIT_SECONDS[unit] }));
    // each unit at most once and from the largest to the smallest (`1h30m`, not `30m1h` or `1h1h`)
    if (parts.some((p, i) => i > 0 && p.size >= parts[i - 1].size)) return undefined;
    const total = parts.reduce((sum, p) => sum + p.n * p.size, 0);
    return total > 0 ? total : undefined;
}
