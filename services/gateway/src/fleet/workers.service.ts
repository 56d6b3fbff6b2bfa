import { Inject, Injectable } from '@nestjs/common';
import type { LiveMessage, WorkerView } from '@conclave/contracts';
import { WorkerRow, type DataSource } from '@conclave/read-models';
import type { GatewayConfig } from '../config';
import { CONFIG, DATA_SOURCE } from '../tokens';

type Heartbeat = Extract<LiveMessage, { kind: 'heartbeat' }>;

/**
 * The worker fleet from heartbeats (core NATS, best effort). Rows only move forward in time: an
 * older heartbeat delivered late (several gateways, reordering) does not overwrite a newer one.
 */
@Injectable()
export class WorkersService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  async record(hb: Heartbeat): Promise<void> {
    await this.db.query(
      `INSERT INTO workers (id, role, host, status, in_flight, done, failed, last_heartbeat_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role, host = EXCLUDED.host, status = EXCLUDED.status,
         in_flight = EXCLUDED.in_flight, done = EXCLUDED.done, failed = EXCLUDED.failed, last_heartbeat_at = EXCLUDED.last_heartbeat_at
       WHERE workers.last_heartbeat_at <= EXCLUDED.last_heartbeat_at`,
      [hb.workerId, hb.role, hb.host, hb.status, hb.inFlight, hb.done, hb.failed, new Date(hb.at)],
    );
  }

  async list(now = Date.now()): Promise<WorkerView[]> {
    const rows = await this.db.getRepository(WorkerRow).find({ order: { role: 'ASC', id: 'ASC' } });
    const silentAfter = 3 * this.config.WORKER_HEARTBEAT_MS;
    return rows.map((r) => {
      const silent = now - r.lastHeartbeatAt.getTime() > silentAfter;
      const status = silent ? (r.status === 'draining' ? 'stopped' : 'stalled') : (r.status as WorkerView['status']);
      return { id: r.id, role: r.role, host: r.host, status, inFlight: r.inFlight, done: r.done, failed: r.failed, lastHeartbeatAt: r.lastHeartbeatAt.toISOString() };
    });
  }
}
