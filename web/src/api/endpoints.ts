import {
  ArtifactView,
  CreatedResponse,
  Page,
  RunSummary,
  RunView,
  TemplateCreatedResponse,
  TemplateSummary,
  TemplateValidation,
  TemplateView,
  TimelineEntry,
  type CreateRunBody,
} from '@conclave/contracts';
import { request } from './client';

/** Typed calls of the gateway's REST API (DESIGN.md "External interface"). */

// Built from the contracts' schemas through their own methods: the web app never imports zod itself.
const RunPage = Page(RunSummary);
export type RunPage = { items: RunSummary[]; nextCursor: string | null };
const TimelinePage = Page(TimelineEntry).pick({ items: true });
const TemplateList = Page(TemplateSummary).pick({ items: true });

export interface ReadOptions {
  /** the gateway waits (bounded) until the read models applied this sequence */
  minSequence?: number;
  signal?: AbortSignal;
}

export interface RunListFilters {
  status?: string;
  templateId?: string;
  q?: string;
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

  createRun: (body: CreateRunBody) => request('POST', '/runs', CreatedResponse, { body }),

  listTemplates: (opts: ReadOptions = {}) =>
    request('GET', '/templates', TemplateList, { query: { min_sequence: opts.minSequence }, signal: opts.signal }),

  getTemplate: (id: string, opts: ReadOptions & { version?: number } = {}) =>
    request('GET', `/templates/${encodeURIComponent(id)}`, TemplateView, {
      query: { version: opts.version, min_sequence: opts.minSequence },
      signal: opts.signal,
    }),

  createTemplate: (template: unknown) => request('POST', '/templates', TemplateCreatedResponse, { body: template }),

  validateTemplate: (template: unknown) => request('POST', '/templates/validate', TemplateValidation, { body: template }),
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
