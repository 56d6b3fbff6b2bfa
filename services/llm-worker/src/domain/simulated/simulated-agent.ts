import { createHash } from 'node:crypto';
import type { AgentSettings } from '../agent/agent-settings';
import { openToolExecutor } from '../agent/agent-settings';
import { codeChangeOf } from '../agent/code-change';
import { TranscriptBuilder } from '../agent/transcript';
import { estimateTokens, type GenerateContext, type GenerateRequest, type Generation } from '../provider';
import type { ToolExecutor } from '../tools/tools';
import { abortableSleep, simulateOutput, type SimulatedCheck } from './simulated-output';

/** `file: <path>` in the prompt names the file the simulated agent edits. */
const TARGET_FILE = /(?:^|\s)file:\s*(\S+)/m;

/**
 * The offline agent: a deterministic script, so agent phases demo and test without a model.
 * - When the prompt names a file of the workspace (`file: src/app.ts`), it reads it and marks
 *   line `slot + 1` as edited by its model (appending a line when the file is shorter): two
 *   candidates of one phase edit different lines of the same file.
 * - Otherwise it lists the workspace, writes `conclave/<slot>-<digest>.md` (the digest of the
 *   prompt) and reads it back.
 * It answers the phase's output: a code-change built from the worktree (the candidate's commit and
 * diff), or for any other schema the simulated provider's sample. Every step goes through the real
 * tools (audited, confined, streamed live); tools the phase did not enable are skipped.
 * `options.latencyMs` is spent after the edits, before answering (so a cancel or a timeout finds
 * work in progress to keep).
 */
export async function runSimulatedAgent(
  request: GenerateRequest & { agent: NonNullable<GenerateRequest['agent']> },
  settings: AgentSettings,
  ctx: GenerateContext,
  check?: SimulatedCheck,
): Promise<Generation> {
  const tools = await openToolExecutor(settings, request, request.agent.tools, (r) => ctx.onToolCall?.(r));
  const transcript = new TranscriptBuilder(settings.transcriptCap);
  ctx.onAgentStarted?.({ tools, transcript: () => transcript.build() });
  if (request.prompt.system) transcript.add('system', request.prompt.system);
  transcript.add('user', request.prompt.user);
  let iterations = 0;
  const call = async (tool: string, input: Record<string, unknown>) => {
    if (iterations >= request.agent.maxIterations || !request.agent.tools.includes(tool)) return null;
    ctx.signal.throwIfAborted();
    iterations += 1;
    transcript.add('tool_call', JSON.stringify(input), tool);
    const result = await tools.run(tool, input);
    transcript.add('tool_result', result.content, tool);
    return result;
  };

  const target = TARGET_FILE.exec(request.prompt.user)?.[1];
  const summary = target ? await editLine(call, target, request) : await writeNotes(call, request);
  const latencyMs = request.options.latencyMs ?? 0;
  if (latencyMs > 0) await abortableSleep(latencyMs, ctx.signal);
  ctx.onDelta(summary);
  transcript.add('assistant', summary);
  const output =
    request.output.artifact === 'code-change'
      ? await codeChangeOf(summary, tools, { runId: request.runId, phaseId: request.phaseId, candidateId: request.candidateId, provider: request.provider, model: request.model })
      : simulateOutput(request, check);
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

type Call = (tool: string, input: Record<string, unknown>) => Promise<Awaited<ReturnType<ToolExecutor['run']>> | null>;

async function editLine(call: Call, file: string, request: GenerateRequest): Promise<string> {
  const read = await call('read_file', { path: file });
  const lines = read && !read.isError ? read.content.split('\n') : [];
  const trailingNewline = lines.length > 0 && lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();
  const mark = `edited by ${request.model} (slot ${request.slot})`;
  if (request.slot < lines.length) lines[request.slot] = `${lines[request.slot]} // ${mark}`;
  else lines.push(`// ${mark}`);
  await call('write_file', { path: file, content: `${lines.join('\n')}\n` });
  return `Edited line ${Math.min(request.slot, lines.length - 1) + 1} of ${file} (${mark}).`;
}

async function writeNotes(call: Call, request: GenerateRequest): Promise<string> {
  const digest = createHash('sha256').update(`${request.model}\n${request.prompt.system ?? ''}\n${request.prompt.user}`).digest('hex').slice(0, 8);
  const file = `conclave/${request.slot}-${digest}.md`;
  const content = `# Notes\n\nTask: ${request.prompt.user.slice(0, 500)}\n\nWritten by the simulated agent (${request.model}, slot ${request.slot}).\n`;
  await call('list_files', { path: '.' });
  await call('write_file', { path: file, content });
  const back = await call('read_file', { path: file });
  return `Wrote ${file}${back ? ' and read it back' : ''}.`;
}
