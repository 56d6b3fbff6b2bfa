import { natsNames, type DeadLetterView } from '@conclave/contracts';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, type DeadLetterFilters } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDateTime, toPrettyJson } from '../lib/format';
import { Button } from '../ui/Button';
import { DataTable, LoadMore, type Column } from '../ui/DataTable';
import { Dialog, DialogClose, DialogContent, DialogTrigger } from '../ui/Dialog';
import { ErrorNotice } from '../ui/ErrorNotice';
import { SelectField } from '../ui/Select';
import { HandledState, StatusBadge } from '../ui/StatusBadge';
import { notifyDone, notifyRefused } from '../ui/toast';

const PAGE_SIZE = 50;
/** no socket room carries dead letters: the list is polled */
export const DEAD_LETTERS_POLL_MS = 10_000;

type State = NonNullable<DeadLetterFilters['state']>;
const STATES: { value: State; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'redriven', label: 'Redriven' },
  { value: 'all', label: 'All' },
];
const stateParam = (v: string | null): State => (v === 'redriven' || v === 'all' ? v : 'open');

const CONSUMER_OPTIONS = [{ value: '', label: 'All' }, ...[...new Set(Object.values(natsNames().consumers))].sort().map((c) => ({ value: c, label: c }))];

/** reasons in the run statuses' palette */
const REASON_BADGE: Record<DeadLetterView['reason'], string> = { undecodable: 'failed', max_deliver: 'paused', rejected: 'rejected' };
const REASON_LABEL: Record<DeadLetterView['reason'], string> = { undecodable: 'undecodable', max_deliver: 'deliveries used up', rejected: 'rejected' };

/**
 * Dead letters (issue 11 §2): messages a consumer gave up on, with why, where from and a
 * redrive. Filters (`state`, `consumer`, `runId`) live in the query string. Polled every 10 s; after a
 * redrive the list is read again with the redrive's sequence as `min_sequence`.
 */
export default function DeadLettersPage() {
  const [params, setParams] = useSearchParams();
  const filters: DeadLetterFilters = useMemo(
    () => ({ state: stateParam(params.get('state')), consumer: params.get('consumer') || undefined, runId: params.get('runId') || undefined }),
    [params],
  );
  const qc = useQueryClient();
  const minSequence = useRef<number | undefined>(undefined);
  const [redriven, setRedriven] = useState<string | null>(null);

  const list = useInfiniteQuery({
    queryKey: keys.deadLetterList(filters),
    queryFn: ({ pageParam, signal }) => api.deadLetters({ ...filters, cursor: pageParam, limit: PAGE_SIZE }, { minSequence: minSequence.current, signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: DEAD_LETTERS_POLL_MS,
  });
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);

  const setFilter = (name: 'state' | 'consumer', value: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value && !(name === 'state' && value === 'open')) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );

  const onRedriven = useCallback(
    (id: string, sequence: number) => {
      minSequence.current = Math.max(minSequence.current ?? 0, sequence);
      setRedriven(id);
      void qc.invalidateQueries({ queryKey: keys.deadLetters() });
    },
    [qc],
  );
  const columns = useMemo(() => deadLetterColumns(onRedriven), [onRedriven]);
  const filtered = filters.state !== 'open' || Boolean(filters.consumer || filters.runId);

  return (
    <div className="page">
      <title>Dead letters · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Dead letters</h1>
          <p className="muted">Messages a consumer gave up on: deliveries used up, not decodable, or refused. Redrive one once its cause is fixed.</p>
        </div>
      </header>

      <form className="toolbar" role="search" aria-label="Dead letter filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field field--inline">
          <span id="dead-letters-state">State</span>
          <div className="actions" role="group" aria-labelledby="dead-letters-state">
            {STATES.map((s) => (
              <Button key={s.value} size="small" variant={filters.state === s.value ? 'primary' : 'ghost'} aria-pressed={filters.state === s.value} onClick={() => setFilter('state', s.value)}>
                {s.label}
              </Button>
            ))}
          </div>
        </div>
        <SelectField fieldClassName="field--inline" label="Consumer" value={filters.consumer ?? ''} onValueChange={(v) => setFilter('consumer', v)} options={CONSUMER_OPTIONS} />
        {filters.runId && (
          <div className="field field--inline">
            <span>Run</span>
            <Link to={`/runs/${encodeURIComponent(filters.runId)}`} className="mono" aria-label={`Only run ${filters.runId}`}>
              {filters.runId}
            </Link>
          </div>
        )}
        {filtered && (
          <Button variant="ghost" size="small" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </Button>
        )}
      </form>

      {redriven && (
        <div className="notice" role="status">
          Dead letter {redriven} was handed back to its consumer. If it fails again it comes back here as a new dead letter.
        </div>
      )}

      <DataTable
        caption="Dead letters"
        columns={columns}
        rows={rows}
        rowKey={(d) => d.id}
        rowProps={(d) => ({ 'data-testid': 'dead-letter-row', 'data-id': d.id, 'data-state': d.redrivenAt ? 'redriven' : 'open' })}
        state={list}
        loadingLabel="Loading dead letters…"
        feature="Dead letters"
        empty={<p>{filtered ? 'No dead letters match these filters.' : 'No open dead letters: every consumer is keeping up.'}</p>}
        footer={<LoadMore query={list} />}
      />
    </div>
  );
}

