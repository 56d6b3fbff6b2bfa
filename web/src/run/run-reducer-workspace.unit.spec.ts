import { Template, type RunView, type SocketEvent } from '@conclave/contracts';
import { applyRunEvent, applyRunEvents, emptyRunView, foldRunEvent } from './run-reducer';
import { initialLiveRun, withEvents, withSnapshot } from './live-run-state';

const RUN = 'run1';
const at = (s: number) => new Date(Date.parse('2026-01-01T10:00:00.000Z') + s * 1000).toISOString();
const sha = (c: string) => c.repeat(40);
const BASE = sha('a');

const template = Template.parse({
  name: 'implement',
  inputs: { type: 'object' },
  phases: [
    { id: 'impl', kind: 'llm', prompt: { user: 'do it' }, candidates: [{ provider: 'simulated', model: 'a' }, { provider: 'simulated', model: 'b' }] },
    { id: 'docs', kind: 'llm', dependsOn: ['impl'], prompt: { user: 'docs' }, candidates: [{ provider: 'simulated', model: 'a' }] },
  ],
});

const ev = (sequence: number, type: string, data: unknown): SocketEvent => ({ sequence, type, runId: RUN, occurredAt: at(sequence), data });
const cid = (phase: string, attempt: number, slot: number) => `${RUN}.${phase}.${attempt}.c${slot}`;

const workspace = { kind: 'repository' as const, repo: '/srv/repos/app', root: '/srv/repos', path: 'app', name: 'app', baseRef: 'main', baseCommit: BASE, branch: `conclave/${RUN}`, dirty: true };
const started = ev(1, 'RunStarted', { runId: RUN, templateId: 't', templateVersion: 1, template, name: null, inputs: {}, autoMode: true, budgetUsd: null, workspace });
const phaseStarted = (seq: number, phaseId: string, attempt = 1) => ev(seq, 'PhaseStarted', { phaseId, attempt });
const integrated = (seq: number, phaseId: string, commit: string, parent: string, files: string[], attempt = 1) =>
  ev(seq, 'ChangesIntegrated', {
    phaseId,
    attempt,
    candidateId: cid(phaseId, attempt, 1),
    commit,
    parent,
    files: files.map((path) => ({ path, change: 'modified' })),
    workerId: 'w1',
  });

const begin = (): RunView => applyRunEvents(emptyRunView(RUN), [started, phaseStarted(2, 'impl')]);
const phase = (view: RunView, id: string) => view.phases.find((p) => p.id === id)!;

