import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { ALERT_ROOM_EVENTS, LiveMessage, messageSequenceOf, parseEventSubject, type Room } from '@conclave/contracts';
import { EventLog } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import { LOGGER } from '../tokens';
import { CostsService } from '../costs/costs.service';
import { WorkersService } from '../fleet/workers.service';
import { TemplateCache } from '../runs/template-cache';
import { LiveGateway } from './live.gateway';

/** Events that change what was spent: also relayed to the `costs` room. */
const COST_EVENTS = new Set(['CandidateGenerated', 'VerdictRecorded']);
const BUDGET_CHECK_DELAY_MS = 2_000;

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

/**
 * Relays the log and the live deltas to socket.io rooms.
 *
 * - Events: an ordered JetStream consumer on the events stream (ephemeral, no acks), from "new" at
 *   boot. If it fails it is recreated from the last relayed sequence + 1, with backoff, so a gap is
 *   only possible while the gateway itself is down. Delivery to a socket is best effort: clients
 *   fill gaps from the timeline endpoint by sequence.
 * - Live deltas: a core NATS subscription (not in the log, lost when nobody listens).
 */
@Injectable()
export class RelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private messages: ConsumerMessages | null = null;
  private live: Subscription | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  /** stream sequence of the last message relayed (a commit holds several events) */
  private lastSequence = 0;
  private restarts = 0;
  private opened = false;
  private budgetTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(LiveGateway) private readonly sockets: LiveGateway,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(WorkersService) private readonly workers: WorkersService,
    @Inject(CostsService) private readonly costs: CostsService,
    @Inject(TemplateCache) private readonly templates: TemplateCache,
  ) {}

  get restartCount(): number {
    return this.restarts;
  }

  async onApplicationBootstrap() {
    this.live = this.log.nc.subscribe(this.log.names.subjects.allLive, { callback: (err, msg) => (err ? this.logger.warn({ err: err.message }, 'live subscription error') : this.relayLive(msg)) });
    // the resume point should the first consumer fail before it relays anything
    this.lastSequence = messageSequenceOf(await this.log.lastSequence().catch(() => 0));
    // the first consumer is created before boot completes: events appended after boot are relayed
    const first = await this.open().catch((err: unknown) => {
      this.logger.warn({ err: String(err) }, 'event relay could not start; retrying');
      return null;
    });
    this.loop = this.run(first);
  }

  async beforeApplicationShutdown() {
    this.stopping = true;
    if (this.budgetTimer) clearTimeout(this.budgetTimer);
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    if (this.live && !this.live.isClosed()) this.live.unsubscribe();
    this.logger.info({ relayedSequence: this.lastSequence }, 'event relay stopped');
  }

  private async open(): Promise<ConsumerMessages> {
    const { streams, subjects } = this.log.names;
    // a single string: nats-server 2.9 refuses filter_subjects arrays
    const from = this.opened ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSequence + 1 } : { deliver_policy: DeliverPolicy.New };
    this.opened = true;
    const consumer = await this.log.js.consumers.get(streams.events, { filter_subjects: subjects.allEvents, ...from });
    const messages = await consumer.consume();
    this.messages = messages;
    return messages;
  }

  private async run(first: ConsumerMessages | null): Promise<void> {
    let messages = first;
    let failures = first ? 0 : 1;
    while (!this.stopping) {
      try {
        if (!messages) {
          await this.sleep(backoff(failures));
          if (this.stopping) break;
          messages = await this.open();
          if (this.stopping) {
            await messages.close().catch(() => undefined); // shutdown began while it was opening
            break;
          }
          this.restarts += 1;
          this.logger.info({ from: this.lastSequence + 1 }, 'event relay restarted');
        }
        for await (const m of messages) {
          failures = 0;
          this.relayEvent(m);
        }
        if (this.stopping) break;
        throw new Error('the ordered consumer ended');
      } catch (err) {
        if (this.stopping) break;
        failures += 1;
        messages = null;
        this.logger.warn({ err: String(err), lastSequence: this.lastSequence, attempt: failures }, 'event relay failed; restarting');
      }
    }
  }

  private relayEvent(m: JsMsg): void {
    if (m.seq <= this.lastSequence) return; // a restart never goes backwards
    this.lastSequence = m.seq;
    let events;
    try {
      events = EventLog.decodeAll(m); // a commit: the events of one decision (ADR 014)
    } catch (err) {
      this.logger.warn({ sequence: m.seq, subject: m.subject, err: String(err) }, 'dropped an undecodable event');
      return;
    }
    const aggregate = parseEventSubject(m.subject, this.log.names.prefix);
    if (aggregate?.aggregate === 'template') this.templates.invalidate(aggregate.id);
    const runId = aggregate?.aggregate === 'run' ? aggregate.id : null;
    const studyId = aggregate?.aggregate === 'study' ? aggregate.id : null;
    const base: Room[] = runId ? ['runs', `run:${runId}`] : studyId ? ['studies', `study:${studyId}`] : [];
    for (const event of events) {
      const rooms = [...base];
      if (COST_EVENTS.has(event.type)) {
        rooms.push('costs');
        this.scheduleBudgetCheck();
      }
      // alerts raised and acknowledged (events.alert.<id>) and a run's budget alerts (ADR 016)
      if (ALERT_ROOM_EVENTS.includes(event.type)) rooms.push('alerts');
      this.sockets.emitEvent(rooms, { sequence: event.sequence, type: event.type, runId, ...(studyId ? { studyId } : {}), occurredAt: event.occurredAt, data: event.data });
    }
  }

  private relayLive(msg: Msg): void {
    const room = liveRoom(msg.subject, this.log.names.prefix);
    if (!room) return void this.logger.warn({ subject: msg.subject }, 'dropped a live message on an unknown subject');
    let payload: unknown;
    try {
      payload = msg.json();
    } catch {
      return void this.logger.warn({ subject: msg.subject }, 'dropped a live message that is not JSON');
    }
    this.sockets.emitLive(room, payload);
    if (room === 'fleet') this.recordHeartbeat(payload);
  }

  /**
   * Monthly budget alerts after spend changed. Debounced, and delayed so that the projector has
   * folded the cost first (the relay sees events before the read models do). Best effort: a
   * missed check is repeated by the next cost event or budget change.
   */
  private scheduleBudgetCheck(): void {
    if (this.budgetTimer || this.stopping) return;
    this.budgetTimer = setTimeout(() => {
      this.budgetTimer = null;
      this.costs.checkBudgets().catch((err: unknown) => this.logger.warn({ err: String(err) }, 'budget check failed'));
    }, BUDGET_CHECK_DELAY_MS);
    this.budgetTimer.unref();
  }

  /** Best effort like the heartbeat itself: a failed upsert is logged, the next heartbeat repairs it. */
  private recordHeartbeat(payload: unknown): void {
    const parsed = LiveMessage.safeParse(payload);
    if (!parsed.success || parsed.data.kind !== 'heartbeat') return;
    this.workers.record(parsed.data).catch((err: unknown) => this.logger.warn({ workerId: parsed.data.kind === 'heartbeat' ? parsed.data.workerId : null, err: String(err) }, 'could not record a heartbeat'));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** `live.run.<id>` → `run:<id>`, `live.worker.<id>` → `fleet` (prefix-aware). */
export function liveRoom(subject: string, prefix: string): Room | null {
  const parts = subject.split('.');
  const offset = prefix ? 1 : 0;
  if (parts[offset] !== 'live' || parts.length !== offset + 3) return null;
  const [kind, id] = [parts[offset + 1], parts[offset + 2]!];
  if (kind === 'run' && /^[A-Za-z0-9_-]{1,80}$/.test(id)) return `run:${id}`;
  if (kind === 'worker') return 'fleet';
  return null;
}

function backoff(attempt: number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
