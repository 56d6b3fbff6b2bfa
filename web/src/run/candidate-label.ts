import type { CandidateView } from '@conclave/contracts';

/** A candidate by its provider/model (its id when it names neither): the phase panel's and the Judge lab's. */
export function candidateLabel(c: Pick<CandidateView, 'provider' | 'model' | 'id'>): string {
  return c.provider || c.model ? `${c.provider}/${c.model}` : c.id;
}
