import { ROOT_CONTEXT, SpanKind, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { TraceContext } from '@conclave/contracts';
import { extractTrace, type NatsHeaders } from './nats';
import { endSpan, spanTrace, startSpan } from './spans';

/**
 * Spans of work commands (issue 14 §3): a candidate call (llm-worker), a judge call (judge), a tool
 * phase's program, a workspace task. The command's NATS headers name its phase attempt's span as
 * parent (the orchestrator wrote them). Tracing off, or a command without `traceparent` (a run
 * started while tracing was off): no span, and every function here does nothing.
 */
export interface WorkCommandFields {
  type?: string;
  commandId: string;
  runId: string;
  phaseId: string;
  attempt: number;
  provider: string;
  model: string;
  candidateId?: string;
  judgeId?: string;
}

/** the span of each command being worked on (a command object is parsed once per delivery) */
const spans = new WeakMap<object, Span>();

const KIND: Record<string, string> = { GenerateCandidate: 'candidate', JudgeCandidates: 'judge', RunTool: 'tool', WorkspaceTask: 'workspace' };

/** Start the span of a delivered command (a child of the phase span its headers carry). */
export function startWorkSpan(service: string, headers: NatsHeaders | undefined, command: WorkCommandFields, deliveryCount: number): void {
  const parent = extractTrace(headers);
  if (!parent) return;
  const kind = KIND[command.type ?? ''] ?? 'work';
  // a tool phase's command names its program as the model (provider `tool`)
  const span = startSpan(service, kind === 'tool' ? `tool ${command.model}` : `${kind} ${command.provider}/${command.model}`, {
    parent,
    kind: SpanKind.CONSUMER,
    attributes: {
      'conclave.run_id': command.runId,
      'conclave.phase_id': command.phaseId,
      'conclave.phase.attempt': command.attempt,
      'conclave.command_id': command.commandId,
      'conclave.delivery': deliveryCount,
      'gen_ai.provider.name': command.provider,
      'gen_ai.request.model': command.model,
      ...(command.candidateId ? { 'conclave.candidate_id': command.candidateId } : {}),
      ...(command.judgeId ? { 'conclave.judge_id': command.judgeId } : {}),
    },
  });
  if (span) spans.set(command, span);
}

/** The command's span context, for its result (recorded on the candidate); undefined untraced. */
export function workTrace(command: object): TraceContext | undefined {
  return spanTrace(spans.get(command));
}

/** A tool call the work made (an agent's), as a child span of the work's, from its recorded timing. */
export function recordToolCallSpan(service: string, command: object, call: { tool: string; at: string; durationMs: number; refused: boolean }): void {
  const work = spans.get(command);
  if (!work) return;
  // `at` is when the call began
  const startTime = Date.parse(call.at);
  const known = Number.isFinite(startTime);
  const span = startSpan(service, `tool_call ${call.tool}`, {
    parent: trace.setSpan(ROOT_CONTEXT, work),
    attributes: { 'gen_ai.tool.name': call.tool, 'conclave.tool.refused': call.refused },
    ...(known ? { startTime } : {}),
  });
  endSpan(span, call.refused ? 'refused' : null, known ? startTime + call.durationMs : undefined);
}

/** End the command's span with what came of it (status, tokens, cost). Handed back (no result): it is dropped unexported. */
export function endWorkSpan(command: object, outcome: { status: string; error?: { code: string; message: string }; tokens?: { input: number; output: number }; costUsd?: number }): void {
  const span = spans.get(command);
  if (!span) return;
  spans.delete(command);
  const attributes: Attributes = { 'conclave.outcome': outcome.status };
  if (outcome.tokens) {
    attributes['gen_ai.usage.input_tokens'] = outcome.tokens.input;
    attributes['gen_ai.usage.output_tokens'] = outcome.tokens.output;
  }
  if (outcome.costUsd !== undefined) attributes['conclave.cost_usd'] = outcome.costUsd;
  if (outcome.error) attributes['error.type'] = outcome.error.code;
  span.setAttributes(attributes);
  endSpan(span, outcome.status === 'failed' ? (outcome.error?.message ?? 'failed') : null);
}
