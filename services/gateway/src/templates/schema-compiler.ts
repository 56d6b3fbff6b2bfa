import { SchemaValidator } from '@conclave/service-kit';
import type { JsonSchema } from '@conclave/contracts';

/**
 * A template's JSON Schemas checked, and a run's inputs validated, by the same validator the
 * orchestrator enforces outputs with (service-kit's SchemaValidator: one engine, one set of
 * settings), so a schema that would fail at run time is refused when the template is saved and an
 * estimate refuses the inputs a start would refuse.
 */
const validator = new SchemaValidator();

/** Why a template's schema does not compile, or null. */
export const compileSchemaError = (schema: unknown): string | null => validator.compileError(schema);

/** Why `value` does not match `schema`, in the orchestrator's words (`/path: message`); [] when it matches. */
export const schemaErrors = (value: unknown, schema: object): string[] => validator.validate(value, schema as JsonSchema);
