import { z } from 'zod';
import { RunStatus } from './api';
import { Tokens } from './events';

/* ------------------------------------------------------------------ GET /analytics */

/** An instant: an ISO date-time with its offset, or a bare date (its midnight UTC). */
export const IsoInstant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/**
 * A time range on a query: `from` inclusive, `to` exclusive, either open when absent. A bound that
 * is not ISO, or `from` after `to`, is a 422 `validation` (see the gateway's `parseRangedQuery`).
 */
export const DateRangeQuery = z.object({
  from: IsoInstant.optional(),
  to: IsoInstant.optional(),
});
export type DateRangeQuery = z.infer<typeof DateRangeQuery>;

export const AnalyticsQuery = DateRangeQuery.extend({
  /** only this template's runs, phases and calls */
  templateId: z.string().min(1).max(200).optional(),
});
export type AnalyticsQuery = z.infer<typeof AnalyticsQuery>;

/** Percentiles of durations in milliseconds (linear interpolation, as Postgres' percentile_cont); null without samples. */
export const DurationStats = z.object({ p50: z.number().nullable(), p95: z.number().nullable(), samples: z.number().int().nonnegative() });
export type DurationStats = z.infer<typeof DurationStats>;

const Count = z.number().int().nonnegative();

/**
 * What every analytics group shows (a template's runs, a model's calls): how many runs, the share
 * of its settled work that succeeded or failed (null when none has settled), how long it took,
 * and what it cost.
 */
const GroupAnalytics = z.object({
  runs: Count,
  successRate: z.number().nullable(),
  failureRate: z.number().nullable(),
  durationMs: DurationStats,
  costUsd: z.number(),
  /** costUsd / runs; null without runs */
  costPerRunUsd: z.number().nullable(),
  tokens: Tokens,
});

/**
 * Per template, over its runs started in the range: the rates are over the finished runs
 * (completed / failed against completed + failed + cancelled); durations are the completed runs'
 * start to completion.
 */
export const TemplateAnalytics = GroupAnalytics.extend({
  templateId: z.string(),
  /** the name of its newest run's template version */
  templateName: z.string(),
  completed: Count,
  failed: Count,
  cancelled: Count,
  /** running, paused or waiting */
  active: Count,
});
export type TemplateAnalytics = z.infer<typeof TemplateAnalytics>;

/** Per template phase, over the phases of the runs started in the range (each run's last attempt; not a fork's reused phases). */
export const PhaseAnalytics = z.object({
  templateId: z.string(),
  phaseId: z.string(),
  name: z.string().nullable(),
  kind: z.string(),
  completed: Count,
  failed: Count,
  /** start to completion of the completed phases (their last attempt; a gate's wait included) */
  durationMs: DurationStats,
  costUsd: z.number(),
  tokens: Tokens,
});
export type PhaseAnalytics = z.infer<typeof PhaseAnalytics>;

/**
 * Per provider and model, over the calls made in the range (candidates and judge verdicts, as
 * `GET /costs`): cost and tokens of the priced calls, outcomes of every settled call. The rates
 * are over the calls ((calls - failed) / calls); durations are the candidates' generation times
 * (a verdict records none); `runs` counts the distinct runs with a call of this model.
 */
export const ModelAnalytics = GroupAnalytics.extend({
  provider: z.string(),
  model: z.string(),
  /** settled calls: generated, rejected and failed candidates, and judge verdicts */
  calls: Count,
  /** failed candidates and candidates whose output was rejected */
  failed: Count,
});
export type ModelAnalytics = z.infer<typeof ModelAnalytics>;

export const TopRun = z.object({
  id: z.string(),
  name: z.string().nullable(),
  templateId: z.string(),
  templateName: z.string(),
  status: RunStatus,
  costUsd: z.number(),
  tokens: Tokens,
  startedAt: z.string(),
  completedAt: z.string().nullable(),
  /** null while it runs */
  durationMs: z.number().nullable(),
});
export type TopRun = z.infer<typeof TopRun>;

/** Spend of one UTC day (the calls made that day, as `GET /costs?groupBy=day`). */
export const DailyCost = z.object({ day: z.string(), costUsd: z.number(), tokens: Tokens, calls: Count });
export type DailyCost = z.infer<typeof DailyCost>;

export const AnalyticsView = z.object({
  /** the bounds applied, as instants (null: open) */
  from: z.string().nullable(),
  to: z.string().nullable(),
  templateId: z.string().nullable(),
  totals: z.object({ runs: Count, costUsd: z.number(), tokens: Tokens }),
  templates: z.array(TemplateAnalytics),
  phases: z.array(PhaseAnalytics),
  models: z.array(ModelAnalytics),
  /** the ten most expensive runs started in the range, most expensive first */
  topRuns: z.array(TopRun),
  /** days with spend, oldest first */
  daily: z.array(DailyCost),
});
export type AnalyticsView = z.infer<typeof AnalyticsView>;

/* ------------------------------------------------------------ GET /analytics/frontier */

