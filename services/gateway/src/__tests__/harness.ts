import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport } from '@nestjs/microservices';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { natsNames, type OrchestratorReply, type OrchestratorRequest, type Recorded } from '@conclave/contracts';
import { createDataSource, migrate, projectBatch } from '@conclave/read-models';
import { createLogger, type Logger } from '@conclave/service-kit';
import type { AppendMeta } from '@conclave/event-log';
import type { TestEnv } from '@conclave/testing';
import { createGatewayApp } from '../app';
import { loadGatewayConfig, type GatewayConfig } from '../config';

export interface RunningGateway {
  app: NestExpressApplication;
  config: GatewayConfig;
  url: string;
  close(): Promise<void>;
}

/** The gateway in-process on an ephemeral port, pointed at the env's prefix and database. */
export async function startGateway(env: TestEnv, overrides: Record<string, string> = {}, logger?: Logger): Promise<RunningGateway> {
  await migrate(env.databaseUrl);
  const config = loadGatewayConfig({
    ...env.serviceEnv,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.GATEWAY_TEST_LOG_LEVEL ?? 'silent',
    WEB_DIST: mkdtempSync(join(tmpdir(), 'gateway-no-web-')), // empty: "not built" unless overridden
    MIN_SEQUENCE_WAIT_MS: '1500',
    ORCHESTRATOR_TIMEOUT_MS: '1000',
    RATE_LIMIT_PER_MINUTE: '1000000', // suites poll; the limit has its own test
    WORKSPACES_ROOT: mkdtempSync(join(tmpdir(), 'gateway-workspaces-')), // fresh run repositories' parent, private to the test
    ...overrides,
  });
  const app = await createGatewayApp(config, logger ?? createLogger('gateway-test', config.LOG_LEVEL));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  let closed = false;
  return {
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** fetch + JSON decoding; `body` is the parsed JSON or undefined. */
export async function http<T = any>(url: string, init: RequestInit & { json?: unknown } = {}): Promise<HttpResult<T>> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  const res = await fetch(url, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body: body as T, headers: res.headers, text };
}

/** Fold events into the env's read models, as the projector would (one transaction). */
export async function fold(env: TestEnv, events: readonly Recorded[]): Promise<number> {
  const dataSource = createDataSource(env.databaseUrl, { poolSize: 1 });
  await dataSource.initialize();
  try {
    return await dataSource.transaction((manager) => projectBatch(manager, events));
  } finally {
    await dataSource.destroy();
  }
}

export type FakeBehaviour = (request: OrchestratorRequest) => OrchestratorReply | Promise<OrchestratorReply>;

export interface FakeOrchestrator {
  requests: OrchestratorRequest[];
  behave(behaviour: FakeBehaviour): void;
  close(): Promise<void>;
}

/**
 * A stand-in for the orchestrator: a real Nest NATS microservice answering @MessagePattern on the
 * orchestrator subject in queue group "orchestrator", so the wire format is Nest's own.
 */
export async function startFakeOrchestrator(env: TestEnv): Promise<FakeOrchestrator> {
  const names = natsNames(env.prefix);
  const requests: OrchestratorRequest[] = [];
  let behaviour: FakeBehaviour = () => ({ ok: false, error: { code: 'internal', message: 'no behaviour set' } });

  @Controller()
  class FakeOrchestratorController {
    @MessagePattern(names.subjects.orchestrator)
    handle(@Payload() request: OrchestratorRequest) {
      requests.push(request);
      return behaviour(request);
    }
  }
  @Module({ controllers: [FakeOrchestratorController] })
  class FakeOrchestratorModule {}

  const app: INestMicroservice = await NestFactory.createMicroservice(FakeOrchestratorModule, {
    transport: Transport.NATS,
    options: { servers: env.natsUrl, queue: names.queues.orchestrator },
    logger: false,
  });
  await app.listen();
  return {
    requests,
    behave(next) {
      behaviour = next;
    },
    close: () => app.close(),
  };
}

/** Metadata for events a test appends as the system. */
export const appendMeta = (): AppendMeta => ({ occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system', id: 'test' } });

/** A two-phase template (a simulated draft, then a gate) as RunStarted events carry it. */
export const draftThenGate = (name: string) =>
  ({
    name,
    description: '',
    inputs: { type: 'object' },
    phases: [
      { id: 'draft', kind: 'llm', prompt: { user: 'Write' }, candidates: [{ provider: 'simulated', model: 'sim' }] },
      { id: 'review', kind: 'gate', dependsOn: ['draft'], message: 'ok?' },
    ],
  }) as const;
