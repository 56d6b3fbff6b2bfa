import { EVENT_TYPES, type ReplayStatus } from '@conclave/contracts';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDateTime, toPrettyJson } from '../lib/format';
import { DataTable, type Column } from '../ui/DataTable';
import { ConfirmButton } from '../ui/Dialog';
import { CheckboxMenu } from '../ui/DropdownMenu';
import { describeCommandError } from '../ui/feature-errors';
import { notifyDone, notifyRefused } from '../ui/toast';
import { eventsQuery, matchesFilters, parseTypes, type EventFilters } from './event-filter';

const PAGE_SIZE = 100;

function num(value: string | null): number | undefined {
  const n = Number(value);
  return value && Number.isInteger(n) && n >= 0 ? n : undefined;
}

type LogRow = Awaited<ReturnType<typeof api.events>>['items'][number];

const COLUMNS = (filterByType: (type: string) => void): Column<LogRow>[] => [
  { id: 'seq', header: 'Seq', cell: (e) => e.sequence, className: 'mono' },
  {
    id: 'type',
    header: 'Type',
    cell: (e) => (
      <button type="button" className="link-button" onClick={() => filterByType(e.type)}>
        {e.type}
      </button>
    ),
  },
  {
    id: 'stream',
    header: 'Stream',
    className: 'mono',
    cell: (e) => (e.streamId.startsWith('run:') ? <a href={`/runs/${encodeURIComponent(e.streamId.slice(4))}`}>{e.streamId}</a> : e.streamId),
  },
  { id: 'at', header: 'At', cell: (e) => formatDateTime(e.occurredAt) },
  { id: 'actor', header: 'Actor', cell: (e) => actorOf(e.actor), className: 'mono small' },
  {
    id: 'data',
    header: 'Data',
    cell: (e) => (
      <details>
        <summary>data</summary>
        <pre className="code">{toPrettyJson(e.data)}</pre>
      </details>
    ),
  },
];

/**
 * The raw log (`GET /events?after=&limit=&types=&streamId=`), filtered by event types and stream,
 * paged forward with `nextAfter`; the filters live in the URL. Admin: rebuild the read models
 * (replay) with progress.
 */
export default function EventsPage() {
  const [params, setParams] = useSearchParams();
  const filters: EventFilters = { after: num(params.get('after')), types: parseTypes(params.get('types')), stream: params.get('stream') ?? '' };
  const query = eventsQuery(filters, PAGE_SIZE);
  const events = useQuery({
    queryKey: keys.events(query),
    queryFn: ({ signal }) => api.events(query, { signal }),
    retry: false,
  });
  const [history, setHistory] = useState<(number | undefined)[]>([]);
  const setParam = (key: string, value: string | undefined) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      if (value) next.set(key, value);
      else next.delete(key);
      if (key !== 'after') next.delete('after');
      return next;
    });
  const setTypes = (types: string[]) => setParam('types', types.join(',') || undefined);
  // Until the gateway filters (or a prefix / free text that only this page understands): filter here too.
  const items = (events.data?.items ?? []).filter((e) => matchesFilters(e, filters));

  return (
    <div className="page">
      <title>Event log · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Event log</h1>
          <p className="muted">The append-only log every read model is built from.</p>
        </div>
        <ReplayButton />
      </header>
      <form className="form__row card" role="search" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <span>Types</span>
          <CheckboxMenu label={filters.types.length === 0 ? 'All types' : filters.types.length === 1 ? filters.types[0] : `${filters.types.length} types`} options={EVENT_TYPES} selected={filters.types} onChange={setTypes} />
        </div>
        <label className="field field--grow">
          Stream (run:&lt;id&gt;, template:&lt;id&gt;, provider:&lt;id&gt;, or a prefix like run:)
          <input
            defaultValue={filters.stream}
            key={filters.stream}
            onBlur={(e) => setParam('stream', e.target.value.trim() || undefined)}
            onKeyDown={(e) => e.key === 'Enter' && setParam('stream', e.currentTarget.value.trim() || undefined)}
          />
        </label>
        <label className="field">
          After sequence
          <input type="number" min={0} defaultValue={filters.after ?? ''} key={filters.after ?? 'none'} onBlur={(e) => setParam('after', e.target.value || undefined)} />
        </label>
      </form>
      <section className="card" aria-label="Events">
        <DataTable
          caption="Events"
          columns={COLUMNS((type) => setTypes([type]))}
          rows={items}
          rowKey={(e) => e.sequence}
          state={events}
          loadingLabel="Loading events…"
          feature="The event log"
          empty={<p className="muted">No events match{events.data && events.data.items.length > 0 ? ' on this page' : ''}.</p>}
          compact
        />
        {events.data && (
          <div className="actions">
            <button
              type="button"
              className="btn btn--small"
              disabled={history.length === 0}
              onClick={() => {
                const prev = history[history.length - 1];
                setHistory((h) => h.slice(0, -1));
                setParam('after', prev === undefined ? undefined : String(prev));
              }}
            >
              ← Previous
            </button>
            <button
              type="button"
              className="btn btn--small"
              disabled={events.data.nextAfter === null || events.data.items.length < PAGE_SIZE}
              onClick={() => {
                setHistory((h) => [...h, filters.after]);
                setParam('after', String(events.data.nextAfter));
              }}
            >
              Next →
            </button>
          </div>
        )}
      </section>
    </div>
  );
}

