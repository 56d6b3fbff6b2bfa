import {
  AlertItem,
  AlertSummary,
  type AlertStatus,
  ArtifactView,
  BudgetsView,
  CandidateTranscript,
  CheckpointView,
  CostsView,
  ProviderTestResult,
  ProviderView,
  ReplayStatus,
  ToolCallView,
  WorkerView,
  type CreateProviderBody,
  type PutBudgetsBody,
  type UpdateProviderBody,
  CreatedResponse,
  DeadLetterView,
  EstimateResponse,
  type EstimateBody,
  type DeadLetterListQuery,
  Page,
  RunSummary,
  RunView,
  TemplateCreatedResponse,
  TemplateSummary,
  TemplateValidation,
  TemplateView,
  TimelineEntry,
  WorkspaceList,
  type CreateRunBody,
} from '@conclave/contracts';
import { buildUrl, request } from './client';
import { AnyResponse, CreatedRunResponse, EventPage, SequenceResponse } from './shapes';

/** Typed calls of the gateway's REST API (DESIGN.md "External interface"). */

// Built from the contracts' schemas through their own methods: the web app never imports zod itself.
const RunPage = Page(RunSummary);
export type RunPage = { items: RunSummary[]; nextCursor: string | null };
const TimelinePage = Page(TimelineEntry).pick({ items: true });
const TemplateList = Page(TemplateSummary).pick({ items: true });
const ProviderList = Page(ProviderView).pick({ items: true });
const WorkerList = Page(WorkerView).pick({ items: true });
const CheckpointList = Page(CheckpointView).pick({ items: true });
const ToolCallList = Page(ToolCallView).pick({ items: true });
const AlertPage = Page(AlertItem);
const ArtifactList = Page(ArtifactView).pick({ items: true });
const DeadLetterPage = Page(DeadLetterView);
export type DeadLetterPage = { items: DeadLetterView[]; nextCursor: string | null };
/** the dead-letters list's filters (`state` open by default) */
export type DeadLetterFilters = Partial<Pick<DeadLetterListQuery, 'state' | 'consumer' | 'runId'>>;

export interface ReadOptions {
  /** the gateway waits (bounded) until the read models applied this sequence */
  minSequence?: number;
  signal?: AbortSignal;
}

export interface RunListFilters {
  status?: string;
  templateId?: string;
  q?: string;
  /** archived runs are hidden unless 'true' (only them) or 'all' */
  archived?: 'true' | 'all';
}

