import { z } from 'zod';
import { CriterionScores, Tokens } from './events';
import { PhaseStatus, RunOrigin, RunView } from './api';

/**
 * `GET /api/v1/runs/compare?runs=a,b[,c,d]`: two to four runs side by side, phase by phase.
 * Phases are aligned by phase id; `phases[i].runs[k]` is run `runs[k]`'s view of that phase, or
 * null when that run has no such phase (another template or version).
 */
export const COMPARE_MIN_RUNS = 2;
export const COMPARE_MAX_RUNS = 4;

export const CompareModel = z.object({ provider: z.string(), model: z.string() });
export type CompareModel = z.infer<typeof CompareModel>;

export const CompareScore = CompareModel.extend({ candidateId: z.string(), overall: z.number(), criteria: CriterionScores, winner: z.boolean() });
export type CompareScore = z.infer<typeof CompareScore>;

export const ComparePhaseRun = z.object({
  status: PhaseStatus,
  /** the distinct provider/model pairs of the phase's current attempt, in slot order */
  models: z.array(CompareModel),
  /** the candidate the judge picked (the only candidate when there was no judge); null before one is taken */
  winner: CompareModel.extend({ candidateId: z.string() }).nullable(),
  /** the output the phase took: its artifact's content, else the winner's output; null when none */
  output: z.unknown(),
  /** the judge's scores of the current attempt's last verdict, best first; [] without a verdict */
  scores: z.array(CompareScore),
  /** the winner's overall score (null without a verdict) */
  score: z.number().nullable(),
  /** summed over every attempt, as the run page shows them */
  tokens: Tokens,
  costUsd: z.number(),
  /** completedAt − startedAt; null while the phase has not finished (or never started) */
  durationMs: z.number().nullable(),
});
export type ComparePhaseRun = z.infer<typeof ComparePhaseRun>;

export const ComparePhase = z.object({
  id: z.string(),
  name: z.string().nullable(),
  kind: z.string(),
  runs: z.array(ComparePhaseRun.nullable()),
});
export type ComparePhase = z.infer<typeof ComparePhase>;

/** What a compared run shows of its RunView as it is (the gateway takes these fields through this schema). */
export const CompareRunHeader = RunView.pick({ id: true, name: true, templateId: true, templateVersion: true, templateName: true, status: true, startedAt: true, completedAt: true }).extend({
  /** null when the run is neither a fork nor a re-run (a RunView's may be absent) */
  origin: RunOrigin.nullable(),
});
export type CompareRunHeader = z.infer<typeof CompareRunHeader>;

export const CompareRun = CompareRunHeader.extend({
  totals: z.object({
    costUsd: z.number(),
    tokens: Tokens,
    /** completedAt − startedAt; null while the run has not settled */
    durationMs: z.number().nullable(),
    phasesCompleted: z.number().int(),
    phasesTotal: z.number().int(),
  }),
});
export type CompareRun = z.infer<typeof CompareRun>;

export const RunComparison = z.object({ runs: z.array(CompareRun), phases: z.array(ComparePhase) });
export type RunComparison = z.infer<typeof RunComparison>;

export const RunCompareQuery = z.object({ runs: z.string().max(1000) });
