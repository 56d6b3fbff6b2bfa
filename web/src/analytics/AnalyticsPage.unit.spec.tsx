/** @jest-environment jsdom */
// the polyfills (TextEncoder for react-router) first
import { fakeFetch, renderWithProviders } from '../test/render';
import type { AnalyticsView } from '@conclave/contracts';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import AnalyticsPage from './AnalyticsPage';
import { formatRate } from './shared';

jest.mock('../live/use-room', () => ({ useRoom: () => undefined }));

const stats = (p50: number | null, p95: number | null, samples: number) => ({ p50, p95, samples });
const tokens = (input: number, output: number) => ({ input, output });

const VIEW: AnalyticsView = {
  from: null,
  to: null,
  templateId: null,
  totals: { runs: 5, costUsd: 4.5, tokens: tokens(900, 500) },
  templates: [
    { templateId: 't-beta', templateName: 'Beta', runs: 2, completed: 1, failed: 1, cancelled: 0, active: 0, successRate: 0.5, failureRate: 0.5, durationMs: stats(30_000, 30_000, 1), costUsd: 2, costPerRunUsd: 1, tokens: tokens(500, 400) },
    { templateId: 't-alpha', templateName: 'Alpha', runs: 3, completed: 3, failed: 0, cancelled: 0, active: 0, successRate: 1, failureRate: 0, durationMs: stats(10_000, 12_000, 3), costUsd: 2.5, costPerRunUsd: 0.833333333, tokens: tokens(400, 100) },
  ],
  phases: [
    { templateId: 't-alpha', phaseId: 'draft', name: 'Draft', kind: 'llm', completed: 3, failed: 0, durationMs: stats(6_000, 7_800, 3), costUsd: 2, tokens: tokens(300, 80) },
    { templateId: 't-beta', phaseId: 'write', name: null, kind: 'llm', completed: 1, failed: 1, durationMs: stats(30_000, 30_000, 1), costUsd: 2, tokens: tokens(500, 400) },
  ],
  models: [
    { provider: 'openai', model: 'gpt-x', runs: 3, calls: 4, failed: 1, successRate: 0.75, failureRate: 0.25, durationMs: stats(1_000, 3_000, 4), costUsd: 2.5, costPerRunUsd: 0.833333333, tokens: tokens(400, 100) },
  ],
  topRuns: [
    { id: 'run-cheap', name: 'cheap run', templateId: 't-alpha', templateName: 'Alpha', status: 'completed', costUsd: 0.5, tokens: tokens(10, 10), startedAt: '2026-01-10T10:00:00.000Z', completedAt: '2026-01-10T10:00:10.000Z', durationMs: 10_000 },
    { id: 'run-dear', name: 'dear run', templateId: 't-beta', templateName: 'Beta', status: 'failed', costUsd: 2, tokens: tokens(500, 400), startedAt: '2026-01-11T10:00:00.000Z', completedAt: '2026-01-11T10:00:30.000Z', durationMs: 30_000 },
  ],
  daily: [{ day: '2026-01-10', costUsd: 2.5, tokens: tokens(400, 100), calls: 4 }],
};

afterEach(cleanup);

const rowNames = (testId: string) => within(screen.getByTestId(testId)).getAllByRole('row').slice(1).map((r) => r.querySelector('td')!.textContent);

describe('the analytics page', () => {
  it('shows the figures per template, model and phase, and the costliest runs first, linked to their pages', async () => {
    const { fn } = fakeFetch({ 'GET /api/v1/analytics': { body: VIEW } });
    renderWithProviders(<AnalyticsPage />);
    await screen.findByTestId('analytics-templates');
    // the default range: the last 30 days, as UTC days
    const url = new URL(String(fn.mock.calls[0]![0]), 'http://x');
    expect(url.searchParams.get('from')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect((Date.parse(url.searchParams.get('to')!) - Date.parse(url.searchParams.get('from')!)) / 86_400_000).toBe(30);
    expect(screen.getByTestId('total-runs').textContent).toBe('5');
    const beta = screen.getByTestId('analytics-templates').querySelector('tr[data-row-key="t-beta"]')!;
    expect([...beta.querySelectorAll('td')].map((td) => td.textContent)).toEqual(['Beta', '2', '1', '1', '50%', '50%', '30 s', '30 s', '$2.00', '$1.00', '500 in / 400 out']);
    expect(rowNames('analytics-top-runs')).toEqual(['dear run', 'cheap run']);
    expect(within(screen.getByTestId('analytics-top-runs')).getByRole('link', { name: 'dear run' }).getAttribute('href')).toBe('/runs/run-dear');
    expect(rowNames('analytics-models')).toEqual(['gpt-x']);
    expect(rowNames('analytics-phases')).toEqual(['Alpha', 'Beta']);
  });

  it('sorts a table by the header clicked, numbers largest first, with aria-sort', async () => {
    fakeFetch({ 'GET /api/v1/analytics': { body: VIEW } });
    renderWithProviders(<AnalyticsPage />);
    const table = await screen.findByTestId('analytics-templates');
    expect(rowNames('analytics-templates')).toEqual(['Beta', 'Alpha']);
    const runs = within(table).getByRole('button', { name: /Runs/ });
    fireEvent.click(runs);
    expect(rowNames('analytics-templates')).toEqual(['Alpha', 'Beta']);
    expect(runs.closest('th')!.getAttribute('aria-sort')).toBe('descending');
    fireEvent.click(runs);
    expect(rowNames('analytics-templates')).toEqual(['Beta', 'Alpha']);
    expect(runs.closest('th')!.getAttribute('aria-sort')).toBe('ascending');
    fireEvent.click(within(table).getByRole('button', { name: /Template/ }));
    expect(rowNames('analytics-templates')).toEqual(['Alpha', 'Beta']);
  });

  it('asks again for 7 days, and for a custom range refuses a first day after the last without asking', async () => {
    const { fn } = fakeFetch({ 'GET /api/v1/analytics': { body: VIEW } });
    renderWithProviders(<AnalyticsPage />);
    await screen.findByTestId('analytics-templates');
    fireEvent.click(screen.getByRole('button', { name: '7 days' }));
    await waitFor(() => expect(fn).toHaveBeenCalledTimes(2));
    const url = new URL(String(fn.mock.calls[1]![0]), 'http://x');
    expect((Date.parse(url.searchParams.get('to')!) - Date.parse(url.searchParams.get('from')!)) / 86_400_000).toBe(7);
    expect(screen.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed')).toBe('true');
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-01-05' } });
    await waitFor(() => expect(fn).toHaveBeenCalledTimes(3));
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-01-09' } });
    await waitFor(() => expect(fn).toHaveBeenCalledTimes(4));
    const custom = new URL(String(fn.mock.calls[3]![0]), 'http://x');
    expect([custom.searchParams.get('from'), custom.searchParams.get('to')]).toEqual(['2026-01-05', '2026-01-10']);
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-01-20' } });
    expect((await screen.findByRole('alert')).textContent).toMatch(/first day must not be after the last/);
    expect(fn).toHaveBeenCalledTimes(4);
  });

  it('formats rates as whole percentages', () => {
    expect([formatRate(null), formatRate(0), formatRate(2 / 3), formatRate(1)]).toEqual(['—', '0%', '67%', '100%']);
  });
});
