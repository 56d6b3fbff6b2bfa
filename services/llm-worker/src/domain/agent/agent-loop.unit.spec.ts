import type { ChatMessage } from '@conclave/worker-kit';
import { truncateOldToolOutputs } from './agent-loop';

describe('context management of the agent loop', () => {
  const tool = (content: string): ChatMessage => ({ role: 'tool', results: [{ callId: 'c', name: 'read_file', content }] });

  it('leaves a conversation below 70 % of the window alone', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'x' }, tool('a'.repeat(1_000))];
    expect(truncateOldToolOutputs(messages, 10_000)).toBe(0);
  });

  it('cuts older tool outputs first and keeps the latest round whole', () => {
    const big = 'b'.repeat(40_000);
    const messages: ChatMessage[] = [
      { role: 'user', content: 'task' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'read_file', input: {} }] },
      tool(big),
      { role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'read_file', input: {} }] },
      tool(big),
    ];
    expect(truncateOldToolOutputs(messages, 20_000)).toBe(1);
    const [older, latest] = [messages[2], messages[4]] as Extract<ChatMessage, { role: 'tool' }>[];
    expect(older.results[0].content).toMatch(/older tool output truncated to save context: 40000 characters/);
    expect(latest.results[0].content).toBe(big);
  });
});
