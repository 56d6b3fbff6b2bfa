import type { TranscriptMessage } from '@conclave/contracts';

/**
 * What the conversation viewer adds to a candidate's messages: when each was sent, a search that
 * filters and highlights, and the conversation as text to copy. Pure.
 *
 * Times: a transcript message carries none, so they come from the run's events — the prompt
 * (system, user) at the candidate's request, each tool call at its audited time (its result after
 * the call's duration), an assistant or thinking turn when the next tool call starts or, for the
 * last one, when the candidate's result was recorded.
 */

export interface ToolTiming {
  at?: string;
  durationMs?: number;
}
export interface CandidateTiming {
  requestedAt: string | null;
  finishedAt: string | null;
  toolCalls: readonly ToolTiming[];
}
interface TimedEvent {
  type: string;
  occurredAt?: string;
  data: unknown;
}

const FINISHED = new Set(['CandidateGenerated', 'CandidateFailed', 'OutputRejected']);

/** The candidate's request time (its last (re)dispatch), when its result came, and its tool calls, from the run's events. */
export function candidateTiming(candidateId: string, events: readonly TimedEvent[], liveToolCalls: readonly ToolTiming[] = []): CandidateTiming {
  let requestedAt: string | null = null;
  let finishedAt: string | null = null;
  let toolCalls: readonly ToolTiming[] = liveToolCalls;
  for (const e of events) {
    const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as { candidateId?: unknown; toolCalls?: unknown };
    if (data.candidateId !== candidateId || !e.occurredAt) continue;
    if (e.type === 'CandidateRequested' && requestedAt === null) requestedAt = e.occurredAt;
    if (FINISHED.has(e.type)) finishedAt = e.occurredAt;
    if (e.type === 'CandidateGenerated' && Array.isArray(data.toolCalls)) toolCalls = data.toolCalls as ToolTiming[];
  }
  return { requestedAt, finishedAt, toolCalls };
}

const plus = (iso: string | undefined, ms: number | undefined) => (iso && ms !== undefined ? new Date(Date.parse(iso) + ms).toISOString() : (iso ?? null));

/** One time per message (null where the events say nothing). */
export function messageTimes(messages: readonly TranscriptMessage[], timing: CandidateTiming): (string | null)[] {
  const callTimes: (string | null)[] = [];
  let call = 0;
  // tool calls first: an assistant turn takes the time of the call that follows it
  for (const m of messages) {
    if (m.role === 'tool_call') callTimes.push(timing.toolCalls[call++]?.at ?? null);
  }
  const times: (string | null)[] = [];
  let calls = 0;
  let started = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if ((m.role === 'system' || m.role === 'user') && !started) {
      times.push(timing.requestedAt);
      continue;
    }
    started = true;
    if (m.role === 'tool_call') {
      times.push(callTimes[calls] ?? null);
      calls += 1;
    } else if (m.role === 'tool_result') {
      const previous = timing.toolCalls[calls - 1];
      times.push(plus(previous?.at, previous?.durationMs));
    } else if (m.role === 'assistant' || m.role === 'thinking') {
      times.push(calls < callTimes.length ? (callTimes[calls] ?? null) : timing.finishedAt);
    } else {
      times.push(null);
    }
  }
  return times;
}

/** The indices of the messages whose content, role or tool contains `query` (case-insensitive); every index for an empty query. */
export function searchMessages(messages: readonly TranscriptMessage[], query: string): number[] {
  const q = query.trim().toLowerCase();
  const all = messages.map((_, i) => i);
  if (!q) return all;
  return all.filter((i) => {
    const m = messages[i]!;
    return m.content.toLowerCase().includes(q) || m.role.replace('_', ' ').includes(q) || (m.tool?.toLowerCase().includes(q) ?? false);
  });
}

/** `text` split around the occurrences of `query` (case-insensitive), for <mark>. */
export function highlightParts(text: string, query: string): { text: string; match: boolean }[] {
  const q = query.trim().toLowerCase();
  if (!q) return [{ text, match: false }];
  const lower = text.toLowerCase();
  const parts: { text: string; match: boolean }[] = [];
  let from = 0;
  for (let at = lower.indexOf(q); at !== -1; at = lower.indexOf(q, at + q.length)) {
    if (at > from) parts.push({ text: text.slice(from, at), match: false });
    parts.push({ text: text.slice(at, at + q.length), match: true });
    from = at + q.length;
  }
  if (from < text.length) parts.push({ text: text.slice(from), match: false });
  return parts.length > 0 ? parts : [{ text, match: false }];
}

export const ROLE_LABEL: Record<TranscriptMessage['role'], string> = {
  system: 'System',
  user: 'User',
  assistant: 'Assistant',
  thinking: 'Thinking',
  tool_call: 'Tool call',
  tool_result: 'Tool result',
};

/** One message as copied: `[time] Role (tool)` then its content. */
export function messageText(m: TranscriptMessage, time: string | null): string {
  return `${time ? `[${time}] ` : ''}${ROLE_LABEL[m.role]}${m.tool ? ` (${m.tool})` : ''}\n${m.content}`;
}

/** The whole conversation as copied, messages separated by a blank line. */
export function conversationText(messages: readonly TranscriptMessage[], times: readonly (string | null)[]): string {
  return messages.map((m, i) => messageText(m, times[i] ?? null)).join('\n\n');
}
