import { Page, StudyAccepted, StudyEstimate, StudySummary, StudyView, type StudyBody } from '@conclave/contracts';
import { request } from '../api/client';

/** The Judge lab's REST calls (ADR 023): studies and the candidates a flip compares. */
const StudyList = Page(StudySummary).pick({ items: true });

export const studyKeys = {
  all: () => ['studies'] as const,
  list: () => ['studies', 'list'] as const,
  one: (id: string) => ['studies', id] as const,
  candidates: (runId: string, phaseId: string, attempt: number) => ['run', runId, 'candidates', phaseId, attempt] as const,
};

/**
 * The position of the newest study event this tab was told about (a start's answer, the socket's
 * events). The relay and the projector read the log side by side, so a refetch right after an event
 * could come before the fold: reads ask for it as `min_sequence` (the gateway waits for the fold).
 */
let seenSequence = 0;
/**
 * study id → the position of its newest event this tab was told about, the most recently told
 * last. Kept for the STUDIES_REMEMBERED studies told about last: only an open study's entry is ever
 * read (seenForStudy), and a tab left open on the list would otherwise keep one per study it ever
 * heard of.
 */
const seenByStudy = new Map<string, number>();
export const STUDIES_REMEMBERED = 200;
export const sawSequence = (sequence: number, studyId?: string) => {
  seenSequence = Math.max(seenSequence, sequence);
  if (!studyId) return;
  const newest = Math.max(seenByStudy.get(studyId) ?? 0, sequence);
  seenByStudy.delete(studyId);
  seenByStudy.set(studyId, newest);
  if (seenByStudy.size > STUDIES_REMEMBERED) seenByStudy.delete(seenByStudy.keys().next().value!);
};
/**
 * The newest event of `studyId` this tab was told about: a read of the study older than that
 * (its `sequence` below it) must be made again — an event that arrives while the first read of a
 * query is under way joins that read instead of starting a new one (TanStack Query refetches an
 * invalidated query only once it has data).
 */
export const seenForStudy = (studyId: string) => seenByStudy.get(studyId) ?? 0;
const readQuery = () => (seenSequence > 0 ? { min_sequence: seenSequence } : {});

export const listStudies = (signal?: AbortSignal) => request('GET', '/studies', StudyList, { query: readQuery(), signal });
export const getStudy = (id: string, signal?: AbortSignal) => request('GET', `/studies/${encodeURIComponent(id)}`, StudyView, { query: readQuery(), signal });
export const estimateStudy = (body: StudyBody) => request('POST', '/studies/estimate', StudyEstimate, { body });
export const startStudy = (body: StudyBody) => request('POST', '/studies', StudyAccepted, { body });
