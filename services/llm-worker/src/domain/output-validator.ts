import type { JsonSchema } from '@conclave/contracts';

export type Validation = { valid: true } | { valid: false; errors: string[]; schemaError?: boolean };

/**
 * Validates an output against a phase's JSON Schema. `schemaError` marks a schema that does not
 * compile (nothing can satisfy it) as opposed to an output that does not fit.
 */
export interface OutputValidator {
  validate(schema: JsonSchema | boolean, value: unknown): Validation;
}
