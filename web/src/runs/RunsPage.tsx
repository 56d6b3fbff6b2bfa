import { RunStatus, type RunSummary, type SocketEvent } from '@conclave/contracts';
import { useInfiniteQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, type RunListFilters, type RunPage, exportUrls } from '../api/endpoints';
import { keys } from '../api/keys';
import { elapsedMs, formatDateTime, formatDuration, formatUsd } from '../lib/format';
import { useNow } from '../lib/use-now';
import { useRoom } from '../live/use-room';
import { DataTable, type Column, type TableQueryState } from '../ui/DataTable';
import { DropdownMenu } from '../ui/DropdownMenu';
import { useDownload } from '../ui/use-download';
import { SelectField } from '../ui/Select';
import { StatusBadge } from '../ui/StatusBadge';
import { isTerminal, patchRunSummary } from './run-summary';

const PAGE_SIZE = 50;
const STATUS_OPTIONS = [{ value: '', label: 'All' }, ...RunStatus.options.map((s) => ({ value: s, label: s }))];
const ARCHIVED_OPTIONS = [
  { value: '', label: 'Hidden' },
  { value: 'true', label: 'Only archived' },
  { value: 'all', label: 'Shown too' },
];
const archivedParam = (v: string | null): RunListFilters['archived'] => (v === 'true' || v === 'all' ? v : undefined);

/**
 * The runs list. Filters live in the query string (`status`, `q`). Live through the `runs` room:
 * an event patches its row at once, then the list is refetched (debounced, with min_sequence =
 * the newest event seen) so new runs appear and filters stay right.
 */
