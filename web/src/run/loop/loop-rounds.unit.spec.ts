import { ids, Template, type PhaseView, type SocketEvent } from '@conclave/contracts';
import { applyRunEvents, emptyRunView } from '../run-reducer';
import { candidateRoundLabel, candidateScore, loopRounds, phaseWinnerId } from './loop-rounds';

const RUN = 'run1';
const T0 = Date.parse('2025-01-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

const template = Template.parse({
  name: 'loop-pipeline',
  phases: [
    {
      id: 'write',
      kind: 'loop',
      prompt: { user: 'Write a plan' },
      candidates: [{ provider: 'simulated', model: 'sim-w' }],
      loop: { maxAttempts: 3, passThreshold: 0.8, evaluator: { provider: 'simulated', model: 'sim-eval', criteria: ['quality'] } },
    },
  ],
});

let seq = 0;
const ev = (type: string, data: unknown): SocketEvent => {
  seq += 1;
  return { sequence: seq, type, runId: RUN, occurredAt: at(seq), data };
};
const cand = (round: number) => ids.candidate(RUN, 'write', 1, 0, round);
const out = { artifact: 'text' as const, schema: { type: 'object' as const } };

/** One round: its candidate requested and generated, then the evaluator's verdict. */
function round(r: number, score: number, feedback: string): SocketEvent[] {
  const candidateId = cand(r);
  return [
    ev('CandidateRequested', { phaseId: 'write', attempt: 1, round: r, candidateId, slot: 0, provider: 'simulated', model: 'sim-w', prompt: { user: 'Write' }, output: out, attemptToken: `t${r}`, timeoutSeconds: 60 }),
    ev('CandidateGenerated', { phaseId: 'write', attempt: 1, candidateId, output: { text: `draft ${r}` }, tokens: { input: 10, output: 10 }, costUsd: 0.25, durationMs: 10, workerId: 'w' }),
    ev('VerdictRecorded', {
      phaseId: 'write', attempt: 1, round: r, judgeId: `j${r}`, purpose: 'evaluate', winnerId: candidateId,
      scores: { [candidateId]: { overall: score, criteria: { quality: score } } }, rationale: feedback, order: [candidateId],
      provider: 'simulated', model: 'sim-eval', tokens: { input: 5, output: 5 }, costUsd: 0.0625, missing: [],
    }),
  ];
}

function fold(events: SocketEvent[]): PhaseView {
  return applyRunEvents(emptyRunView(RUN), events).phases[0]!;
}

describe('a loop phase folded from its events', () => {
  beforeEach(() => (seq = 0));
  const start = () => [
    ev('RunStarted', { runId: RUN, templateId: 'tpl', templateVersion: 1, template, name: null, inputs: {}, autoMode: true, budgetUsd: null, origin: null }),
    ev('PhaseStarted', { phaseId: 'write', attempt: 1 }),
  ];

  it('keeps every round with its score and feedback when the next verdict lands, each labelled "Round n of N"', () => {
    const phase = fold([...start(), ...round(0, 0.5, 'needs detail'), ...round(1, 0.75, 'cite sources')]);
    expect(loopRounds(phase).map((r) => [r.label, r.score, r.feedback, r.passed])).toEqual([
      ['Round 1 of 3', 0.5, 'needs detail', false],
      ['Round 2 of 3', 0.75, 'cite sources', false],
    ]);
    expect(phase.candidates.map((c) => [candidateRoundLabel(phase, c), candidateScore(phase, c.id)])).toEqual([
      ['Round 1 of 3', 0.5],
      ['Round 2 of 3', 0.75],
    ]);
    // no ★ until the loop takes an output
    expect(phaseWinnerId(phase)).toBeNull();
  });

  it('stopped at max rounds: the ★ and the verdict follow the artifact (the best round), not the last verdict', () => {
    const artifactId = ids.artifact(RUN, 'write', 1);
    const phase = fold([
      ...start(),
      ...round(0, 0.5, 'needs detail'),
      ...round(1, 0.75, 'cite sources'),
      ...round(2, 0.625, 'lost focus'),
      ev('ArtifactRecorded', { artifactId, phaseId: 'write', attempt: 1, candidateId: cand(1), artifactType: 'text', content: { text: 'draft 1' } }),
      ev('PhaseCompleted', { phaseId: 'write', attempt: 1, artifactId }),
    ]);
    expect(phase.artifactCandidateId).toBe(cand(1));
    expect(phaseWinnerId(phase)).toBe(cand(1));
    expect(phase.verdict).toMatchObject({ winnerId: cand(1), rationale: 'cite sources' });
    const rows = loopRounds(phase);
    expect(rows.map((r) => [r.label, r.score, r.taken, r.best])).toEqual([
      ['Round 1 of 3', 0.5, false, false],
      ['Round 2 of 3', 0.75, true, true],
      ['Round 3 of 3', 0.625, false, false],
    ]);
  });

  it('a new attempt starts the rounds afresh and forgets the winner', () => {
    const phase = fold([...start(), ...round(0, 0.5, 'needs detail'), ev('PhaseFailed', { phaseId: 'write', attempt: 1, reason: { code: 'x', message: 'y', retryable: true } }), ev('PhaseStarted', { phaseId: 'write', attempt: 2 })]);
    expect(phase.loop).toEqual({ maxRounds: 3, passThreshold: 0.8, rounds: [] });
    expect(phase.artifactCandidateId).toBeNull();
  });

  it('other kinds: the ★ is the judge’s pick, and no round labels', () => {
    const llm: Pick<PhaseView, 'kind' | 'loop' | 'artifactCandidateId' | 'verdict'> = {
      kind: 'llm',
      loop: null,
      artifactCandidateId: null,
      verdict: { winnerId: 'c1', scores: { c1: { overall: 0.9, criteria: {} } }, rationale: '', missing: [] },
    };
    expect(phaseWinnerId(llm)).toBe('c1');
    expect(candidateRoundLabel(llm, { id: 'c1' })).toBeNull();
    expect(candidateScore(llm, 'c1')).toBe(0.9);
  });
});
