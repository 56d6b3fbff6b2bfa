import { WorkResult } from '@conclave/contracts';
import { ack, nak, runConsumer, term, retryDelayMs, EventLog, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunRepository } from '../adapters/run-repository';

/**
 * Worker results → decider. At-least-once: a result may arrive twice or late; the decider ignores
 * duplicates and stale attempt tokens, so this handler stays idempotent. The result is acked only
 * after the events it caused are appended.
 */
export async function startResultsConsumer(log: EventLog, runs: RunRepository, logger: Logger, concurrency: number, now: () => Date): Promise<RunningConsumer> {
  const { streams, consumers } = log.names;
  return runConsumer(
    log,
    {
      stream: streams.results,
      durable: consumers.orchestratorResults,
      concurrency,
      onDeadLetter: (m, reason) => logger.error({ deadLetter: true, subject: m.subject, seq: m.seq, reason }, 'result terminated as poison'),
      onError: (m, err) => logger.warn({ err, subject: m.subject, seq: m.seq, deliveryCount: m.info.deliveryCount }, 'result handling failed; will retry'),
    },
    async (m) => {
      let raw: unknown;
      try {
        raw = m.json();
      } catch {
        return term('result is not JSON', 'undecodable');
      }
      const parsed = WorkResult.safeParse(raw);
      if (!parsed.success) return term(`result does not match the contract: ${parsed.error.issues.map((i) => i.message).join('; ')}`, 'undecodable');
      const result = parsed.data;
      try {
        const outcome = await runs.handle(result.runId, { type: result.type, result } as never, {
          occurredAt: now().toISOString(),
          correlationId: result.runId,
          causationId: result.commandId,
          actor: { kind: 'worker', id: result.workerId },
        });
        if (outcome.appended.length === 0) logger.debug({ commandId: result.commandId }, 'result decided nothing (duplicate or stale)');
        return ack();
      } catch (err) {
        logger.warn({ err, commandId: result.commandId }, 'could not apply result; retrying');
        return nak(retryDelayMs(m.info.deliveryCount));
      }
    },
  );
}
