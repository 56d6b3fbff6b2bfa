import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ConclaveError, type ReplayStatus } from '@conclave/contracts';
import { EventLog } from '@conclave/event-log';
import { replay, type DataSource, type ReplaySource } from '@conclave/read-models';
import type { Logger } from '@conclave/service-kit';
import type { GatewayConfig } from '../config';
import { CONFIG, DATA_SOURCE, LOGGER } from '../tokens';

const IDLE: ReplayStatus = {
  state: 'idle', mode: null, phase: null, processed: 0, total: 0, startedAt: null, finishedAt: null, sequence: null, differenceCount: null, differences: [], error: null,
};

/** The log as replay reads it: pages of the whole events stream. */
export function logSource(log: EventLog): ReplaySource {
  return { lastSequence: () => log.lastSequence(), read: (after, limit, poison) => log.readAll(after, limit, undefined, { poison }) };
}

/**
 * `POST /admin/replay`: rebuild the read models in the background (docs/adr/004-replay.md) and
 * report progress on `GET /admin/replay`. The status is this process's; across gateway replicas
 * the database's advisory lock still allows one replay at a time (a second is a 409).
 */
@Injectable()
export class ReplayService implements OnApplicationShutdown {
  private status: ReplayStatus = IDLE;
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  current(): ReplayStatus {
    return this.status;
  }

  start(verify: boolean): ReplayStatus {
    if (this.running) throw new ConclaveError('illegal_state', 'a replay is already running', { status: this.status.phase });
    this.status = { ...IDLE, state: 'running', mode: verify ? 'verify' : 'swap', phase: 'preparing', startedAt: new Date().toISOString() };
    this.logger.info({ verify }, 'replay started');
    this.running = replay({
      dataSource: this.dataSource,
      databaseUrl: this.config.DATABASE_URL,
      source: logSource(this.log),
      verify,
      signal: this.abort.signal,
      onProgress: (p) => (this.status = { ...this.status, phase: p.phase, processed: p.processed, total: p.total }),
    })
      .then((report) => {
        this.status = {
          ...this.status,
          state: 'completed',
          finishedAt: new Date().toISOString(),
          sequence: report.sequence,
          differenceCount: report.differenceCount,
          differences: report.differences,
        };
        this.logger.info({ mode: report.mode, processed: report.processed, sequence: report.sequence, differences: report.differenceCount, ms: report.durationMs }, 'replay finished');
      })
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        this.status = { ...this.status, state: 'failed', finishedAt: new Date().toISOString(), error: message };
        this.logger.error({ err }, 'replay failed; the live read models are unchanged');
      })
      .finally(() => (this.running = null));
    return this.status;
  }

  /** a replay in progress stops at its next batch (the live tables are untouched until its last step) */
  async onApplicationShutdown() {
    this.abort.abort();
    await this.running;
  }
}
