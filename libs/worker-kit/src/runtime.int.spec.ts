import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { WorkerRuntime, type FailedOutcome, type WorkerLogger, type WorkerSpec } from './runtime';

jest.setTimeout(30_000);

/** A toy command/result pair on the generate consumer: the runtime is generic over both. */
const Ping = z.object({
  commandId: z.string(),
  runId: z.string(),
  phaseId: z.string(),
  attempt: z.number(),
  attemptToken: z.string(),
  provider: z.string(),
  model: z.string(),
  behaviour: z.enum(['throw', 'ignore-signal']),
});
type Ping = z.infer<typeof Ping>;
const Pong = z.object({ commandId: z.string(), workerId: z.string(), outcome: z.object({ status: z.string() }).passthrough() });
type Pong = z.infer<typeof Pong>;

const quiet: WorkerLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('WorkerRuntime mechanics', () => {
  let env: TestEnv;
  const calls = new Map<string, number>();
  let runtime: WorkerRuntime<Ping, { status: 'ok' }, Pong>;

  beforeAll(async () => {
    env = await createTestEnv('workerkit', { database: false, ackWaitMs: 1_000 });
    const spec: WorkerSpec<Ping, { status: 'ok' }, Pong> = {
      role: 'llm-worker',
      durable: env.log.names.consumers.generateWorkers,
      command: Ping,
      result: Pong,
      timeoutMs: () => 20_000,
      execute: async (cmd) => {
        calls.set(cmd.commandId, (calls.get(cmd.commandId) ?? 0) + 1);
        if (cmd.behaviour === 'throw') throw new Error('provider unreachable');
        return new Promise(() => undefined); // never settles, ignores its signal
      },
      toResult: (cmd, outcome: { status: 'ok' } | FailedOutcome, meta) => ({ commandId: cmd.commandId, workerId: meta.workerId, outcome }),
    };
    runtime = new WorkerRuntime(spec, { log: env.log, workerId: 'kit', logger: quiet, workingIntervalMs: 300, maxErrorDeliveries: 3, shutdownGraceMs: 200 });
    await runtime.start();
  });
  afterAll(async () => {
    await runtime.shutdown();
    await env.dispose();
  });

  const ping = (behaviour: Ping['behaviour']): Ping => ({
    commandId: randomUUID(),
    runId: randomUUID(),
    phaseId: 'p',
    attempt: 1,
    attemptToken: 't',
    provider: 'x',
    model: 'm',
    behaviour,
  });
  async function resultOf(commandId: string, timeoutMs = 10_000): Promise<Pong> {
    const stream = env.log.names.streams.results;
    return eventually(async () => {
      const info = await env.log.jsm.streams.info(stream);
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const m = await env.log.jsm.streams.getMessage(stream, { seq }).catch(() => null);
        const r = m ? Pong.parse(m.json()) : null;
        if (r?.commandId === commandId) return r;
      }
      return null;
    }, `the result of ${commandId}`, timeoutMs);
  }

  it('retries a throwing call with backoff, then publishes a retryable worker_error after maxErrorDeliveries', async () => {
    const cmd = ping('throw');
    await env.log.publish(env.log.names.subjects.generate, cmd, cmd.commandId);
    const result = await resultOf(cmd.commandId);
    expect(calls.get(cmd.commandId)).toBe(3);
    expect(result.outcome).toEqual({ status: 'failed', error: { code: 'worker_error', message: 'provider unreachable (after 3 deliveries)', retryable: true } });
  });

  it('answers a cancel within a second even when the call ignores its signal', async () => {
    const cmd = ping('ignore-signal');
    await env.log.publish(env.log.names.subjects.generate, cmd, cmd.commandId);
    await eventually(async () => runtime.inFlightCount === 1, 'the call in flight');
    const at = Date.now();
    env.log.nc.publish(env.log.names.subjects.cancel, JSON.stringify({ runId: cmd.runId, commandIds: [cmd.commandId] }));
    const result = await resultOf(cmd.commandId, 1_000);
    expect(Date.now() - at).toBeLessThan(1_000);
    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: 'cancelled', retryable: false } });
    expect(runtime.inFlightCount).toBe(0);
  });

  it('ignores a cancel that does not parse', async () => {
    env.log.nc.publish(env.log.names.subjects.cancel, 'nonsense');
    env.log.nc.publish(env.log.names.subjects.cancel, JSON.stringify({ commandIds: 'x' }));
    await env.log.nc.flush();
    expect(runtime.running).toBe(true);
  });
});

