import { ack, nak, type EventLog, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunRepository } from '../adapters/run-repository';
import type { RunEventHandler } from './redrive';
import { consumeRunEvents } from './run-events';

/** Longest single wait: a due time further away is re-checked after this (nak delays stay modest). */
const MAX_WAIT_MS = 60 * 60 * 1000;

/**
 * Durable timers without a timer store: the `timers` consumer receives every run event and keeps
 * the ones that carry a due time (a phase deadline, a phase's or a candidate's retry) unacked — nak'ed with the
 * remaining delay — so JetStream redelivers each exactly when it is due, across restarts of any
 * orchestrator replica. When due, the run gets a Tick; the decider compares with its clock and does
 * nothing if the phase moved on meanwhile. Deadlines are therefore derived from the log.
 */
export function startTimers(log: EventLog, runs: RunRepository, logger: Logger, now: () => Date, handlers?: Map<string, RunEventHandler>): Promise<RunningConsumer> {
  return consumeRunEvents(log, logger, {
      durable: log.names.consumers.timers,
      concurrency: 16,
      what: 'timer tick',
      handlers,
      // a run with an unreadable event fails at once, even when it waits for nothing else to arrive
      onUndecodable: async (runId) => {
        await runs.handle(runId, { type: 'Reconcile' }, { occurredAt: now().toISOString(), correlationId: runId, causationId: null, actor: { kind: 'system', id: 'timer' } });
      },
    }, async (event, runId) => {
    const due =
      event.type === 'PhaseStarted'
        ? event.data.deadline
        : event.type === 'PhaseRetryScheduled'
          ? event.data.notBefore
          : event.type === 'CandidateFailed'
            ? event.data.retry?.notBefore // a candidate's own retry (issue 11 §6)
            : undefined;
    if (!due) return ack();
    const wait = Date.parse(due) - now().getTime();
    if (wait > 0) return nak(Math.min(wait + 25, MAX_WAIT_MS));
    await runs.handle(runId, { type: 'Tick' }, {
      occurredAt: now().toISOString(),
      correlationId: runId,
      causationId: event.id,
      actor: { kind: 'system', id: 'timer' },
    });
    return ack();
  });
}
