/** @jest-environment jsdom */
import type { RunSummary } from '@conclave/contracts';
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { useState } from 'react';
import { renderWithProviders } from '../test/render';
import { toggleSelected } from './run-list-params';
import { chunkedRange, RunsTable } from './RunsTable';

const run = (n: number, over: Partial<RunSummary> = {}): RunSummary => ({
  id: `run-${n}`,
  name: `run ${n}`,
  templateId: 't',
  templateVersion: 1,
  templateName: 'tpl',
  status: 'completed',
  costUsd: 0.5,
  startedAt: '2026-03-01T00:00:00.000Z',
  completedAt: '2026-03-01T00:01:30.000Z',
  sequence: n,
  origin: null,
  archived: false,
  filesChanged: 0,
  phasesTotal: 2,
  phasesDone: 2,
  ...over,
});

const table = (props: Partial<Parameters<typeof RunsTable>[0]> & { rows: RunSummary[] }) => (
  <RunsTable sort={undefined} order={undefined} onSort={() => {}} selected={[]} onToggle={() => {}} onNearEnd={() => {}} {...props} />
);

// jsdom lays nothing out: the scroll container reports the size of a desktop list (the virtualiser reads it)
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 640 });
  Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1200 });
});
afterAll(() => {
  delete (HTMLElement.prototype as { clientHeight?: number }).clientHeight;
  delete (HTMLElement.prototype as { clientWidth?: number }).clientWidth;
});
afterEach(() => {
  cleanup();
  jest.useRealTimers();
});

describe('chunkedRange', () => {
  const range = (startIndex: number, endIndex: number, count = 1000) => chunkedRange({ startIndex, endIndex, overscan: 4, count });

  it('renders the visible rows and the overscan, widened to whole chunks of 8', () => {
    const rows = range(20, 31);
    expect(rows[0]).toBe(16);
    expect(rows.at(-1)).toBe(39);
    expect(rows).toEqual(Array.from({ length: 24 }, (_, i) => 16 + i));
  });

  it('keeps the same rows while a scroll stays inside a chunk, and moves by a whole chunk', () => {
    // scrolling one row at a time from rows 20–31 in view to 23–34: the same window (no DOM change)
    for (let first = 20; first <= 24; first++) expect(range(first, first + 11)).toEqual(range(20, 31));
    // one row further the bottom crosses into the next chunk: 8 rows more, none less
    expect(range(25, 36)).toEqual(Array.from({ length: 32 }, (_, i) => 16 + i));
  });

  it('stays within the list at both ends', () => {
    expect(range(0, 11)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(range(990, 999).at(-1)).toBe(999);
    expect(range(990, 999)[0]).toBe(984);
    expect(chunkedRange({ startIndex: 0, endIndex: -1, overscan: 4, count: 0 })).toEqual([]);
  });
});

describe('RunsTable', () => {
  it('ticks a running run’s duration every second and leaves a finished run’s as it is', () => {
    jest.useFakeTimers({ now: Date.parse('2026-03-01T00:00:10.000Z') });
    renderWithProviders(table({ rows: [run(1, { status: 'running', completedAt: null }), run(2)] }));
    const duration = (id: string) => document.querySelector(`tr[data-run-id="${id}"] .runs-col--duration`)!.textContent;
    expect(duration('run-1')).toBe('10 s');
    expect(duration('run-2')).toBe('1m 30s');
    act(() => void jest.advanceTimersByTime(5000));
    expect(duration('run-1')).toBe('15 s');
    expect(duration('run-2')).toBe('1m 30s');
  });

  it('ticks runs to compare and disables the other boxes once four are picked', () => {
    function Harness() {
      const [selected, setSelected] = useState<string[]>([]);
      return table({ rows: [1, 2, 3, 4, 5].map((n) => run(n)), selected, onToggle: (id) => setSelected((prev) => toggleSelected(prev, id)) });
    }
    renderWithProviders(<Harness />);
    const box = (n: number) => screen.getByRole('checkbox', { name: `Compare run ${n}` });
    for (const n of [1, 2, 3, 4]) fireEvent.click(box(n));
    expect((box(1) as HTMLInputElement).checked).toBe(true);
    expect((box(5) as HTMLInputElement).disabled).toBe(true);
    expect(document.querySelector('tr[data-run-id="run-1"]')!.classList.contains('is-selected')).toBe(true);
    expect(document.querySelector('tr[data-run-id="run-5"]')!.classList.contains('is-selected')).toBe(false);
    fireEvent.click(box(2));
    expect((box(2) as HTMLInputElement).checked).toBe(false);
    expect((box(5) as HTMLInputElement).disabled).toBe(false);
  });

  it('shows a loop run’s round and best score in its own column', () => {
    const loop = { ...run(1), loop: { phaseId: 'draft', round: 2, maxRounds: 3, bestScore: 0.75, passThreshold: 0.8 } } as RunSummary;
    renderWithProviders(table({ rows: [loop, run(2)] }));
    expect(screen.getByTestId('loop-progress').textContent).toBe('round 2/3 · best 0.75');
  });
});
