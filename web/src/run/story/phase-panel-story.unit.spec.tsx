/** @jest-environment jsdom */
import type { CandidateView, PhaseView, RunView } from '@conclave/contracts';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import { fakeFetch, renderWithProviders } from '../../test/render';
import { TooltipProvider } from '../../ui/Tooltip';
import { PhasePanel } from '../PhasePanel';
import { emptyRunView } from '../run-reducer';

const candidate = (attempt: number, slot: number, extra: Partial<CandidateView> = {}): CandidateView => ({
  id: `run1.draft.${attempt}.c${slot}`,
  slot,
  provider: 'simulated',
  model: `model-${attempt}-${slot}`,
  status: 'generated',
  tokens: { input: 10, output: 20 },
  costUsd: 0.01,
  durationMs: 800,
  output: { text: `attempt ${attempt} slot ${slot}` },
  error: null,
  ...extra,
});

const phase = (extra: Partial<PhaseView> = {}): PhaseView => ({
  id: 'draft',
  name: 'Draft',
  kind: 'llm',
  dependsOn: [],
  status: 'completed',
  attempt: 2,
  startedAt: '2026-01-01T10:00:10.000Z',
  completedAt: '2026-01-01T10:00:20.000Z',
  candidates: [candidate(2, 0), candidate(2, 1)],
  verdict: {
    winnerId: 'run1.draft.2.c1',
    scores: { 'run1.draft.2.c0': { overall: 0.3, criteria: {} }, 'run1.draft.2.c1': { overall: 0.8, criteria: {} } },
    rationale: 'slot 1 reads better',
    missing: [],
    judge: { provider: 'openai', model: 'gpt-4.1-mini', tokens: { input: 1500, output: 120 }, costUsd: 0.0042 },
  },
  artifactId: null,
  costUsd: 0.05,
  tokens: { input: 40, output: 80 },
  error: null,
  attempts: [
    { attempt: 1, status: 'failed', startedAt: '2026-01-01T10:00:00.000Z', completedAt: '2026-01-01T10:00:05.000Z', error: { code: 'timeout', message: 'the attempt timed out' }, retried: { cause: 'timeout', notBefore: '2026-01-01T10:00:10.000Z' } },
    { attempt: 2, status: 'completed', startedAt: '2026-01-01T10:00:10.000Z', completedAt: '2026-01-01T10:00:20.000Z', error: null, retried: null },
  ],
  ...extra,
});

function renderPanel(p: PhaseView, routes: Parameters<typeof fakeFetch>[0] = {}) {
  const fetched = fakeFetch(routes);
  const view: RunView = { ...emptyRunView('run1'), status: p.status === 'completed' ? 'completed' : 'running', phases: [p], sequence: 20 };
  renderWithProviders(
    <TooltipProvider>
      <PhasePanel view={view} phase={p} live={{}} onSequence={() => {}} onClose={() => {}} />
    </TooltipProvider>,
  );
  return fetched;
}

afterEach(cleanup);

