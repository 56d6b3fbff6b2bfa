import { z } from 'zod';
import { CandidateScore as Score, Failure as FailureSchema, Tokens as TokensSchema } from './events';
import { round6 } from './money';

// events.ts imports this file for its catalog (lazily too): either module may load first, so each reads the other's schemas lazily
const CandidateScore = z.lazy(() => Score);
const Failure = z.lazy(() => FailureSchema);
const Tokens = z.lazy(() => TokensSchema);

/**
 * Counterfactual re-judging (issue 15 §1, ADR 023). A study scores the *stored* candidates of past
 * phases again with another judge or rubric — never the producers — and reports how often the
 * winner changes. A study is its own aggregate, `events.study.<studyId>`, decided by the
 * orchestrator; its judge calls go through the judge work queue like a run's.
 */

/** The judge a study asks: provider (a configured provider's name, or `simulated`), model, and optionally other criteria or a rubric. */
export const StudyJudge = z.strictObject({
  provider: z.string().min(1).max(100),
  model: z.string().min(1).max(200),
  /** replaces the phase's criteria when given */
  criteria: z.array(z.string().min(1).max(100)).min(1).max(20).optional(),
  /** an extra instruction to the judge (the simulated judge honours `reverse`: see SIMULATED_REVERSE_RUBRIC) */
  rubric: z.string().min(1).max(4000).optional(),
});
export type StudyJudge = z.infer<typeof StudyJudge>;

/**
 * The simulated judge's one rubric instruction: a rubric containing the word "reverse" (any case)
 * scores every criterion 1 − its usual score, so the candidates' order is reversed (the usual
 * loser wins; equal scores stay equal). Deterministic, for tests and demos of a study.
 */
export const SIMULATED_REVERSE_RUBRIC = /\breverse\b/i;

const isoDate = z.string().datetime({ offset: true });
/** which runs: a list of run ids, or a template's runs started in [from, to) */
export const StudyRuns = z.union([
  z.array(z.string().min(1).max(100)).min(1).max(1000),
  z.strictObject({ templateId: z.string().min(1).max(200), from: isoDate.optional(), to: isoDate.optional() }),
]);
export type StudyRuns = z.infer<typeof StudyRuns>;

export const StudyBody = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  runs: StudyRuns,
  /** only these phase ids (all judged phases by default) */
  phases: z.array(z.string().min(1).max(200)).min(1).max(200).optional(),
  judge: StudyJudge,
  /** stop requesting judge calls once the study's spend and reservations would pass this */
  budgetUsd: z.number().positive().max(1_000_000).optional(),
  /** required when the study judges more candidates than STUDY_CONFIRM_CANDIDATES (after reading its estimate) */
  confirm: z.boolean().optional(),
});
export type StudyBody = z.infer<typeof StudyBody>;

/* ------------------------------------------------------------------ the study's items (what is re-judged) */
export const StudyCandidateRef = z.object({ candidateId: z.string(), provider: z.string(), model: z.string() });
export type StudyCandidateRef = z.infer<typeof StudyCandidateRef>;
/** the verdict a phase attempt had, as the log recorded it */
export const RecordedVerdict = z.object({
  winnerId: z.string(),
  scores: z.record(z.string(), CandidateScore),
  order: z.array(z.string()),
  provider: z.string(),
  model: z.string(),
});
export type RecordedVerdict = z.infer<typeof RecordedVerdict>;
/** One phase attempt's `select` verdict to judge again. */
export const StudyItem = z.object({
  itemId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  runId: z.string(),
  templateId: z.string(),
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidates: z.array(StudyCandidateRef).min(2),
  old: RecordedVerdict,
  estimateUsd: z.number().nonnegative(),
});
export type StudyItem = z.infer<typeof StudyItem>;
export const StudySkip = z.object({ runId: z.string(), phaseId: z.string().nullable(), reason: z.string() });
export type StudySkip = z.infer<typeof StudySkip>;
/** Skips a study lists one by one (its counts are always whole). */
export const STUDY_MAX_SKIP_DETAILS = 200;
export const StudySkipped = z.object({ runs: z.number().int().nonnegative(), phases: z.number().int().nonnegative(), details: z.array(StudySkip).max(STUDY_MAX_SKIP_DETAILS) });
export type StudySkipped = z.infer<typeof StudySkipped>;

