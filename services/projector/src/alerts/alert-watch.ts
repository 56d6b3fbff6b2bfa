import { splitStreamId, type Recorded } from '@conclave/contracts';
import { raiseAlert, type AlertInput, type EventLog } from '@conclave/event-log';
import type { DataSource } from '@conclave/read-models';
import type { ProjectorLogger } from '../projector';
import {
  CREDENTIAL_FAILURE_CODES,
  detectCostSpike,
  detectCredentialFailures,
  detectProviderFailures,
  detectStalledRuns,
  PROVIDER_FAILURE_CODES,
  type AlertThresholds,
  type ProviderCallFailure,
  type RunActivity,
} from './detectors';

export interface AlertWatchOptions {
  log: EventLog;
  dataSource: DataSource;
  logger: ProjectorLogger;
  thresholds: AlertThresholds;
  /** whether the projection has caught up with the log: a lagging read model looks stalled */
  caughtUp: () => Promise<boolean>;
  /** how often running runs are checked for a stall (default: a quarter of the threshold, 1 s to 60 s) */
  sweepMs?: number;
  now?: () => Date;
}

/** Batches older than this are history being caught up on, not news: their calls and completions raise nothing. */
const RECENT_MS = 60 * 60_000;
const ACTOR = { kind: 'system', id: 'projector' } as const;

/**
 * The projector's alert detectors (ADR 016), beside the projection and never in its way: each
 * committed batch is looked at for provider failures, refused credentials and cost spikes, and a
 * periodic sweep looks for stalled runs, all from the read models just written. What a detector
 * finds is appended to the log as `AlertRaised` (raiseAlert: once per alert id), and the projection
 * folds it like any other event. Only the live projector watches: a replay rebuilds the alerts from
 * the log and raises nothing.
 *
 * At-least-once and replicas: two projectors (or a batch seen twice) detect the same conditions
 * and derive the same alert ids; the log keeps the first `AlertRaised` of each.
 */
export class AlertWatch {
  private queue: Recorded[] = [];
  private draining: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private stopped = true;
  private readonly now: () => Date;
  readonly sweepMs: number;

  constructor(private readonly options: AlertWatchOptions) {
    this.now = options.now ?? (() => new Date());
    this.sweepMs = options.sweepMs ?? Math.min(60_000, Math.max(1_000, Math.round((options.thresholds.stallMinutes * 60_000) / 4)));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([this.draining, this.sweeping]);
  }

  /** ProjectorOptions.afterCommit: queue the batch's interesting events; never throws. */
  readonly afterCommit = (events: readonly Recorded[]): void => {
    if (this.stopped) return;
    const cutoff = this.now().getTime() - RECENT_MS;
    for (const e of events) {
      if ((e.type === 'CandidateFailed' || e.type === 'RunCompleted') && Date.parse(e.occurredAt) >= cutoff) this.queue.push(e);
    }
    if (this.queue.length > 0 && !this.draining) this.draining = this.drain().finally(() => (this.draining = null));
  };