export const api = {
  listRuns: (filters: RunListFilters & { cursor?: string; limit?: number }, opts: ReadOptions = {}) =>
    request('GET', '/runs', RunPage, {
      query: { ...filters, min_sequence: opts.minSequence },
      signal: opts.signal,
    }),

  getRun: (id: string, opts: ReadOptions = {}) =>
    request('GET', `/runs/${encodeURIComponent(id)}`, RunView, { query: { min_sequence: opts.minSequence }, signal: opts.signal }),

  getTimeline: (id: string, sinceSequence: number | undefined, opts: ReadOptions & { limit?: number } = {}) =>
    request('GET', `/runs/${encodeURIComponent(id)}/timeline`, TimelinePage, {
      query: { since_sequence: sinceSequence, limit: opts.limit, min_sequence: opts.minSequence },
      signal: opts.signal,
    }),

  getArtifact: (runId: string, artifactId: string, opts: ReadOptions = {}) =>
    request('GET', `/runs/${encodeURIComponent(runId)}/artifacts/${encodeURIComponent(artifactId)}`, ArtifactView, {
      query: { min_sequence: opts.minSequence },
      signal: opts.signal,
    }),

  /** `idempotencyKey`: a resubmitted start (double click, retry after a timeout) starts one run */
  createRun: (body: CreateRunBody, idempotencyKey?: string) => request('POST', '/runs', CreatedResponse, { body, ...(idempotencyKey ? { headers: { 'Idempotency-Key': idempotencyKey } } : {}) }),
  /** the git repositories under the gateway's WORKSPACE_ROOTS (what a run may work on) */
  listWorkspaces: (opts: ReadOptions = {}) => request('GET', '/workspaces', WorkspaceList, { signal: opts.signal }),
  /** every artifact of a run (losing candidates' diffs are `candidate-diff` artifacts) */
  listArtifacts: (runId: string, opts: ReadOptions = {}) =>
    request('GET', `/runs/${encodeURIComponent(runId)}/artifacts`, ArtifactList, { query: { min_sequence: opts.minSequence }, signal: opts.signal }),

  listTemplates: (opts: ReadOptions = {}) =>
    request('GET', '/templates', TemplateList, { query: { min_sequence: opts.minSequence }, signal: opts.signal }),

  getTemplate: (id: string, opts: ReadOptions & { version?: number } = {}) =>
    request('GET', `/templates/${encodeURIComponent(id)}`, TemplateView, {
      query: { version: opts.version, min_sequence: opts.minSequence },
      signal: opts.signal,
    }),

  createTemplate: (template: unknown) => request('POST', '/templates', TemplateCreatedResponse, { body: template }),

  validateTemplate: (template: unknown) => request('POST', '/templates/validate', TemplateValidation, { body: template }),
  /** What a run would cost and its first prompts, for these inputs (nothing stored). */
  estimateTemplate: (id: string, body: EstimateBody, opts: { signal?: AbortSignal } = {}) =>
    request('POST', `/templates/${enc(id)}/estimate`, EstimateResponse, { body, signal: opts.signal }),
  updateTemplate: (id: string, template: unknown) => request('PUT', `/templates/${enc(id)}`, TemplateCreatedResponse, { body: template }),
  cloneTemplate: (id: string) => request('POST', `/templates/${enc(id)}/clone`, TemplateCreatedResponse, { body: {} }),
  archiveTemplate: (id: string) => request('DELETE', `/templates/${enc(id)}`, AnyResponse),

  /* run commands: 202 { sequence } (fork / rerun: 201 { id, sequence }) or a typed 409 / 422 */
  runCommand: (id: string, command: RunCommand, body: object = {}) => request('POST', `/runs/${enc(id)}/${command}`, SequenceResponse, { body }),
  phaseCommand: (id: string, phaseId: string, command: PhaseCommand, body: object = {}) =>
    request('POST', `/runs/${enc(id)}/phases/${enc(phaseId)}/${command}`, SequenceResponse, { body }),
  rollback: (id: string, checkpointId: string) => request('POST', `/runs/${enc(id)}/rollback`, SequenceResponse, { body: { checkpointId } }),
  fork: (id: string, fromPhaseId: string) => request('POST', `/runs/${enc(id)}/fork`, CreatedRunResponse, { body: { fromPhaseId } }),
  rerun: (id: string) => request('POST', `/runs/${enc(id)}/rerun`, CreatedRunResponse, { body: {} }),
  setBudget: (id: string, budgetUsd: number) => request('PUT', `/runs/${enc(id)}/budget`, SequenceResponse, { body: { budgetUsd } }),
  archiveRun: (id: string, archived: boolean) => request('POST', `/runs/${enc(id)}/${archived ? 'archive' : 'unarchive'}`, AnyResponse, { body: {} }),
  candidateTranscript: (runId: string, candidateId: string, opts: ReadOptions = {}) =>
    request('GET', `/runs/${enc(runId)}/candidates/${enc(candidateId)}/transcript`, CandidateTranscript, { signal: opts.signal }),
  checkpoints: (id: string, opts: ReadOptions = {}) =>
    request('GET', `/runs/${enc(id)}/checkpoints`, CheckpointList, { query: { min_sequence: opts.minSequence }, signal: opts.signal }),
  toolCalls: (id: string, opts: ReadOptions = {}) =>
    request('GET', `/runs/${enc(id)}/tool-calls`, ToolCallList, { query: { min_sequence: opts.minSequence }, signal: opts.signal }),

  /* providers */
  listProviders: (opts: ReadOptions = {}) => request('GET', '/providers', ProviderList, { signal: opts.signal }),
  createProvider: (body: CreateProviderBody) => request('POST', '/providers', ProviderView, { body }),
  updateProvider: (id: string, body: UpdateProviderBody) => request('PATCH', `/providers/${enc(id)}`, ProviderView, { body }),
  deleteProvider: (id: string) => request('DELETE', `/providers/${enc(id)}`, AnyResponse),
  testProvider: (id: string) => request('POST', `/providers/${enc(id)}/test`, ProviderTestResult, { body: {} }),

  /* costs, budgets, alerts, fleet, log */
  /** spend of the calls made in [from, to) (ISO days or instants; absent: open) */
  costs: (groupBy: CostGroup, opts: ReadOptions & { from?: string; to?: string } = {}) =>
    request('GET', '/costs', CostsView, { query: { groupBy, from: opts.from, to: opts.to }, signal: opts.signal }),
  budgets: (opts: ReadOptions = {}) => request('GET', '/budgets', BudgetsView, { signal: opts.signal }),
  putBudgets: (body: PutBudgetsBody) => request('PUT', '/budgets', BudgetsView, { body }),
  /** newest first; `status`: open (not acknowledged), acknowledged, or all (the default) */
  alerts: (opts: ReadOptions & { status?: AlertStatus; cursor?: string; limit?: number } = {}) =>
    request('GET', '/alerts', AlertPage, { query: { status: opts.status, cursor: opts.cursor, limit: opts.limit, min_sequence: opts.minSequence }, signal: opts.signal }),
  /** the open alerts, counted by kind */
  alertSummary: (opts: ReadOptions = {}) => request('GET', '/alerts/summary', AlertSummary, { query: { min_sequence: opts.minSequence }, signal: opts.signal }),
  /** idempotent: acknowledging an acknowledged alert returns it unchanged; 404 for an unknown id */
  acknowledgeAlert: (id: string) => request('POST', `/alerts/${enc(id)}/acknowledge`, AlertItem, { body: {} }),
  workers: (opts: ReadOptions = {}) => request('GET', '/workers', WorkerList, { signal: opts.signal }),
  events: (query: { after?: number; limit?: number; types?: string; streamId?: string }, opts: ReadOptions = {}) =>
    request('GET', '/events', EventPage, { query, signal: opts.signal }),
  /* dead letters: messages a consumer gave up on; `minSequence` here is a DEAD_LETTERS sequence (a redrive's answer) */
  deadLetters: (filters: DeadLetterFilters & { cursor?: string; limit?: number }, opts: ReadOptions = {}) =>
    request('GET', '/dead-letters', DeadLetterPage, { query: { ...filters, min_sequence: opts.minSequence }, signal: opts.signal }),
  /** 202 { id, sequence }, or the orchestrator's typed refusal (404, 409, 503) */
  redriveDeadLetter: (id: string) => request('POST', `/dead-letters/${enc(id)}/redrive`, CreatedResponse, { body: {} }),
  startReplay: (verify = false) => request('POST', '/admin/replay', ReplayStatus, { body: { verify } }),
  replayStatus: (opts: ReadOptions = {}) => request('GET', '/admin/replay', ReplayStatus, { signal: opts.signal }),
};