const deadLetterColumns = (onRedriven: (id: string, sequence: number) => void): Column<DeadLetterView>[] => [
  { id: 'consumer', header: 'Consumer', cell: (d) => d.consumer, className: 'mono' },
  {
    id: 'subject',
    header: 'Subject',
    cell: (d) => (
      <>
        <span className="mono">{d.subject}</span>
        <div className="muted small">
          {d.stream} #{d.streamSequence}
        </div>
      </>
    ),
  },
  { id: 'reason', header: 'Reason', cell: (d) => <StatusBadge status={REASON_BADGE[d.reason]} label={REASON_LABEL[d.reason]} /> },
  { id: 'error', header: 'Error', cell: (d) => <ErrorAndPayload deadLetter={d} /> },
  { id: 'deliveries', header: 'Deliveries', numeric: true, cell: (d) => d.deliveries },
  { id: 'run', header: 'Run', cell: (d) => (d.runId ? <Link to={`/runs/${encodeURIComponent(d.runId)}`} className="mono">{d.runId}</Link> : <span className="muted">—</span>) },
  { id: 'deadAt', header: 'Dead at', cell: (d) => formatDateTime(d.deadAt) },
  {
    id: 'state',
    header: 'State',
    cell: (d) => <HandledState at={d.redrivenAt} by={d.redrivenBy} label="redriven" />,
  },
  { id: 'actions', header: <span className="sr-only">Actions</span>, cell: (d) => (d.redrivenAt ? null : <RedriveButton deadLetter={d} onRedriven={onRedriven} />) },
];

/** The error, and the payload's first 4 KiB behind a disclosure (pretty-printed when it is whole JSON). */
function ErrorAndPayload({ deadLetter: d }: { deadLetter: DeadLetterView }) {
  return (
    <>
      <div className="max-w-[32rem] whitespace-pre-wrap break-words">{d.error || <span className="muted">—</span>}</div>
      <details className="notice__details">
        <summary>Payload{d.truncated ? ' (truncated)' : ''}</summary>
        {d.payloadPreview ? <pre className="code">{prettyPayload(d.payloadPreview)}</pre> : <p className="muted">empty</p>}
      </details>
    </>
  );
}

function prettyPayload(text: string): string {
  try {
    return toPrettyJson(JSON.parse(text));
  } catch {
    return text;
  }
}

/** Redrive after a confirmation; a refusal (already redriven, truncated payload, refused again, unavailable) stays in the dialog. */
function RedriveButton({ deadLetter: d, onRedriven }: { deadLetter: DeadLetterView; onRedriven: (id: string, sequence: number) => void }) {
  const [open, setOpen] = useState(false);
  const redrive = useMutation({
    mutationFn: () => api.redriveDeadLetter(d.id),
    onSuccess: (reply) => {
      notifyDone(`Dead letter ${d.id} redriven`, `handed back to ${d.consumer}`);
      setOpen(false);
      onRedriven(d.id, reply.sequence);
    },
    onError: (error) => notifyRefused(`Redriving dead letter ${d.id} was refused`, error),
  });
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) redrive.reset();
      }}
    >
      <DialogTrigger asChild>
        <Button size="small" aria-label={`Redrive dead letter ${d.id}`}>
          Redrive
        </Button>
      </DialogTrigger>
      <DialogContent
        title={`Redrive dead letter ${d.id}?`}
        description={`The message of ${d.subject} goes back to ${d.consumer}. Do this once the cause (${REASON_LABEL[d.reason]}) is fixed: if it fails again it becomes a new dead letter.`}
      >
        {redrive.isError && <ErrorNotice error={redrive.error} title="The orchestrator refused the redrive" />}
        <div className="actions">
          <Button variant="primary" onClick={() => redrive.mutate()} disabled={redrive.isPending}>
            {redrive.isPending ? 'Redriving…' : 'Redrive'}
          </Button>
          <DialogClose asChild>
            <Button>Cancel</Button>
          </DialogClose>
        </div>
      </DialogContent>
    </Dialog>
  );
}
