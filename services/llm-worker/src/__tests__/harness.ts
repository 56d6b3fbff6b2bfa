import { randomUUID } from 'node:crypto';
import type { Subscription } from '@nats-io/transport-node';
import { GenerateCandidate, LiveMessage, WorkResult, artifactJsonSchema, ids, type JsonSchema } from '@conclave/contracts';
import type { EventLog } from '@conclave/event-log';
import type { TestEnv } from '@conclave/testing';
import type { WorkerLogger } from '@conclave/worker-kit';
import type { z } from 'zod';

/** A logger that keeps every record (tests assert on dead letters and warnings). */
export function memoryLogger(): WorkerLogger & { records: { level: string; obj: Record<string, unknown>; msg?: string }[] } {
  const records: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void records.push({ level, obj: obj as Record<string, unknown>, msg });
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const settings = (instance: string, overrides: Record<string, unknown> = {}) => ({
  INSTANCE_ID: instance,
  WORKER_CONCURRENCY: 4,
  WORKER_HEARTBEAT_MS: 200,
  WORKER_SHUTDOWN_GRACE_MS: 500,
  // ack_wait is 1 s in these tests: the lease must be extended well before it
  WORKER_WORKING_INTERVAL_MS: 300,
  ...overrides,
});

export type CommandInput = Partial<z.input<typeof GenerateCandidate>>;

export function generateCommand(runId: string, overrides: CommandInput = {}): GenerateCandidate {
  const slot = overrides.slot ?? 0;
  return GenerateCandidate.parse({
    type: 'GenerateCandidate',
    commandId: randomUUID(),
    runId,
    phaseId: 'discovery',
    attempt: 1,
    candidateId: ids.candidate(runId, 'discovery', 1, slot),
    slot,
    provider: 'simulated',
    model: 'sim',
    options: { latencyMs: 0 },
    prompt: { system: 'You are a product analyst.', user: 'Idea: a recipe sharing app with offline sync' },
    output: { artifact: 'spec', schema: artifactJsonSchema('spec') as JsonSchema },
    attemptToken: randomUUID(),
    timeoutSeconds: 30,
    ...overrides,
  });
}

export type StoredResult = WorkResult & { msgId: string | undefined; seq: number };

/** Every result stored in the RESULTS stream (read by sequence: no consumer, nothing acked). */
export async function storedResults(log: EventLog, runId?: string): Promise<StoredResult[]> {
  const stream = log.names.streams.results;
  const info = await log.jsm.streams.info(stream);
  const out: StoredResult[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await log.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!m) continue;
    const result = WorkResult.parse(m.json());
    if (runId === undefined || result.runId === runId) out.push({ ...result, msgId: m.header?.get('Nats-Msg-Id'), seq });
  }
  return out;
}

/** Collects the live messages of a subject (core NATS). */
export function collectLive(env: TestEnv, subject: string): { messages: (LiveMessage & { receivedAt: number })[]; sub: Subscription } {
  const messages: (LiveMessage & { receivedAt: number })[] = [];
  const sub = env.log.nc.subscribe(subject, {
    callback: (err, msg) => {
      if (!err) messages.push({ ...LiveMessage.parse(msg.json()), receivedAt: Date.now() });
    },
  });
  return { messages, sub };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
