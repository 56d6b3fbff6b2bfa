import { EVENT_TYPES, type ReplayStatus } from '@conclave/contracts';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDateTime, toPrettyJson } from '../lib/format';
import { describeCommandError } from '../ui/feature-errors';
import { FeatureError } from '../ui/FeatureError';
import { Loading } from '../ui/Loading';

const PAGE_SIZE = 100;

function num(value: string | null): number | undefined {
  const n = Number(value);
  return value && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The raw log (`GET /events?after=&limit=`), filtered by type and stream, paged forward with
 * `nextAfter`; the filters live in the URL. Admin: rebuild the read models (replay) with progress.
 */
export default function EventsPage() {
  const [params, setParams] = useSearchParams();
  const after = num(params.get('after'));
  const type = params.get('type') ?? '';
  const streamId = params.get('stream') ?? '';
  const filters = { after, type, streamId };
  const events = useQuery({
    queryKey: keys.events(filters),
    queryFn: ({ signal }) => api.events({ after, limit: PAGE_SIZE, type: type || undefined, streamId: streamId || undefined }, { signal }),
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
  // The server may not filter yet: filter the page here too (harmless when it does).
  const items = (events.data?.items ?? []).filter((e) => (!type || e.type === type) && (!streamId || e.streamId.includes(streamId)));

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
      <form className="form__row card" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          Type
          <select value={type} onChange={(e) => setParam('type', e.target.value || undefined)}>
            <option value="">all</option>
            {EVENT_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label className="field field--grow">
          Stream (e.g. run:abc or template:)
          <input defaultValue={streamId} onBlur={(e) => setParam('stream', e.target.value.trim() || undefined)} onKeyDown={(e) => e.key === 'Enter' && setParam('stream', e.currentTarget.value.trim() || undefined)} />
        </label>
        <label className="field">
          After sequence
          <input type="number" min={0} defaultValue={after ?? ''} key={after ?? 'none'} onBlur={(e) => setParam('after', e.target.value || undefined)} />
        </label>
      </form>
      {events.isPending ? (
        <Loading label="Loading events…" />
      ) : events.isError ? (
        <FeatureError error={events.error} feature="The event log" onRetry={() => void events.refetch()} />
      ) : (
        <section className="card" aria-label="Events">
          <div className="table-wrap">
            <table className="table table--compact">
              <caption className="sr-only">Events</caption>
              <thead>
                <tr>
                  <th scope="col">Seq</th>
                  <th scope="col">Type</th>
                  <th scope="col">Stream</th>
                  <th scope="col">At</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Data</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.sequence}>
                    <td className="mono">{e.sequence}</td>
                    <td>
                      <button type="button" className="link-button" onClick={() => setParam('type', e.type)}>
                        {e.type}
                      </button>
                    </td>
                    <td className="mono">
                      {e.streamId.startsWith('run:') ? <a href={`/runs/${encodeURIComponent(e.streamId.slice(4))}`}>{e.streamId}</a> : e.streamId}
                    </td>
                    <td>{formatDateTime(e.occurredAt)}</td>
                    <td className="mono small">{actorOf(e.actor)}</td>
                    <td>
                      <details>
                        <summary>data</summary>
                        <pre className="code">{toPrettyJson(e.data)}</pre>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {items.length === 0 && <p className="muted">No events match.</p>}
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
                setHistory((h) => [...h, after]);
                setParam('after', String(events.data.nextAfter));
              }}
            >
              Next →
            </button>
          </div>
        </section>
      )}
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
  const start = useMutation({ mutationFn: () => api.startReplay(), onSuccess: () => setPolling(true) });
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
      <button
        type="button"
        className="btn"
        disabled={start.isPending || (polling && !isDone(status.data))}
        onClick={() => window.confirm('Rebuild every read model from the log? Reads may lag until it finishes.') && start.mutate()}
      >
        Replay (rebuild read models)
      </button>
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
  const parts = [data.state, data.phase, `${data.processed}/${data.total} events`];
  if (data.differenceCount !== null) parts.push(`${data.differenceCount} differences`);
  return { pct, text: parts.filter(Boolean).join(' · ') };
}
