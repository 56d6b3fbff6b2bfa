import type { DeadLetterMessage } from '@conclave/contracts';
import { credentialsAlert, idPart, type AlertInput } from '@conclave/event-log';

/**
 * The alert detectors (ADR 016): pure functions from what the read models say to the alerts to
 * raise. No clock, no I/O: `now` and the facts arrive as arguments. Each alert's id is the business
 * key of its condition, so detecting the same condition again (the next sweep, another replica, a
 * redelivered batch) yields the same id, and the log keeps one `AlertRaised` for it.
 */

export interface AlertThresholds {
  /** a running run with no event for this long is stalled (CONCLAVE_STALL_MINUTES) */
  stallMinutes: number;
  /** this many provider-side failures of one provider… */
  providerFailures: number;
  /** …within this window raise `provider_failures` */
  providerWindowMinutes: number;
  /** a completed run costing more than this × its template's median run cost is a spike */
  costSpikeFactor: number;
  /** the median needs at least this many earlier completed runs of the template */
  costSpikeMinRuns: number;
}

export const DEFAULT_THRESHOLDS: AlertThresholds = { stallMinutes: 10, providerFailures: 5, providerWindowMinutes: 10, costSpikeFactor: 3, costSpikeMinRuns: 5 };

/** Failure codes that say something about the provider (not about the phase's schema, a cancellation, or the prompt). */
export const PROVIDER_FAILURE_CODES: ReadonlySet<string> = new Set(['rate_limited', 'overloaded', 'provider_error', 'timeout', 'auth_failed', 'provider_unreachable']);
/** Failure codes of refused credentials (401 / 403). */
export const CREDENTIAL_FAILURE_CODES: ReadonlySet<string> = new Set(['auth_failed']);

const minutes = (ms: number) => Math.round((ms / 60_000) * 10) / 10;

/* ------------------------------------------------------------------ stalled runs */

export interface RunActivity {
  runId: string;
  templateId: string;
  status: string;
  /** position of the run's last event */
  lastSequence: number;
  lastEventAt: Date;
}

/**
 * A `running` run whose last event is older than the stall threshold. Keyed by the run and its last
 * position: the same silence is one alert however often it is seen; progress followed by a new
 * silence is a new one. Runs waiting for a person (gates, questions) or paused are not stalled.
 */
export function detectStalledRuns(runs: readonly RunActivity[], now: Date, t: Pick<AlertThresholds, 'stallMinutes'>): AlertInput[] {
  const limitMs = t.stallMinutes * 60_000;
  return runs
    .filter((r) => r.status === 'running' && now.getTime() - r.lastEventAt.getTime() >= limitMs)
    .map((r) => ({
      alertId: `run-stalled-${idPart(r.runId)}-${r.lastSequence}`,
      kind: 'run_stalled' as const,
      message: `Run ${r.runId} has made no progress for ${minutes(now.getTime() - r.lastEventAt.getTime())} min (threshold ${t.stallMinutes} min)`,
      runId: r.runId,
      templateId: r.templateId,
      details: { lastSequence: r.lastSequence, lastEventAt: r.lastEventAt.toISOString(), stallMinutes: t.stallMinutes },
    }));
}

/* ------------------------------------------------------------------ provider failures */

export interface ProviderCallFailure {
  provider: string;
  code: string;
  at: Date;
  runId: string;
}

/**
 * `providerFailures` provider-side failures of one provider within the last `providerWindowMinutes`.
 * One alert per provider and window-sized time bucket of the latest failure counted, so a
 * sustained outage raises one alert per window rather than one per failure.
 */
