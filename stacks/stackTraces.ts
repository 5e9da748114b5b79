/**
 * How many frames an `Error` records while the program runs (`Error.stackTraceLimit`).
 *
 * The Pulumi SDK (3.270) attaches `new Error().stack` to every promise it creates for a resource's
 * outputs (`runtime/debuggable.js`, read only by its promise-leak report), several per output property
 * of every registration, and the language host formats each such stack through source-map-support. At
 * Node's default of 10 frames that formatting is the program's largest cost (docs/operations.md "Performance and large stacks").
 * The source positions Pulumi sends with each registration are not affected: the SDK lifts the limit
 * itself while it captures them. What 0 costs: an error that escapes the program prints its message
 * without a stack; set `POSTGRES_ACCESS_STACK_TRACE_LIMIT` (e.g. 50) to debug one.
 */

/** The environment variable that overrides the limit (a whole number of frames). */
export const STACK_TRACE_LIMIT_VARIABLE = "POSTGRES_ACCESS_STACK_TRACE_LIMIT";

/** The limit the program runs with: 0, or the variable's value. */
export function programStackTraceLimit(env: NodeJS.ProcessEnv = process.env): number {
    const value = env[STACK_TRACE_LIMIT_VARIABLE];
    if (value === undefined || value === "") return 0;
    const frames = Number(value);
    if (!Number.isInteger(frames) || frames < 0) {
        throw new Error(`${STACK_TRACE_LIMIT_VARIABLE}: expected a whole number of frames (0 or more), got "${value}"`);
    }
    return frames;
}

/** Sets `Error.stackTraceLimit` for the rest of the run (the entry point calls it before the program). */
export function limitStackTraces(env: NodeJS.ProcessEnv = process.env): void {
    Error.stackTraceLimit = programStackTraceLimit(env);
}
