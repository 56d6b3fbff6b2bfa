import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LiveMessage, ServerToClientEvents, TimelineEntry } from '@conclave/contracts';
import { createTestEnv, eventually, startStack, type Stack, type TestEnv } from '@conclave/testing';
import { phaseOf, restClient } from './support/rest';
import { sim } from './support/templates';

/**
 * Run controls end to end: every command goes through REST → gateway → orchestrator → log →
 * projector → REST, against the whole stack as processes.
 */
const llm = (id: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}) => ({
  id, kind: 'llm' as const, dependsOn, prompt: { user: `do ${id}` }, candidates: [sim('m', 50)], ...extra,
});

describe('run controls end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let socket: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;
  const { api, post, createTemplate, startRun, until } = restClient(() => stack.url);
  const phase = phaseOf;

  beforeAll(async () => {
    env = await createTestEnv('controls');
    stack = await startStack(env, { label: `e2e-controls-${env.id}`, extraEnv: { WORKER_HEARTBEAT_MS: '200' } });
  });
  afterAll(async () => {
    socket?.close();
    await stack?.stop();
    await env?.dispose();
  });

  it('pauses (in-flight work finishes, nothing new starts) and resumes', async () => {
    const id = await startRun(await createTemplate({ name: 'chain', phases: [llm('a', [], { candidates: [sim('m', 800)] }), llm('b', ['a'])] }));
    expect((await post(`/runs/${id}/pause`)).status).toBe(202);
    const paused = await until(id, 'a to finish while paused', (r) => phase(r, 'a').status === 'completed');
    expect(paused.status).toBe('paused');
    expect(phase(paused, 'b').status).toBe('pending');
    expect((await post(`/runs/${id}/pause`)).status).toBe(409);
    expect((await post(`/runs/${id}/resume`)).status).toBe(202);
    await until(id, 'the run to complete after resume', (r) => r.status === 'completed');
  });

  it('cancels during a slow phase and the worker aborts its call within a second', async () => {
    socket = io(stack.url, { transports: ['websocket'] });
    const beats: { at: number; inFlight: number }[] = [];
    socket.on('live', (m: LiveMessage) => {
      if (m.kind === 'heartbeat' && m.role === 'llm-worker') beats.push({ at: Date.now(), inFlight: m.inFlight });
    });
    await new Promise<void>((resolve) => socket!.once('connect', () => resolve()));
    await socket.timeout(5_000).emitWithAck('subscribe', { room: 'fleet' });
    const id = await startRun(await createTemplate({ name: 'slow', phases: [llm('a', [], { candidates: [sim('m', 20_000)] })] }));
    await eventually(async () => beats.some((b) => b.inFlight > 0), 'the worker to take the call');
    const cancelledAt = Date.now();
    expect((await post(`/runs/${id}/cancel`, { reason: 'too slow' })).status).toBe(202);
    const idle = await eventually(async () => beats.find((b) => b.at > cancelledAt && b.inFlight === 0), 'the worker to drop the call', 5_000);
    expect(idle.at - cancelledAt).toBeLessThan(1_000 + 250); // abort within 1 s, seen on the next 200 ms heartbeat
    const run = await until(id, 'the run to show cancelled', (r) => r.status === 'cancelled');
    expect(phase(run, 'a').status).toBe('cancelled');
  });

  it('waits at a gate; approve continues and reject fails the run with the comment', async () => {
    const templateId = await createTemplate({ name: 'gate', phases: [llm('a'), { id: 'ok', kind: 'gate', dependsOn: ['a'], message: 'Ship it?' }, llm('b', ['ok'])] });
    const approved = await startRun(templateId);
    const waiting = await until(approved, 'the gate to open', (r) => r.status === 'waiting');
    expect(waiting.pending.gates).toEqual([{ phaseId: 'ok', message: 'Ship it?' }]);
    expect((await post(`/runs/${approved}/phases/a/approve`)).status).toBe(409);
    expect((await post(`/runs/${approved}/phases/ok/approve`, { comment: 'lgtm' })).status).toBe(202);
    await until(approved, 'the approved run to complete', (r) => r.status === 'completed');

    const rejected = await startRun(templateId);
    await until(rejected, 'the second gate', (r) => r.status === 'waiting');
    expect((await post(`/runs/${rejected}/phases/ok/reject`, { comment: 'not yet' })).status).toBe(202);
    const failed = await until(rejected, 'the rejected run to fail', (r) => r.status === 'failed');
    expect(phase(failed, 'ok').error).toMatchObject({ code: 'gate_rejected', message: 'not yet' });
  });

  it('asks questions and continues with the answers', async () => {
    const id = await startRun(
      await createTemplate({
        name: 'interview',
        phases: [{ id: 'ask', kind: 'interview', prompt: { user: 'Plan a trip' }, maxQuestions: 2 }, { ...llm('plan', ['ask']), prompt: { user: 'Plan: {{answers.ask}}' } }],
      }),
    );
    const waiting = await until(id, 'the questions', (r) => r.status === 'waiting');
    const questions = waiting.pending.questions[0]!.questions;
    expect(questions.length).toBeGreaterThanOrEqual(1);
    expect(questions.length).toBeLessThanOrEqual(2);
    const answers = questions.map((q) => ({ question: q.question, answer: `answer to ${q.id}` }));
    expect((await post(`/runs/${id}/phases/ask/answer`, { answers })).status).toBe(202);
    await until(id, 'the run to complete with the answers', (r) => r.status === 'completed');
    const timeline = await (await api(`/runs/${id}/timeline`)).json<{ items: TimelineEntry[] }>();
    const request = timeline.items.find((e) => e.type === 'CandidateRequested' && e.phaseId === 'plan')!;
    expect((request.data as { prompt: { user: string } }).prompt.user).toContain(`A: answer to ${questions[0]!.id}`);
  });

  it('retries a failed phase with another model', async () => {
    const id = await startRun(await createTemplate({ name: 'broken', phases: [llm('a', [], { candidates: [{ provider: 'no-such-provider', model: 'x' }] })] }));
    const failed = await until(id, 'the phase to fail', (r) => r.status === 'failed');
    expect(phase(failed, 'a').status).toBe('failed');
    expect((await post(`/runs/${id}/phases/a/retry`, { provider: 'simulated', model: 'rescuer' })).status).toBe(202);
    const done = await until(id, 'the retried run to complete', (r) => r.status === 'completed');
    expect(phase(done, 'a')).toMatchObject({ attempt: 2, status: 'completed' });
    expect(phase(done, 'a').candidates.map((c) => c.model)).toEqual(['rescuer']);
  });

  it('rolls back to a checkpoint, forks from a phase and reruns', async () => {
    const templateId = await createTemplate({ name: 'three', phases: [llm('a'), llm('b', ['a']), llm('c', ['b'])] });
    const id = await startRun(templateId);
    await until(id, 'the first run', (r) => r.status === 'completed');
    const checkpoints = await (await api(`/runs/${id}/checkpoints`)).json<{ items: { id: string; phaseId: string }[] }>();
    expect(checkpoints.items.map((c) => c.phaseId)).toEqual(['a', 'b', 'c']);
    expect((await post(`/runs/${id}/rollback`, { checkpointId: checkpoints.items[0]!.id })).status).toBe(202);
    const rolled = await until(id, 'the rolled-back run to complete again', (r) => r.status === 'completed' && phase(r, 'c').attempt === 2);
    expect([phase(rolled, 'a').attempt, phase(rolled, 'b').attempt, phase(rolled, 'c').attempt]).toEqual([1, 2, 2]);

    const fork = await post(`/runs/${id}/fork`, { fromPhaseId: 'c' });
    expect(fork.status).toBe(201);
    const forkId = (await fork.json<{ id: string }>()).id;
    const forked = await until(forkId, 'the fork to complete', (r) => r.status === 'completed');
    expect(forked.phases.map((p) => p.status)).toEqual(['completed', 'completed', 'completed']);
    expect(phase(forked, 'a').candidates).toEqual([]); // reused, not regenerated

    const rerun = await post(`/runs/${id}/rerun`);
    expect(rerun.status).toBe(201);
    await until((await rerun.json<{ id: string }>()).id, 'the rerun to complete', (r) => r.status === 'completed');
  });

  it('runs a tool phase in the workspace and routes on its exit code; a program off the allow-list fails the phase', async () => {
    const routed = (command: string, args: string[]) =>
      createTemplate({
        name: `tool ${command}`,
        phases: [
          { id: 'check', kind: 'tool', tool: { command, args } },
          { id: 'ok', kind: 'condition', dependsOn: ['check'], expression: { '==': [{ var: 'phases.check.output.exitCode' }, 0] }, ifTrue: ['ship'], ifFalse: ['fix'] },
          llm('ship', ['ok']),
          llm('fix', ['ok']),
        ],
      });
    const green = await startRun(await routed('echo', ['all', 'green']));
    const greenRun = await until(green, 'the green tool run', (r) => r.status === 'completed');
    expect(greenRun.phases.map((p) => [p.id, p.status])).toEqual([['check', 'completed'], ['ok', 'completed'], ['ship', 'completed'], ['fix', 'skipped']]);
    const artifact = await (await api(`/runs/${green}/artifacts/${phase(greenRun, 'check').artifactId}`)).json<{ content: { exitCode: number; stdout: string } }>();
    expect(artifact.content).toMatchObject({ exitCode: 0, stdout: 'all green\n' });

    const red = await startRun(await routed('false', []));
    const redRun = await until(red, 'the red tool run', (r) => r.status === 'completed');
    expect(redRun.phases.map((p) => [p.id, p.status])).toEqual([['check', 'completed'], ['ok', 'completed'], ['ship', 'skipped'], ['fix', 'completed']]);

    const refused = await startRun(await routed('rm', ['-rf', '.']));
    const refusedRun = await until(refused, 'the refused tool run', (r) => r.status === 'failed');
    expect(phase(refusedRun, 'check').error).toMatchObject({ code: 'tool_refused' });
  });

  it('a producer → evaluator → reviser loop passes on its second round', async () => {
    // the simulated writer and critic are deterministic: round 1 scores 0.025 and round 2 0.778
    // for this prompt, so a threshold of 0.5 passes exactly on the second round
    const id = await startRun(
      await createTemplate({
        name: 'loop',
        phases: [
          {
            id: 'draft', kind: 'loop', prompt: { user: 'Write about tides' }, candidates: [{ provider: 'simulated', model: 'writer' }],
            loop: { maxAttempts: 3, passThreshold: 0.5, evaluator: { provider: 'simulated', model: 'critic', criteria: ['quality'] } },
          },
        ],
      }),
    );
    const run = await until(id, 'the loop to pass', (r) => r.status === 'completed');
    const timeline = await (await api(`/runs/${id}/timeline`)).json<{ items: TimelineEntry[] }>();
    const evaluations = timeline.items.filter((e) => e.type === 'VerdictRecorded').map((e) => e.data as { scores: Record<string, { overall: number }>; winnerId: string });
    expect(evaluations).toHaveLength(2);
    expect(evaluations[0]!.scores[evaluations[0]!.winnerId]!.overall).toBeLessThan(0.5);
    expect(evaluations[1]!.scores[evaluations[1]!.winnerId]!.overall).toBeGreaterThanOrEqual(0.5);
    const revision = timeline.items.find((e) => e.type === 'CandidateRequested' && (e.data as { round: number }).round === 1)!;
    expect((revision.data as { prompt: { user: string } }).prompt.user).toContain('Evaluator feedback');
    const artifact = await (await api(`/runs/${id}/artifacts/${phase(run, 'draft').artifactId}`)).json<{ candidateId: string }>();
    expect(artifact.candidateId).toBe(evaluations[1]!.winnerId); // the passing round's output
  });

  it('pauses a run that would exceed its budget, and resumes after the budget is raised', async () => {
    // a simulated-kind provider under its own name, running a priced model: estimates cost money,
    // calls do not
    expect((await post('/providers', { name: 'priced-sim', kind: 'simulated' })).status).toBe(201);
    const id = await startRun(await createTemplate({ name: 'priced', phases: [llm('a', [], { candidates: [{ provider: 'priced-sim', model: 'gpt-4.1' }] })] }), { budgetUsd: 0.001 });
    const paused = await until(id, 'the budget pause', (r) => r.status === 'paused');
    expect(paused.pauseReason).toMatchObject({ code: 'budget' });
    expect(phase(paused, 'a').status).toBe('pending');
    const alerts = await (await api('/alerts')).json<{ items: { kind: string; message: string }[] }>();
    expect(alerts.items.some((a) => a.kind === 'budget' && a.message.includes(id))).toBe(true);
    expect((await api(`/runs/${id}/budget`, { method: 'PUT', json: { budgetUsd: 1 } })).status).toBe(202);
    expect((await post(`/runs/${id}/resume`)).status).toBe(202);
    const done = await until(id, 'the run to complete within the raised budget', (r) => r.status === 'completed');
    expect(done.budgetUsd).toBe(1);
  });

  it('runs an agent phase that edits files in its workspace, with every tool call recorded', async () => {
    const id = await startRun(
      await createTemplate({
        name: 'agent',
        phases: [{ id: 'code', kind: 'agent', prompt: { user: 'Add a greeting file' }, candidates: [{ provider: 'simulated', model: 'sim-agent' }] }],
      }),
    );
    const run = await until(id, 'the agent run', (r) => r.status === 'completed');
    const artifact = await (await api(`/runs/${id}/artifacts/${phase(run, 'code').artifactId}`)).json<{ artifactType: string; content: { files: { path: string; change: string }[] } }>();
    expect(artifact.artifactType).toBe('code-change');
    expect(artifact.content.files.some((f) => f.change === 'created')).toBe(true);
    const calls = await (await api(`/runs/${id}/tool-calls`)).json<{ items: { tool: string; refused: boolean }[] }>();
    expect(calls.items.length).toBeGreaterThan(0);
    expect(calls.items.map((c) => c.tool)).toContain('write_file');
  });

  it('refuses commands the state does not allow with 409, unknown runs with 404, bad bodies with 400', async () => {
    const id = await startRun(await createTemplate({ name: 'one', phases: [llm('a')] }));
    await until(id, 'the run', (r) => r.status === 'completed');
    expect((await post(`/runs/${id}/resume`)).status).toBe(409);
    expect((await post(`/runs/${id}/phases/a/retry`)).status).toBe(409);
    expect((await post(`/runs/00000000-0000-0000-0000-000000000000/pause`)).status).toBe(404);
    expect((await post(`/runs/${id}/rollback`, { checkpoint: 'x' })).status).toBe(400);
  });
});
