import { createHash } from 'node:crypto';
import Ajv, { type ValidateFunction } from 'ajv';
import type { JsonSchema } from '@conclave/contracts';

/** JSON Schema validation with a compile cache keyed by the schema's hash. */
export class SchemaValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly cache = new Map<string, ValidateFunction>();

  validate = (value: unknown, schema: JsonSchema): string[] => {
    const fn = this.compile(schema);
    if (fn(value)) return [];
    return (fn.errors ?? []).map((e) => `${e.instancePath || '(root)'}: ${e.message ?? 'invalid'}`);
  };

  /** Why a schema does not compile, or null (template validation: "JSON Schemas that compile"). */
  compileError = (schema: unknown): string | null => {
    try {
      this.compile(schema as JsonSchema);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };

  private compile(schema: JsonSchema): ValidateFunction {
    const key = createHash('sha1').update(JSON.stringify(schema)).digest('hex');
    let fn = this.cache.get(key);
    if (!fn) {
      fn = this.ajv.compile(schema);
      this.cache.set(key, fn);
    }
    return fn;
  }
}
