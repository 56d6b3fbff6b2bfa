/** A jsonb value as written through TypeORM: any JSON value, or null for SQL NULL. */
export type JsonValue = object | string | number | boolean | null;

/**
 * Postgres `jsonb` refuses the NUL character (`\u0000`, SQLSTATE 22P05) that JSON itself allows,
 * and an LLM output may contain one. Rather than halting the projection on such an event, read
 * models store U+FFFD in its place (keys included). The log keeps the original bytes.
 */
export function jsonbSafe<T>(value: T): T {
  if (value === undefined || value === null) return value;
  const text = JSON.stringify(value);
  if (text === undefined || !text.includes('\\u0000')) return value;
  return replaceNul(value) as T;
}

function replaceNul(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD');
  if (Array.isArray(value)) return value.map(replaceNul);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k.replaceAll('\u0000', '\uFFFD')] = replaceNul(v);
    return out;
  }
  return value;
}

/**
 * The same replacement on serialised JSON text (what the set-based projection sends): every
 * `\u0000` escape becomes `\ufffd`, in keys and string values alike, while an escaped backslash
 * followed by `u0000` (the six characters, no NUL) is left alone. JSON.stringify writes a NUL only
 * as that escape, and a backslash only inside strings, always paired, so an escape is a `\u0000`
 * preceded by an even number of backslashes. One scan, no second serialisation.
 */
export function jsonbSafeText(json: string): string {
  return json.includes('\\u0000') ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd') : json;
}

/** `unknown` from an event → a storable jsonb value (undefined becomes SQL NULL). */
export function toJsonb(value: unknown): JsonValue {
  return value === undefined ? null : (jsonbSafe(value) as JsonValue);
}
