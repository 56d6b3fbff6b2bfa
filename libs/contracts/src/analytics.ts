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

/** Per template, over its runs started in the range. */
export const TemplateAnalytics = z.object({
  templateId: z.string(),
  /** the name of its newest run's template version */
  templateName: z.string(),
  runs: z.number().int().nonnegative(),
  completed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  cancelled: z.number().int().nonnegative(),
  /** running, paused or waiting */
  active: z.number().int().nonnegative(),
  /** completed / (completed + failed + cancelled); null when none has finished */
  successRate: z.number().nullable(),
  /** failed / (completed + failed + cancelled); null when none has finished */
  failureRate: z.number().nullable(),
  /** start to completion of the completed runs */
  durationMs: DurationStats,
  costUsd: z.number(),
  /** costUsd / runs; null without runs */
  costPerRunUsd: z.number().nullable(),
  tokens: Tokens,
});
export type TemplateAnalytics = z.infer<typeof TemplateAnalytics>;

/** Per template phase, over the phases of the runs started in the range (each run's last attempt; not a fork's reused phases). */
export const PhaseAnalytics = z.object({
  templateId: z.string(),
  phaseId: z.string(),
  name: z.string().nullable(),
  kind: z.string(),
  completed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** start to completion of the completed phases (their last attempt; a gate's wait included) */
  durationMs: DurationStats,
  costUsd: z.number(),
  tokens: Tokens,
});
export type PhaseAnalytics = z.infer<typeof PhaseAnalytics>;

/**
 * Per provider and model, over the calls made in the range (candidates and judge verdicts, as
 * `GET /costs`): cost and tokens of the priced calls, outcomes of every settled call.
 */
export const ModelAnalytics = z.object({
  provider: z.string(),
  model: z.string(),
  /** distinct runs with a call of this model */
  runs: z.number().int().nonnegative(),
  /** settled calls: generated, rejected and failed candidates, and judge verdicts */
  calls: z.number().int().nonnegative(),
  /** failed candidates and candidates whose output was rejected */
  failed: z.number().int().nonnegative(),
  /** (calls - failed) / calls; null without calls */
  successRate: z.number().nullable(),
  failureRate: z.number().nullable(),
  /** the candidates' generation times (a verdict records none) */
  durationMs: DurationStats,
  costUsd: z.number(),
  /** costUsd / runs; null without runs */
  costPerRunUsd: z.number().nullable(),
  tokens: Tokens,
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
export const DailyCost = z.object({ day: z.string(), costUsd: z.number(), tokens: Tokens, calls: z.number().int().nonnegative() });
export type DailyCost = z.infer<typeof DailyCost>;

export const AnalyticsView = z.object({
  /** the bounds applied, as instants (null: open) */
  from: z.string().nullable(),
  to: z.string().nullable(),
  templateId: z.string().nullable(),
  totals: z.object({ runs: z.number().int().nonnegative(), costUsd: z.number(), tokens: Tokens }),
  templates: z.array(TemplateAnalytics),
  phases: z.array(PhaseAnalytics),
  models: z.array(ModelAnalytics),
  /** the ten most expensive runs started in the range, most expensive first */
  topRuns: z.array(TopRun),
  /** days with spend, oldest first */
  daily: z.array(DailyCost),
});
export type AnalyticsView = z.infer<typeof AnalyticsView>;
