/** @jest-environment jsdom */
// the polyfills (TextEncoder for react-router) first
import { fakeFetch, renderWithProviders, type FakeResponse } from '../test/render';
import type { DeadLetterView } from '@conclave/contracts';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { formatDateTime } from '../lib/format';
import DeadLettersPage from './DeadLettersPage';

const deadLetter = (over: Partial<DeadLetterView>): DeadLetterView => ({
  id: '7',
  consumer: 'llm-workers',
  stream: 'COMMANDS',
  subject: 'commands.generate',
  streamSequence: 42,
  deliveries: 1,
  reason: 'undecodable',
  error: 'not JSON: Unexpected token',
  deadAt: '2026-12-04T10:00:00.000Z',
  runId: null,
  by: 'worker-1',
  payloadPreview: '{not json',
  truncated: false,
  redrivenAt: null,
  redrivenBy: null,
  ...over,
});

const poison = deadLetter({});
const judged = deadLetter({
  id: '9',
  consumer: 'judges',
  subject: 'commands.judge',
  reason: 'max_deliver',
  error: 'gave up after 5 deliveries; last error: boom',
  deliveries: 6,
  runId: 'run-1',
  payloadPreview: '{"runId":"run-1","type":"JudgeCandidates"}',
});
const done = deadLetter({ id: '3', consumer: 'dispatcher', redrivenAt: '2026-12-04T11:00:00.000Z', redrivenBy: 'ops' });

const urls = (fn: jest.Mock) => fn.mock.calls.map((c) => String(c[0]));
const rows = () => screen.getAllByTestId('dead-letter-row');

afterEach(cleanup);

describe('DeadLettersPage', () => {
  it('lists open dead letters with consumer, subject, reason, error, deliveries, run link, dead at and state; the payload is behind a disclosure', async () => {
    const { fn } = fakeFetch({ 'GET /api/v1/dead-letters': { body: { items: [judged, poison], nextCursor: null } } });
    renderWithProviders(<DeadLettersPage />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(urls(fn)[0]).toContain('state=open');

    const row = within(rows()[0]!);
    expect(row.getByText('judges')).toBeTruthy();
    expect(row.getByText('commands.judge')).toBeTruthy();
    expect(row.getByText('deliveries used up')).toBeTruthy();
    expect(row.getByText('gave up after 5 deliveries; last error: boom')).toBeTruthy();
    expect(row.getByText('6')).toBeTruthy();
    expect(row.getByRole('link', { name: 'run-1' }).getAttribute('href')).toBe('/runs/run-1');
    expect(row.getByText(formatDateTime(judged.deadAt))).toBeTruthy();
    expect(row.getByText('open')).toBeTruthy();
    // the payload preview: collapsed, pretty-printed JSON when it parses
    const details = row.getByText('Payload').closest('details')!;
    expect(details.open).toBe(false);
    fireEvent.click(row.getByText('Payload'));
    expect(details.open).toBe(true);
    expect(details.querySelector('pre')!.textContent).toBe('{\n  "runId": "run-1",\n  "type": "JudgeCandidates"\n}');
    expect(within(rows()[1]!).getByText('undecodable')).toBeTruthy();
    expect(rows()[1]!.querySelector('pre')!.textContent).toBe('{not json');
  });

  it('filters by state in the query (redriven rows show when and by whom, without a Redrive button)', async () => {
    const { fn } = fakeFetch({ 'GET /api/v1/dead-letters': { body: { items: [done], nextCursor: null } } });
    renderWithProviders(<DeadLettersPage />);
    await waitFor(() => expect(rows()).toHaveLength(1));
    fireEvent.click(screen.getByRole('button', { name: 'Redriven' }));
    await waitFor(() => expect(urls(fn).some((u) => u.includes('state=redriven'))).toBe(true));
    expect(screen.getByRole('button', { name: 'Redriven' }).getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'All' }));
    await waitFor(() => expect(urls(fn).some((u) => u.includes('state=all'))).toBe(true));
    const row = within(rows()[0]!);
    expect(row.getByText('redriven')).toBeTruthy();
    expect(row.getByText(/by ops/)).toBeTruthy();
    expect(row.queryByRole('button', { name: /Redrive/ })).toBeNull();
  });

  it('reads its filters from the address (a run link lands on that run\'s dead letters)', async () => {
    const { fn } = fakeFetch({ 'GET /api/v1/dead-letters': { body: { items: [judged], nextCursor: null } } });
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={client}>
        <MemoryRouter initialEntries={['/dead-letters?runId=run-1&state=all&consumer=judges']}>
          <DeadLettersPage />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    await waitFor(() => expect(rows()).toHaveLength(1));
    const query = new URLSearchParams(urls(fn)[0]!.split('?')[1]);
    expect([query.get('runId'), query.get('state'), query.get('consumer')]).toEqual(['run-1', 'all', 'judges']);
    expect(screen.getByRole('link', { name: 'Only run run-1' }).getAttribute('href')).toBe('/runs/run-1');
    expect(screen.getByRole('button', { name: 'All' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByRole('button', { name: 'Clear filters' })).toBeTruthy();
  });

  it('redrives after a confirmation, then reads the list again with the redrive sequence', async () => {
    let list: FakeResponse = { body: { items: [poison], nextCursor: null } };
    const { fn, calls } = fakeFetch({
      'GET /api/v1/dead-letters': () => list,
      'POST /api/v1/dead-letters/7/redrive': () => {
        list = { body: { items: [], nextCursor: null } };
        return { status: 202, body: { id: '7', sequence: 12 } };
      },
    });
    renderWithProviders(<DeadLettersPage />);
    await waitFor(() => expect(rows()).toHaveLength(1));
    fireEvent.click(screen.getByRole('button', { name: 'Redrive dead letter 7' }));
    const dialog = await screen.findByRole('dialog', { name: 'Redrive dead letter 7?' });
    expect(within(dialog).getByText(/goes back to llm-workers/)).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]); // nothing before the confirmation
    fireEvent.click(within(dialog).getByRole('button', { name: 'Redrive' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.filter((c) => c.method === 'POST')).toEqual([{ method: 'POST', path: '/api/v1/dead-letters/7/redrive', body: {} }]);
    expect((await screen.findByRole('status')).textContent).toContain('Dead letter 7 was handed back to its consumer');
    await waitFor(() => expect(urls(fn).some((u) => u.includes('/dead-letters?') && u.includes('min_sequence=12'))).toBe(true));
    expect(await screen.findByText(/No open dead letters/)).toBeTruthy();
  });

  it('keeps the dialog open with the orchestrator refusal when the redrive is refused', async () => {
    fakeFetch({
      'GET /api/v1/dead-letters': { body: { items: [poison], nextCursor: null } },
      'POST /api/v1/dead-letters/7/redrive': { status: 409, body: { error: { code: 'illegal_state', message: 'dead letter 7 kept only the first part of its payload; it cannot be sent again', details: null, requestId: 'r-1' } } },
    });
    renderWithProviders(<DeadLettersPage />);
    await waitFor(() => expect(rows()).toHaveLength(1));
    fireEvent.click(screen.getByRole('button', { name: 'Redrive dead letter 7' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Redrive' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toContain('The orchestrator refused the redrive');
    expect(alert.textContent).toContain('illegal_state');
    expect(alert.textContent).toContain('it cannot be sent again');
    expect(screen.getByRole('dialog')).toBeTruthy();
    expect(screen.queryByRole('status')).toBeNull();
  });
});