export default function RunsPage() {
  const [params, setParams] = useSearchParams();
  const exportDownload = useDownload();
  const filters: RunListFilters = useMemo(
    () => ({
      status: params.get('status') || undefined,
      q: params.get('q') || undefined,
      templateId: params.get('templateId') || undefined,
      archived: archivedParam(params.get('archived')),
    }),
    [params],
  );
  const qc = useQueryClient();
  const minSequence = useRef<number | undefined>(undefined);

  const runs = useInfiniteQuery({
    queryKey: keys.runList(filters),
    queryFn: ({ pageParam, signal }) => api.listRuns({ ...filters, cursor: pageParam, limit: PAGE_SIZE }, { minSequence: minSequence.current, signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (refetchTimer.current && clearTimeout(refetchTimer.current)), []);
  const scheduleRefetch = (sequence?: number) => {
    if (sequence !== undefined) minSequence.current = Math.max(minSequence.current ?? 0, sequence);
    if (refetchTimer.current) clearTimeout(refetchTimer.current);
    refetchTimer.current = setTimeout(() => void qc.invalidateQueries({ queryKey: ['runs', 'list'] }), 400);
  };

  const joinedOnce = useRef(false);
  useRoom('runs', {
    onEvent: (event: SocketEvent) => {
      if (!event.runId) return;
      qc.setQueriesData<InfiniteData<RunPage>>({ queryKey: ['runs', 'list'] }, (data) => patchPages(data, event));
      scheduleRefetch(event.sequence);
    },
    onSubscribed: () => {
      // A rejoin after a disconnect: anything could have changed meanwhile.
      if (joinedOnce.current) scheduleRefetch();
      joinedOnce.current = true;
    },
  });

  const rows = useMemo(() => runs.data?.pages.flatMap((p) => p.items) ?? [], [runs.data]);
  const filtered = Boolean(filters.status || filters.q || filters.templateId || filters.archived);

  const setFilter = (name: 'status' | 'q' | 'archived', value: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );

  return (
    <div className="page">
      <title>Runs · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Runs</h1>
          <p className="muted">Every pipeline run, live.</p>
        </div>
        <div className="actions">
          <DropdownMenu
            label="Export"
            items={[
              { label: 'CSV', onSelect: () => exportDownload.start(exportUrls.runs('csv'), 'runs.csv') },
              { label: 'JSON', onSelect: () => exportDownload.start(exportUrls.runs('json'), 'runs.json') },
            ]}
          />
          <Link className="btn btn--primary" to="/templates">
            Start a run
          </Link>
        </div>
        {exportDownload.notice}
      </header>

      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <SearchBox value={filters.q ?? ''} onChange={(v) => setFilter('q', v)} />
        <SelectField fieldClassName="field--inline" label="Status" value={filters.status ?? ''} onValueChange={(v) => setFilter('status', v)} options={STATUS_OPTIONS} />
        <SelectField fieldClassName="field--inline" label="Archived" value={filters.archived ?? ''} onValueChange={(v) => setFilter('archived', v)} options={ARCHIVED_OPTIONS} />
        {filtered && (
          <button type="button" className="btn btn--ghost btn--small" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </button>
        )}
      </form>

      <RunsTable
        rows={rows}
        state={runs}
        empty={
          filtered ? (
            <p>No runs match these filters.</p>
          ) : (
            <>
              <p>No runs yet.</p>
              <p>
                <Link to="/templates">Pick a template</Link> to start one.
              </p>
            </>
          )
        }
        footer={
          runs.hasNextPage && (
            <div className="load-more">
              <button type="button" className="btn" onClick={() => void runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
                {runs.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
            </div>
          )
        }
      />
    </div>
  );
}

function patchPages(data: InfiniteData<RunPage> | undefined, event: SocketEvent): InfiniteData<RunPage> | undefined {
  if (!data) return data;
  let changed = false;
  const pages = data.pages.map((page) => {
    const items = page.items.map((row) => patchRunSummary(row, event));
    if (items.every((row, i) => row === page.items[i])) return page;
    changed = true;
    return { ...page, items };
  });
  return changed ? { ...data, pages } : data;
}

/** Search box that writes to the URL 300 ms after typing stops. */
function SearchBox({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const [text, setText] = useState(value);
  const latest = useRef(onChange);
  useEffect(() => {
    latest.current = onChange;
  });
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => latest.current(text.trim()), 300);
    return () => clearTimeout(timer);
  }, [text, value]);
  return (
    <label className="field field--inline field--grow">
      <span>Search</span>
      <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="Name, id or template" />
    </label>
  );
}

const runColumns = (now: number): Column<RunSummary>[] => [
  {
    id: 'run',
    header: 'Run',
    cell: (r) => (
      <>
        <Link to={`/runs/${encodeURIComponent(r.id)}`} className="strong">
          {r.name ?? r.id}
        </Link>
        {r.archived && <span className="badge badge--archived">archived</span>}
        {r.name && <div className="muted mono small">{r.id}</div>}
      </>
    ),
  },
  {
    id: 'template',
    header: 'Template',
    cell: (r) => (
      <>
        {r.templateName || r.templateId} <span className="muted">v{r.templateVersion}</span>
      </>
    ),
  },
  { id: 'status', header: 'Status', cell: (r) => <StatusBadge status={r.status} /> },
  {
    id: 'phases',
    header: 'Phases',
    cell: (r) => (
      <>
        <span className="progress" aria-hidden="true">
          <span style={{ width: `${r.phasesTotal ? (100 * r.phasesDone) / r.phasesTotal : 0}%` }} />
        </span>{' '}
        {r.phasesDone}/{r.phasesTotal}
      </>
    ),
  },
  { id: 'files', header: 'Files changed', numeric: true, cell: (r) => r.filesChanged },
  { id: 'cost', header: 'Cost', numeric: true, cell: (r) => formatUsd(r.costUsd) },
  { id: 'started', header: 'Started', cell: (r) => <time dateTime={r.startedAt}>{formatDateTime(r.startedAt)}</time> },
  { id: 'duration', header: 'Duration', numeric: true, cell: (r) => formatDuration(elapsedMs(r.startedAt, r.completedAt, now)) },
];

function RunsTable({ rows, state, empty, footer }: { rows: readonly RunSummary[]; state: TableQueryState; empty: ReactNode; footer: ReactNode }) {
  const now = useNow(rows.some((r) => !isTerminal(r.status)));
  return (
    <DataTable
      caption="Runs"
      columns={runColumns(now)}
      rows={rows}
      rowKey={(r) => r.id}
      rowProps={(r) => ({ 'data-run-id': r.id })}
      state={state}
      loadingLabel="Loading runs…"
      feature="Runs"
      errorTitle="Could not load runs"
      empty={empty}
      footer={footer}
    />
  );
}
