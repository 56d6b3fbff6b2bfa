import type { CandidateView, TimelineEntry } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { fetchTimelineSince } from '../api/endpoints';
import { keys } from '../api/keys';
import { JsonBlock } from '../ui/JsonBlock';

/** What a rejected candidate was asked for and why its answer failed, from its events. */
export interface Rejection {
  schema: unknown;
  errors: string[];
  raw: unknown;
}

/** The schema of the candidate's request and the errors of its rejection (the latest one), or null. */
export function rejectionOf(entries: readonly Pick<TimelineEntry, 'type' | 'data'>[], candidateId: string): Rejection | null {
  const ofCandidate = (type: string) =>
    entries.filter((e) => e.type === type && (e.data as { candidateId?: unknown } | null)?.candidateId === candidateId).map((e) => e.data as Record<string, unknown>);
  const rejected = ofCandidate('OutputRejected').at(-1);
  if (!rejected) return null;
  const requested = ofCandidate('CandidateRequested').at(-1);
  const output = requested?.output as { schema?: unknown } | undefined;
  return { schema: output?.schema ?? null, errors: Array.isArray(rejected.errors) ? rejected.errors.map(String) : [], raw: rejected.raw };
}

/**
 * A rejected candidate: its raw answer beside the schema it had to match, with the validation
 * errors; `fallback` (the plain output) until the run's events say so.
 */
export function RejectionDetails({ runId, candidate, fallback }: { runId: string; candidate: CandidateView; fallback: ReactNode }) {
  const entries = useQuery({ queryKey: keys.timelineEntries(runId), queryFn: ({ signal }) => fetchTimelineSince(runId, undefined, { signal }), staleTime: 30_000 });
  const rejection = entries.data ? rejectionOf(entries.data, candidate.id) : null;
  if (!rejection) return <>{fallback}</>;
  return (
    <section className="rejection" aria-label={`Why the output of ${candidate.id} was rejected`}>
      <h4>Rejected: the output does not match the schema</h4>
      <ul className="rejection__errors">
        {rejection.errors.map((e, i) => (
          <li key={i}>
            <code>{e}</code>
          </li>
        ))}
      </ul>
      <div className="rejection__columns">
        <JsonBlock value={rejection.raw} label="Raw output" maxHeight={320} />
        <JsonBlock value={rejection.schema} label="Expected schema" maxHeight={320} />
      </div>
    </section>
  );
}
