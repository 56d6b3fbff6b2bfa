import { runWorkspaceOf, Template, type NewEvent, type Recorded, type RunView } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { createDataSource, migrate, projectBatch, ReadModelQueries, replay, type DataSource } from '@conclave/read-models';
import { Recorder } from './__tests__/fixtures';

const sha = (c: string) => c.repeat(40);
const BASE = sha('0');
const A = sha('a');
const B = sha('b');
const C = sha('c');

/** Two parallel agent phases on the user's repository, then a tool phase. */
const template = Template.parse({
  name: 'repo-pipeline',
  phases: [
    { id: 'impl', kind: 'agent', prompt: { user: 'Implement' }, candidates: [{ provider: 'simulated', model: 'a' }, { provider: 'simulated', model: 'b' }] },
    { id: 'docs', kind: 'agent', prompt: { user: 'Document' }, candidates: [{ provider: 'simulated', model: 'a' }] },
    { id: 'check', kind: 'tool', dependsOn: ['impl', 'docs'], tool: { command: 'true' } },
  ],
});
const spec = { kind: 'repository', repo: '/home/dev/code/app', root: '/home/dev/code', path: 'app', baseRef: 'main', baseCommit: BASE, dirty: true } as const;
const cid = (runId: string, phase: string, attempt: number, slot: number) => `${runId}.${phase}.${attempt}.c${slot}`;

function requested(runId: string, phaseId: string, attempt: number, slot: number): NewEvent {
  return {
    type: 'CandidateRequested',
    data: {
      phaseId, attempt, round: 0, candidateId: cid(runId, phaseId, attempt, slot), slot, provider: 'simulated', model: 'a', prompt: { user: 'x' },
      output: { artifact: 'code-change', schema: { type: 'object' } }, attemptToken: `tok-${phaseId}-${attempt}`, timeoutSeconds: 60,
    },
  };
}
function integrated(runId: string, phaseId: string, attempt: number, commit: string, parent: string, files: [string, 'created' | 'modified' | 'deleted'][]): NewEvent {
  return {
    type: 'ChangesIntegrated',
    data: { phaseId, attempt, candidateId: cid(runId, phaseId, attempt, 0), commit, parent, files: files.map(([path, change]) => ({ path, change })), workerId: 'w1' },
  };
}

