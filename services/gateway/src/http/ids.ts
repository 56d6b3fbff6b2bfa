import { ConclaveError, PhaseId } from '@conclave/contracts';

/** Aggregate ids are stream-id safe (events.ts: `[A-Za-z0-9_-]+`); anything else names nothing. */
const AGGREGATE_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function existingIdOr404(id: string, what: string): string {
  if (!AGGREGATE_ID.test(id)) throw notFound(what, id);
  return id;
}

/** Ids derived from a run's (candidates, artifacts: `<runId>.<phaseId>.<attempt>…`); anything else names nothing. */
const DERIVED_ID = /^[A-Za-z0-9_.-]{1,300}$/;

export function derivedIdOr404(id: string, what: string): string {
  if (!DERIVED_ID.test(id)) throw notFound(what, id);
  return id;
}

/** A phase id a template cannot declare (template.ts PhaseId) names no phase of any run. */
export function existingPhaseIdOr404(runId: string, phaseId: string): string {
  if (!PhaseId.safeParse(phaseId).success) throw notFound(`phase of run "${runId}"`, phaseId);
  return phaseId;
}

export function notFound(what: string, id: string): ConclaveError {
  return new ConclaveError('not_found', `${what} "${id.length > 128 ? `${id.slice(0, 128)}…` : id}" not found`);
}