/** A study id is a subject token and a stream id. */
export const StudyId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
/** The `runId` of a study's judge work and results: never a run's (run ids are UUIDs). */
export const STUDY_WORK_PREFIX = 'study-';
export const studyWorkId = (studyId: string) => `${STUDY_WORK_PREFIX}${studyId}`;
export const studyOfWork = (runId: string): string | null => (runId.startsWith(STUDY_WORK_PREFIX) ? runId.slice(STUDY_WORK_PREFIX.length) : null);
/** a study's judge calls per item: the first and two retries of transient failures */
export const STUDY_MAX_ATTEMPTS = 3;
/**
 * Verdicts one study may judge again: its StudyStarted carries them all in one commit, which must
 * stay well under NATS's 1 MB message (an item is about 1 KB); narrow the runs or phases beyond it.
 */
export const STUDY_MAX_ITEMS = 400;
/** judge calls of one study in flight at once (the rest wait for a free slot) */
export const STUDY_MAX_IN_FLIGHT = 8;

/* ------------------------------------------------------------------ events (their catalog entries are in events.ts) */
export const StudyStartedData = z.object({
  studyId: StudyId,
  name: z.string().nullable(),
  judge: StudyJudge,
  runs: StudyRuns,
  phases: z.array(z.string()).nullable(),
  items: z.array(StudyItem),
  skipped: StudySkipped,
  estimateUsd: z.number().nonnegative(),
  budgetUsd: z.number().positive().nullable(),
});
/** a judge call of an item (attempt n), dispatched as JudgeCandidates on the judge work queue */
export const StudyJudgeRequestedData = z.object({ itemId: z.string(), attempt: z.number().int().positive(), attemptToken: z.string() });
export const StudyVerdictRecordedData = z.object({
  itemId: z.string(),
  attempt: z.number().int().positive(),
  winnerId: z.string(),
  scores: z.record(z.string(), CandidateScore),
  order: z.array(z.string()),
  rationale: z.string(),
  tokens: Tokens,
  costUsd: z.number().nonnegative(),
  workerId: z.string(),
});
/** `final`: the item is given up (not retryable, out of attempts, over budget, its candidates gone); else a retry follows */
export const StudyItemFailedData = z.object({ itemId: z.string(), attempt: z.number().int().nonnegative(), error: Failure, final: z.boolean(), costUsd: z.number().nonnegative().default(0) });
export const StudyCompletedData = z.object({ judged: z.number().int().nonnegative(), failed: z.number().int().nonnegative(), costUsd: z.number().nonnegative() });

/* ------------------------------------------------------------------ the report (pure: the gateway computes it from the read model) */
/** Wilson score interval of k successes in n trials at z (1.96: 95 %); [0, 1] when n = 0. */
export function wilsonInterval(k: number, n: number, z = 1.96): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Kendall's tau-b between two judges' overall scores of the same candidates (−1 reversed … 1 same
 * order); null when either judge scored them all alike (no order to compare) or fewer than 2.
 */
export function kendallTau(a: readonly number[], b: readonly number[]): number | null {
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i]! - a[j]!);
      const db = Math.sign(b[i]! - b[j]!);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denom === 0 ? null : (concordant - discordant) / denom;
}

export const StudyStatus = z.enum(['running', 'completed']);
export const StudyItemStatus = z.enum(['pending', 'requested', 'judged', 'failed']);
export type StudyItemStatus = z.infer<typeof StudyItemStatus>;

export const StudyItemView = z.object({
  itemId: z.string(),
  runId: z.string(),
  phaseId: z.string(),
  attempt: z.number().int(),
  status: StudyItemStatus,
  attempts: z.number().int(),
  candidates: z.array(StudyCandidateRef),
  oldWinnerId: z.string(),
  newWinnerId: z.string().nullable(),
  flipped: z.boolean().nullable(),
  oldScores: z.record(z.string(), CandidateScore),
  newScores: z.record(z.string(), CandidateScore).nullable(),
  rationale: z.string().nullable(),
  error: Failure.nullable(),
  costUsd: z.number(),
});
export type StudyItemView = z.infer<typeof StudyItemView>;

/** old winner × new winner, by the winners' models (a candidate's provider/model) */
export const FlipCell = z.object({ oldModel: z.string(), newModel: z.string(), count: z.number().int() });
export const StudyPhaseReport = z.object({
  phaseId: z.string(),
  items: z.number().int(),
  judged: z.number().int(),
  flips: z.number().int(),
  /** flips / judged (null before any verdict) with its 95 % Wilson score interval */
  flipRate: z.number().nullable(),
  flipRateCi: z.object({ low: z.number(), high: z.number() }),
  /** per criterion: mean over the phase's judged candidates of (new score − old score); criteria both judges scored */
  scoreShift: z.record(z.string(), z.number()),
  /** share of judged items with the same winner (1 − flip rate) */
  sameWinner: z.number().nullable(),
  /** mean Kendall tau-b of the two judges' orders (items where both orders are defined) */
  kendallTau: z.number().nullable(),
  matrix: z.array(FlipCell),
  costUsd: z.number(),
});
export type StudyPhaseReport = z.infer<typeof StudyPhaseReport>;

