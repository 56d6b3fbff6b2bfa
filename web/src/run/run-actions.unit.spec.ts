import type { PhaseView, RunView } from '@conclave/contracts';
import { allowedPhaseActions, modelChoices } from './run-actions';

const phase = (id: string, status: PhaseView['status'], dependsOn: string[] = []): PhaseView =>
  ({ id, name: null, kind: 'llm', status, dependsOn, attempt: 1, startedAt: null, completedAt: null, candidates: [], verdict: null, artifactId: null, costUsd: 0, tokens: { input: 0, output: 0 }, error: null }) as unknown as PhaseView;
const run = (phases: PhaseView[]): RunView => ({ id: 'r', status: 'running', phases, pending: { gates: [], questions: [], continue: [] } }) as unknown as RunView;

describe('allowedPhaseActions', () => {
  it('offers Retry only for a failed phase (the server refuses the others with 409)', () => {
    for (const status of ['completed', 'cancelled', 'running', 'pending', 'waiting', 'skipped'] as const) {
      const p = phase('a', status);
      expect(allowedPhaseActions(run([p]), p).retry).toBe(false);
    }
    const failed = phase('a', 'failed');
    expect(allowedPhaseActions(run([failed]), failed).retry).toBe(true);
    expect(allowedPhaseActions({ ...run([failed]), status: 'cancelled' }, failed).retry).toBe(false);
  });

  it('offers Fork from here only when every upstream phase completed', () => {
    const a = phase('a', 'completed');
    const b = phase('b', 'failed');
    const c = phase('c', 'completed', ['a', 'b']);
    const d = phase('d', 'pending', ['a']);
    const view = run([a, b, c, d]);
    expect(allowedPhaseActions(view, a).fork).toBe(true); // no upstream
    expect(allowedPhaseActions(view, c).fork).toBe(false); // b failed, even though c ran
    expect(allowedPhaseActions(view, d).fork).toBe(true);
  });
});

describe('modelChoices (the retry model picker)', () => {
  const withCandidates = (p: PhaseView, models: [string, string][]): PhaseView => ({ ...p, candidates: models.map(([provider, model]) => ({ provider, model })) }) as unknown as PhaseView;
  const view = run([withCandidates(phase('a', 'completed'), [['simulated', 'sim-fast'], ['openai', 'gpt-4.1']]), withCandidates(phase('b', 'failed'), [['simulated', 'sim-fast'], ['simulated', 'sim-b']])]);

  it('offers the provider’s configured models and priced models, then those the run used with it, once each', () => {
    expect(modelChoices({ models: ['sim-big'], prices: { 'sim-cheap': { inputPer1M: 0, outputPer1M: 0 } } }, view, 'simulated')).toEqual(['sim-big', 'sim-cheap', 'sim-fast', 'sim-b']);
    expect(modelChoices(undefined, view, 'openai')).toEqual(['gpt-4.1']);
  });

  it('offers nothing before a provider is chosen', () => {
    expect(modelChoices({ models: ['x'], prices: {} }, view, '')).toEqual([]);
  });
});
