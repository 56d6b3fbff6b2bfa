import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { DeadLetterMessage, GenerateCandidate, JudgeCandidates, messageSequenceOf, positionOf, type CandidateResult, type OrchestratorReply, type Recorded, type TemplateInput, type VerdictResult } from '@conclave/contracts';
import { ack, OutboxLeases, runConsumer, type EventLog, type RunningConsumer, type UnreadableEvent } from '@conclave/event-log';
import { createLogger, SchemaValidator } from '@conclave/service-kit';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { RunRepository } from './adapters/run-repository';
import { TemplateStore } from './adapters/template-store';
import { handleOrchestratorRequest, type CommandDeps } from './app/command-handler';
import { Outbox } from './app/outbox';
import { OutboxLease } from './app/outbox-lease';
import { redriveDeadLetter, type RunEventHandler } from './app/redrive';
import { startResultsConsumer } from './app/results-consumer';
import { startStallDetector } from './app/stall-detector';
import { startLegacyTimers, startTimers } from './app/timers';

const logger = createLogger('orchestrator-test', 'silent');
const template: TemplateInput = {
  name: 'three',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [
    { id: 'a', kind: 'llm', prompt: { user: '{{inputs.idea}}' }, candidates: [{ provider: 'simulated', model: 'x' }, { provider: 'simulated', model: 'y' }] },
    { id: 'b', kind: 'llm', prompt: { user: 'b' }, candidates: [{ provider: 'simulated', model: 'x' }] },
    { id: 'c', kind: 'llm', dependsOn: ['a', 'b'], prompt: { user: '{{phases.a.output.text}}' }, candidates: [{ provider: 'simulated', model: 'x' }, { provider: 'simulated', model: 'z' }] },
  ],
};

/** short leases, so a crashed process is swept within the test */
const LEASE = { leaseMs: 600, beatMs: 100 };

/**
 * The orchestrator's processes (outbox lease, results consumer, timers, stall detector) over one
 * repository, restartable. `stop` is a clean shutdown; `crash` stops everything where it stands
 * (the lease is left unrenewed, held deadlines are never published).
 */
async function startOrchestrator(env: TestEnv, cancelled: { runId: string; commandIds?: string[] }[] = [], options: { diesBeforePublishing?: boolean; holdMs?: number; beatMs?: number; appendVia?: EventLog; publishVia?: EventLog; repairAttempts?: number } = {}) {
  const validator = new SchemaValidator();
  // appendVia / publishVia: a log that fails on purpose for the run appends / the outbox's publications
  const outbox = new Outbox(options.publishVia ?? env.log, logger, options.holdMs);
  const runs = new RunRepository(options.appendVia ?? env.log, validator.validate, {
    maxConflicts: 8,
    cacheSize: 100,
    beginAppend: (runId) => outbox.beginAppend(runId),
    // diesBeforePublishing: a process that appends, then dies before its commands go out (and runs no consumer)
    onAppended: options.diesBeforePublishing ? undefined : (runId, appended, run) => outbox.send(runId, appended, run),
  });
  const handlers = new Map<string, RunEventHandler>();
  // its lease is renewed at boot only when it is about to die: the last renewal before the crash
  const lease = await new OutboxLease(env.log, runs, outbox, logger, { key: `test-${randomUUID().slice(0, 8)}`, ...LEASE, ...(options.beatMs ? { beatMs: options.beatMs } : {}), ...(options.repairAttempts ? { repairAttempts: options.repairAttempts } : {}), ...(options.diesBeforePublishing ? { beatMs: 600_000 } : {}) }, handlers).start();
  const deps: CommandDeps = {
    runs, templates: new TemplateStore(env.log), validator, now: () => new Date(), onInternalError: (e) => { throw e; },
    cancelWork: (runId, commandIds) => cancelled.push({ runId, ...(commandIds ? { commandIds } : {}) }),
    redrive: (id, actor) => redriveDeadLetter(env.log, handlers, id, actor),
  };
  if (options.diesBeforePublishing) return { deps, outbox, lease, stop: () => lease.stop(false), crash: () => lease.stop(false) };
  const loops = [
    await startResultsConsumer(env.log, runs, logger, 8, () => new Date()),
    await startTimers(env.log, runs, logger, () => new Date()),
    startStallDetector(env.log, runs, logger, { stallMs: 800, checkEveryMs: 200 }),
  ];
  const stopLoops = () => Promise.all(loops.map((l) => l.stop()));
  return {
    deps,
    outbox,
    lease,
    stop: async () => {
      await outbox.flush();
      await stopLoops();
      await lease.stop();
    },
    crash: async () => {
      await lease.stop(false);
      await stopLoops();
    },
  };
}

/** A process that appends a run's start and dies before publishing anything: its lease stays as it was at boot. */
async function runStartedByADeadProcess(env: TestEnv, name: string) {
  const dying = await startOrchestrator(env, [], { diesBeforePublishing: true });
  const created = ok(await handleOrchestratorRequest(dying.deps, request({ type: 'CreateTemplate', template: { ...template, name } })));
  const started = ok(await handleOrchestratorRequest(dying.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: name } })));
  await dying.crash();
  return { dying, started };
}

