import { Template, type CandidateResult, type RunWorkspace, type TemplateInput, type WorkspaceResult } from '@conclave/contracts';
import { commitAtForkPoint } from '../app/command-handler';
import { decide, type DecidedEvent, type DeciderInput } from './decide';
import { evolve, initialRunState, type ActiveRun, type RunFact, type RunState } from './run-state';
import { C, facts, NOW, ofType, RUN, sim, types, verdict } from './__tests__/spec-kit';

/** Runs with a workspace (ADR 009), given/when/then: the run branch as the log knows it. */
const sha = (n: number) => n.toString(16).padStart(40, '0');
const BASE = sha(0xba5e);
const workspace: RunWorkspace = { kind: 'repository', repo: '/roots/app', root: '/roots', path: 'app', name: 'app', baseRef: 'HEAD', baseCommit: BASE, branch: `conclave/${RUN}`, dirty: false };
const agent = (id: string, dependsOn: string[], models: string[]) => ({ id, kind: 'agent' as const, dependsOn, prompt: { user: `do ${id}` }, candidates: models.map(sim), judge: sim('j') });
const template = (phases: TemplateInput['phases']): Extract<DeciderInput, { type: 'StartRun' }> => ({
  type: 'StartRun', runId: RUN, templateId: 't1', templateVersion: 1, template: Template.parse({ name: 'ws', phases }), name: null, inputs: {}, autoMode: true, budgetUsd: null, workspace,
});
/** an agent candidate's code-change with its commit on top of `base` */
const change = (candidateId: string, phaseId: string, commit: string, base = BASE): DeciderInput => ({
  type: 'CandidateResult',
  result: {
    type: 'CandidateResult', commandId: `${candidateId}@1`, runId: RUN, phaseId, attempt: 1, attemptToken: `${candidateId}@1`, workerId: 'w1',
    provider: 'simulated', model: 'm', durationMs: 5, candidateId,
    outcome: { status: 'generated', output: { summary: `work of ${candidateId}`, files: [{ path: 'app.txt', change: 'modified' }], diff: `diff of ${candidateId}`, commit, base }, tokens: { input: 1, output: 1 }, costUsd: 0 },
  } satisfies CandidateResult,
});
const integrated = (phaseId: string, commit: string, parent: string, status: 'integrated' | 'conflict' = 'integrated'): DeciderInput => ({
  type: 'WorkspaceResult',
  result: {
    type: 'WorkspaceResult', commandId: `${RUN}.${phaseId}.1.integrate`, runId: RUN, phaseId, attempt: 1, attemptToken: `${RUN}.${phaseId}.1.integrate`, workerId: 'w1',
    provider: 'git', model: 'integrate', durationMs: 3, kind: 'integrate',
    outcome: status === 'integrated'
      ? { status: 'integrated', candidateId: C(phaseId, 0), commit, parent, files: [{ path: 'app.txt', change: 'modified' }] }
      : { status: 'conflict', candidateId: C(phaseId, 0), conflicts: ['app.txt'], message: 'conflicts in app.txt' },
  } satisfies WorkspaceResult,
});
const stateOf = (history: RunFact[]) => history.reduce<RunState>((s, e) => evolve(s, e), initialRunState()) as ActiveRun;
/** spec-kit's drive with a validator that accepts the code-change outputs */
function drive(...inputs: DeciderInput[]) {
  let history: RunFact[] = [];
  const decided: DecidedEvent[][] = [];
  for (const input of inputs) {
    const out = decide(stateOf(history), input, { now: NOW, validate: () => [] });
    decided.push(out);
    history = [...history, ...facts(out)];
  }
  return { history, decided: decided.slice(1), last: decided[decided.length - 1] ?? [] };
}

