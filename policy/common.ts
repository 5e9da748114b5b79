/**
 * Small helpers shared by the policies. Everything here works on plain resource properties as the policy
 * engine hands them over (the inputs of one resource, secrets unwrapped, unknown values behind
 * `unknownCheckingProxy`), so it runs the same under `pulumi preview --policy-pack policy` and offline.
 */

/** A value as a list: `undefined`/`null` → `[]`, a single value → `[value]`. */
export function asList<T = unknown>(value: T | T[] | undefined | null): T[] {
    if (value === undefined || value === null) return [];
    return Array.isArray(value) ? value : [value];
}

/** A plain object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, any> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The stack name a URN belongs to (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackOfUrn(urn: string): string {
    return urn.startsWith("urn:pulumi:") ? urn.slice("urn:pulumi:".length).split("::")[0] : "";
}

/**
 * A JSON document given either as text (what `JSON.stringify` or `getPolicyDocument` produce) or as an
 * object. Returns `undefined` for absent values and throws a readable error for text that is not JSON.
 */
export function jsonDocument(value: unknown, what: string): any {
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") return value;
    try {
        return JSON.parse(value);
    } catch {
        throw new Error(`${what} is not valid JSON`);
    }
}

/** Whether a string contains a glob wildcard of IAM/Vault (`*`, `?`) or Vault's `+` segment wildcard. */
export function hasWildcard(value: string, includePlus = false): boolean {
    return /[*?]/.test(value) || (includePlus && /(^|\/)\+(\/|$)/.test(value));
}

/** Whether `pattern` (IAM style: `*` any run, `?` one character, case-insensitive) matches `value`. */
export function globMatches(pattern: string, value: string): boolean {
    const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${re}$`, "i").test(value);
}
