import { randomUUID } from 'node:crypto';
import { Template, type JsonSchema, type NewEvent, type Recorded } from '@conclave/contracts';
import { createDataSource, migrate, projectBatch, ReadModelQueries, type DataSource } from '@conclave/read-models';
import { createLogger } from '@conclave/service-kit';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { AlertWatch } from './alert-watch';
import type { AlertThresholds } from './detectors';

const logger = createLogger('alert-watch-test', process.env.TEST_LOG_LEVEL ?? 'silent');

const template = Template.parse({
  name: 'one-phase',
  phases: [{ id: 'draft', kind: 'llm', dependsOn: [], prompt: { user: 'Write' }, candidates: [{ provider: 'openai', model: 'gpt-4.1' }] }],
});
const output = { artifact: 'text' as const, schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } as JsonSchema };
const cid = (runId: string, attempt = 1) => `${runId}.draft.${attempt}.c0`;

function started(runId: string, templateId: string, provider = 'openai'): NewEvent[] {
  return [
    { type: 'RunStarted', data: { runId, templateId, templateVersion: 1, template, name: null, inputs: {}, autoMode: true, budgetUsd: null, origin: null } },
    { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
    {
      type: 'CandidateRequested',
      data: { phaseId: 'draft', attempt: 1, round: 0, candidateId: cid(runId), slot: 0, provider, model: 'm', prompt: { user: 'Write' }, output, attemptToken: 'tok-1', timeoutSeconds: 60 },
    },
  ];
}
const failed = (runId: string, code: string): NewEvent => ({
  type: 'CandidateFailed',
  data: { phaseId: 'draft', attempt: 1, candidateId: cid(runId), error: { code, message: `${code} from the provider`, retryable: false }, durationMs: 20 },
});
function completed(runId: string, costUsd: number): NewEvent[] {
  const artifactId = `${runId}.draft.1.artifact`;
  return [
    { type: 'CandidateGenerated', data: { phaseId: 'draft', attempt: 1, candidateId: cid(runId), output: { text: 'ok' }, tokens: { input: 10, output: 10 }, costUsd, durationMs: 100, workerId: 'w1' } },
    { type: 'ArtifactRecorded', data: { artifactId, phaseId: 'draft', attempt: 1, candidateId: cid(runId), artifactType: 'text', content: { text: 'ok' } } },
    { type: 'PhaseCompleted', data: { phaseId: 'draft', attempt: 1, artifactId } },
    { type: 'RunCompleted', data: {} },
  ];
}

/**
 * The projector's alert detectors against real read models and a real log (ADR 016): each batch's
 * failures and completions, and the stall sweep, read what the projection wrote and append
 * AlertRaised once per condition.
 */
describe('projector: AlertWatch over the read models', () => {
  let env: TestEnv;
  let ds: DataSource;
  let queries: ReadModelQueries;
  let now = new Date();
  const thresholds: AlertThresholds = { stallMinutes: 5, providerFailures: 3, providerWindowMinutes: 10, costSpikeFactor: 3, costSpikeMinRuns: 3 };
  let watch: AlertWatch;
  const system = { kind: 'system', id: 'orchestrator' } as const;

  /** append a run's events at `at` after what it has, fold everything, and return what was appended */
  const append = async (runId: string, events: NewEvent[], at: Date): Promise<Recorded[]> => {
    const last = (await env.log.read('run', runId)).at(-1)?.sequence ?? 0;
    const recorded = await env.log.append('run', runId, events, last, { occurredAt: at.toISOString(), correlationId: runId, causationId: null, actor: system });
    await foldAll();
    return recorded;
  };
  const foldAll = async () => ds.transaction(async (m) => projectBatch(m, await env.log.readAll(0, 10_000)));
  const raised = async () => (await env.log.readAll(0, 10_000)).filter((e) => e.type === 'AlertRaised').map((e) => e.data as { alertId: string; kind: string; runId: string | null; providerName: string | null });
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

  beforeAll(async () => {
    env = await createTestEnv('alertwatch');
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl, { poolSize: 2 }).initialize();
    queries = new ReadModelQueries(ds);
    watch = new AlertWatch({ log: env.log, dataSource: ds, logger, thresholds, caughtUp: async () => true, now: () => now });
  });
  afterAll(async () => {
    await watch?.stop();
    await ds?.destroy();
    await env?.dispose();
  });

  it('given three provider-side failures of one provider within the window, when their batch is inspected, then one provider_failures alert (once)', async () => {
    now = new Date();
    const batch: Recorded[] = [];
    for (let i = 0; i < 3; i++) {
      const runId = `fail-${i}-${randomUUID()}`;
      await append(runId, started(runId, 'tpl-fail'), minutesAgo(5 - i));
      batch.push(...(await append(runId, [failed(runId, i === 0 ? 'timeout' : 'provider_error')], minutesAgo(4 - i))));
    }
    // an output that failed its schema is not the provider's fault: it does not count
    const other = `schema-${randomUUID()}`;
    await append(other, started(other, 'tpl-fail', 'gemini'), minutesAgo(3));
    batch.push(...(await append(other, [failed(other, 'output_invalid')], minutesAgo(2))));

    expect(await watch.inspect(batch)).toBe(1);
    expect((await raised()).filter((a) => a.kind === 'provider_failures')).toEqual([expect.objectContaining({ kind: 'provider_failures', providerName: 'openai' })]);
    // the same batch again (a redelivery, another projector): nothing new
    expect(await watch.inspect(batch)).toBe(0);
    expect((await raised()).filter((a) => a.kind === 'provider_failures')).toHaveLength(1);
  });

  it('given a refused call (401), then a provider_credentials alert for that provider configuration', async () => {
    const [configured] = await env.log.append(
      'provider',
      'anthropic',
      [{ type: 'ProviderConfigured', data: { providerId: 'anthropic', name: 'anthropic', kind: 'anthropic', baseUrl: null, models: [], enabled: true, prices: {}, hasApiKey: true, source: 'api', secretId: 's1' } }],
      0,
      { occurredAt: minutesAgo(30).toISOString(), correlationId: 'c', causationId: null, actor: { kind: 'user', id: 'ops' } },
    );
    await foldAll();
    const runId = `auth-${randomUUID()}`;
    await append(runId, started(runId, 'tpl-auth', 'anthropic'), minutesAgo(2));
    const batch = await append(runId, [failed(runId, 'auth_failed')], minutesAgo(1));
    expect(await watch.inspect(batch)).toBe(1);
    expect((await raised()).filter((a) => a.kind === 'provider_credentials')).toEqual([
      expect.objectContaining({ alertId: `provider-credentials-anthropic-${configured!.sequence}`, providerName: 'anthropic', runId }),
    ]);
  });

  it('given a run costing more than 3× its template\'s median, when it completes, then a cost_spike alert; a typical run raises none', async () => {
    const costs = [0.1, 0.12, 0.08];
    for (const [i, cost] of costs.entries()) {
      const runId = `typical-${i}-${randomUUID()}`;
      await append(runId, started(runId, 'tpl-cost'), minutesAgo(20 - i));
      const batch = await append(runId, completed(runId, cost), minutesAgo(19 - i));
      // too few earlier runs for a median, or within it
      expect(await watch.inspect(batch)).toBe(0);
    }
    const spike = `spike-${randomUUID()}`;
    await append(spike, started(spike, 'tpl-cost'), minutesAgo(3));
    const batch = await append(spike, completed(spike, 0.5), minutesAgo(2));
    expect(await watch.inspect(batch)).toBe(1);
    expect((await raised()).filter((a) => a.kind === 'cost_spike')).toEqual([expect.objectContaining({ alertId: `cost-spike-${spike}`, runId: spike })]);
  });

  it('given a batch of many completed runs (a log caught up on), then each is compared with the runs before it, in one read', async () => {
    const batch: Recorded[] = [];
    const runs = [0.5, 0.1, 0.12, 0.08, 0.9, 0, 0.1].map((cost, i) => ({ runId: `batch-${i}-${randomUUID()}`, cost, i }));
    for (const { runId, cost, i } of runs) {
      await append(runId, started(runId, 'tpl-batch'), minutesAgo(40 - 2 * i));
      batch.push(...(await append(runId, completed(runId, cost), minutesAgo(39 - 2 * i))));
    }
    const reads = jest.spyOn(ds, 'query');
    try {
      // the 0.9 run is a spike against the four before it; the first (0.5) had none before it, the free run and the last one are typical
      expect(await watch.inspect(batch)).toBe(1);
      expect(reads.mock.calls.filter(([sql]) => /FROM runs/.test(sql))).toHaveLength(1);
    } finally {
      reads.mockRestore();
    }
    expect((await raised()).filter((a) => a.kind === 'cost_spike' && a.runId?.startsWith('batch-'))).toEqual([expect.objectContaining({ alertId: `cost-spike-${runs[4]!.runId}` })]);
  });

  it('given a running run silent for longer than the threshold, when swept, then run_stalled; a paused run or a recent one is not stalled', async () => {
    const silent = `silent-${randomUUID()}`;
    await append(silent, started(silent, 'tpl-stall'), minutesAgo(6));
    const waiting = `gate-${randomUUID()}`;
    await append(waiting, [...started(waiting, 'tpl-stall'), { type: 'RunPaused', data: { reason: { code: 'user', message: 'paused by a user' } } }], minutesAgo(30));
    const fresh = `fresh-${randomUUID()}`;
    await append(fresh, started(fresh, 'tpl-stall'), minutesAgo(1));

    expect(await watch.sweep()).toBe(1);
    const stalled = (await raised()).filter((a) => a.kind === 'run_stalled');
    expect(stalled).toEqual([expect.objectContaining({ runId: silent })]);
    // swept again: the same silence, no second alert
    expect(await watch.sweep()).toBe(0);
    // folded, it is an open alert of the list
    await foldAll();
    expect((await queries.listAlerts(100)).filter((a) => a.kind === 'run_stalled').map((a) => a.id)).toEqual([stalled[0]!.alertId]);
  });
});
