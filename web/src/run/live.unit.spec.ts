import type { LiveMessage } from '@conclave/contracts';
import { applyLiveMessage } from './use-live-run';

const tokens = (candidateId: string, delta: string): LiveMessage => ({ kind: 'tokens', runId: 'r', phaseId: 'p', candidateId, delta, at: '2025-01-01T00:00:00Z' });

describe('live candidate deltas', () => {
  it('appends token deltas per candidate', () => {
    const state = [tokens('c0', 'Hel'), tokens('c1', 'x'), tokens('c0', 'lo')].reduce(applyLiveMessage, {});
    expect(state.c0!.text).toBe('Hello');
    expect(state.c1!.text).toBe('x');
  });

  it('keeps only the tail of a long stream', () => {
    const state = applyLiveMessage(applyLiveMessage({}, tokens('c0', 'a'.repeat(20_000))), tokens('c0', 'END'));
    expect(state.c0!.text).toHaveLength(20_000);
    expect(state.c0!.text.endsWith('END')).toBe(true);
  });

  it('collects tool calls and ignores heartbeats', () => {
    const call: LiveMessage = { kind: 'tool_call', runId: 'r', phaseId: 'p', candidateId: 'c0', tool: 'read_file', input: { path: 'a' }, at: '2025-01-01T00:00:01Z' };
    const beat: LiveMessage = { kind: 'heartbeat', workerId: 'w', role: 'llm-worker', host: 'h', status: 'idle', inFlight: 0, done: 0, failed: 0, at: '2025-01-01T00:00:01Z' };
    const start = applyLiveMessage({}, call);
    expect(start.c0!.toolCalls).toEqual([call]);
    expect(applyLiveMessage(start, beat)).toBe(start);
  });
});
