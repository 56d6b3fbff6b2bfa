import { GenerateCandidate, JudgeCandidates, RunTool } from '@conclave/contracts';
import { ack, term, type EventLog, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import { consumeRunEvents } from './run-events';

/**
 * The log is the outbox: every CandidateRequested / JudgeRequested / ToolRunRequested event becomes a
 * work command.
 * The command id is the attempt token, which is also its Nats-Msg-Id, so re-publishing after a
 * crash is harmless; workers' results are idempotent by the same key.
 */
export function startDispatcher(log: EventLog, logger: Logger): Promise<RunningConsumer> {
  const { consumers, subjects } = log.names;
  return consumeRunEvents(log, logger, { durable: consumers.dispatcher, concurrency: 32, what: 'dispatch' }, async (event, runId) => {
    if (event.type === 'CandidateRequested') {
      const command = GenerateCandidate.parse({ type: 'GenerateCandidate', commandId: event.data.attemptToken, runId, ...event.data });
      await log.publish(subjects.generate, command, command.commandId);
    } else if (event.type === 'CandidateRedispatched') {
      // the original request carries the prompt: re-publish it under the new token
      const history = await log.read('run', runId);
      const requested = history.find((e) => e.type === 'CandidateRequested' && e.data.candidateId === event.data.candidateId);
      if (!requested || requested.type !== 'CandidateRequested') return term(`no request found for ${event.data.candidateId}`);
      const command = GenerateCandidate.parse({
        type: 'GenerateCandidate',
        ...requested.data,
        commandId: event.data.attemptToken,
        runId,
        attemptToken: event.data.attemptToken,
      });
      await log.publish(subjects.generate, command, command.commandId);
    } else if (event.type === 'ToolRunRequested') {
      const command = RunTool.parse({ type: 'RunTool', commandId: event.data.attemptToken, runId, provider: 'tool', model: event.data.command, ...event.data });
      await log.publish(subjects.tool, command, command.commandId);
    } else if (event.type === 'JudgeRequested') {
      const command = JudgeCandidates.parse({ type: 'JudgeCandidates', commandId: event.data.attemptToken, runId, ...event.data });
      await log.publish(subjects.judge, command, command.commandId);
    }
    return ack();
  });
}
