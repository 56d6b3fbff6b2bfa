import { parseEventSubject, type Recorded } from '@conclave/contracts';
import { ack, ackAfter, runConsumer, term, EventLog, type Disposition, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunEventHandler } from './redrive';
import type { Publication } from './outbox';

/**
 * A durable consumer over the run commits (the dispatcher): skips what is not a run's message,
 * terminates a message that does not decode (a dead letter, logged), and hands the rest — the
 * events of one commit, ADR 014 — to `handle` with the run id and the message's stream sequence.
 * At-least-once: `handle` must stay idempotent.
 */
export function consumeRunEvents(
  log: EventLog,
  logger: Logger,
  options: {
    durable: string;
    concurrency: number;
    what: string;
    handlers?: Map<string, RunEventHandler>;
    /** before an undecodable run message is dead-lettered (its run fails: it cannot be trusted past it) */
    onUndecodable?: (runId: string) => Promise<void>;
    ackWithoutReply?: boolean;
    /**
     * The publication of a commit this process appended (the outbox's; undefined for any other):
     * such a commit is acked without being decoded once the publication is out.
     */
    sentHere?: (seq: number) => Publication | undefined;
  },
  handle: RunEventHandler,
): Promise<RunningConsumer> {
  options.handlers?.set(options.durable, handle); // redrive of this consumer's dead letters
  return runConsumer(
    log,
    {
      stream: log.names.streams.events,
      durable: options.durable,
      concurrency: options.concurrency,
      ackWithoutReply: options.ackWithoutReply,
      onDeadLetter: (m, reason) => logger.error({ deadLetter: true, seq: m.seq, reason }, `${options.what}: event could not be handled`),
      onError: (m, err) => logger.warn({ err, seq: m.seq }, `${options.what} failed; will retry`),
    },
    async (m) => {
      const target = parseEventSubject(m.subject, log.names.prefix);
      if (!target || target.aggregate !== 'run') return ack();
      const publication = options.sentHere?.(m.seq);
      if (publication) return ackOncePublished(publication);
      let events: Recorded[];
      try {
        events = EventLog.decodeAll(m);
      } catch (err) {
        await options.onUndecodable?.(target.id); // throws: nak, and the next delivery tries again
        return term(`undecodable event: ${(err as Error).message}`, 'undecodable');
      }
      return handle(events, target.id, m.seq) as Promise<Disposition>;
    },
  );
}

/**
 * Ack a commit once this process's publication of what it calls for is out (ackAfter: the handler's
 * slot is free meanwhile). A publication that failed is forgotten by the outbox, so the nak brings
 * the commit back to the repair path.
 */
export function ackOncePublished(publication: Publication): Disposition {
  if (publication === 'published') return ack(); // out already: no lease to keep alive meanwhile
  return ackAfter(
    publication.then((sent) => {
      if (!sent) throw new Error('what the commit calls for was not published here: the next delivery repairs it');
    }),
  );
}
