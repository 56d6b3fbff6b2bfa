/**
 * Stream, subject and consumer names. Every name derives from one optional prefix so that test
 * suites (and side-by-side deployments) are isolated on a shared NATS server: prefix "t1" gives
 * stream `T1_EVENTS` with subjects `t1.events.>`; no prefix gives `EVENTS` / `events.>` as in DESIGN.md.
 */
export const AGGREGATES = ['run', 'template', 'provider', 'alert', 'study'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

const PREFIX_RE = /^[a-z0-9_-]{0,40}$/;

export function natsNames(prefix = '') {
  if (!PREFIX_RE.test(prefix)) throw new Error(`invalid NATS prefix "${prefix}" (a-z, 0-9, _ and -)`);
  const p = prefix ? `${prefix}.` : '';
  const s = prefix ? `${prefix.toUpperCase().replace(/-/g, '_')}_` : '';
  return {
    prefix,
    streams: {
      events: `${s}EVENTS`,
      commands: `${s}COMMANDS`,
      results: `${s}RESULTS`,
      deadLetters: `${s}DEAD_LETTERS`,
      /** each orchestrator process's outbox watermark and lease: the last message of `outbox.<key>` (ADR 025) */
      outbox: `${s}OUTBOX`,
    },
    /** JetStream object stores (bucket names) */
    buckets: { transcripts: `${s}TRANSCRIPTS` },
    subjects: {
      allEvents: `${p}events.>`,
      aggregateEvents: (aggregate: Aggregate, id: string) => `${p}events.${aggregate}.${id}`,
      allCommands: `${p}commands.>`,
      generate: `${p}commands.generate`,
      judge: `${p}commands.judge`,
      tool: `${p}commands.tool`,
      /** git work on run repositories (integrate, reset, cleanup): llm-workers */
      workspace: `${p}commands.workspace`,
      /** a run's due time (deadline, retry): held by the orchestrator's `timers` consumer until due (ADR 014) */
      timer: `${p}commands.timer`,
      allResults: `${p}results.>`,
      result: (runId: string) => `${p}results.${runId}`,
      allLive: `${p}live.>`,
      liveRun: (runId: string) => `${p}live.run.${runId}`,
      liveWorker: (workerId: string) => `${p}live.worker.${workerId}`,
      /** core NATS broadcast: every worker aborts in-flight calls of the named run/commands */
      cancel: `${p}control.cancel`,
      /** core NATS request/reply served by the orchestrator (queue group "orchestrator") */
      orchestrator: `${p}orchestrator.command`,
      /**
       * core NATS request/reply served by the orchestrator (queue group "orchestrator"): a worker's
       * result in one hop, answered once its decision is appended (DirectResultReply). Outside
       * `results.>` on purpose, so the RESULTS stream does not capture it; a worker without an
       * `ok` answer publishes the result to `results.<runId>` (the durable path) instead.
       */
      directResult: `${p}orchestrator.result`,
      /** core NATS request/reply served by the gateway (queue group "gateway"): a provider's key for workers */
      credentials: `${p}gateway.credentials`,
      /** dead-letter records (and redrive marks) of one durable consumer: `dead.<consumer>` */
      deadLetter: (consumer: string) => `${p}dead.${consumer}`,
      allDeadLetters: `${p}dead.>`,
      /** one orchestrator process's outbox lease: its watermark, renewed every beat (ADR 025) */
      outbox: (key: string) => `${p}outbox.${key}`,
      allOutbox: `${p}outbox.>`,
    },
    consumers: {
      /**
       * The outbox's repair path. Until ADR 025 a durable on EVENTS that saw every run commit; now
       * the name its dead letters carry (a commit the repair of a crashed process could not handle)
       * and that of the old durable, retired at set-up.
       */
      dispatcher: 'dispatcher',
      /** on COMMANDS (`commands.timer`): holds due times unacked until due, then ticks the run (timers survive restarts) */
      timers: 'timers',
      orchestratorResults: 'orchestrator-results',
      generateWorkers: 'llm-workers',
      judgeWorkers: 'judges',
      toolRunners: 'tool-runners',
      workspaceTasks: 'workspace-tasks',
      /** the projector folds dead-letter records into the `dead_letters` read model and alerts */
      deadLetters: 'dead-letters',
    },
    queues: { orchestrator: 'orchestrator', gateway: 'gateway' },
  } as const;
}
export type NatsNames = ReturnType<typeof natsNames>;

/** `events.run.<id>` → { aggregate: 'run', id } (prefix-aware). */
export function parseEventSubject(subject: string, prefix = ''): { aggregate: Aggregate; id: string } | null {
  const parts = subject.split('.');
  const offset = prefix ? 1 : 0;
  if (parts[offset] !== 'events' || parts.length !== offset + 3) return null;
  const aggregate = parts[offset + 1] as Aggregate;
  if (!AGGREGATES.includes(aggregate)) return null;
  return { aggregate, id: parts[offset + 2]! };
}
