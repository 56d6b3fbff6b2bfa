import { randomUUID } from 'node:crypto';
import { RunUsageItem, RunView, VerdictListItem, type NewEvent, type Recorded } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { appendMeta as meta, fold, http, startGateway, type RunningGateway } from '../__tests__/harness';

/**
 * What the run page reads beyond the workflow state (issue 13 §2): the judge behind each verdict,
 * every attempt of a retried phase (its candidates and verdicts kept after the retry), and the
 * run's spend by provider and model.
 */
const template = {
  name: 'story',
  description: '',
  inputs: { type: 'object', properties: { topic: { type: 'string' } } },
  phases: [
    {
      id: 'draft',
      kind: 'llm',
      prompt: { user: 'Write about {{inputs.topic}}' },
      candidates: [
        { provider: 'simulated', model: 'sim-a' },
        { provider: 'simulated', model: 'sim-b' },
      ],
      judge: { provider: 'judgeco', model: 'judge-1' },
    },
  ],
} as const;

describe('run page reads: judges, attempts and usage', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  const runId = randomUUID();
  const templateId = `tpl-${randomUUID()}`;
  const cid = (attempt: number, slot: number) => `${runId}.draft.${attempt}.c${slot}`;
  const artifactId = `${runId}.draft.2.artifact`;

  const requested = (attempt: number, slot: number, model: string): NewEvent => ({
    type: 'CandidateRequested',
    data: {
      phaseId: 'draft', attempt, round: 0, candidateId: cid(attempt, slot), slot, provider: 'simulated', model,
      prompt: { user: 'Write about bees' }, output: { artifact: 'text', schema: { type: 'object' } }, attemptToken: `tok-${attempt}-${slot}`, timeoutSeconds: 60,
    },
  });
  const generated = (attempt: number, slot: number, costUsd: number): NewEvent => ({
    type: 'CandidateGenerated',
    data: { phaseId: 'draft', attempt, candidateId: cid(attempt, slot), output: { text: `take ${attempt}.${slot}` }, tokens: { input: 10, output: 20 }, costUsd, durationMs: 100 + slot, workerId: 'w1' },
  });
  const verdict = (attempt: number, winner: number, model: string, costUsd: number): NewEvent => ({
    type: 'VerdictRecorded',
    data: {
      phaseId: 'draft', attempt, round: 0, judgeId: `${runId}.draft.${attempt}.judge`, purpose: 'select', winnerId: cid(attempt, winner),
      scores: { [cid(attempt, 0)]: { overall: winner === 0 ? 0.9 : 0.4, criteria: {} }, [cid(attempt, 1)]: { overall: winner === 1 ? 0.8 : 0.3, criteria: {} } },
      rationale: `attempt ${attempt}: slot ${winner} is better`, order: [cid(attempt, 0), cid(attempt, 1)], missing: [],
      provider: 'judgeco', model, tokens: { input: 300, output: 40 }, costUsd,
    },
  });

  let events: Recorded[];

  beforeAll(async () => {
    env = await createTestEnv('gwstory');
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    const created = await env.log.append('template', templateId, [{ type: 'TemplateCreated', data: { templateId, version: 1, template: template as never } }], 0, meta());
    const failedAt = new Date(Date.now() + 60_000).toISOString();
    events = await env.log.append(
      'run',
      runId,
      [
        { type: 'RunStarted', data: { runId, templateId, templateVersion: 1, template: template as never, name: 'story', inputs: { topic: 'bees' }, autoMode: true, budgetUsd: null, origin: null } },
        // attempt 1: both candidates answer, the judge picks slot 0, then the output fails validation and the phase fails
        { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
        requested(1, 0, 'sim-a'),
        requested(1, 1, 'sim-b'),
        generated(1, 0, 0.01),
        generated(1, 1, 0.02),
        verdict(1, 0, 'judge-1', 0.005),
        { type: 'PhaseFailed', data: { phaseId: 'draft', attempt: 1, reason: { code: 'output_rejected', message: 'the winner did not match the schema', retryable: false } } },
        // a user retry: attempt 2 is judged by another model and completes
        { type: 'PhaseRetryScheduled', data: { phaseId: 'draft', attempt: 2, notBefore: failedAt, cause: 'user', override: null } },
        { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 2 } },
        requested(2, 0, 'sim-a'),
        requested(2, 1, 'sim-b'),
        generated(2, 0, 0.03),
        generated(2, 1, 0.04),
        verdict(2, 1, 'judge-2', 0.007),
        { type: 'ArtifactRecorded', data: { artifactId, phaseId: 'draft', attempt: 2, candidateId: cid(2, 1), artifactType: 'text', content: { text: 'take 2.1' } } },
        { type: 'PhaseCompleted', data: { phaseId: 'draft', attempt: 2, artifactId } },
        { type: 'RunCompleted', data: {} },
      ],
      0,
      meta(),
    );
    await fold(env, [...created, ...events]);
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it("shows the judge's provider, model, tokens and cost on the phase's verdict, and when each candidate was requested", async () => {
    const res = await http(`${api}/runs/${runId}`);
    expect(res.status).toBe(200);
    const run = RunView.parse(res.body);
    const draft = run.phases[0]!;
    expect(draft.verdict).toEqual(
      expect.objectContaining({ winnerId: cid(2, 1), judge: { provider: 'judgeco', model: 'judge-2', tokens: { input: 300, output: 40 }, costUsd: 0.007 } }),
    );
    const requestedAt = events.find((e) => e.type === 'CandidateRequested' && (e.data as { candidateId: string }).candidateId === cid(2, 0))!.occurredAt;
    expect(draft.candidates[0]!.requestedAt).toBe(new Date(requestedAt).toISOString());
    // the judge's spend is part of the phase's and the run's
    expect(draft.costUsd).toBeCloseTo(0.01 + 0.02 + 0.005 + 0.03 + 0.04 + 0.007, 10);
  });

  it('lists both attempts in the phase view: the first failed and retried by the user, the second completed', async () => {
    const run = RunView.parse((await http(`${api}/runs/${runId}`)).body);
    const attempts = run.phases[0]!.attempts!;
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'completed'],
    ]);
    expect(attempts[0]).toEqual(
      expect.objectContaining({ error: { code: 'output_rejected', message: 'the winner did not match the schema' }, retried: expect.objectContaining({ cause: 'user' }), startedAt: expect.any(String), completedAt: expect.any(String) }),
    );
    expect(attempts[1]!.retried).toBeNull();
  });

  it("still serves the earlier attempt's candidates and verdict after the retry", async () => {
    const first = await http(`${api}/runs/${runId}/candidates?phase=draft&attempt=1`);
    expect(first.status).toBe(200);
    expect(first.body.items.map((c: { id: string; attempt: number; output: unknown }) => [c.id, c.attempt, c.output])).toEqual([
      [cid(1, 0), 1, { text: 'take 1.0' }],
      [cid(1, 1), 1, { text: 'take 1.1' }],
    ]);
    expect((await http(`${api}/runs/${runId}/candidates?phase=draft`)).body.items).toHaveLength(4);

    const verdicts = await http(`${api}/runs/${runId}/verdicts?phase=draft&attempt=1`);
    expect(verdicts.status).toBe(200);
    const [v1] = (verdicts.body.items as unknown[]).map((v) => VerdictListItem.parse(v));
    expect(v1).toEqual(
      expect.objectContaining({ attempt: 1, round: 0, purpose: 'select', winnerId: cid(1, 0), rationale: 'attempt 1: slot 0 is better', judge: expect.objectContaining({ model: 'judge-1', costUsd: 0.005 }) }),
    );
    const all = await http(`${api}/runs/${runId}/verdicts`);
    expect(all.body.items.map((v: VerdictListItem) => [v.attempt, v.judge?.model])).toEqual([
      [1, 'judge-1'],
      [2, 'judge-2'],
    ]);
  });

  it('breaks the spend down by provider and model, judges apart, summing to the run', async () => {
    const res = await http(`${api}/runs/${runId}/usage`);
    expect(res.status).toBe(200);
    const items = (res.body.items as unknown[]).map((i) => RunUsageItem.parse(i));
    const byKey = Object.fromEntries(items.map((i) => [`${i.role}:${i.provider}/${i.model}`, i]));
    expect(Object.keys(byKey).sort()).toEqual(['candidate:simulated/sim-a', 'candidate:simulated/sim-b', 'judge:judgeco/judge-1', 'judge:judgeco/judge-2']);
    expect(byKey['candidate:simulated/sim-b']).toEqual(expect.objectContaining({ calls: 2, tokens: { input: 20, output: 40 } }));
    expect(byKey['candidate:simulated/sim-b']!.costUsd).toBeCloseTo(0.06, 10);
    expect(byKey['judge:judgeco/judge-2']).toEqual({ role: 'judge', provider: 'judgeco', model: 'judge-2', calls: 1, tokens: { input: 300, output: 40 }, costUsd: 0.007 });
    const run = RunView.parse((await http(`${api}/runs/${runId}`)).body);
    expect(items.reduce((s, i) => s + i.costUsd, 0)).toBeCloseTo(run.costUsd, 10);
    expect(items.reduce((s, i) => s + i.tokens.input, 0)).toBe(run.tokens.input);
  });

  it('answers a typed 404 for an unknown run and a 400 for a bad attempt, changing nothing', async () => {
    for (const path of ['verdicts', 'usage', 'candidates?attempt=1']) {
      const res = await http(`${api}/runs/${randomUUID()}/${path}`);
      expect([res.status, res.body.error.code]).toEqual([404, 'not_found']);
    }
    for (const bad of ['0', '-1', 'x', '1.5']) {
      const res = await http(`${api}/runs/${runId}/verdicts?attempt=${bad}`);
      expect([res.status, res.body.error.code]).toEqual([400, 'bad_request']);
      expect(res.body.error.requestId).toEqual(expect.any(String));
    }
    expect((await http(`${api}/runs/${runId}/candidates?phase=draft&attempt=3`)).body).toEqual({ items: [] });
  });
});
