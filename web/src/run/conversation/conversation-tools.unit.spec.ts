import type { TranscriptMessage } from '@conclave/contracts';
import { candidateTiming, conversationText, highlightParts, messageTimes, searchMessages } from './conversation-tools';

const messages: TranscriptMessage[] = [
  { role: 'system', content: 'You are a planner.' },
  { role: 'user', content: 'Plan the launch' },
  { role: 'assistant', content: 'Let me read the notes.' },
  { role: 'tool_call', tool: 'read_file', content: '{"path":"notes.md"}' },
  { role: 'tool_result', tool: 'read_file', content: 'Launch in May' },
  { role: 'assistant', content: 'The launch plan: ship in May.' },
];
const events = [
  { type: 'CandidateRequested', occurredAt: '2026-01-01T10:00:00.000Z', data: { candidateId: 'c0' } },
  { type: 'CandidateRequested', occurredAt: '2026-01-01T10:00:00.500Z', data: { candidateId: 'c1' } },
  {
    type: 'CandidateGenerated',
    occurredAt: '2026-01-01T10:00:09.000Z',
    data: { candidateId: 'c0', toolCalls: [{ tool: 'read_file', at: '2026-01-01T10:00:03.000Z', durationMs: 250 }] },
  },
];

describe('conversation times', () => {
  it('dates the prompt at the request, a tool call at its audited time, its result after its duration, an answer at the result', () => {
    const timing = candidateTiming('c0', events);
    expect(timing).toEqual({ requestedAt: '2026-01-01T10:00:00.000Z', finishedAt: '2026-01-01T10:00:09.000Z', toolCalls: [expect.objectContaining({ at: '2026-01-01T10:00:03.000Z' })] });
    expect(messageTimes(messages, timing)).toEqual([
      '2026-01-01T10:00:00.000Z',
      '2026-01-01T10:00:00.000Z',
      '2026-01-01T10:00:03.000Z',
      '2026-01-01T10:00:03.000Z',
      '2026-01-01T10:00:03.250Z',
      '2026-01-01T10:00:09.000Z',
    ]);
  });

  it('leaves a time it cannot know empty (no events yet)', () => {
    expect(messageTimes(messages, candidateTiming('c9', events))).toEqual([null, null, null, null, null, null]);
  });
});

describe('conversation search and copy', () => {
  it('filters by content, role or tool, case-insensitively; an empty query keeps every message', () => {
    expect(searchMessages(messages, 'MAY')).toEqual([4, 5]);
    expect(searchMessages(messages, 'read_file')).toEqual([3, 4]);
    expect(searchMessages(messages, 'tool result')).toEqual([4]);
    expect(searchMessages(messages, '  ')).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('splits text around every match for highlighting', () => {
    expect(highlightParts('May, may and MAY', 'may')).toEqual([
      { text: 'May', match: true },
      { text: ', ', match: false },
      { text: 'may', match: true },
      { text: ' and ', match: false },
      { text: 'MAY', match: true },
    ]);
    expect(highlightParts('nothing here', 'x')).toEqual([{ text: 'nothing here', match: false }]);
  });

  it('copies the conversation as text: time, role, tool, content', () => {
    const text = conversationText(messages.slice(3, 5), ['2026-01-01T10:00:03.000Z', null]);
    expect(text).toBe('[2026-01-01T10:00:03.000Z] Tool call (read_file)\n{"path":"notes.md"}\n\nTool result (read_file)\nLaunch in May');
  });
});
