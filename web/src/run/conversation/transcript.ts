import type { TranscriptMessage } from '@conclave/contracts';

/**
 * A candidate's conversation. When the worker recorded one (the candidate's `transcript` ref;
 * `GET /runs/:id/candidates/:candidateId/transcript` serves its messages) it is shown as is;
 * otherwise the turns are RECONSTRUCTED from the run's events: the prompt of CandidateRequested
 * (system + user), the tool calls of CandidateGenerated (or the live ones while it runs), and the
 * output of CandidateGenerated (or the raw output of OutputRejected) as the assistant's turn. A
 * reconstruction has no thinking and no intermediate assistant turns.
 */
export type ConversationSource = 'recorded' | 'reconstructed';
export interface Conversation {
  source: ConversationSource;
  messages: TranscriptMessage[];
}

/** The part of a timeline entry / socket event this needs. */
export interface EventLike {
  type: string;
  data: unknown;
}
export interface ToolCallLike {
  tool: string;
  input?: unknown;
  outputSummary?: string;
  refused?: boolean;
}

/** Content longer than this (characters or lines) is shown collapsed until expanded. */
export const COLLAPSE_CHARS = 1200;
export const COLLAPSE_LINES = 16;
export function isLongContent(content: string): boolean {
  if (content.length > COLLAPSE_CHARS) return true;
  let lines = 1;
  for (let i = content.indexOf('\n'); i !== -1; i = content.indexOf('\n', i + 1)) if (++lines > COLLAPSE_LINES) return true;
  return false;
}

/** Longest message content kept (the worker caps its transcript the same way). */
export const MAX_CONTENT = 20_000;

function message(role: TranscriptMessage['role'], content: string, tool?: string): TranscriptMessage {
  const truncated = content.length > MAX_CONTENT;
  return { role, content: truncated ? `${content.slice(0, MAX_CONTENT)}…` : content, ...(tool ? { tool } : {}), ...(truncated ? { truncated } : {}) };
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

type Data = Record<string, unknown>;
const dataOf = (e: EventLike): Data => (typeof e.data === 'object' && e.data !== null ? (e.data as Data) : {});

function toolMessages(calls: readonly ToolCallLike[]): TranscriptMessage[] {
  return calls.flatMap((c) => {
    const out = [message('tool_call', text(c.input), c.tool)];
    if (c.refused) out.push(message('tool_result', `refused${c.outputSummary ? `: ${c.outputSummary}` : ''}`, c.tool));
    else if (c.outputSummary !== undefined) out.push(message('tool_result', c.outputSummary, c.tool));
    return out;
  });
}

/**
 * The conversation of `candidateId`: its recorded transcript when there is one, else rebuilt from
 * `events` (in sequence order) and `liveToolCalls` (the socket's, for a candidate still running).
 * Returns null when nothing is known about the candidate.
 */
export function candidateConversation(
  candidateId: string,
  options: { transcript?: readonly TranscriptMessage[] | null; events?: readonly EventLike[]; liveToolCalls?: readonly ToolCallLike[] },
): Conversation | null {
  if (options.transcript && options.transcript.length > 0) return { source: 'recorded', messages: [...options.transcript] };
  const mine = (options.events ?? []).filter((e) => dataOf(e).candidateId === candidateId);
  const requested = mine.findLast((e) => e.type === 'CandidateRequested');
  const generated = mine.findLast((e) => e.type === 'CandidateGenerated');
  const rejected = mine.findLast((e) => e.type === 'OutputRejected');
  const messages: TranscriptMessage[] = [];
  if (requested) {
    const prompt = dataOf(requested).prompt as { system?: unknown; user?: unknown } | undefined;
    if (typeof prompt?.system === 'string' && prompt.system) messages.push(message('system', prompt.system));
    if (typeof prompt?.user === 'string') messages.push(message('user', prompt.user));
  }
  const recordedCalls = generated ? (dataOf(generated).toolCalls as ToolCallLike[] | undefined) : undefined;
  messages.push(...toolMessages(recordedCalls ?? options.liveToolCalls ?? []));
  if (generated) messages.push(message('assistant', text(dataOf(generated).output)));
  else if (rejected) messages.push(message('assistant', text(dataOf(rejected).raw)));
  if (messages.length === 0) return null;
  return { source: 'reconstructed', messages };
}
