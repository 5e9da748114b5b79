/**
 * Recognising credentials in plain text: names that say a value is a credential, and values that carry one
 * (a password in a URL or a libpq/`key=value` string, a private key). Template placeholders (`{{ … }}`,
 * `$(…)`, `${…}`) are not credentials: they are filled in where the credential is delivered.
 */

/** Names (env vars, ConfigMap keys) that hold a credential, unless they name a file, path or identifier. */
const CREDENTIAL_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)/;
const NOT_A_VALUE = /(_|-|\.)(FILE|FILENAME|PATH|DIR|NAME|ID|ARN|REF|TTL|AUDIENCE|ENCRYPTION)$/;

export function isCredentialName(name: string): boolean {
    const upper = name.toUpperCase().replace(/[-.]/g, "_");
    return CREDENTIAL_NAME.test(upper) && !NOT_A_VALUE.test(upper);
}

const PLACEHOLDER = /^(\{\{.*\}\}|\$\(.*\)|\$\{.*\}|<[^>]*>|\*+|x+|)$/i;
const isPlaceholder = (value: string): boolean => PLACEHOLDER.test(value.trim()) || /\{\{|\$\(|\$\{/.test(value);

/** URL with a password in its user info: `scheme://user:password@host`. */
const URL_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:([^\s/@]+)@/gi;
/** `password=…` / `"password": "…"` (libpq keyword strings, .env, JSON, YAML, INI). */
const KEYWORD_PASSWORD = /\b(password|passwd|pgpassword|secret|token|api[_-]?key|secret[_-]?access[_-]?key)\b["']?\s*[:=]\s*("[^"\n]*"|'[^'\n]*'|[^\s,;"'}{]+)/gi;
const PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]+ )?PRIVATE KEY-----/;

/** Why a text holds a credential (undefined if it does not). */
export function credentialIn(text: string): string | undefined {
    if (PRIVATE_KEY.test(text)) return "a private key";
    for (const m of text.matchAll(URL_PASSWORD)) {
        if (!isPlaceholder(decoded(m[1]))) return "a URL with a password";
    }
    for (const m of text.matchAll(KEYWORD_PASSWORD)) {
        const value = m[2].replace(/^["']|["']$/g, "");
        if (!isPlaceholder(value)) return `a ${m[1]} value`;
    }
    return undefined;
}

function decoded(s: string): string {
    try {
        return decodeURIComponent(s);
    } catch {
        return s;
    }
}

/** Why a named value (env var, ConfigMap key) is a credential in plain text (undefined if it is not). */
export function plainCredential(name: string, value: unknown): string | undefined {
    if (typeof value !== "string" || value.trim() === "") return undefined;
    if (isCredentialName(name) && !isPlaceholder(value)) return `its name says it is a credential`;
    const inside = credentialIn(value);
    return inside ? `it holds ${inside}` : undefined;
}