describe('runs with a workspace', () => {
  it('checks candidates out at the run branch tip, integrates the judged winner, keeps the loser\'s diff and records the run branch commit', () => {
    const first = drive(template([agent('impl', [], ['a', 'b'])]));
    expect(first.history.filter((e) => e.type === 'CandidateRequested').map((e) => (e.data as { checkout?: unknown }).checkout)).toEqual([
      { repo: '/roots/app', branch: `conclave/${RUN}`, commit: BASE, fresh: false },
      { repo: '/roots/app', branch: `conclave/${RUN}`, commit: BASE, fresh: false },
    ]);
    const judged = drive(template([agent('impl', [], ['a', 'b'])]), change(C('impl', 0), 'impl', sha(1)), change(C('impl', 1), 'impl', sha(2)), verdict(`${RUN}.impl.1.judge`, 'impl', C('impl', 1), { [C('impl', 0)]: 0.4, [C('impl', 1)]: 0.9 }));
    expect(types(judged.last)).toEqual(['VerdictRecorded:impl', 'IntegrationRequested:impl']);
    const request = ofType(judged.last, 'IntegrationRequested')[0]!.data;
    expect(request).toMatchObject({ candidateId: C('impl', 1), commit: sha(2), base: BASE, onto: BASE, repo: '/roots/app', branch: `conclave/${RUN}`, at: NOW });
    expect(request.message).toContain(`Run: ${RUN}`);
    expect(request.message).toContain(`Candidate: ${C('impl', 1)}`);
    expect(request.message).toMatch(/Provider: simulated\nModel: b/);

    const done = drive(
      template([agent('impl', [], ['a', 'b'])]),
      change(C('impl', 0), 'impl', sha(1)),
      change(C('impl', 1), 'impl', sha(2)),
      verdict(`${RUN}.impl.1.judge`, 'impl', C('impl', 1), { [C('impl', 0)]: 0.4, [C('impl', 1)]: 0.9 }),
      integrated('impl', sha(3), BASE),
    );
    expect(types(done.last)).toEqual(['ChangesIntegrated:impl', 'ArtifactRecorded:impl', 'ArtifactRecorded:impl', 'PhaseCompleted:impl', 'CheckpointCreated:impl', 'RunCompleted']);
    const [loser, artifact] = ofType(done.last, 'ArtifactRecorded');
    expect(loser!.data).toMatchObject({ artifactType: 'candidate-diff', candidateId: C('impl', 0), content: { diff: `diff of ${C('impl', 0)}`, commit: sha(1) } });
    expect(artifact!.data).toMatchObject({ artifactType: 'code-change', candidateId: C('impl', 1), content: { commit: sha(3), base: BASE } });
    expect(ofType(done.last, 'PhaseCompleted')[0]!.data.artifactId).toBe(artifact!.data.artifactId);
    expect(ofType(done.last, 'CheckpointCreated')[0]!.data.commit).toBe(sha(3));
    expect(stateOf(done.history).head).toBe(sha(3));
  });

  it('integrates parallel phases one at a time, the second onto the first one\'s commit, and a conflict fails the phase with the path', () => {
    const tpl = template([agent('left', [], ['a']), agent('right', [], ['b'])]);
    const both = drive(tpl, change(C('left', 0), 'left', sha(1)), change(C('right', 0), 'right', sha(2)));
    // left integrates first; right waits for the tip it builds on
    expect(types(both.decided[0]!)).toEqual(['CandidateGenerated:left', 'IntegrationRequested:left']);
    expect(types(both.decided[1]!)).toEqual(['CandidateGenerated:right']);
    const next = drive(tpl, change(C('left', 0), 'left', sha(1)), change(C('right', 0), 'right', sha(2)), integrated('left', sha(3), BASE));
    expect(types(next.last)).toEqual(['ChangesIntegrated:left', 'ArtifactRecorded:left', 'PhaseCompleted:left', 'IntegrationRequested:right', 'CheckpointCreated:left']);
    expect(ofType(next.last, 'IntegrationRequested')[0]!.data).toMatchObject({ onto: sha(3), base: BASE });
    const conflict = drive(tpl, change(C('left', 0), 'left', sha(1)), change(C('right', 0), 'right', sha(2)), integrated('left', sha(3), BASE), integrated('right', '', sha(3), 'conflict'));
    expect(types(conflict.last)).toEqual(['IntegrationFailed:right', 'PhaseFailed:right', 'RunFailed']);
    expect(ofType(conflict.last, 'PhaseFailed')[0]!.data.reason).toMatchObject({ code: 'merge_conflict', retryable: true, message: expect.stringContaining('app.txt') });
    // a duplicate result changes nothing
    expect(drive(tpl, change(C('left', 0), 'left', sha(1)), change(C('right', 0), 'right', sha(2)), integrated('left', sha(3), BASE), integrated('left', sha(3), BASE)).last).toEqual([]);
  });

  it('rolls the branch back with the checkpoint\'s commit and forks from the commit at the fork point', () => {
    const tpl = template([agent('a', [], ['m']), agent('b', ['a'], ['m'])]);
    const run = drive(tpl, change(C('a', 0), 'a', sha(1)), integrated('a', sha(2), BASE), change(C('b', 0), 'b', sha(3), sha(2)), integrated('b', sha(4), sha(2)));
    const state = stateOf(run.history);
    expect(state.status).toBe('completed');
    expect(state.checkpoints.map((c) => c.commit)).toEqual([sha(2), sha(4)]);
    const back = drive(tpl, change(C('a', 0), 'a', sha(1)), integrated('a', sha(2), BASE), change(C('b', 0), 'b', sha(3), sha(2)), integrated('b', sha(4), sha(2)), {
      type: 'Command',
      command: { type: 'RollbackRun', runId: RUN, checkpointId: 'a@1' },
    });
    expect(ofType(back.last, 'RolledBack')[0]!.data).toMatchObject({ checkpointId: 'a@1', commit: sha(2) });
    // b starts over from a's commit
    expect((ofType(back.last, 'CandidateRequested')[0]!.data as { checkout?: { commit: string } }).checkout?.commit).toBe(sha(2));
    expect(commitAtForkPoint(state, new Set(['a']))).toBe(sha(2));
    expect(commitAtForkPoint(state, new Set())).toBe(BASE);
  });

  it('records a cancelled agent\'s partial work once, even after the run was cancelled', () => {
    const tpl = template([agent('a', [], ['m'])]);
    const cancelled = drive(tpl, { type: 'Command', command: { type: 'CancelRun', runId: RUN } });
    const partial: DeciderInput = {
      type: 'CandidateResult',
      result: {
        type: 'CandidateResult', commandId: `${C('a', 0)}@1`, runId: RUN, phaseId: 'a', attempt: 1, attemptToken: `${C('a', 0)}@1`, workerId: 'w1', provider: 'simulated', model: 'm', durationMs: 5, candidateId: C('a', 0),
        outcome: { status: 'failed', error: { code: 'cancelled', message: 'cancelled', retryable: false }, partial: { reason: 'cancelled', diff: '+half', files: [{ path: 'x', change: 'created' }] }, toolCalls: [] },
      },
    };
    const out = drive(tpl, { type: 'Command', command: { type: 'CancelRun', runId: RUN } }, partial, partial);
    expect(stateOf(cancelled.history).status).toBe('cancelled');
    expect(types(out.decided[1]!)).toEqual(['PartialWorkRecorded:a']);
    expect(out.decided[2]).toEqual([]);
  });

  it('records a timed-out candidate\'s partial work that arrives after the retry started', () => {
    const tpl = template([agent('a', [], ['m'])]);
    const timedOut: DeciderInput = {
      type: 'CandidateResult',
      result: {
        type: 'CandidateResult', commandId: `${C('a', 0)}@1`, runId: RUN, phaseId: 'a', attempt: 1, attemptToken: `${C('a', 0)}@1`, workerId: 'w1', provider: 'simulated', model: 'm', durationMs: 5, candidateId: C('a', 0),
        outcome: { status: 'failed', error: { code: 'timeout', message: 'timeout', retryable: true }, partial: { reason: 'timeout', diff: '+half', files: [] }, toolCalls: [] },
      },
    };
    const deadline = new Date(Date.parse(NOW) + 601_000).toISOString();
    let history = drive(tpl).history;
    const step = (input: DeciderInput, now: string) => {
      const out = decide(stateOf(history), input, { now, validate: () => [] });
      history = [...history, ...facts(out)];
      return out;
    };
    expect(types(step({ type: 'Tick' }, deadline))).toEqual(['CandidateFailed:a', 'PhaseRetryScheduled:a']);
    expect(types(step({ type: 'Tick' }, new Date(Date.parse(deadline) + 10_000).toISOString()))).toContain('PhaseStarted:a');
    expect(stateOf(history).phases.a!.attempt).toBe(2);
    // the work is kept; the late result itself is refused as stale
    expect(types(step(timedOut, deadline))).toEqual(['PartialWorkRecorded:a', 'ResultRefused:a']);
  });
});

