import { createHash } from 'node:crypto';
import Ajv, { type ValidateFunction } from 'ajv';
import type { JsonSchema } from '@conclave/contracts';

/** compiled schemas kept by content (the oldest dropped first): templates come and go */
const MAX_COMPILED = 500;

/**
 * JSON Schema validation as the orchestrator enforces a phase's output and the gateway checks a
 * template's schemas and a run's inputs (one engine and one set of settings for both, so a schema
 * that would fail at run time is refused when the template is saved). A compile cache: by the
 * schema object first (a template's schema is checked for each of its candidates: no serialising
 * and hashing it every time), then by the hash of its content.
 */
export class SchemaValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly byObject = new WeakMap<object, ValidateFunction>();
  private readonly byContent = new Map<string, ValidateFunction>();

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
    const isObject = typeof schema === 'object' && schema !== null;
    let fn = isObject ? this.byObject.get(schema) : undefined;
    if (fn) return fn;
    const key = createHash('sha1').update(JSON.stringify(schema)).digest('hex');
    fn = this.byContent.get(key);
    if (!fn) {
      fn = this.ajv.compile(schema);
      if (this.byContent.size >= MAX_COMPILED) {
        const [oldest, evicted] = this.byContent.entries().next().value as [string, ValidateFunction];
        this.byContent.delete(oldest);
        // ajv keeps every schema it compiled too, under the schema object: forget it with ours
        this.ajv.removeSchema(evicted.schema as object);
      }
      this.byContent.set(key, fn);
    }
    if (isObject) this.byObject.set(schema, fn);
    return fn;
  }
}
