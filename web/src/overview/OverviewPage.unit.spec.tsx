/** @jest-environment jsdom */
// the polyfills (TextEncoder for react-router) first
import { fakeFetch, renderWithProviders } from '../test/render';
import type { OverviewView, SocketEvent } from '@conclave/contracts';
import { act, cleanup, screen, waitFor, within } from '@testing-library/react';
import type { RoomHandlers } from '../live/socket';
import OverviewPage from './OverviewPage';

/** The rooms the page joined, with their latest handlers: a test plays the socket. */
const mockRooms = new Map<string, RoomHandlers>();
jest.mock('../live/use-room', () => ({ useRoom: (room: string | null, handlers: RoomHandlers) => room && mockRooms.set(room, handlers) }));

const empty: OverviewView = {
  generatedAt: '2026-12-04T10:00:00.000Z',
  sequence: 0,
  timeZone: 'UTC',
  runs: { total: 0, counts: { running: 0, waiting: 0, paused: 0 }, active: [], limit: 50, recent: [] },
  spend: {
    today: { from: '2026-12-04T00:00:00.000Z', to: '2026-12-05T00:00:00.000Z', costUsd: 0 },
    month: { month: '2026-12', from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z', costUsd: 0 },
    budgets: { global: { monthlyUsd: null, spentUsd: 0 }, templates: [] },
  },
  failures: [],
};

const waiting: OverviewView = {
  ...empty,
  sequence: 40,
  runs: {
    ...empty.runs,
    total: 2,
    counts: { running: 0, waiting: 1, paused: 0 },
    active: [
      {
        id: 'run-1',
        name: 'Launch post',
        templateId: 'blog',
        templateName: 'Blog post',
        status: 'waiting',
        startedAt: new Date(Date.now() - 60_000).toISOString(),
        costUsd: 0.25,
        budgetUsd: 1,
        phasesTotal: 3,
        phasesDone: 1,
        sequence: 40,
        running: [],
        waitingOn: [{ kind: 'gate', phaseId: 'review', phaseName: 'Review', message: 'Ship it?', at: null }],
      },
    ],
  },
  spend: { ...empty.spend, today: { ...empty.spend.today, costUsd: 0.25 }, month: { ...empty.spend.month, costUsd: 2 }, budgets: { global: { monthlyUsd: 10, spentUsd: 2 }, templates: [] } },
  failures: [
    {
      runId: 'run-0',
      runName: null,
      templateId: 'blog',
      templateName: 'Blog post',
      runStatus: 'failed',
      phaseId: 'draft',
      phaseName: 'Draft',
      error: { code: 'provider', message: 'openai answered 500 three times' },
      at: '2026-12-04T09:00:00.000Z',
    },
  ],
};

const routes = (overview: OverviewView) => ({
  'GET /api/v1/overview': { body: overview },
  'GET /api/v1/workers': { body: { items: [] } },
  'GET /api/v1/alerts/summary': { body: { open: 0, byKind: {} } },
  'GET /api/v1/alerts': { body: { items: [], nextCursor: null } },
});

afterEach(() => {
  cleanup();
  mockRooms.clear();
});

describe('OverviewPage', () => {
  it('tells a new user what to do first, in every empty part', async () => {
    const { fn } = fakeFetch(routes(empty));
    renderWithProviders(<OverviewPage />);
    const first = await screen.findByTestId('overview-first-run');
    expect(first.textContent).toContain('No runs yet — start one from Templates.');
    expect(within(first).getByRole('link', { name: 'Templates' }).getAttribute('href')).toBe('/templates');
    expect(screen.getByTestId('overview-no-active').textContent).toContain('Nothing is running');
    expect(screen.getByText(/No monthly budget set/)).toBeTruthy();
    await screen.findByText(/No open alerts/);
    await screen.findByText(/No worker has reported yet/);
    expect(screen.getByText(/No failures\./)).toBeTruthy();
    // "today" in the browser's zone, sent as tz
    const read = fn.mock.calls.map((c) => new URL(String(c[0]), 'http://x')).find((u) => u.pathname === '/api/v1/overview')!;
    expect(read.searchParams.get('tz')).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('links what a run waits for to its phase, shows spend against the budget and failures with their reason', async () => {
    fakeFetch(routes(waiting));
    renderWithProviders(<OverviewPage />);
    const row = await screen.findByTestId('overview-active-run');
    expect(row.getAttribute('data-status')).toBe('waiting');
    expect(within(row).getByRole('link', { name: 'Launch post' }).getAttribute('href')).toBe('/runs/run-1');
    expect(within(row).getByRole('link', { name: 'Approve Review' }).getAttribute('href')).toBe('/runs/run-1?phase=review');
    expect(within(row).getByText(/Ship it\?/)).toBeTruthy();
    expect(screen.getByTestId('overview-count-waiting').textContent).toContain('1');
    expect(screen.getByTestId('overview-budget').textContent).toContain('$2.00 of $10.00 (20 %)');
    const failure = screen.getByTestId('overview-failure');
    expect(within(failure).getByRole('link', { name: /run-0 · Draft/ }).getAttribute('href')).toBe('/runs/run-0?phase=draft');
    expect(failure.textContent).toContain('openai answered 500 three times');
  });

  it('moves with the socket: an approved gate, a priced call and the run’s completion, without a reload', async () => {
    fakeFetch(routes(waiting));
    renderWithProviders(<OverviewPage />);
    await screen.findByTestId('overview-active-run');
    // inside the fixture's "today" (a clock reading would leave it at midnight UTC, and the spend with it)
    const occurredAt = '2026-12-04T12:00:00.000Z';
    const send = (event: Omit<SocketEvent, 'runId' | 'occurredAt'>) => act(() => mockRooms.get('runs')!.onEvent!({ runId: 'run-1', occurredAt, ...event }));
    send({ sequence: 41, type: 'GateApproved', data: { phaseId: 'review', attempt: 1, comment: null } });
    await waitFor(() => expect(screen.getByTestId('overview-active-run').getAttribute('data-status')).toBe('running'));
    send({ sequence: 42, type: 'CandidateGenerated', data: { phaseId: 'final', costUsd: 0.5 } });
    // the same event through the costs room is counted once
    act(() => mockRooms.get('costs')!.onEvent!({ runId: 'run-1', occurredAt, sequence: 42, type: 'CandidateGenerated', data: { costUsd: 0.5 } }));
    await waitFor(() => expect(screen.getByTestId('overview-spend-today').getAttribute('data-usd')).toBe('0.75'));
    send({ sequence: 43, type: 'RunCompleted', data: {} });
    await waitFor(() => expect(screen.queryByTestId('overview-active-run')).toBeNull());
    expect(screen.getByTestId('overview-recent-run').getAttribute('data-status')).toBe('completed');
  });
});