/** How far below the best mean judge score a model may be and still be recommended (absolute, on the 0–1 scale). */
export const DEFAULT_FRONTIER_EPSILON = 0.05;

const Id = z.string().min(1).max(200);

/**
 * The quality–cost frontier of one template's phases (or of every template's), over the candidates
 * requested in [from, to). `epsilon` is a decimal from 0 to 1 (default DEFAULT_FRONTIER_EPSILON);
 * anything else, like a bad range, is a 422 `validation` naming the field.
 */
export const FrontierQuery = DateRangeQuery.extend({
  templateId: Id.optional(),
  /** one phase id (of `templateId` when given, else of every template that has it) */
  phaseId: Id.optional(),
  /** a decimal from 0 to 1 (`0`, `0.05`, `.1`, `1.0`); read with Number() */
  epsilon: z
    .string()
    .max(20)
    .regex(/^(0(\.\d*)?|1(\.0*)?|\.\d+)$/, 'must be a decimal number from 0 to 1')
    .optional(),
});
export type FrontierQuery = z.infer<typeof FrontierQuery>;

/** a producer: provider and model */
export const FrontierModelRef = z.object({ provider: z.string(), model: z.string() });
export type FrontierModelRef = z.infer<typeof FrontierModelRef>;

/**
 * One model (provider + model) as a producer of one template phase, over its settled candidates
 * (generated, rejected or failed; still in flight ones are left out):
 * - a candidate is *judged* when a verdict of its round exists (a `select` verdict, or a loop's
 *   `evaluate` one) — the judged phases; it *won* when its output became the phase's artifact;
 * - the score is the judge's overall score of the candidate (the round's `select` verdict first).
 */
export const FrontierModel = FrontierModelRef.extend({
  candidates: Count,
  /** candidates in judged rounds (the win rate's denominator) */
  judged: Count,
  /** judged candidates whose output became the phase's output */
  wins: Count,
  /** wins / judged; null when none was judged */
  winRate: z.number().nullable(),
  /** candidates the judge gave a score (the mean score's sample) */
  scored: Count,
  /** mean overall judge score (0–1); null without scores: such a model is off the chart */
  meanScore: z.number().nullable(),
  /** mean cost of a candidate (billed failures included) */
  meanCostUsd: z.number(),
  /** meanCostUsd / meanScore: what a point of score costs; null without a positive mean score */
  costPerScorePointUsd: z.number().nullable(),
  /** generation time of the candidates that recorded one */
  latencyMs: DurationStats,
  /** failed candidates and candidates whose output was rejected */
  failed: Count,
  failureRate: z.number(),
  /** on the Pareto frontier: no other scored model is at most as costly and at least as good, and better in one */
  onFrontier: z.boolean(),
  /** a model that dominates it (the cheapest such one); null on the frontier or without a score */
  dominatedBy: FrontierModelRef.nullable(),
});
export type FrontierModel = z.infer<typeof FrontierModel>;

/** A model placed on the cost–score plane: only models with a mean score are. */
export const FrontierPlaced = FrontierModelRef.extend({ meanScore: z.number(), meanCostUsd: z.number() });
export type FrontierPlaced = z.infer<typeof FrontierPlaced>;

/**
 * The cheapest model whose mean score is within `epsilon` of the best model's, with the figures
 * that make it so: the best, the threshold (best − epsilon), every model that cleared it, and what
 * choosing it saves per candidate against the best.
 */
export const FrontierRecommendation = FrontierPlaced.extend({
  best: FrontierPlaced,
  epsilon: z.number(),
  threshold: z.number(),
  /** the best's mean score minus the recommended one's */
  scoreGap: z.number(),
  /** the best's mean cost minus the recommended one's (per candidate) */
  savingUsd: z.number(),
  /** savingUsd / the best's mean cost; null when the best costs nothing */
  savingRatio: z.number().nullable(),
  /** the models within epsilon of the best, cheapest first */
  withinEpsilon: z.array(FrontierPlaced),
  /** the same in one sentence */
  reason: z.string(),
});
export type FrontierRecommendation = z.infer<typeof FrontierRecommendation>;

export const FrontierPhase = z.object({
  templateId: z.string(),
  /** the name of its newest run's template version */
  templateName: z.string(),
  phaseId: z.string(),
  name: z.string().nullable(),
  kind: z.string(),
  /** rounds of this phase a judge gave a verdict on */
  judgedRounds: Count,
  /** every model with a settled candidate, cheapest first */
  models: z.array(FrontierModel),
  /** the Pareto frontier, cheapest first (cost rises, score rises) */
  frontier: z.array(FrontierPlaced),
  /** null when no model has a score */
  recommendation: FrontierRecommendation.nullable(),
});
export type FrontierPhase = z.infer<typeof FrontierPhase>;

export const FrontierView = z.object({
  from: z.string().nullable(),
  to: z.string().nullable(),
  templateId: z.string().nullable(),
  phaseId: z.string().nullable(),
  epsilon: z.number(),
  /** per template phase with candidates in the range, in the template's order */
  phases: z.array(FrontierPhase),
});
export type FrontierView = z.infer<typeof FrontierView>;
