import { createColumnHelper, createSortedRowModel, rowSortingFeature, sortFn_basic, sortFn_text, tableFeatures, useTable, type RowData } from '@tanstack/react-table';
import { useMemo, type ReactNode } from 'react';
import { cn } from '../ui/cn';

// module scope: stable across renders (TanStack Table v9 rebuilds its models when these change)
const features = tableFeatures({ rowSortingFeature, sortedRowModel: createSortedRowModel(), sortFns: { basic: sortFn_basic, text: sortFn_text } });

/**
 * A column of a SortableTable. `value` is what sorts (numbers sort numerically, null last in both
 * directions) and lands in the cell's `data-value` (what the e2e spec compares with the API);
 * `cell` is what shows.
 */
export interface SortableColumn<T> {
  id: string;
  header: string;
  value: (row: T) => number | string | null;
  cell?: (row: T) => ReactNode;
  numeric?: boolean;
}

export interface SortableTableProps<T extends RowData> {
  caption: string;
  columns: readonly SortableColumn<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  /** the initial order (absent: the rows' own order) */
  initialSort?: { id: string; desc: boolean };
  testId?: string;
}

/**
 * A table sorted by clicking its headers (TanStack Table): the header is a button, the sorted
 * column carries `aria-sort`, a third click returns to the rows' own order.
 */
export function SortableTable<T extends RowData>({ caption, columns, rows, rowKey, initialSort, testId }: SortableTableProps<T>) {
  const defs = useMemo(() => {
    const helper = createColumnHelper<typeof features, T>();
    return helper.columns(
      columns.map((c) =>
      helper.accessor(
        // undefined, not null: sortUndefined keeps missing values last in both directions
        (row: T) => c.value(row) ?? undefined,
        {
          id: c.id,
          header: c.header,
          cell: (info) => (c.cell ? c.cell(info.row.original) : (c.value(info.row.original) ?? '—')),
          sortUndefined: 'last',
          sortFn: c.numeric ? 'basic' : 'text',
          // numbers read best largest first; names A to Z
          sortDescFirst: Boolean(c.numeric),
        },
      ),
      ),
    );
  }, [columns]);
  const numeric = useMemo(() => new Set(columns.filter((c) => c.numeric).map((c) => c.id)), [columns]);
  const table = useTable({
    features,
    columns: defs,
    data: rows as T[],
    getRowId: (row: T) => rowKey(row),
    initialState: { sorting: initialSort ? [initialSort] : [] },
  });
  return (
    <div className="table-wrap">
      <table className="table table--compact sortable-table" data-testid={testId}>
        <caption className="sr-only">{caption}. Select a column header to sort by it.</caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                return (
                  <th key={header.id} scope="col" className={cn(numeric.has(header.column.id) && 'num')} aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}>
                    <button type="button" className="sort-button" onClick={header.column.getToggleSortingHandler()}>
                      <table.FlexRender header={header} />
                      <span className="sort-button__mark" aria-hidden="true">
                        {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : '↕'}
                      </span>
                    </button>
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} data-row-key={row.id}>
              {row.getAllCells().map((cell) => {
                const raw = cell.getValue() as number | string | undefined;
                return (
                  <td key={cell.id} className={cn(numeric.has(cell.column.id) && 'num')} data-col={cell.column.id} data-value={raw === undefined ? '' : String(raw)}>
                    <table.FlexRender cell={cell} />
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
