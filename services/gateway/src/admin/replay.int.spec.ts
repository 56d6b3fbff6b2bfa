import { randomUUID } from 'node:crypto';
import type { NewEvent, ReplayStatus } from '@conclave/contracts';
import { createDataSource, type DataSource } from '@conclave/read-models';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { appendMeta as meta, draftThenGate, fold, http, startGateway, type RunningGateway } from '../__tests__/harness';

const template = draftThenGate('replayed');

function runEvents(runId: string, outcome: 'approved' | 'failed' | 'rolled-back'): NewEvent[] {
  const c = `${runId}.draft.1.c0`;
  const head: NewEvent[] = [
    { type: 'RunStarted', data: { runId, templateId: 'tpl', templateVersion: 1, template: template as never, name: outcome, inputs: {}, autoMode: true, budgetUsd: null, origin: null } },
    { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
    {
      type: 'CandidateRequested',
      data: { phaseId: 'draft', attempt: 1, round: 0, candidateId: c, slot: 0, provider: 'simulated', model: 'sim', prompt: { user: 'Write' }, output: { schema: { type: 'object' } }, attemptToken: 't', timeoutSeconds: 60 },
    },
  ];
  if (outcome === 'failed') {
    return [
      ...head,
      { type: 'CandidateFailed', data: { phaseId: 'draft', attempt: 1, candidateId: c, error: { code: 'provider', message: 'down', retryable: true } } },
      { type: 'PhaseFailed', data: { phaseId: 'draft', attempt: 1, reason: { code: 'candidates_failed', message: 'none', retryable: true } } },
      { type: 'RunFailed', data: { reason: { code: 'phase_failed', message: 'draft failed', retryable: false }, phaseId: 'draft' } },
    ];
  }
  const rest: NewEvent[] = [
    { type: 'CandidateGenerated', data: { phaseId: 'draft', attempt: 1, candidateId: c, output: { text: 'x' }, tokens: { input: 1, output: 2 }, costUsd: 0.125, durationMs: 4, workerId: 'w' } },
    { type: 'ArtifactRecorded', data: { artifactId: `${runId}.a1`, phaseId: 'draft', attempt: 1, candidateId: c, artifactType: 'text', content: { text: 'x' } } },
    { type: 'PhaseCompleted', data: { phaseId: 'draft', attempt: 1, artifactId: `${runId}.a1` } },
    { type: 'CheckpointCreated', data: { checkpointId: 'draft@1', phaseId: 'draft', completedPhaseIds: ['draft'] } },
    { type: 'PhaseStarted', data: { phaseId: 'review', attempt: 1 } },
    { type: 'GateOpened', data: { phaseId: 'review', attempt: 1, message: 'ok?' } },
  ];
  if (outcome === 'approved') {
    return [...head, ...rest, { type: 'GateApproved', data: { phaseId: 'review', attempt: 1, comment: 'yes' } }, { type: 'PhaseCompleted', data: { phaseId: 'review', attempt: 1, artifactId: null } }, { type: 'RunCompleted', data: {} }];
  }
  return [
    ...head,
    ...rest,
    { type: 'RunPaused', data: { reason: { code: 'user', message: 'hold on' } } },
    { type: 'RolledBack', data: { checkpointId: 'draft@1', resetPhaseIds: ['review'] } },
    { type: 'RunResumed', data: {} },
    { type: 'PhaseRetryScheduled', data: { phaseId: 'draft', attempt: 2, notBefore: new Date().toISOString(), cause: 'user', override: null } },
  ];
}

describe('POST /admin/replay against the real log', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  let ds: DataSource;
  const runs = { approved: randomUUID(), failed: randomUUID(), rolled: randomUUID() };

  async function replayed(verify: boolean): Promise<ReplayStatus> {
    const res = await http<ReplayStatus>(`${api}/admin/replay`, { method: 'POST', json: { verify } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ state: 'running', mode: verify ? 'verify' : 'swap' });
    let status!: ReplayStatus;
    await eventually(async () => {
      status = (await http<ReplayStatus>(`${api}/admin/replay`)).body;
      return status.state !== 'running';
    }, 'the replay to finish', 20_000, 25);
    return status;
  }

  beforeAll(async () => {
    env = await createTestEnv('gwreplay');
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    ds = await createDataSource(env.databaseUrl, { poolSize: 1 }).initialize();
    const recorded = [
      ...(await env.log.append('template', 'tpl', [{ type: 'TemplateCreated', data: { templateId: 'tpl', version: 1, template: template as never } }], 0, meta())),
      ...(await env.log.append('run', runs.approved, runEvents(runs.approved, 'approved'), 0, meta())),
      ...(await env.log.append('run', runs.failed, runEvents(runs.failed, 'failed'), 0, meta())),
      ...(await env.log.append('run', runs.rolled, runEvents(runs.rolled, 'rolled-back'), 0, meta())),
    ];
    await fold(env, recorded);
  });
  afterAll(async () => {
    await ds?.destroy();
    await gw?.close();
    await env?.dispose();
  });

  it('verifies: the rebuild equals the live read models', async () => {
    const status = await replayed(true);
    const total = await env.log.lastSequence();
    expect(status).toMatchObject({ state: 'completed', mode: 'verify', phase: 'done', processed: total, total, sequence: total, differenceCount: 0, differences: [], error: null });
  });

  it('reports a corrupted live row, then a swap repairs it', async () => {
    await ds.query(`UPDATE run_phases SET status = 'completed' WHERE run_id = $1 AND phase_id = 'review'`, [runs.rolled]);
    const verify = await replayed(true);
    expect(verify.differenceCount).toBe(1);
    expect(verify.differences[0]).toMatchObject({ table: 'run_phases', key: [runs.rolled, 'review'], kind: 'different', columns: ['status'] });

    const swap = await replayed(false);
    expect(swap).toMatchObject({ state: 'completed', mode: 'swap', differenceCount: 0 });
    const run = await http(`${api}/runs/${runs.rolled}`);
    expect(run.body.phases.map((p: { id: string; status: string }) => [p.id, p.status])).toEqual([['draft', 'pending'], ['review', 'pending']]);
    expect((await replayed(true)).differenceCount).toBe(0);
  });

  it('refuses a bad body and a second replay while one runs', async () => {
    expect((await http(`${api}/admin/replay`, { method: 'POST', json: { verify: 'yes' } })).status).toBe(400);
    const [a, b] = await Promise.all([
      http(`${api}/admin/replay`, { method: 'POST', json: { verify: true } }),
      http(`${api}/admin/replay`, { method: 'POST', json: { verify: true } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    await eventually(async () => (await http<ReplayStatus>(`${api}/admin/replay`)).body.state !== 'running', 'the replay to finish', 20_000, 25);
  });
});