function actorOf(actor: unknown): string {
  const a = actor as { kind?: string; id?: string } | null;
  return a && a.kind ? `${a.kind}:${a.id ?? ''}` : '—';
}

/** POST /admin/replay, then poll GET /admin/replay until it reports done. */
function ReplayButton() {
  const [polling, setPolling] = useState(false);
  const start = useMutation({
    mutationFn: () => api.startReplay(),
    onSuccess: () => {
      notifyDone('Replay started', 'the read models are being rebuilt from the log');
      setPolling(true);
    },
    onError: (error) => notifyRefused('Starting the replay was refused', error),
  });
  const status = useQuery({
    queryKey: keys.replay(),
    queryFn: ({ signal }) => api.replayStatus({ signal }),
    enabled: polling,
    refetchInterval: (q) => (isDone(q.state.data) ? false : 1000),
    retry: false,
  });
  const progress = describeReplay(status.data);
  return (
    <div className="replay">
      <ConfirmButton
        label="Replay (rebuild read models)"
        title="Rebuild every read model from the log?"
        description="Reads may lag until it finishes; the services keep running."
        confirmLabel="Rebuild"
        disabled={start.isPending || (polling && !isDone(status.data))}
        onConfirm={() => start.mutate()}
      />
      <div role="status" aria-live="polite" className="small">
        {start.error ? <span className="form-error">{describeCommandError(start.error)}</span> : null}
        {polling && status.isError ? <span className="form-error">{describeCommandError(status.error)}</span> : null}
        {polling && progress && (
          <>
            {progress.pct !== null && <progress max={100} value={progress.pct} aria-label="Replay progress" />} {progress.text}
          </>
        )}
      </div>
    </div>
  );
}

function isDone(data: ReplayStatus | undefined): boolean {
  return data !== undefined && data.state !== 'running';
}

/** Progress of a replay: phase, processed / total, and the verification result. */
export function describeReplay(data: ReplayStatus | undefined): { pct: number | null; text: string } | null {
  if (!data || data.state === 'idle') return null;
  const pct = data.total > 0 ? Math.min(100, Math.round((data.processed / data.total) * 100)) : null;
  const parts = [data.state, data.phase, `log position ${data.processed} of ${data.total}`];
  if (data.differenceCount !== null) parts.push(`${data.differenceCount} differences`);
  return { pct, text: parts.filter(Boolean).join(' · ') };
}
