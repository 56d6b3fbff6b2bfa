import { GenerateCandidate, JudgeCandidates, parseEventSubject } from '@conclave/contracts';
import { ack, runConsumer, term, EventLog, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';

/**
 * The log is the outbox: every CandidateRequested / JudgeRequested event becomes a work command.
 * The command id is the attempt token, which is also its Nats-Msg-Id, so re-publishing after a
 * crash is harmless; workers' results are idempotent by the same key.
 */
export async function startDispatcher(log: EventLog, logger: Logger): Promise<RunningConsumer> {
  const { streams, consumers, subjects } = log.names;
  return runConsumer(
    log,
    {
      stream: streams.events,
      durable: consumers.dispatcher,
      concurrency: 32,
      onDeadLetter: (m, reason) => logger.error({ deadLetter: true, seq: m.seq, reason }, 'event could not be dispatched'),
      onError: (m, err) => logger.warn({ err, seq: m.seq }, 'dispatch failed; will retry'),
    },
    async (m) => {
      const target = parseEventSubject(m.subject, log.names.prefix);
      if (!target || target.aggregate !== 'run') return ack();
      let event;
      try {
        event = EventLog.decode(m);
      } catch (err) {
        return term(`undecodable event: ${(err as Error).message}`);
      }
      if (event.type === 'CandidateRequested') {
        const command = GenerateCandidate.parse({ type: 'GenerateCandidate', commandId: event.data.attemptToken, runId: target.id, ...event.data });
        await log.publish(subjects.generate, command, command.commandId);
      } else if (event.type === 'JudgeRequested') {
        const command = JudgeCandidates.parse({ type: 'JudgeCandidates', commandId: event.data.attemptToken, runId: target.id, ...event.data });
        await log.publish(subjects.judge, command, command.commandId);
      }
      return ack();
    },
  );
}
