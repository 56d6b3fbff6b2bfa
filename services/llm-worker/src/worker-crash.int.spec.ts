import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { createGenerateRuntime, type GenerateRuntime } from './adapters/generate-worker';
import { generateCommand, memoryLogger, settings, sleep, storedResults } from './__tests__/harness';

jest.setTimeout(60_000);

const ACK_WAIT_MS = 2_000;
const REPO = path.resolve(__dirname, '../../..');
const MAIN = path.join(REPO, 'services/llm-worker/dist/main.js');

/**
 * A worker process killed with SIGKILL mid-call loses nothing: its message is never acked, so
 * JetStream redelivers it after ack_wait (2 s here) to another worker, and the RESULTS stream holds exactly one result.
 * Needs the built worker (`npx tsc -b tsconfig.build.json`).
 */
describe('llm-worker: kill -9 mid-call', () => {
  let env: TestEnv;
  let workspaces: string;
  let child: ChildProcess | undefined;
  let rescuer: GenerateRuntime | undefined;

  beforeAll(async () => {
    env = await createTestEnv('llmkill', { database: false, ackWaitMs: ACK_WAIT_MS });
    workspaces = await mkdtemp(path.join(tmpdir(), 'conclave-kill-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rescuer?.shutdown();
    await env.dispose();
    await rm(workspaces, { recursive: true, force: true });
  });

  it('another worker completes the command after ack_wait and exactly one result is recorded', async () => {
    expect(existsSync(MAIN)).toBe(true);
    const { streams, consumers } = env.log.names;
    const waiting = async () => (await env.log.jsm.consumers.info(streams.commands, consumers.generateWorkers)).num_waiting;
    const ackPending = async () => (await env.log.jsm.consumers.info(streams.commands, consumers.generateWorkers)).num_ack_pending;

    let stderr = '';
    child = spawn(process.execPath, [MAIN], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH,
        ...env.serviceEnv,
        INSTANCE_ID: 'victim',
        LOG_LEVEL: 'warn',
        HEALTH_PORT: '0',
        WORKSPACES_ROOT: workspaces,
        WORKER_CONCURRENCY: '2',
        // the lease must be extended well within the 2 s ack_wait while the victim is alive
        WORKER_WORKING_INTERVAL_MS: '500',
        WORKER_HEARTBEAT_MS: '500',
      },
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));

    // The service ensures the topology at boot with the production ack_wait (30 s) and
    // ensureConsumer updates an existing consumer: the last caller wins. Once the child is pulling
    // (its pull request is waiting, so its boot is done), put the short ack_wait back.
    await eventually(async () => ((await waiting()) >= 1 ? true : null), `the child worker to pull (stderr: ${stderr})`, 20_000);
    await env.log.ensureTopology({ ackWaitMs: ACK_WAIT_MS });
    const runId = randomUUID();
    const command = generateCommand(runId, { options: { latencyMs: 5_000 }, timeoutSeconds: 60 });
    await env.log.publish(env.log.names.subjects.generate, command, command.commandId);

    // the child has pulled the command and is mid-call
    await eventually(async () => ((await ackPending()) === 1 ? true : null), `the child worker to take the command (stderr: ${stderr})`, 20_000);
    await sleep(1_000); // well past one ack_wait of in-progress acks: the lease is alive
    expect(await storedResults(env.log, runId)).toHaveLength(0);
    expect(child.kill('SIGKILL')).toBe(true);
    const killedAt = Date.now();
    await new Promise((resolve) => (child!.exitCode !== null || child!.signalCode !== null ? resolve(null) : child!.once('exit', resolve)));
    expect(child.signalCode).toBe('SIGKILL');

    rescuer = createGenerateRuntime(settings('rescuer', { WORKSPACES_ROOT: workspaces }) as never, env.log, memoryLogger());
    await rescuer.start();

    const [result] = await eventually(async () => {
      const rs = await storedResults(env.log, runId);
      return rs.length > 0 ? rs : null;
    }, 'the rescuer to publish the result', 30_000);
    // redelivered only after ack_wait (the last in-progress ack was ≤ 500 ms before the kill), then a 5 s call
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(ACK_WAIT_MS - 500 + 5_000 - 200);
    expect(result).toMatchObject({ commandId: command.commandId, workerId: 'rescuer', attemptToken: command.attemptToken, outcome: { status: 'generated' } });
    expect(result.msgId).toBe(`${command.commandId}:result`);

    // nothing else arrives: the command is acked and no second result is stored
    await eventually(async () => ((await ackPending()) === 0 ? true : null), 'the command to be acked');
    await sleep(ACK_WAIT_MS + 500);
    const all = await storedResults(env.log, runId);
    expect(all.filter((r) => r.commandId === command.commandId)).toHaveLength(1);
    const info = await env.log.jsm.consumers.info(streams.commands, consumers.generateWorkers);
    expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
  });
});
