import type { ArtifactView, PhaseView, RunView } from '@conclave/contracts';
import { compareRuns } from './compare';
import { parseRunIds } from './compare.controller';

const phase = (id: string, over: Partial<PhaseView> = {}): PhaseView => ({
  id, name: null, kind: 'llm', dependsOn: [], status: 'completed', attempt: 1,
  startedAt: '2026-03-01T00:00:00.000Z', completedAt: '2026-03-01T00:01:00.000Z',
  candidates: [], verdict: null, artifactId: null, costUsd: 0, tokens: { input: 0, output: 0 }, error: null, ...over,
});
const run = (id: string, phases: PhaseView[], over: Partial<RunView> = {}): RunView =>
  ({
    id, name: id, templateId: 't', templateVersion: 1, templateName: 'tpl', status: 'completed', inputs: {}, phases, currentPhases: [],
    costUsd: 1, tokens: { input: 1, output: 2 }, startedAt: '2026-03-01T00:00:00.000Z', completedAt: '2026-03-01T00:05:00.000Z', sequence: 1, error: null,
    pending: { gates: [], questions: [], continue: [] }, pauseReason: null, budgetUsd: null, archived: false, filesChanged: 0, parked: null, ...over,
  }) as RunView;
const cand = (id: string, slot: number, model: string, output: unknown) => ({ id, slot, provider: 'sim', model, status: 'generated' as const, tokens: { input: 1, output: 1 }, costUsd: 0.1, durationMs: 5, output });

describe('compareRuns', () => {
  it('aligns phases by id in first-seen order, null where a run lacks one', () => {
    const out = compareRuns([run('a', [phase('x'), phase('y')]), run('b', [phase('x'), phase('z')])], new Map());
    expect(out.phases.map((p) => [p.id, p.runs.map((r) => r !== null)])).toEqual([
      ['x', [true, true]],
      ['y', [true, false]],
      ['z', [false, true]],
    ]);
    expect(out.runs[0]!.totals).toEqual({ costUsd: 1, tokens: { input: 1, output: 2 }, durationMs: 300_000, phasesCompleted: 2, phasesTotal: 2 });
  });

  it('takes the artifact’s candidate and content as the winner and output, and sorts scores best first', () => {
    const artifact: ArtifactView = { id: 'art', runId: 'a', phaseId: 'x', candidateId: 'c1', artifactType: 'text', content: { text: 'taken' }, createdAt: '' };
    const p = phase('x', {
      candidates: [cand('c0', 0, 'm0', { text: 'zero' }), cand('c1', 1, 'm1', { text: 'one' })],
      // the last verdict named c0, but the phase took c1 (a loop's best round): the output taken wins
      verdict: { winnerId: 'c0', scores: { c0: { overall: 0.6, criteria: {} }, c1: { overall: 0.9, criteria: {} } }, rationale: '', missing: [] },
      artifactId: 'art',
    });
    const cell = compareRuns([run('a', [p]), run('b', [phase('x', { status: 'running', completedAt: null })])], new Map([['a', [artifact]]])).phases[0]!.runs;
    expect(cell[0]).toMatchObject({ winner: { candidateId: 'c1', model: 'm1' }, output: { text: 'taken' }, score: 0.9, durationMs: 60_000 });
    expect(cell[0]!.scores.map((s) => [s.candidateId, s.winner])).toEqual([['c1', true], ['c0', false]]);
    expect(cell[0]!.models).toEqual([{ provider: 'sim', model: 'm0' }, { provider: 'sim', model: 'm1' }]);
    expect(cell[1]).toMatchObject({ winner: null, output: null, score: null, durationMs: null });
  });

  it('a lone generated candidate wins without a judge', () => {
    const cell = compareRuns([run('a', [phase('x', { candidates: [cand('c0', 0, 'm', 'hello')] })]), run('b', [])], new Map()).phases[0]!.runs[0]!;
    expect(cell).toMatchObject({ winner: { candidateId: 'c0' }, output: 'hello', scores: [], score: null });
  });
});

describe('parseRunIds', () => {
  it('takes 2–4 distinct ids and refuses the rest with a 422', () => {
    expect(parseRunIds(' a, b ,c')).toEqual(['a', 'b', 'c']);
    for (const raw of ['a', 'a,b,c,d,e', 'a,a', ',,']) expect(() => parseRunIds(raw)).toThrow(expect.objectContaining({ code: 'validation' }));
  });
});
