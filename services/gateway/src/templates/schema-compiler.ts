import Ajv, { type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true, strict: false });

/**
 * Compiles a template's JSON Schema with the same engine and settings the orchestrator enforces
 * outputs with, so a schema that would fail at run time is refused when the template is saved.
 */
export function compileSchemaError(schema: unknown): string | null {
  try {
    ajv.compile(schema as object);
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    // ajv keeps every schema it compiled, under the schema object: a checked template's is not needed again
    if (typeof schema === 'object' && schema !== null) ajv.removeSchema(schema);
  }
}

const compiled = new Map<string, ValidateFunction>();

/**
 * Why `value` does not match `schema`, in the orchestrator's words (`/path: message`), so that an
 * estimate refuses the inputs a start would refuse. [] when it matches.
 */
export function schemaErrors(value: unknown, schema: object): string[] {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    if (compiled.size >= 200) {
      // a bounded cache (templates are few, versions many), and ajv's own entry goes with ours
      const [oldest, evicted] = compiled.entries().next().value!;
      compiled.delete(oldest);
      ajv.removeSchema(evicted.schema as object);
    }
    compiled.set(key, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'}: ${e.message ?? 'invalid'}`);
}