describe('WorkerRuntime lease (issue 11 §5: one provider call per candidate)', () => {
  let env: TestEnv;
  const runtimes: WorkerRuntime<Ping, { status: 'ok' }, Pong>[] = [];
  const calls = new Map<string, number>();
  beforeAll(async () => {
    env = await createTestEnv('workerlease', { database: false, ackWaitMs: 5_000 });
  });
  afterAll(async () => {
    for (const r of runtimes) await r.shutdown();
    await env.dispose();
  });

  /** A process frozen past its lease (as under SIGSTOP): the event loop does nothing for `ms`. */
  const freeze = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      /* frozen */
    }
  };
  async function start(durable: string, redispatchedOnStall: boolean) {
    const spec: WorkerSpec<Ping, { status: 'ok' }, Pong> = {
      role: 'llm-worker',
      durable,
      redispatchedOnStall,
      command: Ping,
      result: Pong,
      timeoutMs: () => 20_000,
      execute: async (cmd, ctx) => {
        calls.set(cmd.commandId, (calls.get(cmd.commandId) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (ctx.deliveryCount === 1) freeze(2_500); // the provider answered while the process was stopped
        return { status: 'ok' };
      },
      toResult: (cmd, outcome: { status: 'ok' } | FailedOutcome, meta) => ({ commandId: cmd.commandId, workerId: meta.workerId, outcome }),
    };
    // a lease well above any event-loop lag of a loaded CI machine, well below the freeze
    const runtime = new WorkerRuntime(spec, { log: env.log, workerId: `lease-${durable}`, logger: quiet, heartbeatMs: 200, leaseMs: 1_500 });
    runtimes.push(runtime);
    await runtime.start();
    return runtime;
  }
  const results = async (commandId: string): Promise<Pong[]> => {
    const stream = env.log.names.streams.results;
    const info = await env.log.jsm.streams.info(stream);
    const out: Pong[] = [];
    for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
      const m = await env.log.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      const r = m ? Pong.parse(m.json()) : null;
      if (r?.commandId === commandId) out.push(r);
    }
    return out;
  };
  const ping = (): Ping => ({ commandId: randomUUID(), runId: randomUUID(), phaseId: 'p', attempt: 1, attemptToken: 't', provider: 'x', model: 'm', behaviour: 'throw' });

  it('a candidate whose worker was frozen past its lease is given up as lease_lost, never reported as done', async () => {
    const runtime = await start(env.log.names.consumers.generateWorkers, true);
    const cmd = ping();
    await env.log.publish(env.log.names.subjects.generate, cmd, cmd.commandId);
    await eventually(async () => (await results(cmd.commandId)).length === 1, 'the lease_lost result');
    const [result] = await results(cmd.commandId);
    expect(result!.outcome).toMatchObject({ status: 'failed', error: { code: 'lease_lost', retryable: true } });
    expect(runtime.counters).toMatchObject({ leaseLost: 1, done: 0 });
    expect(calls.get(cmd.commandId)).toBe(1);
  });

  it('other work is handed back to the queue when the lease is lost, and done once by the next delivery', async () => {
    const runtime = await start(env.log.names.consumers.judgeWorkers, false);
    const cmd = ping();
    await env.log.publish(env.log.names.subjects.judge, cmd, cmd.commandId);
    await eventually(async () => (await results(cmd.commandId)).length === 1, 'the result of the second delivery');
    const [result] = await results(cmd.commandId);
    expect(result!.outcome).toEqual({ status: 'ok' });
    expect(calls.get(cmd.commandId)).toBe(2);
    expect(runtime.counters).toMatchObject({ leaseLost: 1, done: 1 });
  });
});