describe('a run never hangs on an internal error', () => {
  const condition = (expression: unknown) =>
    Template.parse({
      name: 'c',
      phases: [
        { id: 'a', kind: 'llm', prompt: { user: 'x' }, candidates: [sim('m')] },
        { id: 'route', kind: 'condition', dependsOn: ['a'], expression, ifTrue: ['b'], ifFalse: [] },
        { id: 'b', kind: 'llm', dependsOn: ['route'], prompt: { user: 'y' }, candidates: [sim('m')] },
      ],
    });
  const startOf = (tpl: ReturnType<typeof condition>): DeciderInput => ({ type: 'StartRun', runId: RUN, templateId: 't', templateVersion: 1, template: tpl, name: null, inputs: {}, autoMode: true, budgetUsd: null });
  const textResult: DeciderInput = {
    type: 'CandidateResult',
    result: {
      type: 'CandidateResult', commandId: `${C('a', 0)}@1`, runId: RUN, phaseId: 'a', attempt: 1, attemptToken: `${C('a', 0)}@1`, workerId: 'w1', provider: 'simulated', model: 'm', durationMs: 1, candidateId: C('a', 0),
      outcome: { status: 'generated', output: { text: 'x' }, tokens: { input: 1, output: 1 }, costUsd: 0 },
    },
  };

  it('fails the condition phase (internal_error, retryable by the user) when its expression throws', () => {
    const run = drive(startOf(condition({ regex: ['a', 'b'] })), textResult);
    expect(types(run.last)).toEqual(['CandidateGenerated:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a', 'PhaseStarted:route', 'PhaseFailed:route', 'RunFailed']);
    expect(ofType(run.last, 'PhaseFailed')[0]!.data.reason).toMatchObject({ code: 'internal_error', message: expect.stringContaining('regex') });
    expect(stateOf(run.history).status).toBe('failed');
    const retry = decide(stateOf(run.history), { type: 'Command', command: { type: 'RetryPhase', runId: RUN, phaseId: 'route' } }, { now: NOW, validate: () => [] });
    expect(types(retry)[0]).toBe('PhaseRetryScheduled:route');
  });

  it('fails the run on the phase a result was about when deciding it throws, instead of throwing (the result would be redelivered forever)', () => {
    const history = drive(startOf(condition({ '==': [1, 1] }))).history;
    const out = decide(stateOf(history), textResult, {
      now: NOW,
      validate: () => {
        throw new Error('validator exploded');
      },
    });
    expect(types(out)).toEqual(['PhaseFailed:a', 'RunFailed']);
    expect(ofType(out, 'RunFailed')[0]!.data).toMatchObject({ phaseId: 'a', reason: { code: 'internal_error', message: expect.stringContaining('validator exploded') } });
    // once failed, the same throwing input decides nothing more
    const failed = [...history, ...facts(out)];
    expect(decide(stateOf(failed), textResult, { now: NOW, validate: () => { throw new Error('again'); } })).toEqual([]);
    // commands still throw to their caller
    expect(() => decide(stateOf(history), { type: 'Command', command: { type: 'RetryPhase', runId: RUN, phaseId: 'nope' } }, { now: NOW, validate: () => [] })).toThrow();
  });
});
