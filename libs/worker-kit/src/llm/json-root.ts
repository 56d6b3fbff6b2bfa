/**
 * Native JSON modes want an object at the root (Anthropic's tool input_schema, OpenAI's
 * json_schema). A schema whose root is not an object is wrapped as `{ value: <schema> }` and the
 * answer unwrapped before validation.
 */
export function jsonRoot(schema: Record<string, unknown> | boolean): { schema: Record<string, unknown>; wrapped: boolean } {
  if (typeof schema === 'object' && (schema.type === 'object' || (schema.type === undefined && typeof schema.properties === 'object'))) {
    const { $schema: _ignored, ...rest } = schema;
    return { schema: { type: 'object', ...rest }, wrapped: false };
  }
  return { schema: { type: 'object', properties: { value: schema === true ? {} : schema }, required: ['value'] }, wrapped: true };
}

export function unwrapJson(value: unknown, wrapped: boolean): unknown {
  return wrapped && value !== null && typeof value === 'object' && 'value' in value ? (value as { value: unknown }).value : value;
}
