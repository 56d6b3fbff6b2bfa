import { ack, nak, runConsumer, term, type EventLog, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunRepository } from '../adapters/run-repository';
import { TimerDue } from './outbox';

/** Longest single wait: a due time further away is re-checked after this (nak delays stay modest). */
const MAX_WAIT_MS = 60 * 60 * 1000;

/**
 * Durable timers without a timer store: an event that sets a due time (a phase deadline, a phase's
 * or a candidate's retry) makes the outbox publish a due time on `commands.timer` (ADR 014); the
 * `timers` consumer keeps it unacked — nak'ed with the remaining delay — so JetStream redelivers it
 * exactly when it is due, across restarts of any orchestrator replica. When due, the run gets a
 * Tick; the decider compares with its clock and does nothing if the phase moved on meanwhile.
 * Only due times reach this consumer, not every run event.
 */
export function startTimers(log: EventLog, runs: RunRepository, logger: Logger, now: () => Date): Promise<RunningConsumer> {
  const { streams, consumers } = log.names;
  return runConsumer(
    log,
    {
      stream: streams.commands,
      durable: consumers.timers,
      concurrency: 16,
      onDeadLetter: (m, reason) => logger.error({ deadLetter: true, seq: m.seq, reason }, 'timer tick: due time could not be handled'),
      onError: (m, err) => logger.warn({ err, seq: m.seq }, 'timer tick failed; will retry'),
    },
    async (m) => {
      let raw: unknown;
      try {
        raw = m.json();
      } catch {
        return term('due time is not JSON', 'undecodable');
      }
      const parsed = TimerDue.safeParse(raw);
      if (!parsed.success) return term(`due time does not match the contract: ${parsed.error.issues.map((i) => i.message).join('; ')}`, 'undecodable');
      const { runId, due, eventId } = parsed.data;
      const wait = Date.parse(due) - now().getTime();
      if (wait > 0) return nak(Math.min(wait + 25, MAX_WAIT_MS));
      await runs.handle(runId, { type: 'Tick' }, { occurredAt: now().toISOString(), correlationId: runId, causationId: eventId, actor: { kind: 'system', id: 'timer' } });
      return ack();
    },
  );
}
