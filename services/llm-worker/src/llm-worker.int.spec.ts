import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { NestFactory } from '@nestjs/core';
import { artifactJsonSchema, INLINE_TRANSCRIPT_MAX_BYTES, type CandidateResult, type JsonSchema } from '@conclave/contracts';
import { EventLog, TranscriptStore } from '@conclave/event-log';
import { createTestEnv, eventually, FakeLlmServer, openai, type TestEnv } from '@conclave/testing';
import { createGenerateRuntime, type GenerateRuntime } from './adapters/generate-worker';
import { loadConfig } from './config';
import { LlmWorkerModule } from './llm-worker.module';
import { collectLive, generateCommand, memoryLogger, settings, sleep, storedResults, type StoredResult } from './__tests__/harness';

const ajv = new Ajv2020({ strict: false, allErrors: true });

jest.setTimeout(30_000);

describe('llm-worker against JetStream', () => {
  let env: TestEnv;
  const runtimes: GenerateRuntime[] = [];
  const extraLogs: EventLog[] = [];

  beforeAll(async () => {
    env = await createTestEnv('llmworker', { database: false, ackWaitMs: 1_000 });
  });
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((r) => r.shutdown()));
  });
  afterAll(async () => {
    await Promise.all(extraLogs.map((l) => l.close()));
    await env.dispose();
  });

  const publish = (cmd: { commandId: string }, msgId = cmd.commandId) => env.log.publish(env.log.names.subjects.generate, cmd, msgId);
  async function startWorker(instance: string, overrides: Record<string, unknown> = {}, log: EventLog = env.log) {
    const logger = memoryLogger();
    const runtime = createGenerateRuntime(settings(instance, overrides) as never, log, logger);
    runtimes.push(runtime);
    await runtime.start();
    return { runtime, logger };
  }
  async function resultsOf(runId: string, count: number, timeoutMs = 10_000): Promise<StoredResult[]> {
    return eventually(async () => {
      const rs = await storedResults(env.log, runId);
      return rs.length >= count ? rs : null;
    }, `${count} result(s) of run ${runId}`, timeoutMs);
  }
  async function consumerIdle() {
    const { streams, consumers } = env.log.names;
    return eventually(async () => {
      const info = await env.log.jsm.consumers.info(streams.commands, consumers.generateWorkers);
      return info.num_pending === 0 && info.num_ack_pending === 0 ? info : null;
    }, 'the generate consumer to be idle');
  }

  it('publishes one schema-valid CandidateResult per command, with the attempt token and the msgID <commandId>:result', async () => {
    const runId = randomUUID();
    const custom: JsonSchema = {
      type: 'object',
      required: ['steps', 'confidence'],
      properties: { steps: { type: 'array', minItems: 2, items: { type: 'string' } }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
      additionalProperties: false,
    };
    const commands = [
      generateCommand(runId),
      generateCommand(runId, { slot: 1, model: 'sim-b', output: { artifact: 'plan', schema: artifactJsonSchema('plan') } }),
      generateCommand(runId, { slot: 2, phaseId: 'draft', output: { schema: custom } }),
    ];
    await startWorker('w-basic');
    for (const c of commands) await publish(c);
    const results = await resultsOf(runId, 3);
    expect(results).toHaveLength(3);
    for (const cmd of commands) {
      const r = results.find((x) => x.commandId === cmd.commandId) as StoredResult & CandidateResult;
      expect(r).toMatchObject({
        type: 'CandidateResult',
        runId,
        phaseId: cmd.phaseId,
        attempt: cmd.attempt,
        attemptToken: cmd.attemptToken,
        candidateId: cmd.candidateId,
        workerId: 'w-basic',
        provider: 'simulated',
        model: cmd.model,
        msgId: `${cmd.commandId}:result`,
      });
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(r.outcome.status).toBe('generated');
      if (r.outcome.status !== 'generated') continue;
      expect(ajv.validate(cmd.output.schema, r.outcome.output)).toBe(true);
      expect(r.outcome.costUsd).toBe(0);
      expect(r.outcome.tokens.output).toBe(Math.ceil(JSON.stringify(r.outcome.output, null, 2).length / 4));
    }
  });

  it('answers an unknown provider and an unsatisfiable schema with typed failed results', async () => {
    const runId = randomUUID();
    const unknown = generateCommand(runId, { provider: 'openai', model: 'gpt-4.1' });
    const invalid = generateCommand(runId, { slot: 1, output: { schema: { type: 'object', required: ['code'], properties: { code: { type: 'string', pattern: '^[0-9]{3}$' } } } } });
    // the gateway knows no such provider (without an answer the lookup would fail retryably: see below)
    const gateway = env.log.nc.subscribe(env.log.names.subjects.credentials, { queue: 'gateway', callback: (_err, msg) => void msg.respond(JSON.stringify({ ok: false, error: { code: 'not_found', message: 'no such provider' } })) });
    await env.log.nc.flush();
    await startWorker('w-fail');
    await publish(unknown);
    await publish(invalid);
    const results = await resultsOf(runId, 2).finally(() => gateway.unsubscribe());
    const byId = new Map(results.map((r) => [r.commandId, r as StoredResult & CandidateResult]));
    expect(byId.get(unknown.commandId)!.outcome).toEqual({
      status: 'failed',
      error: { code: 'provider_not_configured', message: expect.stringContaining('openai'), retryable: false },
    });
    // an output_invalid carries the raw output (for OutputRejected), what the call used, and the stored conversation
    expect(byId.get(invalid.commandId)!.outcome).toEqual({
      status: 'failed',
      error: { code: 'output_invalid', message: expect.stringContaining('/code: must match pattern'), retryable: false },
      raw: expect.stringContaining('"code"'),
      tokens: { input: expect.any(Number), output: expect.any(Number) },
      // system, user, the answer: small, so inline (issue 12 §4), its key still the SHA-256 of its JSON
      transcript: {
        key: expect.stringMatching(/^sha256-/),
        bytes: expect.any(Number),
        messages: 3,
        inline: [expect.objectContaining({ role: 'system' }), expect.objectContaining({ role: 'user' }), expect.objectContaining({ role: 'assistant' })],
      },
    });
  });

  it('keeps exactly one result when a command is processed twice (deduplicated by msgID)', async () => {
    const runId = randomUUID();
    const cmd = generateCommand(runId);
    const { runtime } = await startWorker('w-dup');
    // The same command arriving twice (as after a redelivery): a second Nats-Msg-Id defeats the
    // COMMANDS stream's own dedup, so the worker really processes it twice.
    await publish(cmd);
    await publish(cmd, `${cmd.commandId}#redelivered`);
    await eventually(async () => runtime.counters.done === 2, 'both deliveries processed');
    await consumerIdle();
    const results = await storedResults(env.log, runId);
    expect(results).toHaveLength(1);
    expect(results[0]!.msgId).toBe(`${cmd.commandId}:result`);
  });

  it('extends the lease with in-progress acks: a 2.5 s call under a 1 s ack_wait runs once', async () => {
    const runId = randomUUID();
    const { runtime } = await startWorker('w-lease');
    await publish(generateCommand(runId, { options: { latencyMs: 2_500 } }));
    await resultsOf(runId, 1);
    const info = await consumerIdle();
    expect(runtime.counters).toEqual({ done: 1, failed: 0, leaseLost: 0 });
    expect(info.num_redelivered).toBe(0);
  });

  it('shares one queue of 20 commands between two worker processes, each command processed once', async () => {
    const runId = randomUUID();
    const second = await EventLog.connect({ servers: env.natsUrl, prefix: env.prefix, name: 'second-worker' });
    extraLogs.push(second);
    const a = await startWorker('w-a', { WORKER_CONCURRENCY: 2 });
    const b = await startWorker('w-b', { WORKER_CONCURRENCY: 2 }, second);
    const commands = Array.from({ length: 20 }, (_, i) => generateCommand(runId, { slot: i, options: { latencyMs: 100 } }));
    const started = Date.now();
    await Promise.all(commands.map((c) => publish(c)));
    const results = await resultsOf(runId, 20);
    const elapsed = Date.now() - started;
    expect(new Set(results.map((r) => r.commandId))).toEqual(new Set(commands.map((c) => c.commandId)));
    expect(results).toHaveLength(20);
    const byWorker = { a: results.filter((r) => r.workerId === 'w-a').length, b: results.filter((r) => r.workerId === 'w-b').length };
    expect(byWorker.a).toBeGreaterThan(0);
    expect(byWorker.b).toBeGreaterThan(0);
    expect(a.runtime.counters.done + b.runtime.counters.done).toBe(20);
    // 20 × 100 ms over 2 × 2 slots: about 0.5 s when both really share the work
    expect(elapsed).toBeLessThan(2_000);
    console.info(`20 commands on 2 workers: ${elapsed} ms, split ${byWorker.a}/${byWorker.b}`);
  });

  it('aborts a slow call within a second of a cancel and publishes a cancelled result', async () => {
    const runId = randomUUID();
    const { runtime } = await startWorker('w-cancel');
    const slow = generateCommand(runId, { options: { latencyMs: 5_000 } });
    const other = generateCommand(randomUUID(), { options: { latencyMs: 5_000 } });
    await publish(slow);
    await publish(other);
    await eventually(async () => runtime.inFlightCount === 2, 'both calls in flight');
    const cancelledAt = Date.now();
    env.log.nc.publish(env.log.names.subjects.cancel, JSON.stringify({ runId }));
    const [result] = await resultsOf(runId, 1);
    const latency = Date.now() - cancelledAt;
    expect(latency).toBeLessThan(1_000);
    expect((result as CandidateResult).outcome).toEqual({ status: 'failed', error: { code: 'cancelled', message: expect.any(String), retryable: false } });
    expect(runtime.inFlightCount).toBe(1); // the other run's call goes on
    console.info(`cancel → result: ${latency} ms`);

    // a cancel naming command ids aborts only those
    env.log.nc.publish(env.log.names.subjects.cancel, JSON.stringify({ runId: other.runId, commandIds: ['not-this-one'] }));
    await sleep(150);
    expect(runtime.inFlightCount).toBe(1);
    env.log.nc.publish(env.log.names.subjects.cancel, JSON.stringify({ runId: other.runId, commandIds: [other.commandId] }));
    const [otherResult] = await resultsOf(other.runId, 1, 1_000);
    expect((otherResult as CandidateResult).outcome.status).toBe('failed');

    // a command of a cancelled run pulled later is answered at once, without calling the provider
    const late = generateCommand(runId, { slot: 5, options: { latencyMs: 5_000 } });
    await publish(late);
    const lateResult = (await resultsOf(runId, 2, 1_000)).find((r) => r.commandId === late.commandId) as CandidateResult;
    expect(lateResult.outcome).toMatchObject({ status: 'failed', error: { code: 'cancelled' } });
  });

  it('fails a call that outlives timeoutSeconds with a retryable timeout', async () => {
    const runId = randomUUID();
    await startWorker('w-timeout');
    const started = Date.now();
    await publish(generateCommand(runId, { timeoutSeconds: 1, options: { latencyMs: 5_000 } }));
    const [result] = await resultsOf(runId, 1);
    expect((result as CandidateResult).outcome).toEqual({ status: 'failed', error: { code: 'timeout', message: expect.any(String), retryable: true } });
    expect(result!.durationMs).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('streams coalesced token deltas on the run live subject, at most every ~150 ms', async () => {
    const runId = randomUUID();
    const live = collectLive(env, env.log.names.subjects.liveRun(runId));
    await env.log.nc.flush();
    await startWorker('w-live');
    const cmd = generateCommand(runId, { options: { latencyMs: 600 } });
    await publish(cmd);
    const [result] = await resultsOf(runId, 1);
    await sleep(100);
    live.sub.unsubscribe();
    const tokens = live.messages.filter((m) => m.kind === 'tokens');
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    for (const t of tokens) expect(t).toMatchObject({ runId, phaseId: cmd.phaseId, candidateId: cmd.candidateId });
    const outcome = (result as CandidateResult).outcome;
    if (outcome.status !== 'generated') throw new Error('expected a generated result');
    expect(tokens.map((t) => (t.kind === 'tokens' ? t.delta : '')).join('')).toBe(JSON.stringify(outcome.output, null, 2));
    // the last delta is the remainder flushed when the call completes (so it precedes the result)
    const gaps = tokens.slice(1, -1).map((t, i) => Date.parse(t.at) - Date.parse(tokens[i]!.at));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(140);
    expect(tokens.length).toBeLessThanOrEqual(Math.ceil(600 / 150) + 2);
  });

  it('runs an agent phase in the run workspace: every tool call live, audited in the result, with a transcript', async () => {
    const runId = randomUUID().replace(/-/g, '');
    const root = await mkdtemp(path.join(tmpdir(), 'conclave-agent-int-'));
    try {
      const live = collectLive(env, env.log.names.subjects.liveRun(runId));
      await env.log.nc.flush();
      await startWorker('w-agent', { WORKSPACES_ROOT: root });
      const cmd = generateCommand(runId, {
        output: { artifact: 'code-change', schema: artifactJsonSchema('code-change') as JsonSchema },
        agent: { tools: ['list_files', 'write_file', 'read_file'], maxIterations: 5 },
      });
      await publish(cmd);
      const [result] = await resultsOf(runId, 1);
      await sleep(100);
      live.sub.unsubscribe();
      const outcome = (result as CandidateResult).outcome;
      if (outcome.status !== 'generated') throw new Error(`expected a generated result, got ${JSON.stringify(outcome)}`);
      expect(outcome.toolCalls?.map((c) => c.tool)).toEqual(['list_files', 'write_file', 'read_file']);
      const calls = live.messages.filter((m) => m.kind === 'tool_call');
      expect(calls.map((m) => (m.kind === 'tool_call' ? [m.tool, m.refused, m.candidateId] : []))).toEqual(
        outcome.toolCalls!.map((c) => [c.tool, false, cmd.candidateId]),
      );
      const files = (outcome.output as { files: { path: string }[] }).files;
      expect(await readFile(path.join(root, runId, files[0]!.path), 'utf8')).toContain('recipe sharing app');
      // the conversation travels inline in the result (it is small); readers take it from there
      expect(outcome.transcript!.bytes).toBeLessThanOrEqual(INLINE_TRANSCRIPT_MAX_BYTES);
      expect(outcome.transcript!.inline).toBeDefined();
      const stored = await (await TranscriptStore.open(env.log)).read(outcome.transcript!);
      expect(stored?.length).toBe(outcome.transcript!.messages);
      expect(stored?.filter((m) => m.role === 'tool_result').map((m) => m.tool)).toEqual(['list_files', 'write_file', 'read_file']);
      expect(stored?.slice(0, 2).map((m) => m.role)).toEqual(['system', 'user']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('stores a large transcript in the object store beside the result (no inline copy), durable before the command is acked', async () => {
    const runId = randomUUID();
    const cmd = generateCommand(runId, { prompt: { system: 'You are a product analyst.', user: `Idea: ${'a recipe sharing app with offline sync. '.repeat(400)}` } });
    await startWorker('w-large');
    await publish(cmd);
    const [result] = await resultsOf(runId, 1);
    const outcome = (result as CandidateResult).outcome;
    if (outcome.status !== 'generated') throw new Error(`expected a generated result, got ${JSON.stringify(outcome)}`);
    expect(outcome.transcript).toEqual({ key: expect.stringMatching(/^sha256-[0-9a-f]{64}$/), bytes: expect.any(Number), messages: 3 });
    expect(outcome.transcript!.bytes).toBeGreaterThan(INLINE_TRANSCRIPT_MAX_BYTES);
    await consumerIdle(); // acked: the transcript write has settled too
    const stored = await (await TranscriptStore.open(env.log)).get(outcome.transcript!.key);
    expect(stored?.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(stored?.[1]?.content).toContain('offline sync');
  });

  it('calls an SDK provider configured from the env keys (OpenAI against a fake server) and prices the result', async () => {
    const server = await FakeLlmServer.start();
    try {
      server.reply(openai.stream(['{"steps":["a",', '"b"]}'], { prompt: 1_000, completion: 500 }));
      const runId = randomUUID();
      await startWorker('w-openai', { OPENAI_API_KEY: 'sk-test-key', OPENAI_BASE_URL: `${server.url}/v1` });
      const schema: JsonSchema = { type: 'object', properties: { steps: { type: 'array', items: { type: 'string' } } }, required: ['steps'] };
      await publish(generateCommand(runId, { provider: 'openai', model: 'gpt-4.1', output: { schema } }));
      const [result] = await resultsOf(runId, 1);
      expect((result as CandidateResult).outcome).toMatchObject({ status: 'generated', output: { steps: ['a', 'b'] }, tokens: { input: 1_000, output: 500 }, costUsd: 0.006 });
      expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-test-key');
    } finally {
      await server.close();
    }
  });

  it('a cancel aborts a streaming SDK call (the HTTP request is closed) within a second', async () => {
    const server = await FakeLlmServer.start();
    try {
      server.reply({ hang: true });
      const runId = randomUUID();
      await startWorker('w-sdk-cancel', { OPENAI_API_KEY: 'sk-test-key', OPENAI_BASE_URL: `${server.url}/v1` });
      await publish(generateCommand(runId, { provider: 'openai', model: 'gpt-4.1' }));
      await eventually(async () => server.requests.length === 1, 'the SDK request to reach the server');
      const cancelledAt = Date.now();
      env.log.nc.publish(env.log.names.subjects.cancel, JSON.stringify({ runId }));
      const [result] = await resultsOf(runId, 1);
      expect(Date.now() - cancelledAt).toBeLessThan(1_000);
      expect((result as CandidateResult).outcome).toMatchObject({ status: 'failed', error: { code: 'cancelled', retryable: false } });
      await eventually(async () => server.openCount === 0, 'the hanging HTTP request to be closed by the client', 2_000);
    } finally {
      await server.close();
    }
  });

  it('sends heartbeats on the worker live subject: idle, busy with the in-flight count, then draining', async () => {
    const live = collectLive(env, env.log.names.subjects.liveWorker('w-heart'));
    await env.log.nc.flush();
    const { runtime } = await startWorker('w-heart', { WORKER_SHUTDOWN_GRACE_MS: 2_000 });
    await eventually(async () => live.messages.length >= 2, 'two heartbeats', 2_000);
    expect(live.messages[0]).toMatchObject({ kind: 'heartbeat', workerId: 'w-heart', role: 'llm-worker', status: 'idle', inFlight: 0, done: 0, failed: 0 });
    await publish(generateCommand(randomUUID(), { options: { latencyMs: 700 } }));
    await eventually(async () => live.messages.some((m) => m.kind === 'heartbeat' && m.status === 'busy' && m.inFlight === 1), 'a busy heartbeat', 2_000);
    await eventually(async () => live.messages.some((m) => m.kind === 'heartbeat' && m.status === 'idle' && m.done === 1), 'an idle heartbeat with done 1', 3_000);
    await runtime.shutdown();
    await sleep(50);
    live.sub.unsubscribe();
    const last = live.messages[live.messages.length - 1]!;
    expect(last).toMatchObject({ kind: 'heartbeat', status: 'draining', inFlight: 0, done: 1 });
    const gaps = live.messages.slice(1, 4).map((m, i) => m.receivedAt - live.messages[i]!.receivedAt);
    expect(Math.max(...gaps)).toBeLessThan(600);
  });

  it('copies poison commands to DEAD_LETTERS (reason undecodable), acks them, and logs it', async () => {
    const { logger } = await startWorker('w-poison');
    const { subjects } = env.log.names;
    await env.log.js.publish(subjects.generate, 'not json', { msgID: randomUUID() });
    await env.log.publish(subjects.generate, { type: 'GenerateCandidate', commandId: 'x' }, randomUUID());
    await eventually(async () => logger.records.filter((r) => r.obj.deadLetter).length === 2, 'two dead letters');
    await sleep(1_500); // longer than ack_wait: a poison message that was not terminated would be back
    const info = await consumerIdle();
    expect(info.num_redelivered).toBe(0);
    const reasons = logger.records.filter((r) => r.obj.deadLetter).map((r) => (r.obj.deadLetter as { reason: string }).reason);
    expect(reasons[0]).toBe('undecodable: payload is not JSON');
    expect(reasons[1]).toMatch(/^undecodable: command does not parse: /);
    expect(reasons).toHaveLength(2); // delivered once each
    const { streams, consumers } = env.log.names;
    const dead = await env.log.jsm.streams.info(streams.deadLetters);
    const records = [];
    for (let seq = dead.state.first_seq; dead.state.messages > 0 && seq <= dead.state.last_seq; seq++) {
      const m = await env.log.jsm.streams.getMessage(streams.deadLetters, { seq }).catch(() => null);
      if (m) records.push(m.json<{ consumer: string; reason: string; payload: string; by: string }>());
    }
    const mine = records.filter((r) => r.by === 'w-poison');
    expect(mine.map((r) => [r.consumer, r.reason])).toEqual([[consumers.generateWorkers, 'undecodable'], [consumers.generateWorkers, 'undecodable']]);
    expect(Buffer.from(mine[0]!.payload, 'base64').toString()).toBe('not json');
  });

  it('on shutdown lets short calls finish, aborts the rest after the grace period and hands them to another worker', async () => {
    const runId = randomUUID();
    const first = await startWorker('w-leaving', { WORKER_SHUTDOWN_GRACE_MS: 400 });
    const quick = generateCommand(runId, { options: { latencyMs: 200 } });
    const slow = generateCommand(runId, { slot: 1, options: { latencyMs: 3_000 } });
    await publish(quick);
    await publish(slow);
    await eventually(async () => first.runtime.inFlightCount === 2, 'both calls in flight');
    const started = Date.now();
    await first.runtime.shutdown();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(1_500);
    const afterShutdown = await storedResults(env.log, runId);
    expect(afterShutdown.map((r) => r.commandId)).toEqual([quick.commandId]); // the slow one left no result
    expect(first.logger.records.some((r) => r.msg?.includes('handing them back'))).toBe(true);

    const second = await startWorker('w-taking-over');
    const results = await resultsOf(runId, 2, 20_000); // a 3 s call after the second worker boots: generous for a loaded 2-core CI machine
    const taken = results.find((r) => r.commandId === slow.commandId)!;
    expect(taken.workerId).toBe('w-taking-over');
    expect((taken as CandidateResult).outcome.status).toBe('generated');
    expect(second.runtime.counters.done).toBe(1);
  });

  it('boots as a Nest application context, processes a command and closes cleanly', async () => {
    const runId = randomUUID();
    const config = loadConfig({
      ...env.serviceEnv,
      INSTANCE_ID: 'w-nest',
      LOG_LEVEL: 'silent',
      WORKER_WORKING_INTERVAL_MS: '300',
      WORKER_SHUTDOWN_GRACE_MS: '500',
    });
    const app = await NestFactory.createApplicationContext(LlmWorkerModule.forRoot(config), { logger: false });
    await app.init();
    try {
      const cmd = generateCommand(runId);
      await publish(cmd);
      const [result] = await resultsOf(runId, 1);
      expect(result).toMatchObject({ commandId: cmd.commandId, workerId: 'w-nest' });
    } finally {
      await app.close();
    }
  });
});
