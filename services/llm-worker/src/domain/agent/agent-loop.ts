import type { ChatClient, ChatContext, ChatMessage, ChatUsage } from '@conclave/worker-kit';
import type { ToolExecutor } from '../tools/tools';
import type { TranscriptBuilder } from './transcript';

export interface AgentLoopRequest {
  model: string;
  system?: string;
  user: string;
  maxIterations: number;
  maxTokens?: number;
  temperature?: number;
  /** the model's context window in tokens */
  contextWindow: number;
}

export interface AgentLoopResult {
  /** the model's last text (its summary of the work) */
  finalText: string;
  usage: ChatUsage;
  iterations: number;
  /** true when the iteration cap ended the loop */
  capped: boolean;
}

export const AGENT_SYSTEM_SUFFIX =
  'You work inside a workspace directory through the tools provided; paths are relative to it. ' +
  'Make the changes the task asks for, then answer with a short summary of what you changed, without calling a tool.';

/** Share of the context window after which older tool outputs are truncated. */
const CONTEXT_HIGH_WATER = 0.7;
/** What is kept of a truncated tool output. */
const TRUNCATED_KEEP = 200;

/**
 * The tool-use loop on any provider's tool calling: the model calls tools, the executor runs them
 * (audited, confined to the workspace), the results go back, until the model answers without a
 * tool call or `maxIterations` model calls have been made; then one last call (tools still
 * declared, `toolChoice: 'none'`) asks for the summary. Every call streams its text through
 * ctx.onDelta. When the conversation's estimate (~4 characters a token) passes 70 % of the context
 * window, tool outputs older than the latest round are cut to their first 200 characters.
 */
export async function runAgentLoop(
  client: ChatClient,
  request: AgentLoopRequest,
  tools: ToolExecutor,
  transcript: TranscriptBuilder,
  ctx: ChatContext,
): Promise<AgentLoopResult> {
  const system = [request.system, AGENT_SYSTEM_SUFFIX].filter(Boolean).join('\n\n');
  transcript.add('system', system);
  transcript.add('user', request.user);
  const messages: ChatMessage[] = [{ role: 'user', content: request.user }];
  const usage: ChatUsage = { input: 0, output: 0, cached: 0 };
  const specs = tools.specs();
  for (let iteration = 1; ; iteration += 1) {
    const last = iteration > request.maxIterations;
    if (last) messages.push({ role: 'user', content: 'The tool-call limit is reached. Summarise what you changed, without calling a tool.' });
    truncateOldToolOutputs(messages, request.contextWindow);
    const response = await client.chat(
      { model: request.model, system, messages: [...messages], tools: specs, ...(last ? { toolChoice: 'none' as const } : {}), maxTokens: request.maxTokens, temperature: request.temperature, stream: true },
      ctx,
    );
    usage.input += response.usage.input;
    usage.output += response.usage.output;
    usage.cached += response.usage.cached;
    if (response.thinking) transcript.add('thinking', response.thinking);
    transcript.add('assistant', response.text);
    if (last || response.toolCalls.length === 0) {
      return { finalText: response.text, usage, iterations: iteration, capped: last };
    }
    messages.push({ role: 'assistant', content: response.text, toolCalls: response.toolCalls });
    const results = [];
    for (const call of response.toolCalls) {
      ctx.signal.throwIfAborted();
      transcript.add('tool_call', JSON.stringify(call.input), call.name);
      const result = await tools.run(call.name, call.input);
      transcript.add('tool_result', result.content, call.name);
      results.push({ callId: call.id, name: call.name, content: result.content, ...(result.isError ? { isError: true } : {}) });
    }
    messages.push({ role: 'tool', results });
  }
}

function sizeOf(m: ChatMessage): number {
  if (m.role === 'tool') return m.results.reduce((n, r) => n + r.content.length + 40, 0);
  if (m.role === 'assistant') return m.content.length + (m.toolCalls ?? []).reduce((n, c) => n + JSON.stringify(c.input).length + 40, 0);
  return m.content.length;
}

/** Cut older tool outputs (all but the latest tool message) once the estimate nears the window. */
export function truncateOldToolOutputs(messages: ChatMessage[], contextWindow: number): number {
  const estimate = () => messages.reduce((n, m) => n + sizeOf(m), 0) / 4;
  let cut = 0;
  if (estimate() <= contextWindow * CONTEXT_HIGH_WATER) return 0;
  const lastTool = messages.map((m) => m.role).lastIndexOf('tool');
  for (let i = 0; i < lastTool && estimate() > contextWindow * CONTEXT_HIGH_WATER; i += 1) {
    const m = messages[i];
    if (m.role !== 'tool') continue;
    messages[i] = {
      role: 'tool',
      results: m.results.map((r) => {
        if (r.content.length <= TRUNCATED_KEEP) return r;
        cut += 1;
        return { ...r, content: `${r.content.slice(0, TRUNCATED_KEEP)}… [older tool output truncated to save context: ${r.content.length} characters]` };
      }),
    };
  }
  return cut;
}
