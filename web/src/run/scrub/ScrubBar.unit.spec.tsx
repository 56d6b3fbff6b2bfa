/** @jest-environment jsdom */
import '../../test/jsdom-polyfills';
import type { RunView, TimelineEntry } from '@conclave/contracts';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { fakeFetch } from '../../test/render';
import { rowFromEntry, type TimelineRow } from '../timeline';
import { ScrubBar } from './ScrubBar';
import { useScrub } from './use-scrub';

/** The run recorded for fold.unit.spec.ts: a judged draft, a gate, two parallel phases, a judged merge. */
const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'gated-run.json'), 'utf8')) as { timeline: TimelineEntry[]; view: RunView };
const RUN = fixture.view.id;
const rows: TimelineRow[] = fixture.timeline.map(rowFromEntry);
const seqOf = (type: string, phaseId?: string) => fixture.timeline.find((e) => e.type === type && (phaseId === undefined || (e.data as { phaseId?: string }).phaseId === phaseId))!.sequence;
const last = rows[rows.length - 1]!.sequence;

/** The bar as the run page mounts it, plus what the page would render from it. */
function Harness() {
  const scrub = useScrub(RUN, fixture.view, rows);
  const location = useLocation();
  return (
    <>
      <ScrubBar scrub={scrub} runId={RUN} />
      <output data-testid="search">{location.search}</output>
      <output data-testid="statuses">{(scrub.view ?? fixture.view).phases.map((p) => `${p.id}:${p.status}`).join(' ')}</output>
    </>
  );
}

function renderAt(search: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[`/runs/${RUN}${search}`]}>
        <Routes>
          <Route path="/runs/:id" element={<Harness />} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const search = () => screen.getByTestId('search').textContent;
const statuses = () => screen.getByTestId('statuses').textContent;
const slider = () => screen.getByRole('slider', { name: 'Run sequence' });

afterEach(() => {
  cleanup();
  jest.useRealTimers();
});

describe('the scrub bar', () => {
  it('given a deep link, shows the run as it was at that event, and says where it stands', () => {
    renderAt(`?at=${seqOf('GateOpened', 'review')}`);
    expect(statuses()).toBe('draft:completed review:waiting left:pending right:pending merge:pending');
    expect(slider().getAttribute('aria-valuetext')).toBe(`event 13 of ${rows.length} · GateOpened · review`);
    expect(screen.getByTestId('scrub-status').textContent).toContain(`#${seqOf('GateOpened', 'review')}`);
    // not a phase boundary: no fork, but the way to one
    expect(screen.queryByRole('button', { name: 'Fork from here' })).toBeNull();
    expect(screen.getByText(/at a phase boundary/)).toBeTruthy();
  });

  it('given a sequence between two events, shows the last event before it', () => {
    renderAt(`?at=${seqOf('GateOpened', 'review') + 1}`);
    expect(statuses()).toBe('draft:completed review:waiting left:pending right:pending merge:pending');
  });

  it('moves with the slider and the step buttons, the URL following', () => {
    renderAt(`?at=${seqOf('GateOpened', 'review')}`);
    fireEvent.change(slider(), { target: { value: '0' } });
    expect(search()).toBe(`?at=${rows[0]!.sequence}`);
    expect(statuses()).toBe('draft:pending review:pending left:pending right:pending merge:pending');
    expect((screen.getByRole('button', { name: 'Previous event' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Next event' }));
    expect(search()).toBe(`?at=${rows[1]!.sequence}`);
    expect(statuses()).toBe('draft:running review:pending left:pending right:pending merge:pending');
    fireEvent.click(screen.getByRole('button', { name: 'Previous event' }));
    expect(search()).toBe(`?at=${rows[0]!.sequence}`);
  });

  it('goes back to live, and from live steps back into the past', () => {
    renderAt(`?at=${seqOf('GateOpened', 'review')}`);
    fireEvent.click(screen.getByRole('button', { name: 'Back to live' }));
    expect(search()).toBe('');
    expect(screen.getByTestId('scrub-mode').textContent).toBe(`Live · ${rows.length} events`);
    expect(statuses()).toBe('draft:completed review:completed left:completed right:completed merge:completed');
    fireEvent.click(screen.getByRole('button', { name: 'Previous event' }));
    expect(search()).toBe(`?at=${rows[rows.length - 2]!.sequence}`);
  });

  it('plays forward at the chosen speed, one event at a time, and stops at the last one', () => {
    jest.useFakeTimers();
    renderAt(`?at=${rows[0]!.sequence}`);
    fireEvent.change(screen.getByLabelText('Speed'), { target: { value: '20' } });
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    const seen = new Set<string | null>();
    for (let i = 0; i < 400 && search() !== `?at=${last}`; i++) {
      act(() => void jest.advanceTimersByTime(10));
      seen.add(search());
    }
    expect(search()).toBe(`?at=${last}`);
    // every event was shown on the way
    expect(seen.size).toBe(rows.length - 1);
    expect(screen.getByRole('button', { name: 'Play' })).toBeTruthy();
    expect(statuses()).toBe('draft:completed review:completed left:completed right:completed merge:completed');
  });

  it('pauses', () => {
    jest.useFakeTimers();
    renderAt(`?at=${rows[0]!.sequence}`);
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    act(() => void jest.advanceTimersByTime(2_000));
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    const paused = search();
    act(() => void jest.advanceTimersByTime(10_000));
    expect(search()).toBe(paused);
    expect(paused).not.toBe(`?at=${last}`);
  });

  it('at a phase boundary, forks from a phase whose dependencies had completed', async () => {
    const { calls } = fakeFetch({ [`POST /api/v1/runs/${RUN}/fork`]: { status: 201, body: { id: 'forked', sequence: 99_000 } } });
    renderAt(`?at=${seqOf('PhaseCompleted', 'review')}`);
    const choice = screen.getByLabelText('Fork from') as HTMLSelectElement;
    expect([...choice.options].map((o) => o.value)).toEqual(['left', 'right']);
    fireEvent.change(choice, { target: { value: 'right' } });
    await act(async () => void fireEvent.click(screen.getByRole('button', { name: 'Fork from here' })));
    expect(calls).toEqual([{ method: 'POST', path: `/api/v1/runs/${RUN}/fork`, body: { fromPhaseId: 'right' } }]);
  });
});
