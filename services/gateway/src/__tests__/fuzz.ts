import fc from 'fast-check';

/**
 * Hostile-input generators shared by the gateway's fuzz specs (REST and socket.io). Every
 * generator here builds its value without recursion deeper than a few frames, so a 50,000-level
 * document costs the test nothing but the string.
 */

/** Keys that reach Object.prototype when an object is merged or assigned carelessly. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Own property names of Object.prototype, to compare after a run (pollution adds some). */
export const prototypeSnapshot = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();

/** A value at `depth` levels of nesting, as JSON text (arrays, objects or a mix). */
export const deepJson = fc
  .record({ depth: fc.integer({ min: 1_000, max: 50_000 }), shape: fc.constantFrom('array', 'object', 'mixed') })
  .map(({ depth, shape }) => {
    if (shape === 'array') return { depth, text: `${'['.repeat(depth)}1${']'.repeat(depth)}` };
    if (shape === 'object') return { depth, text: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` };
    const half = Math.floor(depth / 2);
    return { depth, text: `${'{"a":['.repeat(half)}null${']}'.repeat(half)}` };
  });

/** Text that is not JSON (truncated documents, JavaScript literals, random text). */
export const invalidJsonText = fc
  .oneof(
    fc
      .jsonValue()
      .map((v) => JSON.stringify(v))
      .filter((t) => t.length > 1)
      .chain((t) => fc.integer({ min: 1, max: t.length - 1 }).map((n) => t.slice(0, n))),
    fc.string({ minLength: 1, maxLength: 200 }),
    fc.constantFrom('{"a":1,}', "{'a':1}", '{a:1}', 'NaN', '{"a":undefined}', '[1,2', '{"a":1}}', '\u0000', '\ufeff{}x', '{"a":"\\x41"}', '01', '{"__proto__":}'),
  )
  .filter((t) => {
    try {
      JSON.parse(t);
      return false;
    } catch {
      return true;
    }
  });

/**
 * JSON text whose objects carry `__proto__` (or `constructor.prototype`) keys, as a client would
 * send them: raw text, since JSON.stringify of an object literal never writes an own `__proto__`.
 * `fields` are the real field names of the target, so the keys also appear under fields a
 * handler reads.
 */
export function protoJsonText(fields: readonly string[]): fc.Arbitrary<string> {
  const payload = fc.oneof(
    fc.constant('{"polluted":"yes"}'),
    fc.constant('{"toString":"no","isAdmin":true}'),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  );
  const poison = fc.oneof(
    payload.map((p) => `"__proto__":${p}`),
    payload.map((p) => `"constructor":{"prototype":${p}}`),
    payload.map((p) => `"__proto__":{"__proto__":${p}}`),
  );
  const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant('x');
  return fc.oneof(
    poison.map((p) => `{${p}}`),
    fc.tuple(field, poison).map(([f, p]) => `{${JSON.stringify(f)}:{${p}}}`),
    fc.tuple(field, poison).map(([f, p]) => `{${JSON.stringify(f)}:[{${p}}]}`),
    fc.tuple(field, fc.jsonValue({ maxDepth: 1 }), poison).map(([f, v, p]) => `{${JSON.stringify(f)}:${JSON.stringify(v)},${p}}`),
    poison.map((p) => `[{${p}}]`),
  );
}

/** The JSON type names of a value (`integer` counts as `number` too). */
export function jsonTypesOf(value: unknown): string[] {
  if (value === null) return ['null'];
  if (Array.isArray(value)) return ['array'];
  if (typeof value === 'number') return Number.isInteger(value) ? ['integer', 'number'] : ['number'];
  return [typeof value];
}

/** A string of `min`…`max` characters (built in one allocation, not character by character). */
export const hugeString = (min: number, max: number) =>
  fc.record({ length: fc.integer({ min, max }), char: fc.constantFrom('x', 'é', '"', '\\', '\u0000', '💥') }).map(({ length, char }) => char.repeat(Math.ceil(length / char.length)));
