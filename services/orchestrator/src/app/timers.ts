import { parseEventSubject, type Recorded } from '@conclave/contracts';
import { ack, EventLog, isNotFound, nak, runConsumer, term, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunRepository } from '../adapters/run-repository';
import { dueOf, TimerDue } from './outbox';

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
      // a lost ack brings the due time back: one more Tick, which decides nothing the second time
      ackWithoutReply: true,
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

/** how often the drain of the legacy timers consumer checks whether it holds anything still */
const LEGACY_CHECK_MS = 30_000;

/**
 * Upgrade path (ADR 014): before commits the `timers` durable read every run event on EVENTS and
 * held those with a due time, nak'ed until due. If setup found it still holding some, this drains
 * it: every event it delivers (held ones come back when due) has its due time published on
 * `commands.timer` (the id the outbox uses, so a duplicate is dropped) and is acked. Once it holds
 * nothing and has delivered everything written before this process started, it is deleted.
 * Returns null when there is no such consumer.
 */
export async function startLegacyTimers(log: EventLog, logger: Logger, checkEveryMs = LEGACY_CHECK_MS): Promise<RunningConsumer | null> {
  const { streams, consumers, subjects } = log.names;
  try {
    await log.jsm.consumers.info(streams.events, consumers.timers);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  const upgradedAt = await log.jsm.streams.info(streams.events).then((i) => i.state.last_seq);
  const running = await runConsumer(log, { stream: streams.events, durable: consumers.timers, concurrency: 16 }, async (m) => {
    const target = parseEventSubject(m.subject, log.names.prefix);
    if (!target || target.aggregate !== 'run') return ack();
    let events: Recorded[];
    try {
      events = EventLog.decodeAll(m);
    } catch {
      return ack(); // the dispatcher deals with poison
    }
    for (const event of events) {
      const due = dueOf(event);
      if (due) await log.publish(subjects.timer, TimerDue.parse({ runId: target.id, due, eventId: event.id }), `${event.id}:timer`);
    }
    return ack();
  });
  logger.info({ upgradedAt }, 'draining the timers consumer of the builds before ADR 014');
  const check = setInterval(() => {
    void (async () => {
      const info = await log.jsm.consumers.info(streams.events, consumers.timers);
      if (info.num_ack_pending > 0 || info.delivered.stream_seq < upgradedAt) return;
      clearInterval(check);
      await running.stop();
      await log.deleteConsumer(streams.events, consumers.timers);
      logger.info('the timers consumer of the builds before ADR 014 is drained and removed');
    })().catch((err: unknown) => logger.warn({ err }, 'legacy timers check failed; trying again'));
  }, checkEveryMs);
  check.unref();
  return {
    get inFlight() {
      return running.inFlight;
    },
    done: running.done,
    async stop() {
      clearInterval(check);
      await running.stop();
    },
  };
}
