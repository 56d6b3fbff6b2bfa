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

describe('allowedPhaseActions: accept', () => {
  const withCandidate = (p: PhaseView, candidate: object): PhaseView => ({ ...p, candidates: [{ id: 'c', provider: 'simulated', model: 'm', status: 'failed', error: null, ...candidate }] }) as unknown as PhaseView;

  it('offers Accept for a failed phase whose output failed its schema, in the orchestrator or in the worker', () => {
    const rejected = withCandidate(phase('a', 'failed'), { status: 'rejected', error: { code: 'output_rejected', message: 'x' } });
    const refused = withCandidate(phase('a', 'failed'), { error: { code: 'output_invalid', message: '/code: must match pattern' } });
    expect(allowedPhaseActions(run([rejected]), rejected).accept).toBe(true);
    expect(allowedPhaseActions(run([refused]), refused).accept).toBe(true);
  });

  it('not for another failure, a phase that has not failed, or a cancelled run', () => {
    const providerDown = withCandidate(phase('a', 'failed'), { error: { code: 'provider_not_configured', message: 'x' } });
    const running = withCandidate(phase('a', 'running'), { status: 'rejected' });
    const refused = withCandidate(phase('a', 'failed'), { error: { code: 'output_invalid', message: 'x' } });
    expect(allowedPhaseActions(run([providerDown]), providerDown).accept).toBe(false);
    expect(allowedPhaseActions(run([running]), running).accept).toBe(false);
    expect(allowedPhaseActions({ ...run([refused]), status: 'cancelled' }, refused).accept).toBe(false);
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
