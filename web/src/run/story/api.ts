import { CandidateView, Page, RunUsageItem, VerdictListItem } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { request } from '../../api/client';

/**
 * The run page's reads beyond the workflow state (issue 13 §2): an earlier attempt's candidates
 * and verdicts, and the run's spend by provider and model. Kept beside the components that use
 * them (the shared endpoint list stays small).
 */
const CandidateList = Page(CandidateView).pick({ items: true });
const VerdictList = Page(VerdictListItem).pick({ items: true });
const UsageList = Page(RunUsageItem).pick({ items: true });
const enc = encodeURIComponent;

export const storyApi = {
  candidates: (runId: string, phaseId: string, attempt: number, signal?: AbortSignal) =>
    request('GET', `/runs/${enc(runId)}/candidates`, CandidateList, { query: { phase: phaseId, attempt }, signal }),
  verdicts: (runId: string, phaseId: string, attempt: number, signal?: AbortSignal) =>
    request('GET', `/runs/${enc(runId)}/verdicts`, VerdictList, { query: { phase: phaseId, attempt }, signal }),
  usage: (runId: string, minSequence: number, signal?: AbortSignal) => request('GET', `/runs/${enc(runId)}/usage`, UsageList, { query: { min_sequence: minSequence }, signal }),
};

export const storyKeys = {
  attempt: (runId: string, phaseId: string, attempt: number) => ['run', runId, 'attempt', phaseId, attempt] as const,
  usage: (runId: string, sequence: number) => ['run', runId, 'usage', sequence] as const,
};

/**
 * An attempt's candidates and its latest verdict, from REST. An earlier attempt is history (it no
 * longer changes), so it is fetched once; `enabled` false for the current attempt, which the live
 * view already holds.
 */
export function useAttemptDetails(runId: string, phaseId: string, attempt: number, enabled: boolean) {
  return useQuery({
    queryKey: storyKeys.attempt(runId, phaseId, attempt),
    queryFn: async ({ signal }) => {
      const [candidates, verdicts] = await Promise.all([storyApi.candidates(runId, phaseId, attempt, signal), storyApi.verdicts(runId, phaseId, attempt, signal)]);
      const verdict = verdicts.items.at(-1) ?? null;
      return { candidates: candidates.items, verdict, verdicts: verdicts.items };
    },
    enabled,
    staleTime: Infinity,
  });
}

/** The run's spend by provider and model, refetched when the run's view moves (its sequence). */
export function useRunUsage(runId: string, sequence: number) {
  return useQuery({
    queryKey: storyKeys.usage(runId, sequence),
    queryFn: ({ signal }) => storyApi.usage(runId, sequence, signal),
    placeholderData: (previous) => previous,
  });
}