describe('WorkerRuntime result delivery (issue 12 §4: one hop, writes beside the result)', () => {
  let env: TestEnv;
  let runtime: WorkerRuntime<Ping, { status: 'ok' }, Pong>;
  const writes: { startedAt: number; doneAt: number | null }[] = [];
  beforeAll(async () => {
    env = await createTestEnv('workerdeliver', { database: false, ackWaitMs: 2_000 });
    const spec: WorkerSpec<Ping, { status: 'ok' }, Pong> = {
      role: 'llm-worker',
      durable: env.log.names.consumers.generateWorkers,
      command: Ping,
      result: Pong,
      timeoutMs: () => 20_000,
      execute: async (cmd, ctx) => {
        if (cmd.behaviour === 'ignore-signal') return new Promise(() => undefined);
        // a large transcript's write: started with the work, finished well after the result could go
        const write = { startedAt: Date.now(), doneAt: null as number | null };
        writes.push(write);
        ctx.alongside(new Promise<void>((resolve) => setTimeout(() => resolve(void (write.doneAt = Date.now())), 1_200)));
        return { status: 'ok' };
      },
      toResult: (cmd, outcome: { status: 'ok' } | FailedOutcome, meta) => ({ commandId: cmd.commandId, workerId: meta.workerId, outcome }),
    };
    runtime = new WorkerRuntime(spec, { log: env.log, workerId: 'deliver', logger: quiet, workingIntervalMs: 300, directResultTimeoutMs: 1_000 });
    await runtime.start();
  });
  afterAll(async () => {
    await runtime.shutdown();
    await env.dispose();
  });

  const ping = (behaviour: Ping['behaviour']): Ping => ({ commandId: randomUUID(), runId: randomUUID(), phaseId: 'p', attempt: 1, attemptToken: 't', provider: 'x', model: 'm', behaviour });
  const ackPending = async () => (await env.log.jsm.consumers.info(env.log.names.streams.commands, env.log.names.consumers.generateWorkers)).num_ack_pending;
  const storedResults = async () => (await env.log.jsm.streams.info(env.log.names.streams.results)).state.messages;

  it('sends the result while the write it refers to runs, and acks the command only after both', async () => {
    const cmd = ping('throw');
    await env.log.publish(env.log.names.subjects.generate, cmd, cmd.commandId);
    await eventually(async () => (await storedResults()) === 1, 'the result (no responder: RESULTS)', 5_000);
    const write = writes[writes.length - 1]!;
    expect(write.doneAt).toBeNull(); // the result did not wait for the write
    expect(await ackPending()).toBe(1); // nor was the command acked before it
    await eventually(async () => (await ackPending()) === 0, 'the command acked');
    expect(write.doneAt).not.toBeNull();
    expect(runtime.deliveries).toEqual({ direct: 0, stream: 1 });
  });

  it('hands a cancelled result to the orchestrator in one hop when it answers, like any other result', async () => {
    const received: Pong[] = [];
    const responder = env.log.nc.subscribe(env.log.names.subjects.directResult, {
      queue: env.log.names.queues.orchestrator,
      callback: (_e, m) => {
        received.push(Pong.parse(m.json()));
        m.respond(JSON.stringify({ ok: true, appended: 1 }));
      },
    });
    await env.log.nc.flush();
    try {
      const before = await storedResults();
      const cmd = ping('ignore-signal');
      await env.log.publish(env.log.names.subjects.generate, cmd, cmd.commandId);
      await eventually(async () => runtime.inFlightCount === 1, 'the call in flight');
      env.log.nc.publish(env.log.names.subjects.cancel, JSON.stringify({ runId: cmd.runId, commandIds: [cmd.commandId] }));
      await eventually(async () => received.length === 1, 'the cancelled result at the responder');
      expect(received[0]).toMatchObject({ commandId: cmd.commandId, outcome: { status: 'failed', error: { code: 'cancelled' } } });
      await eventually(async () => (await ackPending()) === 0, 'the command acked');
      expect(await storedResults()).toBe(before);
      expect(runtime.deliveries).toEqual({ direct: 1, stream: 1 });
    } finally {
      responder.unsubscribe();
    }
  });
});
