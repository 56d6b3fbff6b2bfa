import type { WorkerView } from '@conclave/contracts';
import { applyHeartbeat, effectiveStatus, STALL_AFTER_MS } from './fleet';

const hb = (workerId: string, at: string, status: 'idle' | 'busy' | 'draining' = 'busy') => ({
  kind: 'heartbeat' as const,
  workerId,
  role: 'llm-worker' as const,
  host: 'h1',
  status,
  inFlight: 1,
  done: 2,
  failed: 0,
  at,
});

describe('fleet', () => {
  it('adds unknown workers and updates known ones', () => {
    const one = applyHeartbeat([], hb('w1', '2025-01-01T00:00:00Z'));
    expect(one).toEqual([expect.objectContaining({ id: 'w1', status: 'busy', lastHeartbeatAt: '2025-01-01T00:00:00Z' })]);
    const two = applyHeartbeat(one, hb('w1', '2025-01-01T00:00:05Z', 'idle'));
    expect(two).toHaveLength(1);
    expect(two[0]!.status).toBe('idle');
  });

  it('ignores an older heartbeat', () => {
    const one = applyHeartbeat([], hb('w1', '2025-01-01T00:00:05Z'));
    expect(applyHeartbeat(one, hb('w1', '2025-01-01T00:00:00Z', 'idle'))).toBe(one);
  });

  it('marks a silent worker stalled, a silent draining one stopped', () => {
    const w: WorkerView = { id: 'w1', role: 'llm-worker', host: 'h', inFlight: 0, done: 0, failed: 0, status: 'busy', lastHeartbeatAt: '2025-01-01T00:00:00Z' };
    const t = Date.parse('2025-01-01T00:00:00Z');
    expect(effectiveStatus(w, t + 1000)).toBe('busy');
    expect(effectiveStatus(w, t + STALL_AFTER_MS + 1)).toBe('stalled');
    expect(effectiveStatus({ ...w, status: 'draining' }, t + STALL_AFTER_MS + 1)).toBe('stopped');
  });
});
