import type { JsonSchema } from '@conclave/contracts';

/**
 * JSON text helpers for the template and run forms. Pure; parse errors carry a line/column when
 * the engine reports a position.
 */
export type ParsedJson = { ok: true; value: unknown } | { ok: false; message: string };

export function parseJson(text: string): ParsedJson {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /position (\d+)/.exec(message);
    if (!position) return { ok: false, message };
    const offset = Number(position[1]);
    const before = text.slice(0, offset).split('\n');
    return { ok: false, message: `${message} (line ${before.length}, column ${before[before.length - 1]!.length + 1})` };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A starting value for a run's inputs from the template's inputs schema: every declared property
 * with its default, its first enum value, or an empty value of its type.
 */
export function inputsSkeleton(schema: JsonSchema | undefined, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) out[name] = sampleValue(prop, depth + 1);
  return out;
}

function sampleValue(schema: JsonSchema, depth: number): unknown {
  if ('default' in schema) return schema.default;
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return depth < 4 ? inputsSkeleton(schema, depth) : {};
    case 'null':
      return null;
    default:
      return '';
  }
}
