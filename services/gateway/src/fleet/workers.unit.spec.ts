import type { LiveMessage } from '@conclave/contracts';
import type { DataSource } from '@conclave/read-models';
import type { GatewayConfig } from '../config';
import { WorkersService } from './workers.service';

type Heartbeat = Extract<LiveMessage, { kind: 'heartbeat' }>;

describe('WorkersService.sandboxStatus', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const db = { query: async () => [] } as unknown as DataSource;
  const fleet = () => new WorkersService(db, { WORKER_HEARTBEAT_MS: 2_000 } as GatewayConfig);
  const hb = (workerId: string, sandbox: Heartbeat['sandbox'], at = t0, extra: Partial<Heartbeat> = {}): Heartbeat => ({
    kind: 'heartbeat',
    workerId,
    role: 'llm-worker',
    host: 'h',
    status: 'idle',
    inFlight: 0,
    done: 0,
    failed: 0,
    at: new Date(at).toISOString(),
    ...(sandbox ? { sandbox } : {}),
    ...extra,
  });

  it('is unknown with no live llm-worker, ok when one sandboxes (or opted out), unavailable when all live ones cannot', async () => {
    const f = fleet();
    expect(f.sandboxStatus(t0)).toBe('unknown');
    await f.record(hb('w1', 'unavailable'));
    expect(f.sandboxStatus(t0 + 1_000)).toBe('unavailable');
    await f.record(hb('judge', undefined, t0, { role: 'judge' }));
    expect(f.sandboxStatus(t0 + 1_000)).toBe('unavailable');
    await f.record(hb('w2', 'bwrap'));
    expect(f.sandboxStatus(t0 + 1_000)).toBe('ok');
    // w2 falls silent: only the unavailable one is live
    await f.record(hb('w1', 'unavailable', t0 + 10_000));
    expect(f.sandboxStatus(t0 + 10_000)).toBe('unavailable');
    await f.record(hb('w3', 'disabled', t0 + 10_000));
    expect(f.sandboxStatus(t0 + 10_000)).toBe('ok');
    // all silent
    expect(f.sandboxStatus(t0 + 60_000)).toBe('unknown');
  });

  it('keeps the newest heartbeat of a worker (a late, older one does not overwrite it)', async () => {
    const f = fleet();
    await f.record(hb('w1', 'bwrap', t0 + 2_000));
    await f.record(hb('w1', 'unavailable', t0));
    expect(f.sandboxStatus(t0 + 2_000)).toBe('ok');
  });
});
