/** @jest-environment jsdom */
import type { CandidateView, PhaseView, RunView } from '@conclave/contracts';
import { cleanup, screen, within } from '@testing-library/react';
import { fakeFetch, renderWithProviders } from '../../test/render';
import { TooltipProvider } from '../../ui/Tooltip';
import { PhasePanel } from '../PhasePanel';
import { emptyRunView } from '../run-reducer';

// recharts measures its container: jsdom has no layout, the chart is not what this checks
jest.mock('recharts', () => {
  const Pass = ({ children }: { children?: unknown }) => children ?? null;
  return { ResponsiveContainer: Pass, LineChart: Pass, CartesianGrid: () => null, XAxis: () => null, YAxis: () => null, Tooltip: () => null, ReferenceLine: () => null, Line: () => null };
});

const cid = (round: number) => `run1.write.1${round ? `.r${round}` : ''}.c0`;
const candidate = (round: number): CandidateView => ({
  id: cid(round), slot: 0, round, provider: 'simulated', model: 'sim-w', status: 'generated', tokens: { input: 10, output: 10 }, costUsd: 0.25, durationMs: 10, output: { text: `draft ${round}` }, error: null,
});
const round = (r: number, score: number, feedback: string) => ({ round: r, candidateId: cid(r), score, criteria: { quality: score }, feedback, evaluatedAt: '2026-01-01T10:00:00.000Z' });

/** A loop that hit max rounds (3) without passing 0.8; round 2 scored best and became the artifact. */
const phase: PhaseView = {
  id: 'write', name: 'Write', kind: 'loop', dependsOn: [], status: 'completed', attempt: 1, startedAt: '2026-01-01T10:00:00.000Z', completedAt: '2026-01-01T10:01:00.000Z',
  candidates: [candidate(0), candidate(1), candidate(2)],
  verdict: { winnerId: cid(1), scores: { [cid(1)]: { overall: 0.75, criteria: { quality: 0.75 } } }, rationale: 'cite sources', missing: [] },
  artifactId: 'run1.write.1.artifact',
  artifactCandidateId: cid(1),
  loop: { maxRounds: 3, passThreshold: 0.8, rounds: [round(0, 0.5, 'needs detail'), round(1, 0.75, 'cite sources'), round(2, 0.625, 'lost focus')] },
  costUsd: 1, tokens: { input: 30, output: 30 }, error: null,
};

afterEach(cleanup);

it('a loop at max rounds: each card says its round and score, the ★ and the marked round are the artifact’s', () => {
  fakeFetch({ 'GET /api/v1/runs/run1/artifacts/run1.write.1.artifact': { body: { id: 'run1.write.1.artifact', runId: 'run1', phaseId: 'write', candidateId: cid(1), artifactType: 'text', content: { text: 'draft 1' }, createdAt: '2026-01-01T10:01:00.000Z' } } });
  const view: RunView = { ...emptyRunView('run1'), status: 'completed', phases: [phase], sequence: 20 };
  renderWithProviders(
    <TooltipProvider>
      <PhasePanel view={view} phase={phase} live={{}} onSequence={() => {}} onClose={() => {}} />
    </TooltipProvider>,
  );
  const cards = screen.getAllByTestId('candidate-card');
  expect(cards.map((c) => c.getAttribute('aria-label'))).toEqual([
    'Round 1 of 3, candidate 1: simulated/sim-w',
    'Round 2 of 3, candidate 1: simulated/sim-w (winner)',
    'Round 3 of 3, candidate 1: simulated/sim-w',
  ]);
  expect(within(cards[1]!).getByText('★ winner')).toBeTruthy();
  expect(within(cards[2]!).queryByText('★ winner')).toBeNull();
  expect(within(cards[2]!).getByText('0.63')).toBeTruthy();

  const rows = screen.getAllByTestId('loop-round');
  expect(rows.map((r) => [r.dataset.round, r.dataset.taken ?? null])).toEqual([
    ['1', null],
    ['2', 'true'],
    ['3', null],
  ]);
  expect(within(rows[1]!).getByTestId('loop-round-score').textContent).toBe('score 0.75 < 0.80 (below threshold)');
  expect(within(rows[2]!).getByTestId('loop-round-feedback').textContent).toBe('lost focus');
  expect(screen.getByTestId('loop-summary').textContent).toContain('Stopped at 3 rounds without passing: the best round (round 2 of 3, score 0.75) became the artifact.');
});
