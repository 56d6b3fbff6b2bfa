import { ack, type EventLog, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunRepository } from '../adapters/run-repository';
import type { Outbox } from './outbox';
import type { RunEventHandler } from './redrive';
import { ackOncePublished, consumeRunEvents } from './run-events';

/**
 * The repair path of the outbox (ADR 014). The orchestrator publishes a commit's commands and due
 * times itself, right after the append (app/outbox.ts); this consumer sees every run commit and
 * does nothing for those this process sent. For any other — the process that appended it crashed
 * before its publish, or another replica appended it — it publishes what the commit calls for and
 * is still outstanding in the run's state (so a command whose work is done is never sent again,
 * even after the server's duplicate window). A commit whose phase deadline the outbox holds is acked
 * when the hold ends, so a crash meanwhile brings it back here. Commands carry their attempt token as Nats-Msg-Id:
 * a duplicate inside the window is dropped by the server. Acks go without a reply round trip: a
 * lost ack only brings the commit back, which is harmless.
 * An undecodable message of a run fails that run at once (it cannot be trusted past it).
 */
export function startDispatcher(log: EventLog, runs: RunRepository, outbox: Outbox, logger: Logger, now: () => Date, handlers?: Map<string, RunEventHandler>): Promise<RunningConsumer> {
  return consumeRunEvents(
    log,
    logger,
    {
      durable: log.names.consumers.dispatcher,
      concurrency: 32,
      what: 'dispatch',
      handlers,
      ackWithoutReply: true,
      sentHere: (seq) => outbox.sentHere(seq),
      onUndecodable: async (runId) => {
        await runs.handle(runId, { type: 'Reconcile' }, { occurredAt: now().toISOString(), correlationId: runId, causationId: null, actor: { kind: 'system', id: 'dispatcher' } });
      },
    },
    async (events, runId, seq) => {
      // serialised with the run's decisions: a commit delivered before its append returned to this
      // process is known to the outbox once the decision that made it is done
      const run = await runs.snapshot(runId, seq);
      const publication = outbox.sentHere(seq);
      if (publication) return ackOncePublished(publication);
      const sent = await outbox.repair(runId, events, run);
      if (sent > 0) logger.info({ runId, seq, sent }, 'dispatcher published what a commit called for (repair path)');
      return ack();
    },
  );
}
