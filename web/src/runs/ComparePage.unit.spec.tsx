/** @jest-environment jsdom */
import type { ComparePhaseRun, CompareRun, RunComparison } from '@conclave/contracts';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import { renderWithProviders } from '../test/render';
import { Comparison } from './ComparePage';

const run = (id: string, costUsd: number, durationMs: number | null): CompareRun => ({
  id,
  name: `run ${id}`,
  templateId: 't',
  templateVersion: 1,
  templateName: 'tpl',
  status: durationMs === null ? 'running' : 'completed',
  origin: id === 'b' ? { kind: 'fork', runId: 'a' } : null,
  startedAt: '2026-03-01T00:00:00.000Z',
  completedAt: durationMs === null ? null : '2026-03-01T00:05:00.000Z',
  totals: { costUsd, tokens: { input: 10, output: 20 }, durationMs, phasesCompleted: 1, phasesTotal: 2 },
});
const cell = (text: string, costUsd: number, durationMs: number, score: number | null): ComparePhaseRun => ({
  status: 'completed',
  models: [{ provider: 'sim', model: 'm' }],
  winner: { candidateId: 'c', provider: 'sim', model: 'm' },
  output: { text },
  scores: score === null ? [] : [{ candidateId: 'c', provider: 'sim', model: 'm', overall: score, criteria: {}, winner: true }],
  score,
  tokens: { input: 1, output: 2 },
  costUsd,
  durationMs,
});

const data: RunComparison = {
  runs: [run('a', 0.5, 300_000), run('b', 0.25, null)],
  phases: [
    { id: 'draft', name: 'Draft', kind: 'llm', runs: [cell('one\ntwo\nthree', 0.2, 4000, 0.9), cell('one\n2\nthree', 0.1, 5000, 0.7)] },
    { id: 'extra', name: null, kind: 'llm', runs: [cell('only here', 0.3, 1000, null), null] },
  ],
};

afterEach(cleanup);

describe('the compare page', () => {
  it('marks the best cost, duration and score, per run and per phase', () => {
    renderWithProviders(<Comparison data={data} />);
    const best = (testId: string, scope: HTMLElement = document.body) =>
      within(scope)
        .getByTestId(testId)
        .querySelectorAll('td[data-best="true"]');
    // totals: b is cheaper; a has the only duration (b still runs): nothing to prefer
    expect([...best('total-cost')].map((td) => td.textContent)).toEqual(['$0.250']);
    expect(best('total-duration')).toHaveLength(0);
    const draft = document.querySelector<HTMLElement>('[data-phase-id="draft"]')!;
    expect([...best('phase-cost', draft)].map((td) => td.textContent)).toEqual(['$0.100']);
    expect([...best('phase-duration', draft)].map((td) => td.textContent)).toEqual(['4.0 s']);
    expect([...best('phase-scores', draft)].map((td) => td.textContent)).toEqual(['m 0.90 ✓']);
    expect(screen.getAllByText(/fork of/)).toHaveLength(1);
  });

  it('diffs each winner’s output against the first run’s and says where a run has no such phase', () => {
    renderWithProviders(<Comparison data={data} />);
    const draft = document.querySelector<HTMLElement>('[data-phase-id="draft"]')!;
    const diff = within(draft).getByTestId('output-diff');
    expect([...diff.querySelectorAll('.diff-line--del .diff-line__text')].map((n) => n.textContent)).toEqual(['two']);
    expect([...diff.querySelectorAll('.diff-line--add .diff-line__text')].map((n) => n.textContent)).toEqual(['2']);
    const extra = document.querySelector<HTMLElement>('[data-phase-id="extra"]')!;
    expect(within(extra).getAllByText('not in this run').length).toBeGreaterThan(0);
    expect(within(extra).queryByTestId('output-diff')).toBeNull();
    // the outputs themselves render once the fold is opened
    expect(draft.querySelectorAll('pre.compare-output')).toHaveLength(0);
    const details = draft.querySelector('details')!;
    details.open = true;
    fireEvent(details, new Event('toggle'));
    expect([...draft.querySelectorAll('pre.compare-output')].map((p) => p.textContent)).toEqual(['one\ntwo\nthree', 'one\n2\nthree']);
  });
});