describe('read models of runs on a repository (ADR 009)', () => {
  let env: TestEnv;
  let ds: DataSource;
  let queries: ReadModelQueries;
  const rec = new Recorder();
  const log: Recorded[] = [];
  const RUN = 'ws-run';
  const workspace = runWorkspaceOf(spec, RUN);

  const fold = (events: Recorded[]) => ds.transaction((m) => projectBatch(m, events));
  const append = (id: string, events: NewEvent[]) => {
    const recorded = rec.record('run', id, events);
    log.push(...recorded);
    return recorded;
  };
  const phase = (view: RunView | null, id: string) => view!.phases.find((p) => p.id === id)!;

  beforeAll(async () => {
    env = await createTestEnv('rmworkspace', { database: true });
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl).initialize();
    queries = new ReadModelQueries(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  it('starts with the workspace, head at the base commit, nothing changed', async () => {
    await fold(
      append(RUN, [
        { type: 'RunStarted', data: { runId: RUN, templateId: 'tpl', templateVersion: 1, template, name: 'repo', inputs: {}, autoMode: true, budgetUsd: null, origin: null, workspace } },
        { type: 'PhaseStarted', data: { phaseId: 'impl', attempt: 1 } },
        { type: 'PhaseStarted', data: { phaseId: 'docs', attempt: 1 } },
        requested(RUN, 'impl', 1, 0),
        requested(RUN, 'impl', 1, 1),
        requested(RUN, 'docs', 1, 0),
      ]),
    );
    const view = await queries.getRun(RUN);
    expect(view!.workspace).toEqual({ ...workspace, head: BASE });
    expect(view!.workspace).toMatchObject({ kind: 'repository', name: 'app', branch: `conclave/${RUN}`, dirty: true });
    expect(view!.filesChanged).toBe(0);
    expect(phase(view, 'impl').commit).toBeNull();
    expect(phase(view, 'impl').candidates.map((c) => c.partial)).toEqual([null, null]);
  });

  it('moves head and sets the phase commit on ChangesIntegrated; an integration conflict folds and the phase shows the failure', async () => {
    await fold(
      append(RUN, [
        {
          type: 'IntegrationRequested',
          data: { phaseId: 'impl', attempt: 1, candidateId: cid(RUN, 'impl', 1, 0), attemptToken: 'int-impl-1', repo: spec.repo, branch: workspace.branch, commit: sha('9'), base: BASE, onto: BASE, message: 'conclave: impl', at: '2026-01-01T00:00:00.000Z' },
        },
        integrated(RUN, 'impl', 1, A, BASE, [['src/a.ts', 'created'], ['src/b.ts', 'modified']]),
        { type: 'PhaseCompleted', data: { phaseId: 'impl', attempt: 1, artifactId: `${RUN}.impl.1.artifact` } },
        { type: 'CheckpointCreated', data: { checkpointId: 'impl@1', phaseId: 'impl', completedPhaseIds: ['impl'], commit: A } },
        { type: 'IntegrationFailed', data: { phaseId: 'docs', attempt: 1, candidateId: cid(RUN, 'docs', 1, 0), error: { code: 'merge_conflict', message: 'conflict in src/b.ts', retryable: true }, conflicts: ['src/b.ts'] } },
        { type: 'PhaseFailed', data: { phaseId: 'docs', attempt: 1, reason: { code: 'merge_conflict', message: 'conflict in src/b.ts', retryable: true } } },
      ]),
    );
    const view = await queries.getRun(RUN);
    expect(view!.workspace!.head).toBe(A);
    expect(phase(view, 'impl').commit).toEqual({ sha: A, parent: BASE, candidateId: cid(RUN, 'impl', 1, 0), files: [{ path: 'src/a.ts', change: 'created' }, { path: 'src/b.ts', change: 'modified' }] });
    expect(phase(view, 'docs')).toMatchObject({ status: 'failed', commit: null, error: { code: 'merge_conflict', message: 'conflict in src/b.ts' } });
    expect(view!.filesChanged).toBe(2);
  });

  it('counts distinct paths over the phases\' current commits, on the view and the summary', async () => {
    await fold(
      append(RUN, [
        { type: 'PhaseRetryScheduled', data: { phaseId: 'docs', attempt: 2, notBefore: '2026-01-01T00:00:00.000Z', cause: 'user', override: null } },
        { type: 'PhaseStarted', data: { phaseId: 'docs', attempt: 2 } },
        requested(RUN, 'docs', 2, 0),
        integrated(RUN, 'docs', 2, B, A, [['src/b.ts', 'modified'], ['README.md', 'created']]),
        { type: 'PhaseCompleted', data: { phaseId: 'docs', attempt: 2, artifactId: `${RUN}.docs.2.artifact` } },
        { type: 'CheckpointCreated', data: { checkpointId: 'docs@2', phaseId: 'docs', completedPhaseIds: ['impl', 'docs'], commit: B } },
      ]),
    );
    const view = await queries.getRun(RUN);
    expect(view!.workspace!.head).toBe(B);
    expect(phase(view, 'docs').commit).toMatchObject({ sha: B, parent: A });
    expect(view!.filesChanged).toBe(3);
    const summary = (await queries.listRuns({ limit: 10 })).items.find((r) => r.id === RUN);
    expect(summary!.filesChanged).toBe(3);
    // each checkpoint names the commit a rollback to it resets the branch to
    expect((await queries.listCheckpoints(RUN)).map((c) => [c.id, c.commit])).toEqual([
      ['impl@1', A],
      ['docs@2', B],
    ]);
  });

  it('clears a phase commit when the phase starts again, and resets head and commits on RolledBack', async () => {
    await fold(append(RUN, [{ type: 'PhaseStarted', data: { phaseId: 'docs', attempt: 3 } }]));
    let view = await queries.getRun(RUN);
    // the branch still holds B until a rollback or a new integration moves it
    expect(view!.workspace!.head).toBe(B);
    expect(phase(view, 'docs').commit).toBeNull();
    expect(view!.filesChanged).toBe(2);

    await fold(
      append(RUN, [
        integrated(RUN, 'docs', 3, C, B, [['docs/guide.md', 'created']]),
        { type: 'PhaseCompleted', data: { phaseId: 'docs', attempt: 3, artifactId: `${RUN}.docs.3.artifact` } },
        { type: 'RolledBack', data: { checkpointId: 'impl@1', resetPhaseIds: ['docs', 'check'], commit: A } },
      ]),
    );
    view = await queries.getRun(RUN);
    expect(view!.workspace!.head).toBe(A);
    expect(phase(view, 'docs')).toMatchObject({ status: 'pending', commit: null });
    expect(phase(view, 'impl').commit).toMatchObject({ sha: A });
    expect(view!.filesChanged).toBe(2);
  });

  it("records a cancelled agent's partial work on its candidate", async () => {
    const CANCELLED = 'ws-cancelled';
    const partial = { reason: 'cancelled' as const, diff: 'diff --git a/x b/x\n+half done\n', files: [{ path: 'x', change: 'modified' as const }], commit: C };
    const toolCalls = [{ tool: 'write_file', input: { path: 'x' }, outputSummary: 'wrote 10 bytes', durationMs: 3, refused: false, at: '2026-01-01T00:00:01.000Z' }];
    await fold(
      append(CANCELLED, [
        { type: 'RunStarted', data: { runId: CANCELLED, templateId: 'tpl', templateVersion: 1, template, name: null, inputs: {}, autoMode: true, budgetUsd: null, origin: null, workspace: runWorkspaceOf({ kind: 'fresh', reposRoot: '/srv/conclave/repos' }, CANCELLED) } },
        { type: 'PhaseStarted', data: { phaseId: 'impl', attempt: 1 } },
        requested(CANCELLED, 'impl', 1, 0),
        requested(CANCELLED, 'impl', 1, 1),
        { type: 'RunCancelled', data: { reason: 'enough', abortedCommandIds: [] } },
        { type: 'PartialWorkRecorded', data: { phaseId: 'impl', attempt: 1, candidateId: cid(CANCELLED, 'impl', 1, 0), partial, toolCalls, transcript: { key: `sha256-${'e'.repeat(64)}`, bytes: 10, messages: 2 } } },
      ]),
    );
    const view = await queries.getRun(CANCELLED);
    expect(view!.workspace).toMatchObject({ kind: 'fresh', repo: `/srv/conclave/repos/${CANCELLED}`, root: null, head: view!.workspace!.baseCommit });
    const [first, second] = phase(view, 'impl').candidates;
    expect(first!.partial).toEqual({ ...partial, toolCalls });
    expect(first!.transcript).toEqual({ key: `sha256-${'e'.repeat(64)}`, bytes: 10, messages: 2 });
    expect(second!.partial).toBeNull();
  });

  it('changes nothing when the events are delivered again (whole or overlapping)', async () => {
    const before = await queries.getRun(RUN);
    await fold(log);
    await fold(log.slice(3, 12));
    expect(await queries.getRun(RUN)).toEqual(before);
  });

  it('rebuilds identically: replay --verify finds no difference, whatever the batch size', async () => {
    for (const batchSize of [1, 5, 1000]) {
      const report = await replay({
        dataSource: ds,
        databaseUrl: env.databaseUrl,
        verify: true,
        batchSize,
        source: { lastSequence: async () => log.length, read: async (after, limit) => log.filter((e) => e.sequence > after).slice(0, limit) },
      });
      expect(report).toMatchObject({ mode: 'verify', differenceCount: 0 });
    }
  });
});
