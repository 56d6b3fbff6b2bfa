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
