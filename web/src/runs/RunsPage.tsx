import { RunStatus, type RunSort, type SortOrder, type SocketEvent } from '@conclave/contracts';
import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { buildUrl } from '../api/client';
import { api, type RunPage } from '../api/endpoints';
import { keys } from '../api/keys';
import { useRoom } from '../live/use-room';
import { ErrorNotice } from '../ui/ErrorNotice';
import { DropdownMenu } from '../ui/DropdownMenu';
import { LoadMore } from '../ui/DataTable';
import { Loading } from '../ui/Loading';
import { useDownload } from '../ui/use-download';
import { SelectField } from '../ui/Select';
import { COMPARE_LIMIT, compareHref, isFiltered, readListState, toApiQuery, toggleSelected } from './run-list-params';
import { patchRunSummary } from './run-summary';
import { RunsTable } from './RunsTable';
import './runs.css';

const PAGE_SIZE = 100;
const STATUS_OPTIONS = [{ value: '', label: 'All' }, ...RunStatus.options.map((s) => ({ value: s, label: s }))];
const ARCHIVED_OPTIONS = [
  { value: '', label: 'Hidden' },
  { value: 'true', label: 'Only archived' },
  { value: 'all', label: 'Shown too' },
];

/**
 * The runs list. Filters, sort and date range live in the query string (`status`, `q`,
 * `templateId`, `archived`, `from`, `to`, `sort`, `order`); the server sorts and pages, the table
 * is virtualised (RunsTable) and loads the next page as the end comes into view. Export downloads
 * exactly this: the same filters and sort, every page. Live through the `runs` room: an event
 * patches its row at once, then the list is refetched (debounced, with min_sequence = the newest
 * event seen) so new runs appear and filters stay right. Checkboxes pick 2–4 runs to compare.
 */
export default function RunsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const exportDownload = useDownload();
  const state = useMemo(() => readListState(params), [params]);
  const query = useMemo(() => toApiQuery(state), [state]);
  const qc = useQueryClient();
  const minSequence = useRef<number | undefined>(undefined);
  const [selected, setSelected] = useState<string[]>([]);

  const runs = useInfiniteQuery({
    queryKey: keys.runList(query),
    queryFn: ({ pageParam, signal }) => api.listRuns({ ...query, cursor: pageParam, limit: PAGE_SIZE }, { minSequence: minSequence.current, signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const templates = useQuery({ queryKey: keys.templates(), queryFn: ({ signal }) => api.listTemplates({ signal }) });
  const templateOptions = useMemo(
    () => [{ value: '', label: 'All' }, ...(templates.data?.items ?? []).map((t) => ({ value: t.id, label: t.name }))],
    [templates.data],
  );

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
  const filtered = isFiltered(state);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = runs;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const toggle = useCallback((id: string) => setSelected((prev) => toggleSelected(prev, id)), []);

  const update = (changes: Record<string, string | undefined>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [name, value] of Object.entries(changes)) {
          if (value) next.set(name, value);
          else next.delete(name);
        }
        return next;
      },
      { replace: true },
    );
  const setFilter = (name: 'status' | 'q' | 'archived' | 'templateId' | 'from' | 'to', value: string) => update({ [name]: value });
  const setSort = (sort: RunSort, order: SortOrder) => update({ sort, order });
  const exportUrl = (format: 'csv' | 'json') => buildUrl('/runs/export', { format, ...query });
  const rangeBackwards = Boolean(state.from && state.to && state.from > state.to);

  return (
    <div className="page">
      <title>Runs · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Runs</h1>
          <p className="muted">Every pipeline run, live.</p>
        </div>
        <div className="actions">
          <button
            type="button"
            className="btn"
            disabled={selected.length < 2}
            onClick={() => void navigate(compareHref(selected))}
            title={selected.length < 2 ? `Tick 2 to ${COMPARE_LIMIT} runs to compare them` : undefined}
          >
            Compare{selected.length > 0 ? ` (${selected.length})` : ''}
          </button>
          <DropdownMenu
            label="Export"
            items={[
              { label: 'CSV', onSelect: () => exportDownload.start(exportUrl('csv'), 'runs.csv') },
              { label: 'JSON', onSelect: () => exportDownload.start(exportUrl('json'), 'runs.json') },
            ]}
          />
          <Link className="btn btn--primary" to="/templates">
            Start a run
          </Link>
        </div>
        {exportDownload.notice}
      </header>

      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <SearchBox value={state.q ?? ''} onChange={(v) => setFilter('q', v)} />
        <SelectField fieldClassName="field--inline" label="Template" value={state.templateId ?? ''} onValueChange={(v) => setFilter('templateId', v)} options={templateOptions} />
        <SelectField fieldClassName="field--inline" label="Status" value={state.status ?? ''} onValueChange={(v) => setFilter('status', v)} options={STATUS_OPTIONS} />
        <label className="field field--inline">
          <span>From</span>
          <input type="date" value={state.from ?? ''} max={state.to} onChange={(e) => setFilter('from', e.target.value)} />
        </label>
        <label className="field field--inline">
          <span>To</span>
          <input type="date" value={state.to ?? ''} min={state.from} onChange={(e) => setFilter('to', e.target.value)} />
        </label>
        <SelectField fieldClassName="field--inline" label="Archived" value={state.archived ?? ''} onValueChange={(v) => setFilter('archived', v)} options={ARCHIVED_OPTIONS} />
        {filtered && (
          <button
            type="button"
            className="btn btn--ghost btn--small"
            onClick={() => setParams(new URLSearchParams(state.sort ? { sort: state.sort, order: state.order ?? 'desc' } : {}), { replace: true })}
          >
            Clear filters
          </button>
        )}
      </form>
      {rangeBackwards && (
        <p className="notice notice--warn" role="status">
          The date range runs backwards (from {state.from} to {state.to}): it is not applied.
        </p>
      )}
      {selected.length > 0 && (
        <p className="muted small" role="status" data-testid="compare-selection">
          {selected.length} of {COMPARE_LIMIT} runs picked to compare.{' '}
          <button type="button" className="btn btn--ghost btn--small" onClick={() => setSelected([])}>
            Clear selection
          </button>
        </p>
      )}

      {runs.isPending ? (
        <Loading label="Loading runs…" />
      ) : runs.isError ? (
        <ErrorNotice error={runs.error} title="Could not load runs" onRetry={() => void runs.refetch()} />
      ) : rows.length === 0 ? (
        <div className="empty">
          {filtered ? (
            <p>No runs match these filters.</p>
          ) : (
            <>
              <p>No runs yet.</p>
              <p>
                <Link to="/templates">Pick a template</Link> to start one.
              </p>
            </>
          )}
        </div>
      ) : (
        <RunsTable
          rows={rows}
          sort={state.sort}
          order={state.order}
          onSort={setSort}
          selected={selected}
          onToggle={toggle}
          onNearEnd={loadMore}
          footer={
            <LoadMore query={{ hasNextPage, isFetchingNextPage, fetchNextPage: loadMore }}>
              <span className="muted small" data-testid="runs-count">
                {rows.length} run{rows.length === 1 ? '' : 's'} loaded{hasNextPage ? ', more below' : ''}
              </span>
            </LoadMore>
          }
        />
      )}
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