  /** One stall sweep now (also what the timer runs). */
  async sweep(): Promise<number> {
    if (!(await this.options.caughtUp())) return 0;
    const rows: { id: string; template_id: string; status: string; sequence: string; occurred_at: Date }[] = await this.options.dataSource.query(
      `SELECT r.id, r.template_id, r.status, t.sequence, t.occurred_at
         FROM runs r
         JOIN LATERAL (SELECT sequence, occurred_at FROM timeline_events WHERE run_id = r.id ORDER BY sequence DESC LIMIT 1) t ON true
        WHERE r.status = 'running'`,
    );
    const runs: RunActivity[] = rows.map((r) => ({ runId: r.id, templateId: r.template_id, status: r.status, lastSequence: Number(r.sequence), lastEventAt: new Date(r.occurred_at) }));
    return this.raiseAll(detectStalledRuns(runs, this.now(), this.options.thresholds));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sweeping = this.sweep()
        .then(() => undefined)
        .catch((err: unknown) => this.options.logger.warn({ err }, 'stall sweep failed; trying again at the next one'))
        .finally(() => {
          this.sweeping = null;
          this.schedule();
        });
    }, this.sweepMs);
    this.timer.unref?.();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const events = this.queue;
      this.queue = [];
      try {
        await this.inspect(events);
      } catch (err) {
        // the read models or the log are unreachable: these events' conditions are looked at again
        // with the next failure or completion (a window or median still holds them)
        this.options.logger.warn({ err, events: events.length }, 'alert detection failed for a batch');
      }
    }
  }

  /** Look at a batch's failed calls and completed runs. */
  async inspect(events: readonly Recorded[]): Promise<number> {
    const { thresholds } = this.options;
    const alerts: AlertInput[] = [];
    const failedCandidates = events.flatMap((e) => (e.type === 'CandidateFailed' && PROVIDER_FAILURE_CODES.has(e.data.error.code) ? [e.data.candidateId] : []));
    if (failedCandidates.length > 0) {
      const providers: { provider: string }[] = await this.options.dataSource.query('SELECT DISTINCT provider FROM candidates WHERE id = ANY($1::text[])', [failedCandidates]);
      const names = providers.map((p) => p.provider);
      const since = new Date(this.now().getTime() - thresholds.providerWindowMinutes * 60_000);
      const rows: { provider: string; code: string; at: Date; run_id: string }[] = await this.options.dataSource.query(
        `SELECT c.provider, t.data->'error'->>'code' AS code, t.occurred_at AS at, t.run_id
           FROM timeline_events t JOIN candidates c ON c.id = t.data->>'candidateId'
          WHERE t.type = 'CandidateFailed' AND t.occurred_at >= $1 AND c.provider = ANY($2::text[])`,
        [since, names],
      );
      const failures: ProviderCallFailure[] = rows.map((r) => ({ provider: r.provider, code: r.code, at: new Date(r.at), runId: r.run_id }));
      alerts.push(...detectProviderFailures(failures, this.now(), thresholds));
      const refused = failures.filter((f) => CREDENTIAL_FAILURE_CODES.has(f.code));
      if (refused.length > 0) {
        const configs: { name: string; sequence: string }[] = await this.options.dataSource.query('SELECT name, sequence FROM providers WHERE name = ANY($1::text[])', [
          [...new Set(refused.map((f) => f.provider))],
        ]);
        alerts.push(...detectCredentialFailures(refused, new Map(configs.map((c) => [c.name, Number(c.sequence)]))));
      }
    }
    const completed = events.flatMap((e) => (e.type === 'RunCompleted' ? [{ runId: splitStreamId(e.streamId).id, at: e.occurredAt }] : []));
    // the batch's completed runs that cost something (a free run cannot cost k× anything), each with
    // the costs of its template's latest completed runs before it (a bounded sample: the median of
    // the recent past), in one read: a batch under load, or a log being caught up on, holds many
    const costs: { id: string; template_id: string; cost_usd: number; earlier: number[] | null }[] =
      completed.length === 0
        ? []
        : await this.options.dataSource.query(
            `SELECT r.id, r.template_id, r.cost_usd, e.earlier
               FROM unnest($1::text[], $2::timestamptz[]) AS c(id, at)
               JOIN runs r ON r.id = c.id
               CROSS JOIN LATERAL (SELECT array_agg(p.cost_usd) AS earlier
                                     FROM (SELECT cost_usd FROM runs
                                            WHERE template_id = r.template_id AND status = 'completed' AND id <> r.id AND completed_at <= c.at
                                            ORDER BY completed_at DESC LIMIT 100) p) e
              WHERE r.cost_usd > 0`,
            [completed.map((c) => c.runId), completed.map((c) => c.at)],
          );
    for (const run of costs) {
      const spike = detectCostSpike({ runId: run.id, templateId: run.template_id, costUsd: Number(run.cost_usd) }, (run.earlier ?? []).map(Number), thresholds);
      if (spike) alerts.push(spike);
    }
    return this.raiseAll(alerts);
  }

  /** Append each alert (once per id); returns how many were new. */
  private async raiseAll(alerts: readonly AlertInput[]): Promise<number> {
    let raised = 0;
    for (const alert of alerts) {
      const outcome = await raiseAlert(this.options.log, alert, { occurredAt: this.now().toISOString(), actor: ACTOR });
      if (outcome === 'raised') {
        raised += 1;
        this.options.logger.warn({ alertId: alert.alertId, kind: alert.kind, runId: alert.runId, provider: alert.providerName }, 'alert raised');
      }
    }
    return raised;
  }
}
