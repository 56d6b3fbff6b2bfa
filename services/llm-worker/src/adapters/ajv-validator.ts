import { createHash } from 'node:crypto';
import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import type { JsonSchema } from '@conclave/contracts';
import type { OutputValidator, Validation } from '../domain/output-validator';

/**
 * Output validation with ajv. Schemas declaring `$schema` draft-07 are compiled by the draft-07
 * engine, everything else by the 2020-12 engine (the built-in artifact schemas are 2020-12; other
 * drafts are read as 2020-12, so draft-04's boolean exclusive bounds fail to compile: a failed
 * result, not a crash). Compiled validators are cached by the sha256 of the schema's canonical JSON
 * (bounded, least recently used evicted). Formats are not asserted (no ajv-formats): `format` is an
 * annotation here. One instance per process is enough.
 */
export class AjvOutputValidator implements OutputValidator {
  private readonly draft7: Ajv;
  private readonly draft2020: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction | { error: string }>();

  constructor(private readonly maxCached = 500) {
    const options: Options = { strict: false, allErrors: true, multipleOfPrecision: 9, logger: false, validateFormats: false };
    this.draft7 = new Ajv(options);
    this.draft2020 = new Ajv2020(options);
  }

  validate(schema: JsonSchema | boolean, value: unknown): Validation {
    const compiled = this.compile(schema);
    if ('error' in compiled) return { valid: false, errors: [compiled.error], schemaError: true };
    if (compiled(value)) return { valid: true };
    return { valid: false, errors: (compiled.errors ?? []).map(describe) };
  }

  /** true when the value fits (a schema that does not compile fits nothing). */
  check = (schema: JsonSchema | boolean, value: unknown): boolean => this.validate(schema, value).valid;

  private compile(schema: JsonSchema | boolean): ValidateFunction | { error: string } {
    const key = createHash('sha256').update(canonicalJson(schema)).digest('hex');
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key); // refresh recency
      this.cache.set(key, hit);
      return hit;
    }
    let entry: ValidateFunction | { error: string };
    try {
      const declared = typeof schema === 'object' && typeof schema.$schema === 'string' ? schema.$schema : '';
      entry = /draft-07/.test(declared) ? this.draft7.compile(schema) : this.draft2020.compile(stripSchemaUri(schema));
    } catch (err) {
      entry = { error: `schema: ${err instanceof Error ? err.message : String(err)}` };
    }
    this.cache.set(key, entry);
    if (this.cache.size > this.maxCached) {
      const [oldest, evicted] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      // ajv keeps every schema it compiled too, under the schema object: forget it with ours
      if (typeof evicted === 'function' && typeof evicted.schema === 'object') {
        this.draft7.removeSchema(evicted.schema);
        this.draft2020.removeSchema(evicted.schema);
      }
    }
    return entry;
  }
}

/** The 2020 engine knows its own meta-schema only; a 2019-09 or absent `$schema` is validated as 2020-12. */
function stripSchemaUri(schema: JsonSchema | boolean): JsonSchema | boolean {
  if (typeof schema !== 'object' || typeof schema.$schema !== 'string' || schema.$schema.includes('2020-12')) return schema;
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || '(root)';
  const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
  return `${where}: ${e.message ?? e.keyword}${extra}`;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}
