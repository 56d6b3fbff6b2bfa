import type { DeadLetterFilters, RunListFilters } from './endpoints';

/** TanStack Query keys, one factory so invalidation and live patches hit the same entries. */
export const keys = {
  runs: () => ['runs'] as const,
  runList: (filters: RunListFilters) => ['runs', 'list', filters] as const,
  run: (id: string) => ['run', id] as const,
  timeline: (id: string) => ['run', id, 'timeline'] as const,
  /** the timeline with each event's data (conversation reconstruction; fetched on demand) */
  timelineEntries: (id: string) => ['run', id, 'timeline-entries'] as const,
  /** a candidate's recorded conversation (immutable once stored: content-addressed by `key`) */
  transcript: (runId: string, candidateId: string, key: string) => ['run', runId, 'transcript', candidateId, key] as const,
  artifact: (runId: string, artifactId: string) => ['run', runId, 'artifact', artifactId] as const,
  artifacts: (runId: string) => ['run', runId, 'artifacts'] as const,
  workspaces: () => ['workspaces'] as const,
  checkpoints: (id: string) => ['run', id, 'checkpoints'] as const,
  toolCalls: (id: string) => ['run', id, 'tool-calls'] as const,
  providers: () => ['providers'] as const,
  costs: (groupBy: string) => ['costs', groupBy] as const,
  budgets: () => ['budgets'] as const,
  alerts: () => ['alerts'] as const,
  alertList: (status: string) => ['alerts', 'list', status] as const,
  alertSummary: () => ['alerts', 'summary'] as const,
  deadLetters: () => ['dead-letters'] as const,
  deadLetterList: (filters: DeadLetterFilters) => ['dead-letters', 'list', filters] as const,
  workers: () => ['workers'] as const,
  events: (filters: object) => ['events', filters] as const,
  replay: () => ['admin', 'replay'] as const,
  templates: () => ['templates'] as const,
  template: (id: string, version?: number) => ['templates', id, version ?? 'latest'] as const,
};