describe('run reducer: the run branch', () => {
  it('takes the workspace from RunStarted with head at the base commit', () => {
    const view = begin();
    expect(view.workspace).toEqual({ ...workspace, head: BASE });
    expect(view.filesChanged).toBe(0);
  });

  it('a run without a workspace keeps null', () => {
    const noWs = ev(1, 'RunStarted', { runId: RUN, templateId: 't', templateVersion: 1, template, name: null, inputs: {}, autoMode: true, budgetUsd: null });
    expect(applyRunEvent(emptyRunView(RUN), noWs).workspace).toBeNull();
  });

  it('ChangesIntegrated sets the phase commit, moves head and counts distinct files', () => {
    let view = begin();
    view = applyRunEvent(view, integrated(3, 'impl', sha('b'), BASE, ['src/a.ts', 'src/b.ts']));
    expect(phase(view, 'impl').commit).toEqual({ sha: sha('b'), parent: BASE, candidateId: cid('impl', 1, 1), files: [{ path: 'src/a.ts', change: 'modified' }, { path: 'src/b.ts', change: 'modified' }] });
    expect(view.workspace?.head).toBe(sha('b'));
    view = applyRunEvents(view, [phaseStarted(4, 'docs'), integrated(5, 'docs', sha('c'), sha('b'), ['src/b.ts', 'README.md'])]);
    expect(view.workspace?.head).toBe(sha('c'));
    expect(view.filesChanged).toBe(3);
  });

  it('a late integration of an older attempt moves head but does not describe the phase', () => {
    let view = applyRunEvents(begin(), [phaseStarted(3, 'impl', 2)]);
    view = applyRunEvent(view, integrated(4, 'impl', sha('d'), BASE, ['x.ts'], 1));
    expect(phase(view, 'impl').commit ?? null).toBeNull();
    expect(view.workspace?.head).toBe(sha('d'));
  });

  it('a new attempt clears the phase commit', () => {
    const view = applyRunEvents(begin(), [integrated(3, 'impl', sha('b'), BASE, ['a.ts']), phaseStarted(4, 'impl', 2)]);
    expect(phase(view, 'impl').commit).toBeNull();
    expect(view.filesChanged).toBe(0);
  });

  it('RolledBack resets head to the checkpoint commit and clears the reset phases commits', () => {
    let view = applyRunEvents(begin(), [integrated(3, 'impl', sha('b'), BASE, ['a.ts']), phaseStarted(4, 'docs'), integrated(5, 'docs', sha('c'), sha('b'), ['b.ts', 'c.ts'])]);
    expect(view.filesChanged).toBe(3);
    view = applyRunEvent(view, ev(6, 'RolledBack', { checkpointId: 'impl@1', resetPhaseIds: ['docs'], commit: sha('b') }));
    expect(view.workspace?.head).toBe(sha('b'));
    expect(phase(view, 'docs').commit).toBeNull();
    expect(phase(view, 'impl').commit?.sha).toBe(sha('b'));
    expect(view.filesChanged).toBe(1);
  });

  it('IntegrationRequested and IntegrationFailed are folded (applied) without changing the view', () => {
    const view = begin();
    const requested = foldRunEvent(
      view,
      ev(3, 'IntegrationRequested', { phaseId: 'impl', attempt: 1, candidateId: cid('impl', 1, 0), attemptToken: 'tok', repo: '/srv/repos/app', branch: `conclave/${RUN}`, commit: sha('e'), base: BASE, onto: BASE, message: 'conclave: run1 impl', at: at(3) }),
    );
    expect(requested.outcome).toBe('applied');
    expect({ ...requested.view, sequence: 0 }).toEqual({ ...view, sequence: 0 });
    const failed = foldRunEvent(
      requested.view,
      ev(4, 'IntegrationFailed', { phaseId: 'impl', attempt: 1, candidateId: cid('impl', 1, 0), error: { code: 'merge_conflict', message: 'conflict', retryable: true }, conflicts: ['src/a.ts'] }),
    );
    expect(failed.outcome).toBe('applied');
    expect(failed.view.workspace?.head).toBe(BASE);
  });

  it('PartialWorkRecorded gives the candidate its partial work, tool calls and transcript', () => {
    const partial = { reason: 'cancelled' as const, diff: 'diff --git a/x b/x\n', files: [{ path: 'x', change: 'created' as const }] };
    const toolCalls = [{ tool: 'bash', input: { command: 'ls' }, outputSummary: 'x', durationMs: 3, refused: false, at: at(3) }];
    const transcript = { key: `sha256-${'e'.repeat(64)}`, bytes: 10, messages: 2 };
    const view = applyRunEvent(begin(), ev(3, 'PartialWorkRecorded', { phaseId: 'impl', attempt: 1, candidateId: cid('impl', 1, 0), partial, toolCalls, transcript }));
    const c = phase(view, 'impl').candidates.find((x) => x.id === cid('impl', 1, 0))!;
    expect(c.partial).toEqual({ ...partial, toolCalls });
    expect(c.transcript).toEqual(transcript);
  });

  it('live state: a gap-filled ChangesIntegrated after a later live event still lands in order', () => {
    const snapshot = { ...begin(), sequence: 2 };
    let state = withSnapshot(initialLiveRun(RUN), snapshot);
    state = withEvents(state, [integrated(5, 'impl', sha('c'), sha('b'), ['b.ts'])]);
    state = withEvents(state, [integrated(3, 'impl', sha('b'), BASE, ['a.ts'])], 5);
    expect(state.view?.workspace?.head).toBe(sha('c'));
    expect(state.refetchAtLeast).toBe(0);
  });
});