export const StudySummary = z.object({
  id: z.string(),
  name: z.string().nullable(),
  status: StudyStatus,
  judge: StudyJudge,
  items: z.number().int(),
  judged: z.number().int(),
  failed: z.number().int(),
  skipped: StudySkipped,
  estimateUsd: z.number(),
  costUsd: z.number(),
  budgetUsd: z.number().nullable(),
  startedAt: z.string(),
  completedAt: z.string().nullable(),
  sequence: z.number().int(),
});
export type StudySummary = z.infer<typeof StudySummary>;
export const StudyView = StudySummary.extend({
  report: z.object({ phases: z.array(StudyPhaseReport), flips: z.number().int(), judged: z.number().int(), flipRate: z.number().nullable(), flipRateCi: z.object({ low: z.number(), high: z.number() }) }),
  itemsList: z.array(StudyItemView),
});
export type StudyView = z.infer<typeof StudyView>;
/** `GET /studies` (`min_sequence`, read by the gateway's interceptor, may come along) */
export const StudyListQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export const StudyEstimate = z.object({
  items: z.number().int(),
  candidates: z.number().int(),
  runs: z.number().int(),
  estimateUsd: z.number(),
  tokens: Tokens,
  skipped: StudySkipped,
  /** over STUDY_CONFIRM_CANDIDATES: POST again with `confirm: true` */
  confirmRequired: z.boolean(),
  confirmThreshold: z.number().int(),
});
export type StudyEstimate = z.infer<typeof StudyEstimate>;
export const StudyAccepted = z.object({ id: z.string(), sequence: z.number().int(), estimate: StudyEstimate });

/** Report of one phase from its items (pure). */
export function phaseReport(phaseId: string, items: readonly StudyItemView[], modelOf: (item: StudyItemView, candidateId: string) => string): StudyPhaseReport {
  const judged = items.filter((i) => i.status === 'judged' && i.newWinnerId !== null && i.newScores !== null);
  const flips = judged.filter((i) => i.newWinnerId !== i.oldWinnerId).length;
  const shifts = new Map<string, { sum: number; n: number }>();
  const taus: number[] = [];
  const cells = new Map<string, { oldModel: string; newModel: string; count: number }>();
  for (const item of judged) {
    const ids = item.candidates.map((c) => c.candidateId).filter((id) => item.oldScores[id] && item.newScores![id]);
    for (const id of ids) {
      const before = item.oldScores[id]!.criteria;
      const after = item.newScores![id]!.criteria;
      for (const [criterion, value] of Object.entries(after)) {
        if (typeof before[criterion] !== 'number') continue;
        const s = shifts.get(criterion) ?? { sum: 0, n: 0 };
        s.sum += value - before[criterion]!;
        s.n += 1;
        shifts.set(criterion, s);
      }
    }
    const tau = kendallTau(ids.map((id) => item.oldScores[id]!.overall), ids.map((id) => item.newScores![id]!.overall));
    if (tau !== null) taus.push(tau);
    const oldModel = modelOf(item, item.oldWinnerId);
    const newModel = modelOf(item, item.newWinnerId!);
    const key = `${oldModel}\u0000${newModel}`;
    const cell = cells.get(key) ?? { oldModel, newModel, count: 0 };
    cell.count += 1;
    cells.set(key, cell);
  }
  return {
    phaseId,
    items: items.length,
    judged: judged.length,
    flips,
    flipRate: judged.length ? flips / judged.length : null,
    flipRateCi: wilsonInterval(flips, judged.length),
    scoreShift: Object.fromEntries([...shifts].sort(([a], [b]) => a.localeCompare(b)).map(([c, s]) => [c, round6(s.sum / s.n)])),
    sameWinner: judged.length ? (judged.length - flips) / judged.length : null,
    kendallTau: taus.length ? round6(taus.reduce((a, b) => a + b, 0) / taus.length) : null,
    matrix: [...cells.values()].sort((a, b) => a.oldModel.localeCompare(b.oldModel) || a.newModel.localeCompare(b.newModel)),
    costUsd: round6(items.reduce((a, i) => a + i.costUsd, 0)),
  };
}

/** gateway → orchestrator: start a study whose items the gateway chose from the read models (the orchestrator names it). */
export const StartStudy = StudyStartedData.omit({ studyId: true }).extend({ type: z.literal('StartStudy') });
export type StartStudy = z.infer<typeof StartStudy>;
