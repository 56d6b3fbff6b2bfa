import type { Registry } from 'prom-client';
import { defineCounter, defineHistogram, processRegistry } from './registry';
import { ScrapedGauges } from './scraped';

/**
 * Conclave's metrics, defined once per process. Names follow Prometheus conventions: the
 * `conclave_` prefix, the unit in the name, `_total` on counters. Every series carries `service`
 * (the service module that recorded it: in the single-process stack all five share the process).
 */

/** seconds: a simulated call takes milliseconds, an agent minutes */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** seconds: a phase spans its candidates, judge and retries (gates wait for a person) */
const PHASE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

function create() {
  return {
    runsStarted: defineCounter({ name: 'conclave_runs_started_total', help: 'Runs started (RunStarted appended), by template id', labelNames: ['service', 'template'] }),
    runsCompleted: defineCounter({ name: 'conclave_runs_completed_total', help: 'Runs completed (RunCompleted appended), by template id', labelNames: ['service', 'template'] }),
    runsFailed: defineCounter({ name: 'conclave_runs_failed_total', help: 'Runs failed (RunFailed appended), by template id', labelNames: ['service', 'template'] }),
    runsCancelled: defineCounter({ name: 'conclave_runs_cancelled_total', help: 'Runs cancelled (RunCancelled appended), by template id', labelNames: ['service', 'template'] }),
    phaseDuration: defineHistogram({
      name: 'conclave_phase_duration_seconds',
      help: 'Phase attempts from PhaseStarted to PhaseCompleted or PhaseFailed, by phase kind and outcome',
      labelNames: ['service', 'kind', 'outcome'],
      buckets: PHASE_BUCKETS,
    }),
    candidateDuration: defineHistogram({
      name: 'conclave_candidate_duration_seconds',
      help: 'Candidate calls as the llm-worker timed them (command taken to result built), by provider, model and outcome (generated or failed)',
      labelNames: ['service', 'provider', 'model', 'outcome'],
      buckets: CALL_BUCKETS,
    }),
    judgeDuration: defineHistogram({
      name: 'conclave_judge_duration_seconds',
      help: 'Judge calls as the judge timed them, by provider, model and outcome (scored or failed)',
      labelNames: ['service', 'provider', 'model', 'outcome'],
      buckets: CALL_BUCKETS,
    }),
    tokens: defineCounter({
      name: 'conclave_llm_tokens_total',
      help: 'Tokens of candidate and judge calls as their results report them, by role, provider, model and direction (input or output)',
      labelNames: ['service', 'role', 'provider', 'model', 'direction'],
    }),
    cost: defineCounter({ name: 'conclave_llm_cost_usd_total', help: 'Cost in USD of candidate and judge calls as their results report it, by role, provider and model', labelNames: ['service', 'role', 'provider', 'model'] }),
    consumers: new ScrapedGauges(
      [
        { name: 'conclave_consumer_pending_messages', help: 'Messages of the stream not yet delivered to the durable consumer (JetStream consumer info, read at scrape)' },
        { name: 'conclave_consumer_ack_pending_messages', help: 'Messages delivered to the durable consumer and not yet acknowledged (JetStream consumer info, read at scrape)' },
        { name: 'conclave_consumer_redelivered_messages', help: 'Messages delivered more than once and not yet acknowledged (JetStream consumer info num_redelivered, read at scrape)' },
      ],
      ['service', 'stream', 'consumer'] as const,
    ),
    projector: new ScrapedGauges(
      [
        { name: 'conclave_projector_lag_events', help: 'Log messages (commits of events, ADR 014) the projector has not applied yet (read at scrape)' },
        { name: 'conclave_projector_lag_seconds', help: 'Age of the oldest log message the projector has not applied (0 when caught up; read at scrape)' },
      ],
      ['service'] as const,
    ),
    deadLetters: new ScrapedGauges(
      [{ name: 'conclave_dead_letters', help: 'Dead letters recorded (the dead_letters read model, folded from the DEAD_LETTERS stream), by consumer, reason and state (open or redriven)' }],
      ['service', 'consumer', 'reason', 'state'] as const,
    ),
    outboxSweeps: defineCounter({
      name: 'conclave_outbox_sweeps_total',
      help: 'Leases of orchestrator processes that stopped renewing them, swept by this process (ADR 025)',
      labelNames: ['service'],
    }),
    outboxRepaired: defineCounter({
      name: 'conclave_outbox_repaired_messages_total',
      help: 'Commands and due times the outbox repair path published: sweeps, and publications of this process that had failed (ADR 025)',
      labelNames: ['service'],
    }),
    outbox: new ScrapedGauges(
      [{ name: 'conclave_outbox_unpublished_commits', help: 'Commits this orchestrator process appended whose commands or due times are not all out yet, held phase deadlines included (read at scrape)' }],
      ['service'] as const,
    ),
    workerInFlight: new ScrapedGauges([{ name: 'conclave_worker_in_flight', help: 'Commands this worker process is working on (read at scrape)' }], ['service', 'worker'] as const),
    fleet: new ScrapedGauges(
      [{ name: 'conclave_fleet_workers', help: "Workers in the gateway's fleet view by role and status (busy, idle, draining, stalled, stopped; read at scrape)" }],
      ['service', 'role', 'status'] as const,
    ),
  };
}

export type ConclaveInstruments = ReturnType<typeof create>;
let current: { registry: Registry | null; instruments: ConclaveInstruments } | null = null;

const FLEET_STATUSES = ['busy', 'idle', 'draining', 'stalled', 'stopped'];

