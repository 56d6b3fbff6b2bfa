import { ConclaveError } from '@conclave/contracts';

/** Aggregate ids are stream-id safe (events.ts: `[A-Za-z0-9_-]+`); anything else names nothing. */
const AGGREGATE_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function existingIdOr404(id: string, what: string): string {
  if (!AGGREGATE_ID.test(id)) throw notFound(what, id);
  return id;
}

export function notFound(what: string, id: string): ConclaveError {
  return new ConclaveError('not_found', `${what} "${id.length > 128 ? `${id.slice(0, 128)}…` : id}" not found`);
}
