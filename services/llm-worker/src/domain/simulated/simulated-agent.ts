import { createHash } from 'node:crypto';
import type { AgentSettings } from '../agent/agent-settings';
import { openToolExecutor } from '../agent/agent-settings';
import { codeChangeOf } from '../agent/code-change';
import { TranscriptBuilder } from '../agent/transcript';
import { estimateTokens, type GenerateContext, type GenerateRequest, type Generation } from '../provider';
import { simulateOutput } from './simulated-provider';

/**
 * The offline agent: a deterministic script, so agent phases demo and test without a model. It
 * lists the workspace, writes `conclave/<slot>-<digest>.md` (the digest of the prompt), reads it
 * back, and answers the phase's output: a code-change built from the audit and `git diff`, or for
 * any other schema the simulated provider's sample. Every step goes through the real tools (audited,
 * confined, streamed live). Tools the phase did not enable are skipped.
 */
export async function runSimulatedAgent(
  request: GenerateRequest & { agent: NonNullable<GenerateRequest['agent']> },
  settings: AgentSettings,
  ctx: GenerateContext,
  check?: Parameters<typeof simulateOutput>[1],
): Promise<Generation> {
  const tools = await openToolExecutor(settings, request, request.agent.tools, (r) => ctx.onToolCall?.(r));
  const transcript = new TranscriptBuilder(settings.transcriptCap);
  if (request.prompt.system) transcript.add('system', request.prompt.system);
  transcript.add('user', request.prompt.user);
  const digest = createHash('sha256').update(`${request.model}\n${request.prompt.system ?? ''}\n${request.prompt.user}`).digest('hex').slice(0, 8);
  const file = `conclave/${request.slot}-${digest}.md`;
  const content = `# Notes\n\nTask: ${request.prompt.user.slice(0, 500)}\n\nWritten by the simulated agent (${request.model}, slot ${request.slot}).\n`;
  const script: [string, Record<string, unknown>][] = [
    ['list_files', { path: '.' }],
    ['write_file', { path: file, content }],
    ['read_file', { path: file }],
  ];
  let iterations = 0;
  for (const [tool, input] of script) {
    if (iterations >= request.agent.maxIterations) break;
    if (!request.agent.tools.includes(tool)) continue;
    ctx.signal.throwIfAborted();
    iterations += 1;
    transcript.add('tool_call', JSON.stringify(input), tool);
    const result = await tools.run(tool, input);
    transcript.add('tool_result', result.content, tool);
  }
  const summary = `Wrote ${file} and read it back (${tools.records.length} tool calls).`;
  ctx.onDelta(summary);
  transcript.add('assistant', summary);
  const output = request.output.artifact === 'code-change' ? await codeChangeOf(summary, tools, { runId: request.runId, phaseId: request.phaseId, model: request.model }) : simulateOutput(request, check);
  const text = JSON.stringify(output);
  return {
    output,
    text,
    tokens: { input: estimateTokens(`${request.prompt.system ?? ''}${request.prompt.user}`), output: estimateTokens(text) },
    costUsd: 0,
    toolCalls: tools.records,
    transcript: transcript.build(),
  };
}
