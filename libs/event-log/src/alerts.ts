import { createHash } from 'node:crypto';
import { AlertId, AlertRaisedData, type Actor, type Recorded } from '@conclave/contracts';
import type { z } from 'zod';
import { ConcurrencyError } from './errors';
import type { EventLog } from './event-log';

/** An alert id part: subject-token safe (letters, digits, "_" and "-"). */
export function idPart(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

/**
 * A provider whose credentials were refused (401 / 403), seen by the projector in a call's failure
 * or by the gateway's connection test: one alert per provider configuration (`configSequence`, the
 * position of its last ProviderConfigured; 0 for one not configured through the log), whoever sees
 * it first. A new key is a new configuration, and may raise a new alert.
 */
export function credentialsAlert(provider: string, configSequence: number, what: string, runId: string | null = null): AlertInput {
  return {
    alertId: `provider-credentials-${idPart(provider)}-${configSequence}`,
    kind: 'provider_credentials',
    message: `Provider ${provider} refused its credentials: ${what}`,
    providerName: provider,
    runId,
    details: { configSequence },
  };
}

/** What a detector says: AlertRaised's data (defaults filled by the schema). */
export type AlertInput = z.input<typeof AlertRaisedData>;

export interface AlertMeta {
  /** the detection's time, ISO-8601 */
  occurredAt: string;
  /** the detecting process (`{ kind: 'system', id: 'projector' }`) or the user whose request found it */
  actor: Actor;
  correlationId?: string;
  causationId?: string | null;
}

/**
 * Record an alert in the log (ADR 016): `AlertRaised` as the first event of `events.alert.<alertId>`,
 * appended with expected last subject sequence 0. The alert id is the condition's business key, so
 * a repeated detection (another replica, a redelivery, the next sweep) finds the subject taken and
 * records nothing: `exists`. (Two detections racing inside the server's duplicate window may both
 * answer `raised`; the log still holds one event.) The event id derives from the alert id, so a retried publish within
 * the duplicate window is deduplicated by the server as well.
 */
export async function raiseAlert(log: EventLog, alert: AlertInput, meta: AlertMeta): Promise<'raised' | 'exists'> {
  const data = AlertRaisedData.parse(alert);
  // raised already (the common case of a repeated detection); the publish below would be
  // deduplicated silently inside the server's window, or refused by the expected sequence after it
  if ((await log.read('alert', data.alertId)).some((e) => e.type === 'AlertRaised')) return 'exists';
  try {
    await log.append('alert', data.alertId, [{ id: `alert-raised-${data.alertId}`, type: 'AlertRaised', data }], 0, {
      occurredAt: meta.occurredAt,
      correlationId: meta.correlationId ?? data.alertId,
      causationId: meta.causationId ?? null,
      actor: meta.actor,
    });
    return 'raised';
  } catch (err) {
    if (err instanceof ConcurrencyError) return 'exists';
    throw err;
  }
}

/**
 * The subject token of an alert's events: its id when that is subject-safe (every AlertRaised's
 * is), else a hash of it (ids of alerts no event raised, like `event:<id>` or `budget:global:…`).
 */
export function alertSubjectKey(alertId: string): string {
  return AlertId.safeParse(alertId).success ? alertId : `h-${createHash('sha256').update(alertId).digest('hex').slice(0, 40)}`;
}

/**
 * Record that `actor` acknowledged an alert: `AlertAcknowledged` on its subject, once. Idempotent:
 * an alert already acknowledged is left as it is (`already`, with the acknowledging event). A
 * process alert (a row no event raised: projection halted or parked) has an empty subject; its
 * acknowledgement is then the subject's first event.
 */
export async function acknowledgeAlert(
  log: EventLog,
  alertId: string,
  meta: AlertMeta & { comment?: string },
): Promise<{ outcome: 'acknowledged' | 'already'; event: Recorded }> {
  const key = alertSubjectKey(alertId);
  for (let attempt = 0; attempt < 3; attempt++) {
    const events = await log.read('alert', key);
    const done = events.find((e) => e.type === 'AlertAcknowledged');
    if (done) return { outcome: 'already', event: done };
    const last = events.length > 0 ? events[events.length - 1]!.sequence : 0;
    try {
      const [event] = await log.append(
        'alert',
        key,
        [{ type: 'AlertAcknowledged', data: { alertId, ...(meta.comment ? { comment: meta.comment } : {}) } }],
        last,
        { occurredAt: meta.occurredAt, correlationId: meta.correlationId ?? alertId, causationId: meta.causationId ?? null, actor: meta.actor },
      );
      return { outcome: 'acknowledged', event: event! };
    } catch (err) {
      if (!(err instanceof ConcurrencyError)) throw err;
      // a concurrent acknowledgement (or the raise landing meanwhile): read again
    }
  }
  throw new ConcurrencyError(log.names.subjects.aggregateEvents('alert', key), -1);
}