/** The repair path's dead letter of the log message at `streamSequence`, once written. */
function dispatcherDeadLetter(env: TestEnv, streamSequence: number) {
  const { streams, subjects, consumers } = env.log.names;
  return eventually(async () => {
    const m = await env.log.jsm.streams.getMessage(streams.deadLetters, { last_by_subj: subjects.deadLetter(consumers.dispatcher) }).catch(() => null);
    const r = m?.json<{ streamSequence: number; reason: string; deliveries: number; error: string; runId: string }>();
    return r?.streamSequence === streamSequence && r;
  }, `the dead letter of message ${streamSequence}`, 10_000);
}

/** `log` with one method replaced: a log that fails on purpose */
function withMethod<K extends 'publish' | 'append'>(log: EventLog, name: K, replacement: EventLog[K]): EventLog {
  return new Proxy(log, { get: (target, prop, receiver) => (prop === name ? replacement : (Reflect.get(target, prop, receiver) as unknown)) });
}

/** A stand-in worker: answers every command with a valid output; the first candidate wins. */
async function startFakeWorkers(env: TestEnv, seen: string[]): Promise<RunningConsumer[]> {
  const { streams, consumers, subjects } = env.log.names;
  const base = { workerId: 'fake', durationMs: 1 };
  return [
    await runConsumer(env.log, { stream: streams.commands, durable: consumers.generateWorkers, concurrency: 4 }, async (m) => {
      const c = GenerateCandidate.parse(m.json());
      seen.push(c.commandId);
      const result: CandidateResult = {
        type: 'CandidateResult', ...base, commandId: c.commandId, runId: c.runId, phaseId: c.phaseId, attempt: c.attempt, attemptToken: c.attemptToken,
        provider: c.provider, model: c.model, candidateId: c.candidateId,
        outcome: { status: 'generated', output: { text: `${c.model}: ${c.prompt.user}` }, tokens: { input: 1, output: 2 }, costUsd: 0.001 },
      };
      await env.log.publish(subjects.result(c.runId), result, `${c.commandId}:result`);
      return ack();
    }),
    await runConsumer(env.log, { stream: streams.commands, durable: consumers.judgeWorkers }, async (m) => {
      const j = JudgeCandidates.parse(m.json());
      seen.push(j.commandId);
      const ids = j.candidates.map((c) => c.candidateId);
      const result: VerdictResult = {
        type: 'VerdictResult', ...base, commandId: j.commandId, runId: j.runId, phaseId: j.phaseId, attempt: j.attempt, attemptToken: j.attemptToken,
        provider: j.provider, model: j.model, judgeId: j.judgeId,
        outcome: { status: 'scored', winnerId: ids[0]!, rationale: 'first wins', order: ids, tokens: { input: 1, output: 1 }, costUsd: 0,
          scores: Object.fromEntries(ids.map((id, i) => [id, { overall: 1 - i * 0.1, criteria: {} }])) },
      };
      await env.log.publish(subjects.result(j.runId), result, `${j.commandId}:result`);
      return ack();
    }),
  ];
}

const request = (command: unknown) => ({ command, actor: { kind: 'user', id: 'test' }, requestId: `req-${Math.random()}` });
const ok = (reply: OrchestratorReply) => {
  if (!reply.ok) throw new Error(`refused: ${JSON.stringify(reply.error)}`);
  return reply;
};
const types = (events: Recorded[]) => events.map((e) => e.type);

/** the due times on commands.timer that name `runId` (read one by one: nats-server 2.9 has no ordered pull fetch here) */
async function dueTimesOf(env: TestEnv, runId: string): Promise<{ runId: string; due: string; eventId: string }[]> {
  const { streams, subjects } = env.log.names;
  const found: { runId: string; due: string; eventId: string }[] = [];
  for (let seq = 1; ; ) {
    // the server's STREAM.MSG.GET takes next_by_subj; nats.js types it only for direct gets
    const next = { next_by_subj: subjects.timer, seq } as unknown as Parameters<typeof env.log.jsm.streams.getMessage>[1];
    const m = await env.log.jsm.streams.getMessage(streams.commands, next).catch(() => null);
    if (!m) return found;
    const due = m.json<{ runId: string; due: string; eventId: string }>();
    if (due.runId === runId) found.push(due);
    seq = m.seq + 1;
  }
}

