/** @jest-environment jsdom */
import type { CandidateView, PhaseView, RunView } from '@conclave/contracts';
import { cleanup, screen, within } from '@testing-library/react';
import { fakeFetch, renderWithProviders } from '../test/render';
import { TooltipProvider } from '../ui/Tooltip';
import { PhasePanel } from './PhasePanel';
import { emptyRunView } from './run-reducer';

const cid = (slot: number) => `run1.draft.1.c${slot}`;
const MODELS = [
  ['simulated', 'sim-a'],
  ['openai', 'gpt-4.1'],
  ['anthropic', 'claude'],
] as const;

const candidate = (slot: number, extra: Partial<CandidateView> = {}): CandidateView => ({
  id: cid(slot),
  slot,
  provider: MODELS[slot]![0],
  model: MODELS[slot]![1],
  status: 'generated',
  tokens: { input: 100, output: 100 },
  costUsd: 0.25,
  durationMs: 900,
  output: { text: `text ${slot}` },
  error: null,
  ...extra,
});

function phaseWith(candidates: CandidateView[], extra: Partial<PhaseView> = {}): PhaseView {
  return {
    id: 'draft',
    name: 'Draft',
    kind: 'llm',
    dependsOn: [],
    status: 'running',
    attempt: 1,
    startedAt: '2026-01-01T10:00:00.000Z',
    completedAt: null,
    candidates,
    verdict: null,
    artifactId: null,
    costUsd: 0,
    tokens: { input: 0, output: 0 },
    error: null,
    ...extra,
  };
}

function renderPanel(phase: PhaseView) {
  fakeFetch({});
  const view: RunView = { ...emptyRunView('run1'), status: phase.status === 'completed' ? 'completed' : 'running', phases: [phase], sequence: 20 };
  // the app's root provides the tooltips (main.tsx)
  renderWithProviders(
    <TooltipProvider>
      <PhasePanel view={view} phase={phase} live={{}} onSequence={() => {}} onClose={() => {}} />
    </TooltipProvider>,
  );
}

const card = (slot: number) => screen.getByRole('article', { name: new RegExp(`^Candidate ${slot + 1}: `) });

afterEach(cleanup);

describe('PhasePanel: per-candidate retries (issue 11 §6)', () => {
  it('shows a candidate waiting for its retry as outstanding, with the try, when it goes again and why', () => {
    // 14:03:05 in the local time zone the dashboard shows times in
    const notBefore = new Date(2026, 0, 1, 14, 3, 5).toISOString();
    renderPanel(
      phaseWith([
        candidate(0),
        candidate(1, {
          status: 'requested',
          output: undefined,
          durationMs: 40,
          costUsd: 0.0625,
          error: { code: 'rate_limited', message: '429 Too Many Requests' },
          retry: { number: 1, of: 2, notBefore },
        }),
      ]),
    );
    const waiting = card(1);
    expect(within(waiting).getByRole('status').textContent).toBe('retry 1 of 2 at 14:03:05 — rate_limited: 429 Too Many Requests');
    expect(within(waiting).getByText('requested')).toBeTruthy();
    expect(within(waiting).queryByText('failed')).toBeNull();
    expect(within(waiting).getByText('Waiting for its retry.')).toBeTruthy();
    expect(within(waiting).queryByText('Generating…')).toBeNull();
    // its sibling's result is kept and shows no retry
    expect(within(card(0)).queryByRole('status')).toBeNull();
  });

  it('names in the verdict each candidate the comparison went without, and why', () => {
    renderPanel(
      phaseWith(
        [
          candidate(0),
          candidate(1),
          candidate(2, { status: 'failed', output: undefined, error: { code: 'provider_unavailable', message: '529 overloaded' } }),
        ],
        {
          status: 'completed',
          completedAt: '2026-01-01T10:05:00.000Z',
          verdict: {
            winnerId: cid(1),
            scores: { [cid(0)]: { overall: 0.5, criteria: {} }, [cid(1)]: { overall: 0.75, criteria: {} } },
            rationale: 'gpt is clearer',
            missing: [{ candidateId: cid(2), provider: 'anthropic', model: 'claude', error: { code: 'provider_unavailable', message: '529 overloaded', retryable: true } }],
          },
        },
      ),
    );
    const missing = screen.getByRole('list', { name: 'Candidates not compared' });
    expect(within(missing).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Not compared: anthropic/claude — provider_unavailable: 529 overloaded']);
  });

  it('shows no "Not compared" line when the verdict compared every candidate', () => {
    renderPanel(
      phaseWith([candidate(0), candidate(1)], {
        status: 'completed',
        verdict: { winnerId: cid(0), scores: { [cid(0)]: { overall: 0.9, criteria: {} }, [cid(1)]: { overall: 0.1, criteria: {} } }, rationale: 'a', missing: [] },
      }),
    );
    expect(screen.queryByText(/Not compared/)).toBeNull();
  });

  it('marks the dropped candidates failed with their reason when the single survivor won without a judge', () => {
    renderPanel(
      phaseWith(
        [
          candidate(0),
          candidate(1, { status: 'failed', output: undefined, error: { code: 'rate_limited', message: '429 Too Many Requests' }, retry: null }),
          candidate(2, { status: 'failed', output: undefined, error: { code: 'provider_unavailable', message: '529 overloaded' } }),
        ],
        { status: 'completed', completedAt: '2026-01-01T10:05:00.000Z', artifactId: null },
      ),
    );
    for (const [slot, reason] of [
      [1, 'rate_limited 429 Too Many Requests'],
      [2, 'provider_unavailable 529 overloaded'],
    ] as const) {
      const dropped = card(slot);
      expect(within(dropped).getByText('failed')).toBeTruthy();
      expect(dropped.querySelector('.candidate__error')!.textContent).toBe(reason);
      expect(within(dropped).getByText('No output: the candidate failed.')).toBeTruthy();
      expect(within(dropped).queryByRole('status')).toBeNull();
    }
    expect(within(card(0)).getByText('generated')).toBeTruthy();
    expect(within(card(0)).queryByText('failed')).toBeNull();
  });
});
