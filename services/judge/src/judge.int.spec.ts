import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { ids, JudgeCandidates, LiveMessage, VerdictResult, WorkResult } from '@conclave/contracts';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import type { WorkerLogger } from '@conclave/worker-kit';
import { createJudgeRuntime, type JudgeRuntime } from './adapters/judge-worker';
import { loadConfig } from './config';
import { JudgeModule } from './judge.module';
import { simulateVerdict } from './domain/simulated/simulated-judge';

jest.setTimeout(30_000);

const quiet: WorkerLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const settings = (instance: string) => ({
  INSTANCE_ID: instance,
  WORKER_CONCURRENCY: 4,
  WORKER_HEARTBEAT_MS: 200,
  WORKER_SHUTDOWN_GRACE_MS: 500,
  WORKER_WORKING_INTERVAL_MS: 300,
  JUDGE_TIMEOUT_SECONDS: 30,
});

function judgeCommand(runId: string, provider = 'simulated'): JudgeCandidates {
  return JudgeCandidates.parse({
    type: 'JudgeCandidates',
    commandId: randomUUID(),
    runId,
    phaseId: 'discovery',
    attempt: 1,
    judgeId: ids.judge(runId, 'discovery', 1),
    provider,
    model: 'sim-judge',
    criteria: ['correctness', 'completeness'],
    candidates: [
      { candidateId: ids.candidate(runId, 'discovery', 1, 0), output: { title: 'Recipe sharing', summary: 'Share recipes offline.' } },
      { candidateId: ids.candidate(runId, 'discovery', 1, 1), output: { title: 'Recipe app', summary: 'A recipe app with sync.' } },
    ],
    attemptToken: randomUUID(),
  });
}

describe('judge against JetStream', () => {
  let env: TestEnv;
  const runtimes: JudgeRuntime[] = [];
  beforeAll(async () => {
    env = await createTestEnv('judge', { database: false, ackWaitMs: 1_000 });
  });
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((r) => r.shutdown()));
  });
  afterAll(() => env.dispose());

  async function startJudge(instance: string) {
    const runtime = createJudgeRuntime(settings(instance), env.log, quiet);
    runtimes.push(runtime);
    await runtime.start();
    return runtime;
  }
  const publish = (cmd: JudgeCandidates) => env.log.publish(env.log.names.subjects.judge, cmd, cmd.commandId);
  /** The results of a run, read from the RESULTS stream by sequence (nothing consumed). */
  async function resultsOf(runId: string, count: number) {
    const stream = env.log.names.streams.results;
    return eventually(async () => {
      const info = await env.log.jsm.streams.info(stream);
      const out: { result: WorkResult; msgId?: string }[] = [];
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const m = await env.log.jsm.streams.getMessage(stream, { seq }).catch(() => null);
        if (!m) continue;
        const result = WorkResult.parse(m.json());
        if (result.runId === runId) out.push({ result, msgId: m.header?.get('Nats-Msg-Id') });
      }
      return out.length >= count ? out : null;
    }, `${count} result(s) of run ${runId}`);
  }

  it('returns a scored verdict for two candidates, carrying the attempt token', async () => {
    const runId = randomUUID();
    await startJudge('judge-1');
    const cmd = judgeCommand(runId);
    await publish(cmd);
    const [{ result, msgId }] = (await resultsOf(runId, 1)) as [{ result: VerdictResult; msgId?: string }];
    expect(msgId).toBe(`${cmd.commandId}:result`);
    expect(result).toMatchObject({
      type: 'VerdictResult',
      commandId: cmd.commandId,
      runId,
      phaseId: 'discovery',
      attempt: 1,
      attemptToken: cmd.attemptToken,
      judgeId: cmd.judgeId,
      workerId: 'judge-1',
      provider: 'simulated',
      model: 'sim-judge',
    });
    const expected = simulateVerdict(cmd);
    expect(result.outcome).toEqual({ status: 'scored', ...expected, costUsd: 0 });
    if (result.outcome.status !== 'scored') return;
    expect(cmd.candidates.map((c) => c.candidateId)).toContain(result.outcome.winnerId);
    expect([...result.outcome.order].sort()).toEqual(cmd.candidates.map((c) => c.candidateId).sort());
    expect(result.outcome.rationale).toContain(result.outcome.winnerId);
  });

  it('answers an unknown judge provider with a typed failed result', async () => {
    const runId = randomUUID();
    // the gateway knows no such provider
    const gateway = env.log.nc.subscribe(env.log.names.subjects.credentials, { queue: 'gateway', callback: (_err, msg) => void msg.respond(JSON.stringify({ ok: false, error: { code: 'not_found', message: 'no such provider' } })) });
    await env.log.nc.flush();
    await startJudge('judge-2');
    await publish(judgeCommand(runId, 'anthropic'));
    const [{ result }] = (await resultsOf(runId, 1).finally(() => gateway.unsubscribe())) as [{ result: VerdictResult }];
    expect(result.outcome).toEqual({ status: 'failed', error: { code: 'provider_not_configured', message: expect.any(String), retryable: false } });
  });

  it('fails retryably when no gateway answers for a provider the env does not know (the gateway may be restarting)', async () => {
    const runId = randomUUID();
    await startJudge('judge-3');
    await publish(judgeCommand(runId, 'anthropic'));
    const [{ result }] = (await resultsOf(runId, 1)) as [{ result: VerdictResult }];
    expect(result.outcome).toEqual({ status: 'failed', error: expect.objectContaining({ code: 'credentials_unavailable', retryable: true }) });
  });

  it('sends heartbeats with role judge', async () => {
    const seen: LiveMessage[] = [];
    const sub = env.log.nc.subscribe(env.log.names.subjects.liveWorker('judge-hb'), {
      callback: (err, msg) => {
        if (!err) seen.push(LiveMessage.parse(msg.json()));
      },
    });
    await env.log.nc.flush();
    const runtime = await startJudge('judge-hb');
    await eventually(async () => seen.length >= 2, 'two heartbeats', 2_000);
    await runtime.shutdown();
    await env.log.nc.flush();
    await new Promise((r) => setTimeout(r, 50));
    sub.unsubscribe();
    expect(seen[0]).toMatchObject({ kind: 'heartbeat', workerId: 'judge-hb', role: 'judge', status: 'idle' });
    expect(seen[seen.length - 1]).toMatchObject({ kind: 'heartbeat', role: 'judge', status: 'draining' });
  });

  it('boots as a Nest application context, judges and closes cleanly', async () => {
    const runId = randomUUID();
    const config = loadConfig({ ...env.serviceEnv, INSTANCE_ID: 'judge-nest', LOG_LEVEL: 'silent', WORKER_WORKING_INTERVAL_MS: '300' });
    const app = await NestFactory.createApplicationContext(JudgeModule.forRoot(config), { logger: false });
    await app.init();
    try {
      const cmd = judgeCommand(runId);
      await publish(cmd);
      const [{ result }] = await resultsOf(runId, 1);
      expect(result).toMatchObject({ commandId: cmd.commandId, workerId: 'judge-nest', outcome: { status: 'scored' } });
    } finally {
      await app.close();
    }
  });
});
