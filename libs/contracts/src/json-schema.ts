import { z } from 'zod';

/**
 * The subset of JSON Schema that templates use for `inputs` and phase `output.schema`. Checked
 * structurally here (contracts depend on zod only); services compile it with ajv at run time.
 */
export const JSON_SCHEMA_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'] as const;

export type JsonSchema = {
  type?: (typeof JSON_SCHEMA_TYPES)[number] | (typeof JSON_SCHEMA_TYPES)[number][];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  description?: string;
  [key: string]: unknown;
};

export const JsonSchema: z.ZodType<JsonSchema> = z.lazy(() =>
  z
    .object({
      type: z.union([z.enum(JSON_SCHEMA_TYPES), z.array(z.enum(JSON_SCHEMA_TYPES)).min(1)]).optional(),
      properties: z.record(z.string(), JsonSchema).optional(),
      required: z.array(z.string()).optional(),
      items: JsonSchema.optional(),
      enum: z.array(z.unknown()).min(1).optional(),
      description: z.string().optional(),
      minItems: z.number().int().nonnegative().optional(),
      maxItems: z.number().int().nonnegative().optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
    })
    .catchall(z.unknown())
    .superRefine((schema, ctx) => {
      for (const name of schema.required ?? []) {
        if (schema.properties && !(name in schema.properties)) {
          ctx.addIssue({ code: 'custom', path: ['required'], message: `required property "${name}" is not in properties` });
        }
      }
    }),
);

/** Property names declared at the top level of an object schema (bindings `{{inputs.x}}` check against it). */
export function declaredProperties(schema: JsonSchema | undefined): string[] | null {
  if (!schema || !schema.properties) return null;
  return Object.keys(schema.properties);
}
