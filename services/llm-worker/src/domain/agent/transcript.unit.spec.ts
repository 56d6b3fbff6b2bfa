import { TranscriptBuilder } from './transcript';

describe('TranscriptBuilder', () => {
  it('cuts each message to the cap', () => {
    const t = new TranscriptBuilder(10);
    t.add('user', 'x'.repeat(25));
    expect(t.build()).toEqual([{ role: 'user', content: `${'x'.repeat(10)}… (15 more characters)`, truncated: true }]);
  });

  it('keeps the start and the end within the total bound, with a marker for what was dropped', () => {
    const t = new TranscriptBuilder(1_000, 5_000);
    t.add('system', 'sys');
    t.add('user', 'task');
    for (let i = 0; i < 50; i += 1) t.add('tool_result', `${i}`.padEnd(500, '.'), 'read_file');
    t.add('assistant', 'final answer');
    const built = t.build();
    expect(built.reduce((n, m) => n + m.content.length, 0)).toBeLessThan(5_000);
    expect(built.slice(0, 2).map((m) => m.content)).toEqual(['sys', 'task']);
    expect(built.at(-1)!.content).toBe('final answer');
    expect(built.find((m) => m.content.endsWith('messages omitted)'))).toBeDefined();
  });
});
