import { randomUUID } from 'node:crypto';
import { ErrorEnvelope, type NewEvent, type Recorded } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { appendMeta as meta, draftThenGate, fold, http, startFakeOrchestrator, startGateway, type FakeOrchestrator, type RunningGateway } from '../__tests__/harness';

const template = draftThenGate('cmds');

describe('gateway run commands (fake orchestrator)', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let fake: FakeOrchestrator;
  let api: string;
  const runId = randomUUID();
  let recorded: Recorded[];

  beforeAll(async () => {
    env = await createTestEnv('gwcmds');
    fake = await startFakeOrchestrator(env);
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    const events: NewEvent[] = [
      { type: 'RunStarted', data: { runId, templateId: 'tpl', templateVersion: 1, template: template as never, name: 'r', inputs: {}, autoMode: true, budgetUsd: 1, origin: null } },
      { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
      {
        type: 'CandidateRequested',
        data: { phaseId: 'draft', attempt: 1, round: 0, candidateId: `${runId}.c0`, slot: 0, provider: 'simulated', model: 'sim', prompt: { user: 'Write' }, output: { schema: { type: 'object' } }, attemptToken: 't', timeoutSeconds: 60 },
      },
      {
        type: 'CandidateGenerated',
        data: {
          phaseId: 'draft', attempt: 1, candidateId: `${runId}.c0`, output: { text: 'x' }, tokens: { input: 1, output: 1 }, costUsd: 0.5, durationMs: 3, workerId: 'w',
          toolCalls: [{ tool: 'list_files', input: { dir: '.' }, outputSummary: '3 files', durationMs: 2, refused: false, at: '2026-01-01T00:00:00.000Z' }],
        },
      },
      { type: 'ArtifactRecorded', data: { artifactId: `${runId}.a`, phaseId: 'draft', attempt: 1, candidateId: `${runId}.c0`, artifactType: 'text', content: { text: 'x' } } },
      { type: 'PhaseCompleted', data: { phaseId: 'draft', attempt: 1, artifactId: `${runId}.a` } },
      { type: 'CheckpointCreated', data: { checkpointId: 'draft@1', phaseId: 'draft', completedPhaseIds: ['draft'] } },
    ];
    recorded = await env.log.append('run', runId, events, 0, meta());
    await fold(env, recorded);
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await env?.dispose();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.behave(() => ({ ok: true, id: runId, sequence: 99 }));
  });

  const P = 'phases/review';
  const accepted = [
    { path: 'pause', body: undefined, command: { type: 'PauseRun', runId } },
    { path: 'resume', body: {}, command: { type: 'ResumeRun', runId } },
    { path: 'cancel', body: { reason: 'enough' }, command: { type: 'CancelRun', runId, reason: 'enough' } },
    { path: 'continue', body: undefined, command: { type: 'ContinueRun', runId } },
    { path: `phases/draft/retry`, body: { provider: 'simulated', model: 'sim-2' }, command: { type: 'RetryPhase', runId, phaseId: 'draft', provider: 'simulated', model: 'sim-2' } },
    { path: `phases/draft/skip`, body: {}, command: { type: 'SkipPhase', runId, phaseId: 'draft' } },
    { path: `${P}/approve`, body: { comment: 'ship it' }, command: { type: 'ApproveGate', runId, phaseId: 'review', comment: 'ship it' } },
    { path: `${P}/reject`, body: {}, command: { type: 'RejectGate', runId, phaseId: 'review' } },
    {
      path: `phases/ask/answer`,
      body: { answers: [{ question: 'Who?', answer: 'devs' }] },
      command: { type: 'SubmitAnswers', runId, phaseId: 'ask', answers: [{ question: 'Who?', answer: 'devs' }] },
    },
    { path: `phases/draft/accept`, body: { output: { text: 'edited' } }, command: { type: 'AcceptOutput', runId, phaseId: 'draft', output: { text: 'edited' } } },
    { path: 'rollback', body: { checkpointId: 'draft@1' }, command: { type: 'RollbackRun', runId, checkpointId: 'draft@1' } },
  ] as const;

  it.each(accepted)('POST /runs/:id/$path sends the command and answers 202 { sequence }', async ({ path, body, command }) => {
    const res = await http(`${api}/runs/${runId}/${path}`, { method: 'POST', ...(body === undefined ? {} : { json: body }) });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ sequence: 99 });
    expect(fake.requests.map((r) => r.command)).toEqual([command]);
    expect(fake.requests[0]!.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('PUT /runs/:id/budget raises the budget (202)', async () => {
    const res = await http(`${api}/runs/${runId}/budget`, { method: 'PUT', json: { budgetUsd: 12.5 } });
    expect(res.status).toBe(202);
    expect(fake.requests.map((r) => r.command)).toEqual([{ type: 'RaiseBudget', runId, budgetUsd: 12.5 }]);
  });

  it('fork and rerun answer 201 with the new run id', async () => {
    fake.behave((req) => ({ ok: true, id: `new-from-${req.command.type}`, sequence: 120 }));
    const fork = await http(`${api}/runs/${runId}/fork`, { method: 'POST', json: { fromPhaseId: 'review' } });
    expect(fork.status).toBe(201);
    expect(fork.body).toEqual({ id: 'new-from-ForkRun', sequence: 120 });
    const rerun = await http(`${api}/runs/${runId}/rerun`, { method: 'POST' });
    expect(rerun.status).toBe(201);
    expect(rerun.body).toEqual({ id: 'new-from-RerunRun', sequence: 120 });
    expect(fake.requests.map((r) => r.command)).toEqual([
      { type: 'ForkRun', runId, fromPhaseId: 'review' },
      { type: 'RerunRun', runId },
    ]);
  });

  it.each([
    ['pause', 'POST', { force: true }],
    ['cancel', 'POST', { reason: 42 }],
    [`${P}/approve`, 'POST', { comment: 'x'.repeat(4001) }],
    [`${P}/answer`, 'POST', { answers: [] }],
    [`${P}/answer`, 'POST', { answers: [{ question: 'q' }] }],
    ['phases/draft/retry', 'POST', { provider: '' }],
    ['rollback', 'POST', {}],
    ['fork', 'POST', { fromPhaseId: 'draft', extra: 1 }],
    ['budget', 'PUT', { budgetUsd: -1 }],
    ['budget', 'PUT', { budgetUsd: '5' }],
  ])('a bad body for %s (%s, case %#) is a 400 that never reaches the orchestrator nor the log', async (path, method, body) => {
    const before = await env.log.lastSequence();
    const res = await http(`${api}/runs/${runId}/${path}`, { method, json: body });
    expect(res.status).toBe(400);
    expect(ErrorEnvelope.parse(res.body).error.code).toBe('bad_request');
    expect(fake.requests).toHaveLength(0);
    expect(await env.log.lastSequence()).toBe(before);
  });

  it('leaves "does the run exist" to the orchestrator, which reads the log: a run the read models have not caught up with is accepted', async () => {
    const fresh = randomUUID(); // created a moment ago: not in the read models yet
    fake.behave(() => ({ ok: true, id: fresh, sequence: 99 }));
    const accepted = await http(`${api}/runs/${fresh}/pause`, { method: 'POST', json: {} });
    expect([accepted.status, accepted.body]).toEqual([202, { sequence: 99 }]);
    fake.behave(() => ({ ok: false, error: { code: 'not_found', message: 'the run does not exist' } }));
    for (const [path, json] of [['pause', {}], ['fork', { fromPhaseId: 'x' }], ['phases/draft/retry', {}]] as const) {
      const res = await http(`${api}/runs/${randomUUID()}/${path}`, { method: 'POST', json });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect(fake.requests).toHaveLength(4);
    // an id that cannot name a run is a 404 without asking
    const bad = await http(`${api}/runs/not%20an%20id/pause`, { method: 'POST' });
    expect(bad.status).toBe(404);
    expect(fake.requests).toHaveLength(4);
  });

  it('maps the orchestrator\'s refusals: illegal_state → 409, validation → 422, not_found → 404', async () => {
    for (const [code, status] of [['illegal_state', 409], ['validation', 422], ['not_found', 404]] as const) {
      fake.behave(() => ({ ok: false, error: { code, message: `no: ${code}`, details: { phaseId: 'review' } } }));
      const res = await http(`${api}/runs/${runId}/${P}/approve`, { method: 'POST', json: {} });
      expect(res.status).toBe(status);
      expect(ErrorEnvelope.parse(res.body).error).toMatchObject({ code, message: `no: ${code}`, details: { phaseId: 'review' } });
    }
  });

  it('lists checkpoints and tool calls of a run (404 for an unknown run)', async () => {
    const checkpoints = await http(`${api}/runs/${runId}/checkpoints`);
    expect(checkpoints.status).toBe(200);
    expect(checkpoints.body.items).toEqual([
      { id: 'draft@1', runId, phaseId: 'draft', completedPhaseIds: ['draft'], commit: null, sequence: recorded[6]!.sequence, createdAt: expect.any(String) },
    ]);
    const tools = await http(`${api}/runs/${runId}/tool-calls`);
    expect(tools.body.items).toEqual([
      { runId, phaseId: 'draft', attempt: 1, candidateId: `${runId}.c0`, index: 0, tool: 'list_files', input: { dir: '.' }, outputSummary: '3 files', durationMs: 2, refused: false, at: '2026-01-01T00:00:00.000Z' },
    ]);
    expect((await http(`${api}/runs/${randomUUID()}/checkpoints`)).status).toBe(404);
    expect((await http(`${api}/runs/${randomUUID()}/tool-calls`)).status).toBe(404);
  });

  it('serves the raw log, paged by sequence', async () => {
    const first = await http(`${api}/events?limit=3`);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(3);
    expect(first.body.items[0]).toEqual({
      sequence: recorded[0]!.sequence, type: 'RunStarted', streamId: `run:${runId}`, occurredAt: recorded[0]!.occurredAt, actor: { kind: 'system', id: 'test' }, data: expect.objectContaining({ runId }),
    });
    const rest = await http(`${api}/events?after=${first.body.nextAfter}&limit=1000`);
    expect([...first.body.items, ...rest.body.items].map((e: { type: string }) => e.type)).toEqual(recorded.map((e) => e.type));
    const end = await http(`${api}/events?after=${rest.body.nextAfter}`);
    expect(end.body).toEqual({ items: [], nextAfter: rest.body.nextAfter, unreadable: [] });
    expect((await http(`${api}/events?limit=0`)).status).toBe(400);
    expect((await http(`${api}/events?after=-1`)).status).toBe(400);
  });
});
