import type { RunSort, RunSummary, SortOrder } from '@conclave/contracts';
import { rowSortingFeature, tableFeatures, useTable, type ColumnDef, type SortingState } from '@tanstack/react-table';
import { useVirtualizer, type Range } from '@tanstack/react-virtual';
import { createContext, memo, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { elapsedMs, formatDateTime, formatDuration, formatUsd } from '../lib/format';
import { useSharedClock } from '../lib/use-now';
import { cn } from '../ui/cn';
import { StatusBadge } from '../ui/StatusBadge';
import { COMPARE_LIMIT } from './run-list-params';

/** What another part of issue 13 adds to list items: a loop run's progress (absent on older gateways). */
interface LoopProgress {
  round: number;
  maxRounds: number;
  bestScore: number | null;
}
type RunRow = RunSummary & { loop?: LoopProgress | null };

/** Every row has one fixed height (cells do not wrap): the virtualiser then never measures. */
export const ROW_HEIGHT = 56;
/** Fetch the next page when the last rendered row is this close to the end of the loaded ones. */
const PREFETCH_ROWS = 30;

const features = tableFeatures({ rowSortingFeature });
const getRowId = (r: RunRow) => r.id;
const estimateSize = () => ROW_HEIGHT;
const INITIAL_RECT = { width: 1200, height: 800 };
/** Rows rendered beyond each edge of the view. */
const OVERSCAN = 4;
/** The rendered window moves in steps of this many rows (see chunkedRange). */
const CHUNK = 8;

/**
 * The rows to render: the visible ones plus the overscan, widened to whole chunks of CHUNK rows.
 * A steady scroll then changes the DOM once every CHUNK rows instead of on every row: the frames
 * between cost a scroll and no layout, paint or React commit of rows.
 */
export function chunkedRange({ startIndex, endIndex, overscan, count }: Range): number[] {
  if (count === 0) return [];
  const first = Math.floor(Math.max(0, startIndex - overscan) / CHUNK) * CHUNK;
  const last = Math.min(count - 1, Math.ceil((endIndex + overscan + 1) / CHUNK) * CHUNK - 1);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** Formatted start times, kept: a scroll formats each row's date again (Intl formatting is the costliest cell). */
const startedTexts = new Map<string, string>();
function startedText(iso: string): string {
  let text = startedTexts.get(iso);
  if (text === undefined) {
    if (startedTexts.size > 50_000) startedTexts.clear();
    text = formatDateTime(iso);
    startedTexts.set(iso, text);
  }
  return text;
}

/** The compare selection, read by the checkbox cells alone (a change re-renders them, not the rows' other cells). */
interface Selection {
  selected: readonly string[];
  full: boolean;
  onToggle: (id: string) => void;
}
const SelectionContext = createContext<Selection>({ selected: [], full: false, onToggle: () => {} });

interface ColumnMeta {
  numeric?: boolean;
  className?: string;
}

/** A column's cell class, joined once per column (tailwind-merge runs per column, not per cell): rows mount every few frames while the list scrolls. */
const cellClasses = new WeakMap<object, string>();
function cellClass(column: { id: string; columnDef: object & { meta?: unknown } }): string {
  let joined = cellClasses.get(column.columnDef);
  if (joined === undefined) {
    const meta = column.columnDef.meta as ColumnMeta | undefined;
    joined = cn(`runs-col--${column.id}`, meta?.numeric && 'num', meta?.className);
    cellClasses.set(column.columnDef, joined);
  }
  return joined;
}

export interface RunsTableProps {
  rows: readonly RunRow[];
  sort: RunSort | undefined;
  order: SortOrder | undefined;
  onSort: (sort: RunSort, order: SortOrder) => void;
  selected: readonly string[];
  onToggle: (id: string) => void;
  /** more rows on the server: called when the user scrolls near the end */
  onNearEnd: () => void;
  footer?: ReactNode;
}

/** Column id → the server's sort key (GET /runs?sort=); other columns are not sortable. */
const SORT_OF: Record<string, RunSort> = { run: 'name', status: 'status', cost: 'cost', started: 'started', duration: 'duration' };
const COLUMN_OF = Object.fromEntries(Object.entries(SORT_OF).map(([column, sort]) => [sort, column])) as Record<RunSort, string>;

/**
 * The runs list: TanStack Table for the columns and their sort state (sorted by the server:
 * `manualSorting`), TanStack Virtual for the rows — only those in view (plus overscan) are in the
 * DOM, so ten thousand runs scroll like fifty. Table elements with grid/flex layout (TanStack's
 * virtualised-rows layout): rows are positioned, columns have fixed widths (runs.css), and
 * aria-rowcount / aria-rowindex tell assistive technology where a row sits among all of them.
 */
export function RunsTable({ rows, sort, order, onSort, selected, onToggle, onNearEnd, footer }: RunsTableProps) {
  const showLoop = rows.some((r) => r.loop);
  const full = selected.length >= COMPARE_LIMIT;
  const selection = useMemo(() => ({ selected, full, onToggle }), [selected, full, onToggle]);
  // the columns change only when the loop column comes or goes: live durations tick in their own
  // cells (LiveDuration) and the checkboxes read the selection from context
  const columns = useMemo(() => runColumns(showLoop), [showLoop]);
  // absent sort = the API's default, newest first
  const sorting: SortingState = useMemo(() => [{ id: COLUMN_OF[sort ?? 'started'], desc: (order ?? 'desc') === 'desc' }], [sort, order]);
  const onSortingChange = useCallback(
    (updater: SortingState | ((old: SortingState) => SortingState)) => {
      const next = typeof updater === 'function' ? updater(sorting) : updater;
      const first = next[0];
      const key = first && SORT_OF[first.id];
      if (first && key) onSort(key, first.desc ? 'desc' : 'asc');
    },
    [sorting, onSort],
  );
  const table = useTable({
    features,
    columns,
    data: rows as RunRow[],
    getRowId,
    state: { sorting },
    manualSorting: true,
    enableSortingRemoval: false,
    enableMultiSort: false,
    onSortingChange,
  });
  const modelRows = table.getRowModel().rows;
  // state, not a ref: the body's virtualiser needs the element, and a ref is attached only after
  // the body's own layout effects ran (children first), which left it with no rows to show
  const [scrollElement, setScrollElement] = useState<HTMLDivElement | null>(null);

  return (
    <SelectionContext value={selection}>
      <div ref={setScrollElement} className="table-wrap runs-scroll" data-testid="runs-scroll">
        <table className="table runs-table" aria-rowcount={modelRows.length + 1}>
          <caption className="sr-only">Runs</caption>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id} aria-rowindex={1}>
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  const canSort = header.column.getCanSort();
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      className={cellClass(header.column)}
                      aria-sort={canSort ? (sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none') : undefined}
                    >
                      {canSort ? (
                        <button type="button" className="sort-button" onClick={header.column.getToggleSortingHandler()}>
                          <table.FlexRender header={header} />
                          <span aria-hidden="true" className="sort-button__mark">
                            {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : '↕'}
                          </span>
                        </button>
                      ) : (
                        <table.FlexRender header={header} />
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <VirtualBody rows={modelRows} columns={columns} scrollElement={scrollElement} selected={selected} onNearEnd={onNearEnd} Render={table.FlexRender} />
        </table>
      </div>
      {footer}
    </SelectionContext>
  );
}

/**
 * One row at its offset. Memoised: a scroll mounts the rows coming into view and leaves the others
 * alone; only a change of the columns (the loop column shown or hidden) re-renders them all.
 */
const VirtualRow = memo(function VirtualRow({ row, index, start, selected, Render }: { row: TableRow; index: number; start: number; selected: boolean; columns: unknown; Render: FlexRenderOf }) {
  return (
    <tr data-run-id={row.id} aria-rowindex={index + 2} className={selected ? 'is-selected' : undefined} style={{ height: ROW_HEIGHT, transform: `translateY(${start}px)` }}>
      {row.getAllCells().map((cell) => (
        <td key={cell.id} className={cellClass(cell.column)}>
          <Render cell={cell} />
        </td>
      ))}
    </tr>
  );
});

type FlexRenderOf = ReturnType<typeof useTable<typeof features, RunRow>>['FlexRender'];
type TableRow = ReturnType<ReturnType<typeof useTable<typeof features, RunRow>>['getRowModel']>['rows'][number];

/**
 * The rows in view, each placed at its offset (translateY) in a body as tall as all rows: moving
 * them lays out nothing else. Its own component: a scroll re-renders this body only
 * (the virtualiser's state lives here), never the table model or the header above it.
 */
function VirtualBody({
  rows,
  columns,
  scrollElement,
  selected,
  onNearEnd,
  Render,
}: {
  rows: TableRow[];
  columns: unknown;
  scrollElement: HTMLDivElement | null;
  selected: readonly string[];
  onNearEnd: () => void;
  Render: FlexRenderOf;
}) {
  // stable callbacks: the virtualiser recomputes every item's offset when getItemKey changes
  const getItemKey = useCallback((index: number) => rows[index]!.id, [rows]);
  const getScrollElement = useCallback(() => scrollElement, [scrollElement]);
  // initialRect: rows from the first render on, before the container is observed (the observer's
  // first report could be lost when the element arrived after the virtualiser's own mount)
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement,
    estimateSize,
    getItemKey,
    overscan: OVERSCAN,
    rangeExtractor: chunkedRange,
    initialRect: INITIAL_RECT,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? 0;
  const nearEnd = useRef(onNearEnd);
  useEffect(() => {
    nearEnd.current = onNearEnd;
  });
  useEffect(() => {
    if (rows.length > 0 && lastIndex >= rows.length - PREFETCH_ROWS) nearEnd.current();
  }, [lastIndex, rows.length]);

  return (
    <tbody className="runs-table__body" style={{ height: virtualizer.getTotalSize() }}>
      {items.map((item) => {
        const row = rows[item.index]!;
        return <VirtualRow key={row.id} row={row} index={item.index} start={item.start} selected={selected.includes(row.id)} columns={columns} Render={Render} />;
      })}
    </tbody>
  );
}

function SelectCell({ run }: { run: RunRow }) {
  const { selected, full, onToggle } = useContext(SelectionContext);
  const checked = selected.includes(run.id);
  return (
    <input
      type="checkbox"
      checked={checked}
      disabled={!checked && full}
      onChange={() => onToggle(run.id)}
      aria-label={`Compare ${run.name ?? run.id}`}
      title={!checked && full ? `At most ${COMPARE_LIMIT} runs can be compared` : undefined}
    />
  );
}

/** A run still going: its duration so far, on the shared one-second clock (this cell re-renders, not its row). */
function LiveDuration({ startedAt }: { startedAt: string }) {
  const now = useSharedClock();
  return formatDuration(elapsedMs(startedAt, null, now));
}

function runColumns(showLoop: boolean): ColumnDef<typeof features, RunRow>[] {
  const columns: ColumnDef<typeof features, RunRow>[] = [
    {
      id: 'select',
      header: () => <span className="sr-only">Select to compare</span>,
      enableSorting: false,
      cell: ({ row }) => <SelectCell run={row.original} />,
    },
    {
      id: 'run',
      header: 'Run',
      // an accessor makes the column sortable (the server sorts: manualSorting)
      accessorFn: (r) => r.name ?? r.id,
      sortDescFirst: false,
      cell: ({ row }) => {
        const r = row.original;
        return (
          <>
            <Link to={`/runs/${encodeURIComponent(r.id)}`} className="strong">
              {r.name ?? r.id}
            </Link>
            {r.archived && <span className="badge badge--archived">archived</span>}
            {r.name && <div className="muted mono small">{r.id}</div>}
          </>
        );
      },
    },
    {
      id: 'template',
      header: 'Template',
      enableSorting: false,
      cell: ({ row }) => (
        <span title={`${row.original.templateName || row.original.templateId} v${row.original.templateVersion}`}>
          {row.original.templateName || row.original.templateId} <span className="muted">v{row.original.templateVersion}</span>
        </span>
      ),
    },
    { id: 'status', header: 'Status', accessorFn: (r) => r.status, sortDescFirst: false, cell: ({ row }) => <StatusBadge status={row.original.status} /> },
    {
      id: 'phases',
      header: 'Phases',
      enableSorting: false,
      cell: ({ row }) => {
        const r = row.original;
        return (
          <>
            <span className="progress" aria-hidden="true">
              <span style={{ width: `${r.phasesTotal ? (100 * r.phasesDone) / r.phasesTotal : 0}%` }} />
            </span>{' '}
            {r.phasesDone}/{r.phasesTotal}
          </>
        );
      },
    },
  ];
  if (showLoop) {
    columns.push({
      id: 'loop',
      header: 'Loop',
      enableSorting: false,
      cell: ({ row }) => {
        const loop = row.original.loop;
        if (!loop) return <span className="muted">—</span>;
        return (
          <span data-testid="loop-progress">
            round {loop.round}/{loop.maxRounds}
            {loop.bestScore !== null && <span className="muted"> · best {loop.bestScore.toFixed(2)}</span>}
          </span>
        );
      },
    });
  }
  columns.push(
    { id: 'files', header: 'Files changed', enableSorting: false, meta: { numeric: true }, cell: ({ row }) => row.original.filesChanged },
    { id: 'cost', header: 'Cost', accessorFn: (r) => r.costUsd, sortDescFirst: true, meta: { numeric: true }, cell: ({ row }) => formatUsd(row.original.costUsd) },
    { id: 'started', header: 'Started', accessorFn: (r) => r.startedAt, sortDescFirst: true, cell: ({ row }) => <time dateTime={row.original.startedAt}>{startedText(row.original.startedAt)}</time> },
    { id: 'duration', header: 'Duration', accessorFn: (r) => r.completedAt, sortDescFirst: true, meta: { numeric: true }, cell: ({ row }) => {
        const r = row.original;
        return r.completedAt ? formatDuration(elapsedMs(r.startedAt, r.completedAt, 0)) : <LiveDuration startedAt={r.startedAt} />;
      },
    },
  );
  return columns;
}
