import type { z } from 'zod';
import { RUN_LIST_VALIDATED_FIELDS } from '@conclave/contracts';
import { parseRangedQuery } from '../http/date-range';

/**
 * The runs list's query (GET /runs, GET /runs/export): the time range of every ranged query
 * (parseRangedQuery), and a bad `sort` or `order` is a 422 `validation` naming the field too;
 * anything else that does not parse (limit, archived…) stays the 400 it always was.
 */
export function parseRunListQuery<S extends z.ZodType<{ from?: string; to?: string }>>(schema: S, query: unknown): z.infer<S> {
  return parseRangedQuery(schema, query, RUN_LIST_VALIDATED_FIELDS);
}
