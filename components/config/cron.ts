/**
 * Cron expressions as Vault's static roles take them (`apps[].rotationSchedule`): five fields, each checked
 * against its range, with month and weekday names, `*`, ranges, lists and steps.
 */

/** Each cron field: `*`, numbers, ranges, lists and steps within its bounds (names for months and weekdays). */
const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31 },
    { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
    { name: "day of week", min: 0, max: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

/** Why a 5-field cron expression is not one Vault accepts, or undefined. */
export function cronProblem(expression: string): string | undefined {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
    for (const [i, field] of fields.entries()) {
        const spec = CRON_FIELDS[i];
        const value = (v: string) => {
            const named = spec.names?.indexOf(v.toUpperCase()) ?? -1;
            const n = named >= 0 ? named + spec.min : /^\d+$/.test(v) ? Number(v) : NaN;
            return n >= spec.min && n <= spec.max ? n : undefined;
        };
        for (const part of field.split(",")) {
            const [range, step] = part.split("/");
            const bounds = range === "*" ? [] : range.split("-");
            const ok = (step === undefined || /^[1-9]\d*$/.test(step)) && bounds.length <= 2 && bounds.every((b) => value(b) !== undefined)
                && (bounds.length < 2 || value(bounds[0])! <= value(bounds[1])!);
            if (!ok) return `${spec.name} "${field}" is not valid (${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : ""}, *, ranges, lists, steps)`;
        }
    }
    return undefined;
}
