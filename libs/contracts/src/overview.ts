import { z } from 'zod';
import { RunStatus } from './api';

/**
 * GET /overview: what the dashboard's home page shows at once — runs in flight and what each one
 * waits for, spend today and this month against the budgets, and recent failures. Open alerts and
 * the worker fleet are not part of it: they have their own endpoints and live feeds.
 */

/**
 * An IANA time zone name (`Europe/Paris`, `UTC`, `Etc/GMT+5`). Offsets such as `+02:00` are refused:
 * Postgres reads a bare offset as POSIX, with the sign reversed.
 */
export const TimeZoneName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, 'an IANA time zone name such as "Europe/Paris" or "UTC"')
  .refine(isKnownTimeZone, 'an unknown time zone');
export type TimeZoneName = z.infer<typeof TimeZoneName>;

export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** `tz`: the zone "today" and "this month" are taken in (UTC by default). */
export const OverviewQuery = z.object({ tz: TimeZoneName.default('UTC') });
export type OverviewQuery = z.infer<typeof OverviewQuery>;

/**
 * One thing a run waits for: a gate to approve, questions to answer, a manual continue, a pause
 * (by a user, its budget or a provider outage) or a scheduled retry of a phase. `message` is
 * ready to show.
 */
export const OverviewWait = z.object({
  kind: z.enum(['gate', 'questions', 'continue', 'paused', 'retry']),
  phaseId: z.string().nullable(),
  phaseName: z.string().nullable(),
  message: z.string(),
  /** `retry`: when the next attempt starts */
  at: z.string().nullable(),
});
export type OverviewWait = z.infer<typeof OverviewWait>;

export const OverviewRun = z.object({
  id: z.string(),
  name: z.string().nullable(),
  templateId: z.string(),
  templateName: z.string(),
  status: RunStatus,
  startedAt: z.string(),
  costUsd: z.number(),
  budgetUsd: z.number().nullable(),
  phasesTotal: z.number().int(),
  phasesDone: z.number().int(),
  /** the last event folded into this run */
  sequence: z.number().int(),
  /** phases working right now, in template order */
  running: z.array(z.object({ phaseId: z.string(), phaseName: z.string().nullable(), kind: z.string(), startedAt: z.string().nullable() })),
  /** empty while the run just works */
  waitingOn: z.array(OverviewWait),
});
export type OverviewRun = z.infer<typeof OverviewRun>;

/** A run that finished (completed, failed or cancelled). */
export const OverviewSettledRun = OverviewRun.pick({ id: true, name: true, templateId: true, templateName: true, status: true, startedAt: true, costUsd: true }).extend({
  completedAt: z.string(),
});
export type OverviewSettledRun = z.infer<typeof OverviewSettledRun>;

/** Spend over [from, to) — every priced call (candidates and judges), as GET /costs counts it. */
export const OverviewSpendWindow = z.object({ from: z.string(), to: z.string(), costUsd: z.number() });

export const OverviewFailure = z.object({
  runId: z.string(),
  runName: z.string().nullable(),
  templateId: z.string(),
  templateName: z.string(),
  /** a failed run, or a run that went on (or waits) after one of its phases failed */
  runStatus: RunStatus,
  phaseId: z.string().nullable(),
  phaseName: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }),
  at: z.string(),
});
export type OverviewFailure = z.infer<typeof OverviewFailure>;

export const OverviewView = z.object({
  generatedAt: z.string(),
  /** every figure is the read models' state at this log position (a live event after it is news) */
  sequence: z.number().int().nonnegative(),
  timeZone: z.string(),
  runs: z.object({
    /** runs ever started (archived ones too): 0 means a new installation */
    total: z.number().int().nonnegative(),
    counts: z.object({ running: z.number().int(), waiting: z.number().int(), paused: z.number().int() }),
    /** running, waiting and paused runs; those waiting on a human first, then newest first (at most `limit`) */
    active: z.array(OverviewRun),
    limit: z.number().int(),
    /** the last runs that finished, newest first (archived ones left out) */
    recent: z.array(OverviewSettledRun),
  }),
  spend: z.object({
    today: OverviewSpendWindow,
    /** the calendar month in `timeZone`, `YYYY-MM` */
    month: OverviewSpendWindow.extend({ month: z.string() }),
    /** monthly budgets (GET /budgets) with this month's spend in `timeZone` */
    budgets: z.object({
      global: z.object({ monthlyUsd: z.number().nullable(), spentUsd: z.number() }),
      templates: z.array(z.object({ templateId: z.string(), templateName: z.string().nullable(), monthlyUsd: z.number(), spentUsd: z.number() })),
    }),
  }),
  /** newest first: failed runs (their reason) and failed phases of runs that did not fail (yet) */
  failures: z.array(OverviewFailure),
});
export type OverviewView = z.infer<typeof OverviewView>;