export function detectProviderFailures(failures: readonly ProviderCallFailure[], now: Date, t: Pick<AlertThresholds, 'providerFailures' | 'providerWindowMinutes'>): AlertInput[] {
  const windowMs = t.providerWindowMinutes * 60_000;
  const byProvider = new Map<string, ProviderCallFailure[]>();
  for (const f of failures) {
    if (!PROVIDER_FAILURE_CODES.has(f.code)) continue;
    const age = now.getTime() - f.at.getTime();
    if (age < 0 || age > windowMs) continue;
    const list = byProvider.get(f.provider) ?? [];
    list.push(f);
    byProvider.set(f.provider, list);
  }
  const alerts: AlertInput[] = [];
  for (const [provider, list] of [...byProvider].sort(([a], [b]) => a.localeCompare(b))) {
    if (list.length < t.providerFailures) continue;
    const latest = list.reduce((a, b) => (b.at > a.at ? b : a));
    const codes = [...new Set(list.map((f) => f.code))].sort();
    alerts.push({
      alertId: `provider-failures-${idPart(provider)}-${Math.floor(latest.at.getTime() / windowMs)}`,
      kind: 'provider_failures',
      message: `Provider ${provider} failed ${list.length} times in the last ${t.providerWindowMinutes} min (${codes.join(', ')})`,
      providerName: provider,
      runId: latest.runId,
      details: { failures: list.length, windowMinutes: t.providerWindowMinutes, codes, lastFailureAt: latest.at.toISOString() },
    });
  }
  return alerts;
}

/* ------------------------------------------------------------------ credentials */

/**
 * A provider whose credentials were refused (401 / 403). One alert per provider configuration
 * (`configSequence`: the position of its last ProviderConfigured, 0 for a provider not configured
 * through the log): the same key failing again is the same alert; a new key is a new configuration.
 */
export function detectCredentialFailures(failures: readonly ProviderCallFailure[], configSequences: ReadonlyMap<string, number>): AlertInput[] {
  const seen = new Set<string>();
  const alerts: AlertInput[] = [];
  for (const f of failures) {
    if (!CREDENTIAL_FAILURE_CODES.has(f.code) || seen.has(f.provider)) continue;
    seen.add(f.provider);
    alerts.push(credentialsAlert(f.provider, configSequences.get(f.provider) ?? 0, `a call of run ${f.runId} was refused (${f.code})`, f.runId));
  }
  return alerts;
}

/* ------------------------------------------------------------------ cost spike */

export interface CompletedRunCost {
  runId: string;
  templateId: string;
  costUsd: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A completed run that cost more than `costSpikeFactor` × the median cost of its template's earlier
 * completed runs (at least `costSpikeMinRuns` of them, and a median above zero). One alert per run.
 */
export function detectCostSpike(run: CompletedRunCost, earlierCosts: readonly number[], t: Pick<AlertThresholds, 'costSpikeFactor' | 'costSpikeMinRuns'>): AlertInput | null {
  if (earlierCosts.length < t.costSpikeMinRuns) return null;
  const typical = median(earlierCosts);
  if (typical <= 0 || run.costUsd <= t.costSpikeFactor * typical) return null;
  const ratio = Math.round((run.costUsd / typical) * 10) / 10;
  return {
    alertId: `cost-spike-${idPart(run.runId)}`,
    kind: 'cost_spike',
    message: `Run ${run.runId} cost $${round(run.costUsd)}, ${ratio}× the median of template ${run.templateId} ($${round(typical)} over ${earlierCosts.length} runs)`,
    runId: run.runId,
    templateId: run.templateId,
    details: { costUsd: run.costUsd, medianUsd: typical, ratio, factor: t.costSpikeFactor, runsCompared: earlierCosts.length },
  };
}

const round = (usd: number) => Math.round(usd * 10_000) / 10_000;

/* ------------------------------------------------------------------ dead letters */

/** A dead-letter record (DEAD_LETTERS sequence `sequence`): one alert per record. */
export function deadLetterAlert(sequence: number, message: Extract<DeadLetterMessage, { kind: 'dead' }>): AlertInput {
  return {
    alertId: `dead-letter-${sequence}`,
    kind: 'dead_letter',
    message: `${message.consumer} gave up on a message of ${message.subject} (${message.reason}): dead letter ${sequence}`.replaceAll('\u0000', '\uFFFD'),
    runId: message.runId,
    details: { id: String(sequence), runId: message.runId, consumer: message.consumer, subject: message.subject, reason: message.reason, error: message.error },
  };
}
