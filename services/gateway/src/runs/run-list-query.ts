import type { z } from 'zod';
import { ConclaveError, RUN_LIST_VALIDATED_FIELDS } from '@conclave/contracts';
import { parseOr400 } from '../http/parse';

const VALIDATED = new Set<string>(RUN_LIST_VALIDATED_FIELDS);

/**
 * The runs list's query (GET /runs, GET /runs/export). A bad `sort`, `order`, `from` or `to`, or a
 * `from` not before `to`, is a 422 `validation` naming the field; anything else that does not
 * parse (limit, archived…) stays the 400 it always was.
 */
export function parseRunListQuery<S extends z.ZodType<{ from?: string; to?: string }>>(schema: S, query: unknown): z.infer<S> {
  const result = schema.safeParse(query);
  if (!result.success) {
    const issues = result.error.issues;
    if (issues.every((i) => VALIDATED.has(String(i.path[0])))) {
      const first = issues[0]!;
      throw new ConclaveError('validation', `invalid query: ${String(first.path[0])}: ${first.message}`, { issues });
    }
    return parseOr400(schema, query, 'query');
  }
  const { from, to } = result.data;
  if (from && to && Date.parse(from) > Date.parse(to)) {
    throw new ConclaveError('validation', `invalid query: \`from\` (${from}) must be before \`to\` (${to})`, { from, to });
  }
  return result.data;
}
