import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { RunTool, ToolResult } from '@conclave/contracts';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { loadConfig } from './config';
import { BwrapSandbox, DEFAULT_SANDBOX_LIMITS, findBwrap, PidsCgroup, UnavailableSandbox, type Sandbox } from './domain/tools/sandbox';
import { LlmWorkerModule } from './llm-worker.module';
import { collectLive, storedResults } from './__tests__/harness';

jest.setTimeout(30_000);

/**
 * The sandbox as the worker wires it: both runtimes' heartbeats advertise it, and a tool phase on
 * a worker without one fails `sandbox_unavailable` (not retryable) instead of running unconfined.
 */
describe('llm-worker sandbox wiring (Nest module against JetStream)', () => {
  let env: TestEnv;
  let workspaces: string;

  beforeAll(async () => {
    env = await createTestEnv('llmsandbox', { database: false, ackWaitMs: 1_000 });
    workspaces = await mkdtemp(path.join(tmpdir(), 'llm-sandbox-wiring-'));
  });
  afterAll(async () => {
    await env.dispose();
    await rm(workspaces, { recursive: true, force: true });
  });

  async function boot(instance: string, sandbox: Sandbox) {
    const config = loadConfig({ ...env.serviceEnv, INSTANCE_ID: instance, LOG_LEVEL: 'silent', WORKSPACES_ROOT: workspaces, WORKER_HEARTBEAT_MS: '200', WORKER_SHUTDOWN_GRACE_MS: '200' });
    const app = await NestFactory.createApplicationContext(LlmWorkerModule.forRoot(config, sandbox), { logger: false });
    await app.init();
    return app;
  }
  const toolCommand = (runId: string, command: string, args: string[]): RunTool => ({
    type: 'RunTool',
    commandId: randomUUID(),
    runId,
    phaseId: 'check',
    attempt: 1,
    attemptToken: randomUUID(),
    provider: 'tool',
    model: command,
    command,
    args,
    timeoutSeconds: 10,
  });

  it('without a sandbox: heartbeats say unavailable and a tool phase fails sandbox_unavailable, not retryable', async () => {
    const live = collectLive(env, env.log.names.subjects.liveWorker('*'));
    const app = await boot('w-nosbx', new UnavailableSandbox('bubblewrap (bwrap) is not installed'));
    try {
      await eventually(async () => ['w-nosbx', 'w-nosbx-tools'].every((id) => live.messages.some((m) => m.kind === 'heartbeat' && m.workerId === id)), 'heartbeats of both runtimes', 3_000);
      for (const id of ['w-nosbx', 'w-nosbx-tools']) {
        expect(live.messages.find((m) => m.kind === 'heartbeat' && m.workerId === id)).toMatchObject({ sandbox: 'unavailable' });
      }
      const runId = randomUUID();
      const cmd = toolCommand(runId, 'node', ['-e', 'console.log(process.env)']);
      await env.log.publish(env.log.names.subjects.tool, cmd, cmd.commandId);
      const [result] = await eventually(async () => {
        const rs = await storedResults(env.log, runId);
        return rs.length > 0 ? rs : null;
      }, 'the tool result', 10_000);
      expect((result as unknown as ToolResult).outcome).toMatchObject({ status: 'failed', error: { code: 'sandbox_unavailable', retryable: false } });
      expect(JSON.stringify(result)).toMatch(/bubblewrap/);
    } finally {
      live.sub.unsubscribe();
      await app.close();
    }
  });

  const bwrap = findBwrap();
  (bwrap ? it : it.skip)('with bubblewrap: heartbeats say bwrap and a tool phase runs in it (no worker env)', async () => {
    const live = collectLive(env, env.log.names.subjects.liveWorker('*'));
    const app = await boot('w-sbx', new BwrapSandbox(bwrap!, DEFAULT_SANDBOX_LIMITS, PidsCgroup.detect()));
    try {
      await eventually(async () => live.messages.some((m) => m.kind === 'heartbeat' && m.workerId === 'w-sbx-tools' && m.sandbox === 'bwrap'), 'a bwrap heartbeat', 3_000);
      const runId = randomUUID();
      const cmd = toolCommand(runId, 'node', ['-e', 'console.log(Object.keys(process.env).sort().join(","))']);
      await env.log.publish(env.log.names.subjects.tool, cmd, cmd.commandId);
      const [result] = await eventually(async () => {
        const rs = await storedResults(env.log, runId);
        return rs.length > 0 ? rs : null;
      }, 'the tool result', 10_000);
      expect((result as unknown as ToolResult).outcome).toMatchObject({ status: 'completed', exitCode: 0, stdout: 'CI,HOME,LANG,PATH,PWD\n' });
    } finally {
      live.sub.unsubscribe();
      await app.close();
    }
  });
});
