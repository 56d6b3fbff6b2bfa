import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ServiceMetrics } from '@conclave/service-kit';
import type { LiveMessage, WorkerView } from '@conclave/contracts';
import { WorkerRow, type DataSource } from '@conclave/read-models';
import type { GatewayConfig } from '../config';
import { CONFIG, DATA_SOURCE } from '../tokens';

type Heartbeat = Extract<LiveMessage, { kind: 'heartbeat' }>;
type SandboxKind = NonNullable<Heartbeat['sandbox']>;

/** What POST /runs needs to know before it accepts agent or tool phases. */
export type FleetSandboxStatus = 'ok' | 'unavailable' | 'unknown';

/**
 * The worker fleet from heartbeats (core NATS, best effort). Rows only move forward in time: an
 * older heartbeat delivered late (several gateways, reordering) does not overwrite a newer one.
 */
@Injectable()
export class WorkersService implements OnModuleInit, OnModuleDestroy {
  /**
   * The sandbox each worker last advertised, with its role, status and heartbeat time. Kept in
   * memory: every gateway subscribes to every heartbeat (no queue group), so each one knows the
   * whole fleet within one heartbeat period of starting.
   */
  private readonly sandboxes = new Map<string, { role: string; status: string; sandbox: SandboxKind | null; at: number }>();

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** `conclave_fleet_workers` by role and status (stalled included), from this view at scrape */
  private unwatch = () => {};
  onModuleInit() {
    this.unwatch = new ServiceMetrics('gateway').watchFleet(() => this.list());
  }
  onModuleDestroy() {
    this.unwatch();
  }

  async record(hb: Heartbeat): Promise<void> {
    const at = new Date(hb.at).getTime();
    const known = this.sandboxes.get(hb.workerId);
    if (!known || known.at <= at) this.sandboxes.set(hb.workerId, { role: hb.role, status: hb.status, sandbox: hb.sandbox ?? null, at });
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
      const sandbox = this.sandboxes.get(r.id)?.sandbox ?? null;
      return { id: r.id, role: r.role, host: r.host, status, inFlight: r.inFlight, done: r.done, failed: r.failed, lastHeartbeatAt: r.lastHeartbeatAt.toISOString(), sandbox };
    });
  }

  /**
   * Whether tool processes (agents' bash/git, tool phases) can run somewhere in the fleet:
   * `ok` when a live llm-worker runs them in bubblewrap or under the operator's opt-out;
   * `unavailable` when live llm-workers report a sandbox and every one of them is `unavailable`
   * (such runs should be refused at start, naming the fix); `unknown` when no live llm-worker has
   * said (none running, or this gateway started less than a heartbeat ago): the caller decides.
   */
  sandboxStatus(now = Date.now()): FleetSandboxStatus {
    const silentAfter = 3 * this.config.WORKER_HEARTBEAT_MS;
    const live = [...this.sandboxes.values()].filter((w) => w.role === 'llm-worker' && w.status !== 'draining' && now - w.at <= silentAfter && w.sandbox !== null);
    if (live.some((w) => w.sandbox === 'bwrap' || w.sandbox === 'disabled')) return 'ok';
    return live.length > 0 ? 'unavailable' : 'unknown';
  }
}
