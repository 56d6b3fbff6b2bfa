/** @jest-environment jsdom */
// the polyfills (TextEncoder for react-router) first
import { fakeFetch } from '../test/render';
import type { StudyEstimate, StudyView } from '@conclave/contracts';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import JudgeLabPage from './JudgeLabPage';

jest.mock('../live/use-room', () => ({ useRoom: () => undefined }));

function renderAt(url: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]}>
        <JudgeLabPage />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const ESTIMATE: StudyEstimate = {
  items: 3,
  candidates: 6,
  runs: 3,
  estimateUsd: 0.0123,
  tokens: { input: 1500, output: 900 },
  skipped: { runs: 1, phases: 0, details: [{ runId: 'r-old', phaseId: null, reason: 'archived' }] },
  confirmRequired: true,
  confirmThreshold: 5,
};
const score = (overall: number) => ({ overall, criteria: { quality: overall } });
const item = (n: number, oldWinner: string, newWinner: string) => ({
  itemId: `i${n}`,
  runId: `run-${n}`,
  phaseId: 'draft',
  attempt: 1,
  status: 'judged' as const,
  attempts: 1,
  candidates: [
    { candidateId: `run-${n}.a`, provider: 'openai', model: 'big' },
    { candidateId: `run-${n}.b`, provider: 'openai', model: 'small' },
  ],
  oldWinnerId: `run-${n}.${oldWinner}`,
  newWinnerId: `run-${n}.${newWinner}`,
  flipped: oldWinner !== newWinner,
  oldScores: { [`run-${n}.a`]: score(0.9), [`run-${n}.b`]: score(0.4) },
  newScores: { [`run-${n}.a`]: score(0.3), [`run-${n}.b`]: score(0.8) },
  rationale: 'b is more concise',
  error: null,
  costUsd: 0.004,
});
const STUDY: StudyView = {
  id: 's1',
  name: 'concise judge',
  status: 'completed',
  judge: { provider: 'openai', model: 'gpt-judge', rubric: 'Prefer concise answers' },
  items: 2,
  judged: 2,
  failed: 0,
  skipped: { runs: 0, phases: 0, details: [] },
  estimateUsd: 0.01,
  costUsd: 0.008,
  budgetUsd: null,
  startedAt: '2026-12-01T10:00:00.000Z',
  completedAt: '2026-12-01T10:01:00.000Z',
  sequence: 42000,
  report: {
    phases: [
      {
        phaseId: 'draft',
        items: 2,
        judged: 2,
        flips: 1,
        flipRate: 0.5,
        flipRateCi: { low: 0.0945, high: 0.906 },
        scoreShift: { quality: -0.05 },
        sameWinner: 0.5,
        kendallTau: 0,
        matrix: [
          { oldModel: 'openai/big', newModel: 'openai/big', count: 1 },
          { oldModel: 'openai/big', newModel: 'openai/small', count: 1 },
        ],
        costUsd: 0.008,
      },
    ],
    flips: 1,
    judged: 2,
    flipRate: 0.5,
    flipRateCi: { low: 0.0945, high: 0.906 },
  },
  itemsList: [item(1, 'a', 'b'), item(2, 'a', 'a')],
};
const BASE = {
  'GET /api/v1/templates': { body: { items: [], nextCursor: null } },
  'GET /api/v1/providers': { body: { items: [], nextCursor: null } },
  'GET /api/v1/studies': { body: { items: [], nextCursor: null } },
};

afterEach(cleanup);

describe('the Judge lab', () => {
  it('asks for the estimate first, then starts the study only once a large one is confirmed', async () => {
    const { calls } = fakeFetch({
      ...BASE,
      'POST /api/v1/studies/estimate': { body: ESTIMATE },
      'POST /api/v1/studies': { status: 202, body: { id: 's-new', sequence: 7000, estimate: ESTIMATE } },
      'GET /api/v1/studies/s-new': { body: { ...STUDY, id: 's-new' } },
    });
    renderAt('/judge-lab?runs=run-1');
    expect(screen.queryByTestId('study-start')).toBeNull();
    fireEvent.change(screen.getByLabelText(/^Rubric/), { target: { value: 'Prefer concise answers' } });
    fireEvent.click(screen.getByTestId('study-estimate-button'));

    const estimate = await screen.findByTestId('study-estimate');
    expect(estimate.textContent).toContain('3 verdicts over 3 runs: 6 candidates');
    expect(estimate.textContent).toContain('Skipped: 1 runs and 0 phases');
    const start = screen.getByTestId('study-start') as HTMLButtonElement;
    expect(start.disabled).toBe(true);
    fireEvent.click(within(screen.getByTestId('study-confirm')).getByRole('checkbox'));
    expect(start.disabled).toBe(false);
    fireEvent.click(start);

    await screen.findByTestId('study-detail');
    const posted = calls.find((c) => c.method === 'POST' && c.path === '/api/v1/studies')!;
    expect(posted.body).toEqual({ runs: ['run-1'], judge: { provider: 'simulated', model: 'sim-judge', rubric: 'Prefer concise answers' }, confirm: true });
    // the estimate was asked for the same study, without confirm
    expect(calls.find((c) => c.path === '/api/v1/studies/estimate')!.body).toEqual({ runs: ['run-1'], judge: { provider: 'simulated', model: 'sim-judge', rubric: 'Prefer concise answers' } });
  });

  it('shows a study’s report — flip rate and interval, the flip matrix — and a flip’s two candidates side by side', async () => {
    fakeFetch({
      ...BASE,
      'GET /api/v1/studies/s1': { body: STUDY },
      'GET /api/v1/runs/run-1/candidates': {
        body: {
          items: [
            { id: 'run-1.a', provider: 'openai', model: 'big', status: 'generated', output: { text: 'a long answer' } },
            { id: 'run-1.b', provider: 'openai', model: 'small', status: 'generated', output: { text: 'short' } },
          ].map((c, slot) => ({ ...c, phaseId: 'draft', attempt: 1, round: 0, slot, tokens: { input: 1, output: 1 }, costUsd: 0, durationMs: 10, error: null, transcript: null })),
          nextCursor: null,
        },
      },
    });
    renderAt('/judge-lab?study=s1&item=i1');
    const card = await screen.findByTestId('study-phase');
    expect(within(card).getByTestId('flip-rate').textContent).toBe('50.0% (1 of 2; 95 % 9.4%–90.6%)');
    const matrix = within(card).getByTestId('flip-matrix');
    expect(matrix.querySelector('td[data-old="openai/big"][data-new="openai/small"]')!.textContent).toBe('1');
    expect(matrix.querySelector('td[data-old="openai/big"][data-new="openai/big"]')!.textContent).toBe('1');
    expect(within(card).getAllByTestId('flip-link').map((b) => b.textContent)).toEqual(['Run run-1: openai/big → openai/small']);

    const pair = await screen.findByTestId('flip-view');
    await waitFor(() => expect(within(pair).getAllByTestId('flip-candidate')).toHaveLength(2));
    const [before, after] = within(pair).getAllByTestId('flip-candidate');
    expect(before!.querySelector('h4')!.textContent).toBe('Old winner: openai/big');
    expect(before!.textContent).toContain('Old judge 0.900 · new judge 0.300');
    expect(before!.textContent).toContain('a long answer');
    expect(after!.querySelector('h4')!.textContent).toBe('New winner: openai/small');
    expect(after!.textContent).toContain('short');
    expect(within(pair).getByRole('link', { name: 'run-1' }).getAttribute('href')).toBe('/runs/run-1?phase=draft');
  });
});
