import { candidateConversation, MAX_CONTENT } from './transcript';

const requested = (candidateId: string, prompt: object) => ({ type: 'CandidateRequested', data: { phaseId: 'p', attempt: 1, candidateId, prompt } });

describe('candidateConversation', () => {
  it('prefers a recorded transcript', () => {
    const transcript = [{ role: 'thinking' as const, content: 'hmm' }];
    expect(candidateConversation('c1', { transcript, events: [requested('c1', { user: 'u' })] })).toEqual({ source: 'recorded', messages: transcript });
  });

  it('rebuilds system, user, tool and assistant turns from the events', () => {
    const events = [
      requested('c1', { system: 'be terse', user: 'write it' }),
      requested('c2', { user: 'other candidate' }),
      {
        type: 'CandidateGenerated',
        data: {
          candidateId: 'c1',
          output: { title: 'T' },
          toolCalls: [
            { tool: 'read_file', input: { path: 'a.ts' }, outputSummary: '12 lines', refused: false },
            { tool: 'write_file', input: { path: '/etc/x' }, outputSummary: 'outside the workspace', refused: true },
          ],
        },
      },
    ];
    const c = candidateConversation('c1', { events })!;
    expect(c.source).toBe('reconstructed');
    expect(c.messages.map((m) => [m.role, m.tool ?? null])).toEqual([
      ['system', null],
      ['user', null],
      ['tool_call', 'read_file'],
      ['tool_result', 'read_file'],
      ['tool_call', 'write_file'],
      ['tool_result', 'write_file'],
      ['assistant', null],
    ]);
    expect(c.messages[1]!.content).toBe('write it');
    expect(JSON.parse(c.messages[2]!.content)).toEqual({ path: 'a.ts' });
    expect(c.messages[5]!.content).toBe('refused: outside the workspace');
    expect(JSON.parse(c.messages[6]!.content)).toEqual({ title: 'T' });
  });

  it('uses live tool calls while the candidate runs, and a rejected raw output as the assistant turn', () => {
    const live = candidateConversation('c1', { events: [requested('c1', { user: 'go' })], liveToolCalls: [{ tool: 'list_files', input: {} }] })!;
    expect(live.messages.map((m) => m.role)).toEqual(['user', 'tool_call']);
    const rejected = candidateConversation('c1', { events: [requested('c1', { user: 'go' }), { type: 'OutputRejected', data: { candidateId: 'c1', raw: 'not json', errors: ['x'] } }] })!;
    expect(rejected.messages.at(-1)).toEqual({ role: 'assistant', content: 'not json' });
  });

  it('truncates very long content and marks it', () => {
    const c = candidateConversation('c1', { events: [requested('c1', { user: 'x'.repeat(MAX_CONTENT + 10) })] })!;
    expect(c.messages[0]!.truncated).toBe(true);
    expect(c.messages[0]!.content.length).toBe(MAX_CONTENT + 1);
  });

  it('returns null for an unknown candidate', () => {
    expect(candidateConversation('nope', { events: [requested('c1', { user: 'u' })] })).toBeNull();
  });
});
