import type { JsMsg } from '@nats-io/jetstream';
import { DeadLetterMessage } from '@conclave/contracts';
import { ack, nak, raiseAlert, runConsumer, term, type Disposition, type EventLog, type RunningConsumer } from '@conclave/event-log';
import { foldDeadLetter, type DataSource } from '@conclave/read-models';
import type { ProjectorLogger } from './projector';
import { deadLetterAlert } from './alerts/detectors';

export interface DeadLetterProjectorOptions {
  log: EventLog;
  dataSource: DataSource;
  logger: ProjectorLogger;
  /** delay before a redrive mark whose record is not folded yet comes back (default 1 s) */
  missingRecordDelayMs?: number;
  /** delay before retrying after the consumer could not be started (default 2 s) */
  restartDelayMs?: number;
}

/**
 * The second loop of the projector, beside the events projection: folds the DEAD_LETTERS stream
 * (durable `dead-letters`) into the `dead_letters` read model, and records a `dead_letter` alert
 * for each record in the log (`AlertRaised`, ADR 016), acked once both are done (runConsumer).
 *
 * At-least-once: foldDeadLetter is idempotent (a record is inserted once by its sequence; a
 * redelivered one changes nothing), and so is the alert (its id is the record's sequence: a
 * redelivery, after a crash between the commit and the append, appends it then and only once). A transient failure (Postgres
 * down) is a thrown error: runConsumer naks it with backoff. A message that is not a dead-letter
 * message is poison: `undecodable`, copied to `dead.dead-letters` (a valid record that this loop
 * then folds like any other) and acked.
 */
export class DeadLetterProjector {
  private running: RunningConsumer | null = null;
  private starting: Promise<void> | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private lastError: string | null = null;

  constructor(private readonly options: DeadLetterProjectorOptions) {}

  /** Start consuming in the background (idempotent); a failure to start is retried until stop(). */
  start(): void {
    if (this.running || this.starting) return;
    this.stopped = false;
    this.starting = this.open().finally(() => (this.starting = null));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.starting;
    const running = this.running;
    this.running = null;
    await running?.stop();
  }

  /** true once the consumer runs (false while it could not be started) */
  get healthy(): boolean {
    return this.running !== null;
  }

  get status(): { running: boolean; lastError: string | null } {
    return { running: this.running !== null, lastError: this.lastError };
  }

  /** What one DEAD_LETTERS message does to the read model: ack after the commit, nak a mark whose record is not folded yet, term what is not a dead-letter message. */
  async handle(m: JsMsg): Promise<Disposition> {
    let message: DeadLetterMessage;
    try {
      const parsed = DeadLetterMessage.safeParse(m.json());
      if (!parsed.success) return term(`not a dead-letter message: ${parsed.error.issues[0]?.message ?? 'invalid'}`, 'undecodable');
      message = parsed.data;
    } catch (err) {
      return term(`not JSON: ${err instanceof Error ? err.message : String(err)}`, 'undecodable');
    }
    const result = await this.options.dataSource.transaction((manager) => foldDeadLetter(manager, m.seq, message));
    if (result === 'record_missing') return nak(this.options.missingRecordDelayMs ?? 1_000);
    if (message.kind === 'dead') {
      // a failed append throws: runConsumer naks, and the redelivery (a duplicate fold) appends it
      await raiseAlert(this.options.log, deadLetterAlert(m.seq, message), { occurredAt: new Date().toISOString(), actor: { kind: 'system', id: 'projector' } });
    }
    if (result === 'recorded' && message.kind === 'dead') {
      this.options.logger.warn(
        { id: m.seq, consumer: message.consumer, subject: message.subject, reason: message.reason, runId: message.runId },
        'dead letter recorded',
      );
    }
    return ack();
  }

  private async open(): Promise<void> {
    const { log } = this.options;
    try {
      this.running = await runConsumer(
        log,
        {
          stream: log.names.streams.deadLetters,
          durable: log.names.consumers.deadLetters,
          onError: (m, err) => {
            this.lastError = err instanceof Error ? err.message : String(err);
            this.options.logger.warn({ err, sequence: m.seq }, 'dead letter not folded; it comes back after a backoff');
          },
        },
        (m) => this.handle(m),
      );
      this.lastError = null;
      if (this.stopped) {
        const running = this.running;
        this.running = null;
        await running.stop();
        return;
      }
      this.options.logger.info({}, 'projector following the dead letters');
      const ended = () => {
        // the consume loop ended without stop() (the consumer was deleted, the connection closed)
        if (this.stopped) return;
        this.running = null;
        this.scheduleRestart();
      };
      this.running.done.then(ended, ended);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.options.logger.warn({ err }, 'could not follow the dead letters; retrying');
      this.scheduleRestart();
    }
  }

  private scheduleRestart(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.start();
    }, this.options.restartDelayMs ?? 2_000);
  }
}
