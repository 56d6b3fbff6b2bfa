import { Controller, Get, Inject } from '@nestjs/common';
import type { z } from 'zod';
import { ConclaveError, HealthView as HealthViewSchema, messageSequenceOf, type ReadyView } from '@conclave/contracts';
import { EventLog } from '@conclave/event-log';
import { ReadModelQueries, type DataSource } from '@conclave/read-models';
import { SkipMinSequence } from '../http/min-sequence.interceptor';
import type { GatewayConfig } from '../config';
import { CONFIG, DATA_SOURCE } from '../tokens';
import { readDurability, within } from './durability';

type HealthView = z.infer<typeof HealthViewSchema>;

const PROBE_TIMEOUT_MS = 1000;

export type Down = 'nats' | 'postgres' | 'projector';

/**
 * Which dependencies fail, in a list a monitor can match and a sentence an operator can read:
 * NATS or Postgres unreachable, the projector N events behind the log. With NATS or Postgres down
 * the projector's lag cannot be measured; the sentence says so instead of guessing.
 */
export function whatIsDown(
  checks: { nats: boolean; postgres: boolean; projector: boolean },
  sequence: { log: number | null; applied: number | null },
): { down: Down[]; message: string } {
  const down: Down[] = [];
  const parts: string[] = [];
  if (!checks.nats) {
    down.push('nats');
    parts.push('NATS (the event log) is unreachable');
  }
  if (!checks.postgres) {
    down.push('postgres');
    parts.push('Postgres (the read models) is unreachable');
  }
  if (checks.nats && checks.postgres && !checks.projector) {
    down.push('projector');
    const { log, applied } = sequence;
    parts.push(
      log !== null && applied !== null
        ? `the projector is ${behind(log, applied)} commit${behind(log, applied) === 1 ? '' : 's'} behind the log (applied position ${applied} of ${log})`
        : 'the projector\'s progress could not be read',
    );
  } else if (!checks.projector) {
    parts.push('the projector cannot be checked while a dependency is down');
  }
  return { down, message: down.length === 0 ? 'ready' : `not ready: ${parts.join('; ')}` };
}

/** Liveness (`/health`: process up, NATS connected) and readiness (`/ready`: NATS, Postgres, projector caught up). */
@Controller()
@SkipMinSequence()
export class HealthController {
  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get('health')
  async health(): Promise<HealthView> {
    const nats = await this.natsAnswers();
    if (!nats) throw new ConclaveError('unavailable', 'NATS is not connected', { checks: { nats }, down: ['nats'] });
    return { status: 'ok', service: 'gateway', checks: { nats } };
  }

  @Get('ready')
  async ready(): Promise<ReadyView> {
    const [nats, postgres, durability] = await Promise.all([
      this.natsAnswers(),
      within(PROBE_TIMEOUT_MS, async () => (await this.dataSource.query('select 1')) !== undefined).then((ok) => ok === true),
      // what an acknowledged write survives (ADR 011): on a 200, and in a 503's details
      readDurability({ log: this.log, dataSource: this.dataSource, announcedSync: this.config.CONCLAVE_NATS_SYNC, timeoutMs: PROBE_TIMEOUT_MS }),
    ]);
    let logSequence: number | null = null;
    let projector = false;
    if (nats && postgres) {
      // caught up = the projector has applied the log's last sequence (waiting at most 1 s for it)
      logSequence = await within(PROBE_TIMEOUT_MS, () => this.log.lastSequence());
      if (logSequence !== null) {
        const target = logSequence;
        projector = (await within(PROBE_TIMEOUT_MS + 250, () => this.queries.waitForSequence(target, PROBE_TIMEOUT_MS))) === true;
      }
    }
    const applied = postgres ? await within(PROBE_TIMEOUT_MS, () => this.queries.appliedSequence()) : null;
    const checks = { nats, postgres, projector };
    const sequence = { log: logSequence, applied };
    const { down, message } = whatIsDown(checks, sequence);
    // a 503 names what is down (`down`, and the message); 200 only when nothing is
    if (down.length > 0) throw new ConclaveError('unavailable', message, { checks, sequence, down, durability });
    return { status: 'ok', service: 'gateway', checks, sequence, durability };
  }

  private async natsAnswers(): Promise<boolean> {
    if (this.log.nc.isClosed()) return false;
    return (await within(PROBE_TIMEOUT_MS, () => this.log.nc.flush().then(() => true))) === true;
  }
}

/** log messages (commits, ADR 014) between two positions */
function behind(log: number, applied: number): number {
  return Math.max(0, messageSequenceOf(log) - messageSequenceOf(applied));
}