describe('orchestrator against JetStream', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv('orch', { database: false, ackWaitMs: 2_000 });
  });
  afterAll(() => env.dispose());

  it('runs a DAG to completion: parallel roots, a judge per multi-candidate phase, one dispatch per command', async () => {
    const orch = await startOrchestrator(env);
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    try {
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template })));
      const started = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'kites' } })));
      const events = await eventually(async () => {
        const e = await env.log.read('run', started.id);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'RunCompleted');
      expect(types(events).filter((t) => t === 'PhaseCompleted')).toHaveLength(3);
      expect(types(events).filter((t) => t === 'VerdictRecorded')).toHaveLength(2);
      expect(types(events).filter((t) => t === 'CandidateRequested')).toHaveLength(5);
      // a and b start in the same decision, before anything of c
      const firstC = events.findIndex((e) => e.type === 'PhaseStarted' && (e.data as { phaseId: string }).phaseId === 'c');
      const startedBefore = events.slice(0, firstC).filter((e) => e.type === 'PhaseStarted').map((e) => (e.data as { phaseId: string }).phaseId);
      expect(startedBefore.sort()).toEqual(['a', 'b']);
      expect(new Set(seen).size).toBe(seen.length); // 5 candidates + 2 judges, each dispatched once
      expect(seen).toHaveLength(7);
      const artifactC = events.find((e) => e.type === 'ArtifactRecorded' && (e.data as { phaseId: string }).phaseId === 'c');
      expect((artifactC!.data as { content: { text: string } }).content.text).toBe('x: x: kites');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('resumes a run after the orchestrator restarts mid-run, with no duplicate dispatch', async () => {
    let orch = await startOrchestrator(env);
    const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template })));
    const started = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'restart' } })));
    await eventually(async () => (await env.log.read('run', started.id)).filter((e) => e.type === 'CandidateRequested').length === 3, 'first dispatches');
    await orch.stop(); // "crash": results arriving now wait in the RESULTS stream
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    try {
      await eventually(async () => seen.length >= 3, 'workers to answer while the orchestrator is down');
      orch = await startOrchestrator(env); // a fresh process: empty cache, state from the log
      const events = await eventually(async () => {
        const e = await env.log.read('run', started.id);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'RunCompleted after restart');
      const requested = events.filter((e) => e.type === 'CandidateRequested').map((e) => (e.data as { candidateId: string }).candidateId);
      expect(new Set(requested).size).toBe(requested.length);
      expect(new Set(seen).size).toBe(seen.length);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('gets the commands out when the orchestrator dies between its append and their publication (a live process sweeps its lease)', async () => {
    const { streams, consumers } = env.log.names;
    const pending = async () => (await env.log.jsm.consumers.info(streams.commands, consumers.generateWorkers)).num_pending;
    const dying = await startOrchestrator(env, [], { diesBeforePublishing: true });
    const created = ok(await handleOrchestratorRequest(dying.deps, request({ type: 'CreateTemplate', template })));
    const before = await pending();
    const started = ok(await handleOrchestratorRequest(dying.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'repair' } })));
    const requested = (await env.log.read('run', started.id)).filter((e) => e.type === 'CandidateRequested');
    expect(requested).toHaveLength(3); // durable in the log…
    await new Promise((r) => setTimeout(r, 300));
    expect(await pending()).toBe(before); // …but no command went out
    await dying.crash();
    const orch = await startOrchestrator(env); // the next process: it sweeps the lease the dead one stopped renewing
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    try {
      const events = await eventually(async () => {
        const e = await env.log.read('run', started.id);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'RunCompleted after the repair');
      const tokens = requested.map((e) => (e.data as { attemptToken: string }).attemptToken);
      for (const token of tokens) expect(seen.filter((c) => c === token)).toHaveLength(1); // each sent once, by the repair path
      expect(types(events).filter((t) => t === 'PhaseCompleted')).toHaveLength(3);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('a sweep that meets a commit it cannot decode fails that run and dead-letters the commit under `dispatcher`', async () => {
    const { started } = await runStartedByADeadProcess(env, 'poison-sweep');
    const junk = await env.log.publish(env.log.names.subjects.aggregateEvents('run', started.id), { type: 'PhaseExploded', data: {} }, `junk-${started.id}`);
    const orch = await startOrchestrator(env);
    try {
      const failed = await eventually(async () => (await env.log.read('run', started.id, 0, { poison: [] })).find((e) => e.type === 'RunFailed'), 'the run to fail', 10_000);
      expect(failed.type === 'RunFailed' && failed.data.reason).toMatchObject({ code: 'internal_error', message: expect.stringContaining(`event ${positionOf(junk.seq)} of this run cannot be read`) });
      expect(await dispatcherDeadLetter(env, junk.seq)).toMatchObject({ reason: 'undecodable', runId: started.id });
    } finally {
      await orch.stop();
    }
  });

  it('refuses to start without the OUTBOX stream, saying set-up must run (an upgrade without it)', async () => {
    const other = await createTestEnv('orch-nooutbox', { database: false });
    try {
      await other.log.jsm.streams.delete(other.log.names.streams.outbox);
      const outbox = new Outbox(other.log, logger);
      const runs = new RunRepository(other.log, new SchemaValidator().validate, { maxConflicts: 8, cacheSize: 10 });
      await expect(new OutboxLease(other.log, runs, outbox, logger, { key: 'k', ...LEASE }).start()).rejects.toThrow(/OUTBOX stream does not exist: run set-up/);
    } finally {
      await other.dispose();
    }
  });

  it('publishes again what a commit calls for when its first publication fails, holding the watermark below it until then', async () => {
    // a log whose first publish of a generate command fails (NATS said no), then works
    let failures = 1;
    const flaky = withMethod(env.log, 'publish', (subject, ...rest) =>
      subject === env.log.names.subjects.generate && failures-- > 0 ? Promise.reject(new Error('503: publish failed')) : env.log.publish(subject, ...rest),
    );
    const orch = await startOrchestrator(env, [], { publishVia: flaky });
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    try {
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template: { ...template, name: 'flaky' } })));
      const started = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'flaky' } })));
      expect(failures).toBeLessThan(0); // the failure happened
      const events = await eventually(async () => {
        const e = await env.log.read('run', started.id);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'RunCompleted after the publication was repaired', 15_000);
      const requested = events.filter((e) => e.type === 'CandidateRequested').map((e) => (e.data as { attemptToken: string }).attemptToken);
      for (const token of requested) expect(seen.filter((c) => c === token)).toHaveLength(1); // each once
      await eventually(async () => orch.outbox.idle() && orch.outbox.watermark() > messageSequenceOf(events[events.length - 1]!.sequence), 'the watermark past the run');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('looks for the commit of an append whose outcome is unknown, and publishes what it calls for', async () => {
    // a log whose first run append is stored but answers with an error (a lost PubAck)
    let lost = 1;
    const lossy = withMethod(env.log, 'append', async (...args) => {
      const appended = await env.log.append(...args);
      if (args[0] === 'run' && lost-- > 0) throw new Error('timeout waiting for the PubAck');
      return appended;
    });
    const orch = await startOrchestrator(env, [], { appendVia: lossy });
    const deps: CommandDeps = { ...orch.deps, onInternalError: () => undefined }; // the lost answer is an internal error to the caller
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    try {
      const created = ok(await handleOrchestratorRequest(deps, request({ type: 'CreateTemplate', template: { ...template, name: 'lossy' } })));
      const reply = await handleOrchestratorRequest(deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'lossy' } }));
      expect(reply.ok).toBe(false); // the caller was told it failed…
      const first = await eventually(async () => (await env.log.readAll(0, 100_000, env.log.names.subjects.aggregateEvents('run', '*'), { poison: [] })).find((e) => e.type === 'RunStarted' && (e.data as { inputs: { idea?: string } }).inputs.idea === 'lossy'), 'the run in the log');
      const runId = first.streamId.slice('run:'.length); // …but the run is in the log, and its commands go out
      const events = await eventually(async () => {
        const e = await env.log.read('run', runId);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'RunCompleted after the uncertain append was looked up', 15_000);
      const requested = events.filter((e) => e.type === 'CandidateRequested').map((e) => (e.data as { attemptToken: string }).attemptToken);
      for (const token of requested) expect(seen.filter((c) => c === token)).toHaveLength(1);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('a sweep dead-letters a commit whose repair keeps failing (under `dispatcher`), still repairs the others, and ends', async () => {
    const { dying, started } = await runStartedByADeadProcess(env, 'unrepairable');
    // a valid commit whose re-dispatch names a candidate the run never requested: its command cannot be built
    const [bad] = await env.log.append('run', started.id, [{ type: 'CandidateRedispatched', data: { phaseId: 'a', attempt: 1, candidateId: 'nobody', attemptToken: 'tok-nobody', reason: 'stalled' } }], 'any', {
      occurredAt: new Date().toISOString(), correlationId: started.id, causationId: null, actor: { kind: 'system', id: 'test' },
    });
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    const orch = await startOrchestrator(env, [], { repairAttempts: 2 });
    try {
      expect(await dispatcherDeadLetter(env, messageSequenceOf(bad!.sequence))).toMatchObject({ reason: 'max_deliver', deliveries: 2, runId: started.id, error: expect.stringContaining('no request found for candidate nobody') });
      // the commit before it was repaired: the run's requested work went out
      const requested = (await env.log.read('run', started.id)).filter((e) => e.type === 'CandidateRequested').map((e) => (e.data as { attemptToken: string }).attemptToken);
      await eventually(async () => requested.every((t) => seen.includes(t)), 'the earlier commit repaired');
      const deadKey = dying.lease.current().key;
      await eventually(async () => !(await new OutboxLeases(env.log).list()).some((l) => l.lease.key === deadKey), 'the swept lease removed');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('a process taken for dead (it renewed too late) is swept, then renews under a new key and keeps working', async () => {
    const leases = new OutboxLeases(env.log);
    const slow = await startOrchestrator(env, [], { beatMs: 2_000 }); // renews less often than the 600 ms lease
    const key = slow.lease.current().key;
    const sweeper = await startOrchestrator(env);
    const workers = await startFakeWorkers(env, []);
    try {
      await eventually(async () => !(await leases.list()).some((l) => l.lease.key === key), 'the lease of the slow process swept and removed', 10_000);
      await eventually(async () => slow.lease.current().key === `${key}-1`, 'the slow process renewing under a new key', 10_000);
      expect((await leases.list()).map((l) => l.lease.key)).toContain(`${key}-1`);
      // it still drives runs, and its new lease carries its watermark
      const created = ok(await handleOrchestratorRequest(slow.deps, request({ type: 'CreateTemplate', template: { ...template, name: 'zombie' } })));
      const started = ok(await handleOrchestratorRequest(slow.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'zombie' } })));
      const events = await eventually(async () => {
        const e = await env.log.read('run', started.id);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'RunCompleted');
      expect(slow.outbox.watermark()).toBeGreaterThan(messageSequenceOf(events.find((e) => e.type === 'RunCompleted')!.sequence) - 1);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await sweeper.stop();
      await slow.stop();
    }
  });

  it('holds a phase deadline and drops it when the phase ends within the hold: a fast run publishes no due time (ADR 020)', async () => {
    const orch = await startOrchestrator(env, [], { holdMs: 1_000 });
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    try {
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template })));
      const started = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'fast' } })));
      const events = await eventually(async () => {
        const e = await env.log.read('run', started.id);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'RunCompleted');
      expect(types(events).filter((t) => t === 'PhaseStarted')).toHaveLength(3);
      await new Promise((r) => setTimeout(r, 1_300)); // past every hold
      expect(await dueTimesOf(env, started.id)).toEqual([]);
      // and the lease's watermark passed every commit of the run once its hold ended
      const last = events[events.length - 1]!.sequence;
      await eventually(async () => orch.outbox.watermark() > messageSequenceOf(last), 'the watermark past the held commits');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('publishes a held deadline when the phase outlives the hold, and the phase then times out', async () => {
    const orch = await startOrchestrator(env, [], { holdMs: 300 });
    try {
      const slow: TemplateInput = { name: 'held', defaults: { timeoutSeconds: 3, retry: { maxAttempts: 1, backoffSeconds: 0 }, autoProceed: true }, phases: [template.phases[1]!] };
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template: slow })));
      const started = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: {} })));
      expect(await dueTimesOf(env, started.id)).toEqual([]); // held
      const due = await eventually(async () => {
        const d = await dueTimesOf(env, started.id);
        return d.length > 0 && d;
      }, 'the deadline on commands.timer after the hold');
      const phaseStarted = (await env.log.read('run', started.id)).find((e) => e.type === 'PhaseStarted')!;
      expect(due).toEqual([{ runId: started.id, due: (phaseStarted.data as { deadline: string }).deadline, eventId: phaseStarted.id }]);
      const events = await eventually(async () => {
        const e = await env.log.read('run', started.id);
        return e.some((x) => x.type === 'RunFailed') && e;
      }, 'the timeout to fail the run', 15_000);
      expect((events.find((e) => e.type === 'PhaseFailed')!.data as { reason: { code: string } }).reason.code).toBe('timeout');
    } finally {
      await orch.stop();
    }
  });

  it('gets a held deadline out when the orchestrator dies during the hold (a live process sweeps its lease)', async () => {
    // the dying process holds for longer than the test: only the repair path can publish it
    const dying = await startOrchestrator(env, [], { holdMs: 60_000 });
    const created = ok(await handleOrchestratorRequest(dying.deps, request({ type: 'CreateTemplate', template: { ...template, name: 'crash-in-hold', defaults: { timeoutSeconds: 600 } } })));
    const started = ok(await handleOrchestratorRequest(dying.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'crash' } })));
    await eventually(async () => (await env.log.read('run', started.id)).filter((e) => e.type === 'PhaseStarted').length === 2, 'the root phases started');
    await dying.crash(); // its held deadlines are never published, its lease is never renewed
    expect(await dueTimesOf(env, started.id)).toEqual([]);
    const next = await startOrchestrator(env, [], { holdMs: 60_000 });
    try {
      const due = await eventually(async () => {
        const d = await dueTimesOf(env, started.id);
        return d.length === 2 && d;
      }, 'both root deadlines published by the next process once the lease ran out', 15_000);
      const phasesStarted = (await env.log.read('run', started.id)).filter((e) => e.type === 'PhaseStarted');
      expect(due.map((d) => d.eventId).sort()).toEqual(phasesStarted.map((e) => e.id).sort());
    } finally {
      await next.stop();
    }
  });

  it('upgrading: the timers consumer of the builds before commits hands its held due times over, then is removed', async () => {
    const { streams, consumers, subjects } = env.log.names;
    // the old topology: `timers` on EVENTS over every run event, holding a deadline nak'ed until due
    await env.log.jsm.consumers.add(streams.events, { durable_name: consumers.timers, filter_subject: subjects.aggregateEvents('run', '*'), ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New, ack_wait: nanos(30_000) });
    const runId = randomUUID();
    const due = new Date(Date.now() + 1_500).toISOString();
    const old = { id: `${runId}/PhaseStarted/a/1`, type: 'PhaseStarted', schemaVersion: 1, streamId: `run:${runId}`, occurredAt: new Date().toISOString(), correlationId: runId, causationId: null, actor: { kind: 'system', id: 'old' }, data: { phaseId: 'a', attempt: 1, deadline: due } };
    await env.log.js.publish(subjects.aggregateEvents('run', runId), JSON.stringify(old), { msgID: old.id });
    const legacy = await env.log.js.consumers.get(streams.events, consumers.timers);
    const held = await legacy.next({ expires: 5_000 });
    expect(held?.seq).toBeGreaterThan(0);
    held!.nak(1_500); // as the old timers did: back when due
    expect(await env.log.retireLegacyTimers()).toBe(true); // set-up leaves a consumer that holds something

    const drain = await startLegacyTimers(env.log, logger, 200);
    try {
      const moved = await eventually(async () => {
        const m = await env.log.jsm.streams.getMessage(streams.commands, { last_by_subj: subjects.timer }).catch(() => null);
        const timer = m?.json<{ runId: string; due: string; eventId: string }>();
        return timer?.runId === runId && timer;
      }, 'the held deadline on commands.timer', 10_000);
      expect(moved).toEqual({ runId, due, eventId: old.id });
      await eventually(async () => (await env.log.jsm.consumers.info(streams.events, consumers.timers).then(() => false, () => true)), 'the legacy consumer removed', 10_000);
    } finally {
      await drain?.stop();
    }
    expect(await env.log.retireLegacyTimers()).toBe(false);
  });

  it('upgrading: the dispatcher durable of the builds before leases hands what it had not acknowledged to a sweep, then is removed (ADR 025)', async () => {
    const { streams, consumers, subjects } = env.log.names;
    const leases = new OutboxLeases(env.log);
    // an old build appended a run and died before publishing; its dispatcher had acknowledged everything before it
    const floor = messageSequenceOf(await env.log.lastSequence());
    await env.log.jsm.consumers.add(streams.events, { durable_name: consumers.dispatcher, filter_subject: subjects.aggregateEvents('run', '*'), ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1, ack_wait: nanos(30_000) });
    const old = await startOrchestrator(env, [], { diesBeforePublishing: true });
    await leases.remove(old.lease.current().key); // the old build had no lease
    await old.crash();
    const created = ok(await handleOrchestratorRequest(old.deps, request({ type: 'CreateTemplate', template: { ...template, name: 'upgrade' } })));
    const started = ok(await handleOrchestratorRequest(old.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'upgrade' } })));

    await env.log.ensureTopology({ ackWaitMs: 2_000 }); // set-up of the new build
    await expect(env.log.jsm.consumers.info(streams.events, consumers.dispatcher)).rejects.toThrow(/not found/i);
    // a lease from the durable's ack floor on, which no process renews: it covers the run's first commit
    const handedOver = (await leases.list()).find((l) => l.lease.key === consumers.dispatcher)?.lease;
    const [first] = await env.log.read('run', started.id);
    expect(handedOver).toMatchObject({ beat: 0 });
    expect(handedOver!.watermark).toBeGreaterThan(floor);
    expect(handedOver!.watermark).toBeLessThanOrEqual(messageSequenceOf(first!.sequence));

    const orch = await startOrchestrator(env);
    const workers = await startFakeWorkers(env, []);
    try {
      await eventually(async () => (await env.log.read('run', started.id)).some((e) => e.type === 'RunCompleted'), 'the run to complete after the sweep', 15_000);
      await eventually(async () => !(await leases.list()).some((l) => l.lease.key === consumers.dispatcher), 'the swept lease removed');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('two replicas drive 50 runs with no double dispatch and no lost phase', async () => {
    const [one, two] = [await startOrchestrator(env), await startOrchestrator(env)];
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    try {
      const created = ok(await handleOrchestratorRequest(one.deps, request({ type: 'CreateTemplate', template })));
      const runs = await Promise.all(
        Array.from({ length: 50 }, (_, i) => handleOrchestratorRequest(i % 2 ? one.deps : two.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: `r${i}` } }))),
      );
      for (const run of runs.map(ok)) {
        const events = await eventually(async () => {
          const e = await env.log.read('run', run.id);
          return e.some((x) => x.type === 'RunCompleted') && e;
        }, `run ${run.id} to complete`, 30_000);
        expect(events.filter((e) => e.type === 'PhaseCompleted')).toHaveLength(3);
        const ids = events.map((e) => e.id);
        expect(new Set(ids).size).toBe(ids.length);
      }
      // (commands of earlier tests' unfinished runs may still be queued: count this test's runs only)
      const ids = new Set(runs.map((r) => ok(r).id));
      const mine = seen.filter((commandId) => ids.has(commandId.split('.')[0]!));
      expect(mine).toHaveLength(350); // 50 runs × (5 candidates + 2 judges), each dispatched once
      expect(new Set(mine).size).toBe(350);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  it('fires a phase timeout after the orchestrator restarts (deadlines come from the log)', async () => {
    let orch = await startOrchestrator(env);
    const slow: TemplateInput = { name: 'slow', defaults: { timeoutSeconds: 2, retry: { maxAttempts: 1, backoffSeconds: 0 }, autoProceed: true }, phases: [template.phases[1]!] };
    const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template: slow })));
    const started = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: {} })));
    await orch.stop(); // no worker ever answers, and the orchestrator that set the deadline is gone
    await new Promise((r) => setTimeout(r, 500));
    orch = await startOrchestrator(env);
    try {
      const events = await eventually(async () => {
        const e = await env.log.read('run', started.id);
        return e.some((x) => x.type === 'RunFailed') && e;
      }, 'the timeout to fail the run', 15_000);
      const failure = events.find((e) => e.type === 'CandidateFailed')!;
      expect((failure.data as { error: { code: string } }).error.code).toBe('timeout');
      expect((events.find((e) => e.type === 'PhaseFailed')!.data as { reason: { code: string } }).reason.code).toBe('timeout');
    } finally {
      await orch.stop();
    }
  });

  it('refuses and records a late result whose attempt token is stale', async () => {
    const orch = await startOrchestrator(env);
    try {
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template })));
      const started = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'late' } })));
      const candidateId = `${started.id}.b.1.c0`;
      const stale: CandidateResult = {
        type: 'CandidateResult', workerId: 'old-worker', durationMs: 1, commandId: `${candidateId}@0`, runId: started.id, phaseId: 'b', attempt: 1,
        attemptToken: `${candidateId}@0`, provider: 'simulated', model: 'x', candidateId,
        outcome: { status: 'generated', output: { text: 'too late' }, tokens: { input: 1, output: 1 }, costUsd: 0 },
      };
      await env.log.publish(env.log.names.subjects.result(started.id), stale, `${stale.commandId}:result`);
      const events = await eventually(async () => {
        const e = await env.log.read('run', started.id);
        return e.some((x) => x.type === 'ResultRefused') && e;
      }, 'ResultRefused');
      expect(events.find((e) => e.type === 'ResultRefused')!.data).toMatchObject({ reason: 'stale_token', commandId: stale.commandId });
      expect(events.some((e) => e.type === 'CandidateGenerated')).toBe(false);
    } finally {
      await orch.stop();
    }
  });

  it('pauses, resumes, approves a gate and cancels through commands, telling workers what to abort', async () => {
    const cancelled: { runId: string; commandIds?: string[] }[] = [];
    const orch = await startOrchestrator(env, cancelled);
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    try {
      const gated: TemplateInput = { name: 'gated', phases: [template.phases[1]!, { id: 'ok', kind: 'gate', dependsOn: ['b'], message: 'Go?' }, { ...template.phases[1]!, id: 'after', dependsOn: ['ok'] }] };
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template: gated })));
      const run = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: {} })));
      await eventually(async () => (await env.log.read('run', run.id)).some((e) => e.type === 'GateOpened'), 'the gate to open');
      const refused = await handleOrchestratorRequest(orch.deps, request({ type: 'ResumeRun', runId: run.id }));
      expect(refused).toMatchObject({ ok: false, error: { code: 'illegal_state' } });
      ok(await handleOrchestratorRequest(orch.deps, request({ type: 'PauseRun', runId: run.id })));
      ok(await handleOrchestratorRequest(orch.deps, request({ type: 'ResumeRun', runId: run.id })));
      ok(await handleOrchestratorRequest(orch.deps, request({ type: 'ApproveGate', runId: run.id, phaseId: 'ok', comment: 'ship it' })));
      await eventually(async () => (await env.log.read('run', run.id)).some((e) => e.type === 'RunCompleted'), 'the run to complete after approval');
      expect(await handleOrchestratorRequest(orch.deps, request({ type: 'PauseRun', runId: 'nope' }))).toMatchObject({ ok: false, error: { code: 'not_found' } });

      const second = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: {} })));
      await eventually(async () => (await env.log.read('run', second.id)).some((e) => e.type === 'GateOpened'), 'the second gate');
      ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CancelRun', runId: second.id, reason: 'changed my mind' })));
      expect(cancelled).toEqual([{ runId: second.id }]);
      const events = await env.log.read('run', second.id);
      expect(events.at(-1)!.type).toBe('RunCancelled');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('forks a run from a phase, reusing the upstream outputs, and reruns it', async () => {
    const orch = await startOrchestrator(env);
    const seen: string[] = [];
    const workers = await startFakeWorkers(env, seen);
    try {
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template })));
      const source = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'fork me' } })));
      await eventually(async () => (await env.log.read('run', source.id)).some((e) => e.type === 'RunCompleted'), 'the source run');
      const before = seen.length;
      const fork = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'ForkRun', runId: source.id, fromPhaseId: 'c' })));
      const forked = await eventually(async () => {
        const e = await env.log.read('run', fork.id);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'the fork to complete');
      expect(forked.find((e) => e.type === 'RunForked')!.data).toMatchObject({ sourceRunId: source.id, fromPhaseId: 'c' });
      expect(seen.length - before).toBe(3); // only phase c ran again: 2 candidates + 1 judge
      const rerun = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'RerunRun', runId: source.id })));
      const rerunEvents = await eventually(async () => {
        const e = await env.log.read('run', rerun.id);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'the rerun to complete');
      expect(rerunEvents[0]!.data).toMatchObject({ inputs: { idea: 'fork me' }, origin: { kind: 'rerun', runId: source.id } });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('re-dispatches the work of a worker that stops heartbeating, under a new attempt token', async () => {
    const orch = await startOrchestrator(env);
    const { streams, consumers, subjects } = env.log.names;
    const held: string[] = [];
    let release: (() => void) | undefined;
    // a worker that takes the command, heartbeats twice while holding it, then goes silent (frozen:
    // no heartbeat and no in-progress ack, so JetStream would hand the old token out again after its lease)
    const hung = await runConsumer(env.log, { stream: streams.commands, durable: consumers.generateWorkers, workingIntervalMs: 60_000 }, async (m) => {
      const c = GenerateCandidate.parse(m.json());
      held.push(c.commandId);
      for (let i = 0; i < 2; i++) {
        env.log.nc.publish(subjects.liveWorker('hung'), JSON.stringify({
          kind: 'heartbeat', workerId: 'hung', role: 'llm-worker', host: 'h', status: 'busy', inFlight: 1, done: 0, failed: 0,
          at: new Date().toISOString(), intervalMs: 200, commands: [{ runId: c.runId, commandId: c.commandId, seq: m.seq }],
        }));
        await new Promise((r) => setTimeout(r, 200));
      }
      // hangs (its lease kept alive by in-progress acks) until the test releases it
      return new Promise((resolve) => (release = () => resolve(ack())));
    });
    let workers: RunningConsumer[] = [];
    try {
      const single: TemplateInput = { name: 'single', phases: [template.phases[1]!] };
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template: single })));
      const run = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: {} })));
      await eventually(async () => held.length === 1, 'the hung worker to take the command');
      const seen: string[] = [];
      workers = await startFakeWorkers(env, seen);
      const events = await eventually(async () => {
        const e = await env.log.read('run', run.id);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'the re-dispatched work to complete the run', 20_000);
      const redispatch = events.find((e) => e.type === 'CandidateRedispatched')!;
      expect(redispatch.data).toMatchObject({ reason: 'stalled', attemptToken: `${run.id}.b.1.c0@2` });
      expect(seen).toContain(`${run.id}.b.1.c0@2`);
      // the stale command was removed from the queue: no worker is ever handed the old token again
      await new Promise((r) => setTimeout(r, 2_500)); // past the old delivery's lease (ack_wait 2 s)
      expect(seen).not.toContain(`${run.id}.b.1.c0@1`);
      expect((await env.log.jsm.consumers.info(streams.commands, consumers.generateWorkers)).num_redelivered).toBe(0);
    } finally {
      release?.();
      await hung.stop();
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });

  it('refuses bad commands with typed errors and appends nothing', async () => {
    const orch = await startOrchestrator(env);
    try {
      const before = await env.log.lastSequence();
      const unknown = await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: 'nope', inputs: {} }));
      expect(unknown).toMatchObject({ ok: false, error: { code: 'not_found' } });
      expect(await env.log.lastSequence()).toBe(before);
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template })));
      const afterCreate = await env.log.lastSequence();
      const badInputs = await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 42 } }));
      expect(badInputs).toMatchObject({ ok: false, error: { code: 'validation' } });
      const badTemplate = await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template: { ...template, phases: [{ ...template.phases[0], dependsOn: ['ghost'] }] } }));
      expect(badTemplate).toMatchObject({ ok: false, error: { code: 'validation', details: { errors: [{ code: 'unknown_phase', phaseId: 'a' }] } } });
      const malformed = await handleOrchestratorRequest(orch.deps, { command: { type: 'Launch' } });
      expect(malformed).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      expect(await env.log.lastSequence()).toBe(afterCreate);
    } finally {
      await orch.stop();
    }
  });

  it('dead-letters a result that does not match the contract, and redrives it on request (refused again: a second record)', async () => {
    const orch = await startOrchestrator(env);
    const { streams, subjects } = env.log.names;
    const records = async () => {
      const info = await env.log.jsm.streams.info(streams.deadLetters);
      const out: { seq: number; message: DeadLetterMessage }[] = [];
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const m = await env.log.jsm.streams.getMessage(streams.deadLetters, { seq }).catch(() => null);
        if (m) out.push({ seq, message: DeadLetterMessage.parse(m.json()) });
      }
      return out.filter((r) => r.message.kind !== 'dead' || r.message.runId === 'run-poison');
    };
    try {
      await env.log.publish(subjects.result('run-poison'), { type: 'CandidateResult', nonsense: true }, 'poison-result-1');
      await eventually(async () => (await records()).length === 1, 'the dead-letter record of the result');
      const [first] = await records();
      expect(first!.message).toMatchObject({ kind: 'dead', consumer: env.log.names.consumers.orchestratorResults, reason: 'undecodable', subject: subjects.result('run-poison') });
      expect((await env.log.jsm.consumers.info(streams.results, env.log.names.consumers.orchestratorResults)).num_ack_pending).toBe(0);

      const reply = await handleOrchestratorRequest(orch.deps, request({ type: 'RedriveDeadLetter', deadLetterId: String(first!.seq) }));
      expect(reply).toMatchObject({ ok: true, id: String(first!.seq) });
      // handed back to the results consumer, which still cannot decode it: a second record, and the mark
      await eventually(async () => (await records()).filter((r) => r.message.kind === 'dead').length === 2, 'the redriven result dead-lettered again');
      const marks = (await records()).filter((r) => r.message.kind === 'redriven');
      expect(marks.map((r) => r.message)).toEqual([expect.objectContaining({ kind: 'redriven', deadLetterId: String(first!.seq) })]);

      const missing = await handleOrchestratorRequest(orch.deps, request({ type: 'RedriveDeadLetter', deadLetterId: '999999' }));
      expect(missing).toMatchObject({ ok: false, error: { code: 'not_found' } });
    } finally {
      await orch.stop();
    }
  });

  it('fails a run whose stream holds an event that does not decode at its next input, with internal_error naming it (never a hang)', async () => {
    const orch = await startOrchestrator(env);
    const workers: RunningConsumer[] = [];
    try {
      const created = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'CreateTemplate', template })));
      const started = ok(await handleOrchestratorRequest(orch.deps, request({ type: 'StartRun', templateId: created.id, inputs: { idea: 'poison' } })));
      // no worker answers yet: the run waits on its candidates when the junk lands on its subject
      const junk = await env.log.publish(env.log.names.subjects.aggregateEvents('run', started.id), { type: 'PhaseExploded', data: {} }, `junk-${started.id}`);
      // the next input (a candidate's result) meets it: the append is refused, the re-read finds the junk
      workers.push(...(await startFakeWorkers(env, [])));
      const poison: UnreadableEvent[] = [];
      await eventually(async () => {
        poison.length = 0;
        const events = await env.log.read('run', started.id, 0, { poison });
        return events.some((e) => e.type === 'RunFailed') ? events : null;
      }, 'the run to fail');
      const events = await env.log.read('run', started.id, 0, { poison: [] });
      const failed = events.find((e) => e.type === 'RunFailed')!;
      expect(failed.type === 'RunFailed' && failed.data.reason).toMatchObject({ code: 'internal_error', message: expect.stringContaining(`event ${positionOf(junk.seq)} of this run cannot be read`) });
      expect(poison.map((p) => p.sequence)).toEqual([positionOf(junk.seq)]);
      await expect(env.log.read('run', started.id)).rejects.toThrow(); // without `poison`, a read still refuses it
      // it failed before any result was taken (results that come later are only recorded: no phase moves on)
      expect(events.findIndex((e) => e.type === 'RunFailed')).toBeLessThan(events.findIndex((e) => e.type === 'CandidateGenerated'));
      expect(types(events)).not.toContain('PhaseCompleted');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await orch.stop();
    }
  });
});

