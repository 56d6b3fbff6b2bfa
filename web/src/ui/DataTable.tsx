import type { HTMLAttributes, ReactNode } from 'react';
import { Button } from './Button';
import { cn } from './cn';
import { ErrorNotice } from './ErrorNotice';
import { FeatureError } from './FeatureError';
import { Loading } from './Loading';

/**
 * The list pages' table with its loading, error and empty states (runs, costs, fleet, events,
 * templates). Columns are data; the header row uses `scope="col"`, the caption is for screen
 * readers, numeric columns align right.
 */
export interface Column<T> {
  id: string;
  /** visible header (wrap in `<span className="sr-only">` for an actions column) */
  header: ReactNode;
  cell: (row: T) => ReactNode;
  numeric?: boolean;
  className?: string;
  /** the cell names its row (`<th scope="row">`) */
  rowHeader?: boolean;
}

/** The part of a TanStack query result the states need. */
export interface TableQueryState {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

type RowAttributes = HTMLAttributes<HTMLTableRowElement> & { [data: `data-${string}`]: string | number | undefined };

export interface DataTableProps<T> extends TableProps<T> {
  state: TableQueryState;
  loadingLabel: string;
  /** what failed, for the error notice ("The fleet" → "Could not load the fleet"; a missing endpoint says "not available yet") */
  feature: string;
  /** shown instead of the table when there are no rows */
  empty: ReactNode;
  /** under the table (paging) */
  footer?: ReactNode;
  /** the error notice of a page that says more than FeatureError */
  errorTitle?: string;
}

export function DataTable<T>({ state, loadingLabel, feature, empty, footer, errorTitle, ...table }: DataTableProps<T>) {
  if (state.isPending) return <Loading label={loadingLabel} />;
  if (state.isError)
    return errorTitle ? (
      <ErrorNotice error={state.error} title={errorTitle} onRetry={() => void state.refetch()} />
    ) : (
      <FeatureError error={state.error} feature={feature} onRetry={() => void state.refetch()} />
    );
  if (table.rows.length === 0) return <div className="empty">{empty}</div>;
  return (
    <>
      <Table {...table} />
      {footer}
    </>
  );
}

export interface TableProps<T> {
  caption: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string | number;
  rowProps?: (row: T) => RowAttributes;
  compact?: boolean;
  className?: string;
  /** a totals row and the like (`<tr>`s) */
  foot?: ReactNode;
  'data-testid'?: string;
}

/** The table itself, for rows already at hand (DataTable adds a query's loading, error and empty states). */
export function Table<T>({ caption, columns, rows, rowKey, rowProps, compact, className, foot, 'data-testid': testId }: TableProps<T>) {
  return (
    <div className="table-wrap">
      <table className={cn('table', compact && 'table--compact', className)} data-testid={testId}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.id} scope="col" className={c.numeric ? 'num' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} {...rowProps?.(row)}>
              {columns.map((c) => {
                const className = cn(c.numeric && 'num', c.className);
                return c.rowHeader ? (
                  <th key={c.id} scope="row" className={className}>
                    {c.cell(row)}
                  </th>
                ) : (
                  <td key={c.id} className={className}>
                    {c.cell(row)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
        {foot && <tfoot>{foot}</tfoot>}
      </table>
    </div>
  );
}

/** The part of a TanStack infinite query the "Load more" footer needs. */
export interface PagedQueryState {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/** A paged list's footer: what `children` say of it, and "Load more" while the server has more. Nothing when both are absent. */
export function LoadMore({ query, children }: { query: PagedQueryState; children?: ReactNode }) {
  if (!query.hasNextPage && !children) return null;
  return (
    <div className="load-more">
      {children}
      {query.hasNextPage && (
        <Button onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          {query.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </Button>
      )}
    </div>
  );
}