describe('phase panel: the run story', () => {
  it("shows who judged the verdict, with the judge's tokens and cost", () => {
    renderPanel(phase());
    expect(screen.getByTestId('judge-line').textContent).toBe('Judged by openai/gpt-4.1-mini · 1.5k in / 120 out · $0.0042');
  });

  it('switches to an earlier attempt, showing its outcome, candidates and verdict from REST, and back', async () => {
    const { calls } = renderPanel(phase(), {
      'GET /api/v1/runs/run1/candidates': { body: { items: [{ ...candidate(1, 0, { status: 'failed', output: undefined, error: { code: 'timeout', message: 'too slow' } }), phaseId: 'draft', attempt: 1, round: 0 }] } },
      'GET /api/v1/runs/run1/verdicts': { body: { items: [] } },
    });
    const switcher = screen.getByRole('group', { name: 'Attempts' });
    const first = within(switcher).getByRole('button', { name: /Attempt 1/ });
    expect(within(switcher).getByRole('button', { name: /Attempt 2 · current, completed/ }).getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(first);
    const earlier = await screen.findByRole('region', { name: 'Attempt 1' });
    expect(within(earlier).getByText('the attempt timed out')).toBeTruthy();
    expect(await within(earlier).findByRole('article', { name: /model-1-0/ })).toBeTruthy();
    expect(within(earlier).getByText('too slow')).toBeTruthy();
    expect(screen.queryByRole('article', { name: /model-2-1/ })).toBeNull();
    expect(calls.map((c) => c.path)).toEqual(expect.arrayContaining(['/api/v1/runs/run1/candidates', '/api/v1/runs/run1/verdicts']));
    fireEvent.click(within(switcher).getByRole('button', { name: /Attempt 2/ }));
    expect(screen.getByRole('article', { name: /model-2-1 \(winner\)/ })).toBeTruthy();
  });

  it('has no switcher for a phase with one attempt', () => {
    renderPanel(phase({ attempt: 1, attempts: [{ attempt: 1, status: 'completed', startedAt: null, completedAt: null, error: null, retried: null }] }));
    expect(screen.queryByRole('group', { name: 'Attempts' })).toBeNull();
  });

  it('renders an interview as progress and text: questions with their answers', () => {
    renderPanel(
      phase({
        kind: 'interview',
        status: 'running',
        attempts: undefined,
        verdict: null,
        candidates: [],
        interview: {
          questions: [
            { id: 'q1', question: 'Who is it for?', why: 'audience' },
            { id: 'q2', question: 'What budget?' },
            { id: 'q3', question: 'Which date?' },
          ],
          answers: [
            { question: 'Who is it for?', answer: 'Hikers' },
            { question: 'What budget?', answer: 'Small' },
          ],
        },
      }),
    );
    const interview = screen.getByRole('region', { name: 'Interview' });
    expect(within(interview).getByText(/2 of 3 answered/)).toBeTruthy();
    expect(within(interview).getByText('Who is it for?')).toBeTruthy();
    expect(within(interview).getByText('Hikers')).toBeTruthy();
    expect(within(interview).getByText('Not answered.')).toBeTruthy();
    expect(interview.textContent).not.toContain('{');
  });

  it('stops the clock of a candidate whose attempt ended without its answer', () => {
    renderPanel(phase({ status: 'failed', verdict: null, candidates: [candidate(2, 0, { status: 'requested', durationMs: null, output: undefined, requestedAt: '2026-01-01T10:00:53.000Z' })] }));
    const card = screen.getByRole('article', { name: /model-2-0/ });
    expect(within(card).queryByRole('timer')).toBeNull();
    expect(within(card).getByText('No answer: its attempt ended first.')).toBeTruthy();
  });

  it('counts down to a scheduled retry, naming the next attempt and its model', () => {
    jest.useFakeTimers({ now: Date.parse('2026-01-01T10:00:30.000Z') });
    try {
      renderPanel(phase({ status: 'pending', attempt: 2, retryAt: '2026-01-01T10:00:36.000Z', retryOverride: { provider: 'simulated', model: 'rescuer' } }));
      const notice = screen.getByText(/Attempt 3 is scheduled on simulated\/rescuer/);
      expect(within(notice).getByRole('timer').textContent).toBe('retry in 6.0 s');
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts a running candidate’s elapsed time from its request', () => {
    jest.useFakeTimers({ now: Date.parse('2026-01-01T10:01:05.000Z') });
    try {
      renderPanel(phase({ status: 'running', completedAt: null, verdict: null, candidates: [candidate(2, 0, { status: 'requested', durationMs: null, output: undefined, requestedAt: '2026-01-01T10:00:53.000Z' })] }));
      const card = screen.getByRole('article', { name: /model-2-0/ });
      expect(within(card).getByRole('timer').textContent).toBe('12 s');
    } finally {
      jest.useRealTimers();
    }
  });
});