/** The process's instruments (no-ops when metrics are off). */
export function conclaveInstruments(): ConclaveInstruments {
  const registry = processRegistry();
  if (!current || current.registry !== registry) current = { registry, instruments: create() };
  return current.instruments;
}

/** What a worker's result says of its call (CandidateResult, VerdictResult). */
export interface CallResult {
  provider: string;
  model: string;
  durationMs: number;
  outcome: { status: string; tokens?: { input: number; output: number }; costUsd?: number };
}

/** A JetStream durable consumer whose info is read at scrape. */
export interface ConsumerInfoSource {
  stream: string;
  consumer: string;
  info(): Promise<{ num_pending: number; num_ack_pending: number; num_redelivered: number }>;
}

/**
 * What one service module records. Every method is a few label lookups and an increment or an
 * observation: no I/O, no awaits, safe on the hot path. Scrape-time sources return a function
 * that removes them (call it when the module closes).
 */
export class ServiceMetrics {
  private readonly m = conclaveInstruments();
  constructor(readonly service: string) {}

  runStarted(template: string): void {
    this.m.runsStarted.inc({ service: this.service, template });
  }
  runEnded(template: string, status: 'completed' | 'failed' | 'cancelled'): void {
    const counter = status === 'completed' ? this.m.runsCompleted : status === 'failed' ? this.m.runsFailed : this.m.runsCancelled;
    counter.inc({ service: this.service, template });
  }
  phaseEnded(kind: string, outcome: 'completed' | 'failed', seconds: number): void {
    this.m.phaseDuration.observe({ service: this.service, kind, outcome }, seconds);
  }

  /** A candidate's or a judge's call, from the result the worker built (returned as it is). */
  call<R extends CallResult>(role: 'candidate' | 'judge', result: R): R {
    const { provider, model, outcome } = result;
    (role === 'candidate' ? this.m.candidateDuration : this.m.judgeDuration).observe({ service: this.service, provider, model, outcome: outcome.status }, result.durationMs / 1000);
    if (outcome.tokens) {
      this.m.tokens.inc({ service: this.service, role, provider, model, direction: 'input' }, outcome.tokens.input);
      this.m.tokens.inc({ service: this.service, role, provider, model, direction: 'output' }, outcome.tokens.output);
    }
    if (outcome.costUsd) this.m.cost.inc({ service: this.service, role, provider, model }, outcome.costUsd);
    return result;
  }

  /** Durable consumers' pending, ack-pending and redelivered counts, read at scrape. */
  watchConsumers(consumers: ConsumerInfoSource[]): () => void {
    const [pending, ackPending, redelivered] = this.m.consumers.gauges;
    const removers = consumers.map((c) =>
      this.m.consumers.add(async () => {
        const info = await c.info();
        const labels = { service: this.service, stream: c.stream, consumer: c.consumer };
        pending!.set(labels, info.num_pending);
        ackPending!.set(labels, info.num_ack_pending);
        redelivered!.set(labels, info.num_redelivered);
      }),
    );
    return () => removers.forEach((remove) => remove());
  }

  /** The projector's lag, read at scrape. */
  watchProjectorLag(read: () => Promise<{ events: number; seconds: number } | null>): () => void {
    const [events, seconds] = this.m.projector.gauges;
    return this.m.projector.add(async () => {
      const lag = await read();
      if (!lag) return;
      events!.set({ service: this.service }, lag.events);
      seconds!.set({ service: this.service }, lag.seconds);
    });
  }

  watchDeadLetters(read: () => Promise<{ consumer: string; reason: string; state: string; count: number }[]>): () => void {
    const [gauge] = this.m.deadLetters.gauges;
    return this.m.deadLetters.add(async () => {
      for (const row of await read()) gauge!.set({ service: this.service, consumer: row.consumer, reason: row.reason, state: row.state }, row.count);
    });
  }

  /** the outbox's repair path (ADR 025): a lease swept, `published` messages sent for it */
  outboxSwept(): void {
    this.m.outboxSweeps.inc({ service: this.service });
  }

  outboxRepaired(published: number): void {
    if (published > 0) this.m.outboxRepaired.inc({ service: this.service }, published);
  }

  watchOutbox(read: () => number): () => void {
    const [gauge] = this.m.outbox.gauges;
    return this.m.outbox.add(async () => gauge!.set({ service: this.service }, read()));
  }

  watchInFlight(worker: string, read: () => number): () => void {
    const [gauge] = this.m.workerInFlight.gauges;
    return this.m.workerInFlight.add(async () => gauge!.set({ service: this.service, worker }, read()));
  }

  watchFleet(read: () => Promise<{ role: string; status: string }[]>): () => void {
    const [gauge] = this.m.fleet.gauges;
    return this.m.fleet.add(async () => {
      const counts = new Map<string, { role: string; status: string; n: number }>();
      const workers = await read();
      // every status of every role present, 0 included: "no stalled worker" is a value, not a gap
      for (const role of new Set(workers.map((w) => w.role))) for (const status of FLEET_STATUSES) counts.set(`${role}\u0000${status}`, { role, status, n: 0 });
      for (const w of workers) {
        const key = `${w.role}\u0000${w.status}`;
        const entry = counts.get(key) ?? { role: w.role, status: w.status, n: 0 };
        entry.n += 1;
        counts.set(key, entry);
      }
      for (const { role, status, n } of counts.values()) gauge!.set({ service: this.service, role, status }, n);
    });
  }
}
