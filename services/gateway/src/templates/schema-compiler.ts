import Ajv from 'ajv';

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
  }
}
