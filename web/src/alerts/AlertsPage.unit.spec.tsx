/** @jest-environment jsdom */
import type { AlertItem } from '@conclave/contracts';
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { Toaster } from 'sonner';
import type { RoomHandlers } from '../live/socket';
import { fakeFetch, renderWithProviders } from '../test/render';
import AlertsPage from './AlertsPage';
import AlertsBell from './AlertsBell';

const mockRooms = new Map<string, RoomHandlers>();
jest.mock('../live/use-room', () => ({ useRoom: (room: string | null, handlers: RoomHandlers) => room && mockRooms.set(room, handlers) }));

const alert = (over: Partial<AlertItem>): AlertItem => ({
  id: 'run-stalled-r1-7000',
  kind: 'run_stalled',
  message: 'Run r1 has made no progress for 11 min (threshold 10 min)',
  details: { lastSequence: 7000 },
  createdAt: '2026-12-04T10:00:00.000Z',
  runId: 'r1',
  providerName: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  ...over,
});

afterEach(() => {
  cleanup();
  mockRooms.clear();
});

describe('AlertsPage and the bell', () => {
  it('lists open alerts with links to what they concern, acknowledges one with a toast, and the bell follows the alerts room', async () => {
    let acknowledged = false;
    const open = [alert({}), alert({ id: 'provider-credentials-openai-4000', kind: 'provider_credentials', message: 'Provider openai refused its credentials', runId: null, providerName: 'openai' })];
    const { calls } = fakeFetch({
      'GET /api/v1/alerts': () => ({ body: { items: acknowledged ? open.slice(1) : open, nextCursor: null } }),
      'GET /api/v1/alerts/summary': () => ({ body: { open: acknowledged ? 1 : 2, byKind: acknowledged ? { provider_credentials: 1 } : { provider_credentials: 1, run_stalled: 1 } } }),
      'POST /api/v1/alerts/run-stalled-r1-7000/acknowledge': () => {
        acknowledged = true;
        return { body: alert({ acknowledgedAt: '2026-12-04T10:05:00.000Z', acknowledgedBy: 'ops' }) };
      },
    });
    renderWithProviders(
      <>
        <AlertsBell />
        <AlertsPage />
        <Toaster />
      </>,
    );
    const rows = await screen.findAllByTestId('alert-row');
    expect(rows.map((r) => r.getAttribute('data-kind'))).toEqual(['run_stalled', 'provider_credentials']);
    expect(within(rows[0]!).getByRole('link', { name: 'run r1' }).getAttribute('href')).toBe('/runs/r1');
    expect(within(rows[1]!).getByRole('link', { name: 'provider openai' }).getAttribute('href')).toBe('/providers');
    await waitFor(() => expect(screen.getByTestId('alerts-bell').getAttribute('aria-label')).toBe('2 open alerts'));
    expect(screen.getByTestId('alerts-summary').textContent).toMatch(/^2 open: 1 credentials refused · 1 run stalled\./);
    // the list asked for open alerts (the default filter)
    expect(calls.find((c) => c.path === '/api/v1/alerts')).toBeDefined();

    fireEvent.click(within(rows[0]!).getByRole('button', { name: /^Acknowledge/ }));
    await screen.findByText('Alert acknowledged');
    await waitFor(() => expect(screen.getAllByTestId('alert-row')).toHaveLength(1));
    await waitFor(() => expect(screen.getByTestId('alerts-bell').getAttribute('aria-label')).toBe('1 open alert'));
    expect(calls.filter((c) => c.method === 'POST')).toEqual([{ method: 'POST', path: '/api/v1/alerts/run-stalled-r1-7000/acknowledge', body: {} }]);

    // a new alert arrives over the room: the bell refetches without a reload
    open.push(alert({ id: 'cost-spike-r2', kind: 'cost_spike', message: 'Run r2 cost a lot', runId: 'r2' }));
    acknowledged = false;
    act(() => mockRooms.get('alerts')!.onEvent!({ sequence: 12_000, type: 'AlertRaised', runId: null, occurredAt: '2026-12-04T10:06:00.000Z', data: {} }));
    await waitFor(() => expect(screen.getByTestId('alerts-bell').getAttribute('aria-label')).toBe('2 open alerts'));
  });

  it('shows a refused acknowledgement as a toast with the API reason', async () => {
    fakeFetch({
      'GET /api/v1/alerts': { body: { items: [alert({})], nextCursor: null } },
      'GET /api/v1/alerts/summary': { body: { open: 1, byKind: { run_stalled: 1 } } },
      'POST /api/v1/alerts/run-stalled-r1-7000/acknowledge': { status: 503, body: { error: { code: 'unavailable', message: 'the read models have not caught up yet', details: null, requestId: 'r' } } },
    });
    renderWithProviders(
      <>
        <AlertsPage />
        <Toaster />
      </>,
    );
    fireEvent.click(within(await screen.findByTestId('alert-row')).getByRole('button', { name: /^Acknowledge/ }));
    await screen.findByText('Acknowledging the alert was refused');
    expect(screen.getByText('the read models have not caught up yet (unavailable)')).toBeTruthy();
  });
});