export type RunCommand = 'pause' | 'resume' | 'cancel' | 'continue';
export type PhaseCommand = 'retry' | 'skip' | 'approve' | 'reject' | 'answer' | 'accept';
export type CostGroup = 'provider' | 'model' | 'template' | 'day';
export type ProviderBody = CreateProviderBody;

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** Download URLs, fetched by `downloadFile` (api/client.ts) with the tab's token and saved as a blob. */
export const exportUrls = {
  runs: (format: 'csv' | 'json') => `/api/v1/runs/export?format=${format}`,
  costs: (format: 'csv' | 'json', range: { groupBy?: CostGroup; from?: string; to?: string } = {}) => buildUrl('/costs/export', { format, ...range }),
  timeline: (runId: string) => `/api/v1/runs/${enc(runId)}/timeline/export`,
  /** the run branch against its base as a `git format-patch` series (409 without a workspace) */
  patch: (runId: string) => `/api/v1/runs/${enc(runId)}/patch`,
};

/** Fetch a run's whole timeline after `sinceSequence`, following pages (bounded). */
export async function fetchTimelineSince(runId: string, sinceSequence: number | undefined, opts: ReadOptions = {}): Promise<TimelineEntry[]> {
  const limit = 1000;
  const out: TimelineEntry[] = [];
  let since = sinceSequence;
  for (let page = 0; page < 50; page++) {
    const { items } = await api.getTimeline(runId, since, { limit, signal: opts.signal, minSequence: opts.minSequence });
    out.push(...items);
    if (items.length < limit) break;
    since = items[items.length - 1]!.sequence;
  }
  return out;
}
