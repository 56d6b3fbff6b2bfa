import { Inject, Injectable } from '@nestjs/common';
import { ConclaveError, type AlertItem, type AlertStatus, type AlertSummary } from '@conclave/contracts';
import { acknowledgeAlert, raiseAlert, type AlertInput, EventLog } from '@conclave/event-log';
import { AlertRow, ReadModelQueries, toAlertItem, type DataSource } from '@conclave/read-models';
import type { Logger } from '@conclave/service-kit';
import type { GatewayConfig } from '../config';
import { actorOf } from '../http/auth';
import { CONFIG, DATA_SOURCE, LOGGER } from '../tokens';

interface AlertCursor {
  createdAt: string;
  id: string;
}

/**
 * GET /alerts (status filter, keyset paging), GET /alerts/summary, POST /alerts/:id/acknowledge
 * (ADR 016). Reads the alerts read model; acknowledgements and the gateway's own detections
 * (budget thresholds, a provider test refused) are appended to the log and folded by the projector.
 */
@Injectable()
export class AlertsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Newest first, keyset-paged on (created_at, id). */
  async list(status: AlertStatus, limit: number, cursor?: string): Promise<{ items: AlertItem[]; nextCursor: string | null }> {
    const qb = this.db.getRepository(AlertRow).createQueryBuilder('a');
    if (status === 'open') qb.where('a.acknowledgedAt IS NULL');
    if (status === 'acknowledged') qb.where('a.acknowledgedAt IS NOT NULL');
    if (cursor) {
      const at = decodeAlertCursor(cursor);
      qb.andWhere('(a.createdAt, a.id) < (:at, :id)', { at: new Date(at.createdAt), id: at.id });
    }
    const rows = await qb.orderBy('a.createdAt', 'DESC').addOrderBy('a.id', 'DESC').limit(limit + 1).getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toAlertItem),
      nextCursor: rows.length > limit && last ? Buffer.from(JSON.stringify([last.createdAt.toISOString(), last.id])).toString('base64url') : null,
    };
  }

  async summary(): Promise<AlertSummary> {
    const rows: { kind: string; n: number }[] = await this.db.query('SELECT kind, count(*)::int AS n FROM alerts WHERE acknowledged_at IS NULL GROUP BY kind ORDER BY kind');
    return { open: rows.reduce((sum, r) => sum + r.n, 0), byKind: Object.fromEntries(rows.map((r) => [r.kind, r.n])) };
  }

  /**
   * Acknowledge an alert: `AlertAcknowledged` in the log (once: acknowledging it again changes
   * nothing and answers the same), then the alert as the read model shows it once folded.
   */
  async acknowledge(id: string, requestId: string, comment?: string): Promise<AlertItem> {
    if (id.length > 300 || id.includes('\u0000')) throw notFound(id);
    const row = await this.db.getRepository(AlertRow).findOneBy({ id });
    if (!row) throw notFound(id);
    if (row.acknowledgedAt) return toAlertItem(row);
    const actor = actorOf(requestId) ?? { kind: 'user' as const, id: 'anonymous' };
    const { outcome, event } = await acknowledgeAlert(this.log, id, { occurredAt: new Date().toISOString(), actor, correlationId: requestId, comment });
    if (outcome === 'acknowledged') this.logger.info({ alertId: id, actor: actor.id, requestId }, 'alert acknowledged');
    // read our own write: the projector folds the acknowledgement
    if (!(await this.queries.waitForSequence(event.sequence, this.config.MIN_SEQUENCE_WAIT_MS))) {
      throw new ConclaveError('unavailable', `the acknowledgement is recorded (sequence ${event.sequence}) but the read models have not caught up yet`, { sequence: event.sequence });
    }
    const folded = await this.db.getRepository(AlertRow).findOneBy({ id });
    return toAlertItem(folded ?? row);
  }

  /** Record an alert the gateway detected (once per alert id); true when it is new. */
  async raise(alert: AlertInput, requestId?: string): Promise<boolean> {
    const outcome = await raiseAlert(this.log, alert, { occurredAt: new Date().toISOString(), actor: { kind: 'system', id: 'gateway' }, correlationId: requestId });
    if (outcome === 'raised') this.logger.warn({ alertId: alert.alertId, kind: alert.kind, provider: alert.providerName, requestId }, 'alert raised');
    return outcome === 'raised';
  }
}

function notFound(id: string): ConclaveError {
  return new ConclaveError('not_found', `alert "${id}" not found`, { id });
}

function decodeAlertCursor(raw: string): AlertCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && !Number.isNaN(Date.parse(parsed[0]))) {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    /* below */
  }
  throw new ConclaveError('bad_request', 'invalid cursor');
}
