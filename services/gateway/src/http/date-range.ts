import type { z } from 'zod';
import { ConclaveError, IsoInstant } from '@conclave/contracts';
import { badRequest, validationError } from './parse';

/**
 * Parses a query that carries a time range (`from` inclusive, `to` exclusive): a bound that is
 * not an ISO date or date-time, or `from` after `to`, is a 422 `validation` naming the field;
 * so is a query whose only faults are in `validated` (well-formed text that breaks a rule, e.g. an
 * unknown sort key); anything else that does not parse is a 400 `bad_request` (badRequest, as parseOr400's).
 * Nothing is read before the range is known to be sound.
 */
export function parseRangedQuery<S extends z.ZodType<{ from?: string; to?: string }>>(schema: S, query: unknown, validated: readonly string[] = []): z.infer<S> {
  const raw = (query ?? {}) as Record<string, unknown>;
  for (const field of ['from', 'to'] as const) {
    if (raw[field] === undefined) continue;
    if (!IsoInstant.safeParse(raw[field]).success) {
      throw new ConclaveError('validation', `${field} must be an ISO date (2026-01-31) or date-time with an offset (2026-01-31T12:00:00Z)`, { field, value: raw[field] });
    }
  }
  const result = schema.safeParse(query);
  if (!result.success) {
    const issues = result.error.issues;
    if (validated.length > 0 && issues.every((i) => validated.includes(String(i.path[0])))) throw validationError(issues, 'query');
    throw badRequest(issues, 'query');
  }
  const parsed: z.infer<S> = result.data;
  const from = instant(parsed.from);
  const to = instant(parsed.to);
  if (from !== null && to !== null && Date.parse(from) > Date.parse(to)) {
    throw new ConclaveError('validation', 'from must not be after to', { from: parsed.from, to: parsed.to });
  }
  return parsed;
}

/** A bound as an instant for SQL: a bare date is its midnight UTC (not the database session's time zone); absent is null. */
export function instant(bound: string | undefined): string | null {
  if (bound === undefined) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(bound) ? `${bound}T00:00:00Z` : bound;
}
