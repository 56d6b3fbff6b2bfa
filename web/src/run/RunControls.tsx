import type { PhaseView, RunView } from '@conclave/contracts';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDateTime, formatUsd, shortSha, toPrettyJson } from '../lib/format';
import { isTerminal } from '../runs/run-summary';
import { Button } from '../ui/Button';
import { Dialog, DialogContent, DialogTrigger } from '../ui/Dialog';
import { describeCommandError, isMissingEndpoint } from '../ui/feature-errors';
import { Select } from '../ui/Select';
import { toastOutcome, type CommandLabels } from '../ui/toast';
import { Tooltip } from '../ui/Tooltip';
import { BudgetPolicySummary } from './BudgetPolicy';
import { allowedPhaseActions, allowedRunActions, modelChoices } from './run-actions';

/** After a command: the page refetches with `min_sequence` so it reads its own write. */
export type OnSequence = (sequence: number) => void;

/** A run command: its outcome is toasted (`labels`: what to say when done / refused), then the page reads its own write. */
function useCommand<TArgs>(fn: (args: TArgs) => Promise<{ sequence: number }>, labels: CommandLabels<TArgs>, onSequence: OnSequence, after?: () => void) {
  const toasts = toastOutcome<{ sequence: number }, TArgs>(labels);
  return useMutation({
    mutationFn: fn,
    onSuccess: (result, args) => {
      toasts.onSuccess(result, args);
      onSequence(result.sequence);
      after?.();
    },
    onError: toasts.onError,
  });
}

const RUN_COMMAND_LABELS: Record<'pause' | 'resume' | 'continue', readonly [string, string]> = {
  pause: ['Run paused', 'Pause refused'],
  resume: ['Run resumed', 'Resume refused'],
  continue: ['Run continued', 'Continue refused'],
};

function CommandError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert">
      {describeCommandError(error)}
    </p>
  );
}

/** A toolbar button that opens its form in a modal dialog (Radix: focus trap, Esc, focus back on the button). */
function ControlDialog({
  label,
  title,
  children,
  open,
  onOpenChange,
  variant,
  wide,
}: {
  label: string;
  title: ReactNode;
  children: ReactNode;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  variant?: 'danger';
  wide?: boolean;
}) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogTrigger asChild>
        <Button size="small" variant={variant}>
          {label}
        </Button>
      </DialogTrigger>
      <DialogContent title={title} wide={wide}>
        {children}
      </DialogContent>
    </Dialog>
  );
}

/* ------------------------------------------------------------------ run-level toolbar */

export function RunToolbar({ view, onSequence }: { view: RunView; onSequence: OnSequence }) {
  const allowed = allowedRunActions(view);
  const navigate = useNavigate();
  const [open, setOpen] = useState<null | 'cancel' | 'rollback' | 'budget'>(null);
  const dialog = (name: NonNullable<typeof open>) => ({ open: open === name, onOpenChange: (o: boolean) => setOpen(o ? name : null) });
  const simple = useCommand((command: 'pause' | 'resume' | 'continue') => api.runCommand(view.id, command), (command) => RUN_COMMAND_LABELS[command], onSequence);
  const rerunToasts = toastOutcome<{ id: string }, void>(() => ['Re-run started', 'Re-run refused'], (r) => `New run ${r.id}`);
  const rerun = useMutation({
    mutationFn: () => api.rerun(view.id),
    onSuccess: (r) => {
      rerunToasts.onSuccess(r);
      navigate(`/runs/${encodeURIComponent(r.id)}?min_sequence=${r.sequence}`);
    },
    onError: rerunToasts.onError,
  });
  // Archiving is a read-model flag, not a log event: refetch the run to show it.
  const archiveToasts = toastOutcome<unknown, boolean>((archived) => (archived ? ['Run archived', 'Archiving refused'] : ['Run unarchived', 'Unarchiving refused']));
  const archive = useMutation({
    mutationFn: (archived: boolean) => api.archiveRun(view.id, archived),
    onSuccess: (r, archived) => {
      archiveToasts.onSuccess(r, archived);
      onSequence(view.sequence);
    },
    onError: archiveToasts.onError,
  });

  return (
    <div className="run-toolbar" role="toolbar" aria-label="Run controls">
      <div className="run-toolbar__buttons">
        {allowed.pause && (
          <button type="button" className="btn btn--small" disabled={simple.isPending} onClick={() => simple.mutate('pause')}>
            Pause
          </button>
        )}
        {allowed.resume && (
          <button type="button" className="btn btn--small btn--primary" disabled={simple.isPending} onClick={() => simple.mutate('resume')}>
            Resume
          </button>
        )}
        {allowed.continue && (
          <button type="button" className="btn btn--small btn--primary" disabled={simple.isPending} onClick={() => simple.mutate('continue')}>
            Continue ({view.pending.continue.join(', ')})
          </button>
        )}
        {allowed.cancel && (
          <ControlDialog label="Cancel run…" title="Cancel the run" variant="danger" {...dialog('cancel')}>
            <CancelForm runId={view.id} onSequence={onSequence} onDone={() => setOpen(null)} />
          </ControlDialog>
        )}
        {allowed.rollback && (
          <ControlDialog label="Roll back…" title="Roll back to a checkpoint" {...dialog('rollback')}>
            <RollbackForm runId={view.id} sequence={view.sequence} onSequence={onSequence} onDone={() => setOpen(null)} />
          </ControlDialog>
        )}
        <Tooltip content="Start a new run with the same template version and inputs">
          <Button size="small" disabled={rerun.isPending} onClick={() => rerun.mutate()}>
            Re-run
          </Button>
        </Tooltip>
        {view.archived ? (
          <Tooltip content="Show this run in the runs list again">
            <Button size="small" variant="ghost" disabled={archive.isPending} onClick={() => archive.mutate(false)}>
              Unarchive
            </Button>
          </Tooltip>
        ) : (
          isTerminal(view.status) && (
            <Tooltip content="Hide this run from the runs list (the Archived filter still shows it)">
              <Button size="small" variant="ghost" disabled={archive.isPending} onClick={() => archive.mutate(true)}>
                Archive
              </Button>
            </Tooltip>
          )
        )}
        <ControlDialog label={`Budget: ${view.budgetUsd === null ? 'none' : formatUsd(view.budgetUsd)}${steered(view) ? ' · steered' : ''}`} title="Budget" {...dialog('budget')}>
          <BudgetForm view={view} onSequence={onSequence} onDone={() => setOpen(null)} />
        </ControlDialog>
      </div>
      <CommandError error={simple.error ?? rerun.error ?? archive.error} />
    </div>
  );
}

function CancelForm({ runId, onSequence, onDone }: { runId: string; onSequence: OnSequence; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const cancel = useCommand(() => api.runCommand(runId, 'cancel', reason.trim() ? { reason: reason.trim() } : {}), () => ['Run cancelled', 'Cancel refused'], onSequence, onDone);
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        cancel.mutate(undefined);
      }}
    >
      <p>In-flight LLM calls are aborted; a cancelled run cannot be resumed (you can re-run or fork it).</p>
      <label className="field">
        Reason (optional)
        <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
      </label>
      <div className="actions">
        <button type="submit" className="btn btn--danger" disabled={cancel.isPending}>
          Cancel the run
        </button>
      </div>
      <CommandError error={cancel.error} />
    </form>
  );
}

function RollbackForm({ runId, sequence, onSequence, onDone }: { runId: string; sequence: number; onSequence: OnSequence; onDone: () => void }) {
  const checkpoints = useQuery({ queryKey: keys.checkpoints(runId), queryFn: ({ signal }) => api.checkpoints(runId, { minSequence: sequence, signal }) });
  const [choice, setChoice] = useState('');
  const rollback = useCommand((id: string) => api.rollback(runId, id), (id) => [`Rolled back to ${id}`, 'Roll back refused'], onSequence, onDone);
  if (checkpoints.isPending) return <p className="muted">Loading checkpoints…</p>;
  if (checkpoints.isError)
    return <p className="form-error">{isMissingEndpoint(checkpoints.error) ? 'Checkpoints are not available on this gateway yet.' : describeCommandError(checkpoints.error)}</p>;
  const items = checkpoints.data.items.map((c) => ({ ...c, key: c.id }));
  if (items.length === 0) return <p className="muted">No checkpoint yet: one is recorded after each completed phase.</p>;
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        if (choice) rollback.mutate(choice);
      }}
    >
      <fieldset className="radio-list">
        <legend>Roll back to the state after…</legend>
        {items.map((c) => (
          <label key={c.key} className="field--inline">
            <input type="radio" name="checkpoint" value={c.key} checked={choice === c.key} onChange={() => setChoice(c.key)} />
            phase <code>{c.phaseId}</code>{' '}
            <span className="muted">
              {formatDateTime(c.createdAt)} · {c.completedPhaseIds.length} phases done
              {c.commit ? (
                <>
                  {' '}
                  · the run branch goes back to <code title={c.commit}>{shortSha(c.commit)}</code>
                </>
              ) : null}
            </span>
          </label>
        ))}
      </fieldset>
      <div className="actions">
        <button type="submit" className="btn btn--primary" disabled={!choice || rollback.isPending}>
          Roll back
        </button>
      </div>
      <CommandError error={rollback.error} />
    </form>
  );
}

/** A budget policy rule fired: later phases run shrunk or switched, or the run paused or stopped for it. */
const steered = (view: RunView) => (view.budgetPolicy?.decisions.length ?? 0) > 0;

function BudgetForm({ view, onSequence, onDone }: { view: RunView; onSequence: OnSequence; onDone: () => void }) {
  const [value, setValue] = useState(String(view.budgetUsd ?? Math.max(1, Math.ceil(view.costUsd * 2))));
  const raise = useCommand((usd: number) => api.setBudget(view.id, usd), (usd) => [`Budget set to ${formatUsd(usd)}`, 'Budget change refused'], onSequence, onDone);
  const usd = Number(value);
  const invalid = !Number.isFinite(usd) || usd <= 0 || usd < view.costUsd;
  const pct = view.budgetUsd ? Math.min(100, Math.round((view.costUsd / view.budgetUsd) * 100)) : null;
  return (
    <form
      className="form"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        if (!invalid) raise.mutate(usd);
      }}
    >
      <p>
        Spent {formatUsd(view.costUsd)}
        {view.budgetUsd !== null && (
          <>
            {' '}
            of {formatUsd(view.budgetUsd)} ({pct}%)
          </>
        )}
        . A run that would exceed its budget pauses instead of failing.
      </p>
      {pct !== null && <progress max={100} value={pct} aria-label="Budget used" />}
      <BudgetPolicySummary view={view} />
      <label className="field">
        New budget (USD)
        <input type="number" min={0.01} step={0.01} value={value} onChange={(e) => setValue(e.target.value)} aria-invalid={invalid} disabled={isTerminal(view.status)} />
      </label>
      <div className="actions">
        <button type="submit" className="btn btn--primary" disabled={invalid || raise.isPending || isTerminal(view.status)}>
          Set budget
        </button>
      </div>
      <CommandError error={raise.error} />
    </form>
  );
}

/* ------------------------------------------------------------------ banners */

export function PausedBanner({ view }: { view: RunView }) {
  if (view.status !== 'paused') return null;
  const reason = view.pauseReason;
  return (
    <div className="notice notice--warn" role="status">
      <strong>Paused{reason ? ` (${reason.code === 'budget' ? 'budget' : reason.code === 'provider_outage' ? 'provider outage' : 'by a user'})` : ''}.</strong>{' '}
      {reason?.message && `${reason.message.replace(/[.\s]+$/, '')}.`}
      {reason?.provider && (
        <>
          {' '}
          Provider: <code>{reason.provider}</code>.
        </>
      )}
      {/* a budget pause says what to do itself: raise and resume (over budget), or resume (a policy's pause) */}
      {reason?.code === 'budget' ? null : ' Resume to go on.'}
    </div>
  );
}

/** Workers whose heartbeats stopped: their candidates are redispatched after the timeout. */
export function StalledWorkersWarning({ active }: { active: boolean }) {
  const workers = useQuery({ queryKey: keys.workers(), queryFn: ({ signal }) => api.workers({ signal }), enabled: active, refetchInterval: 15_000, retry: false });
  const stalled = workers.data?.items.filter((w) => w.status === 'stalled') ?? [];
  if (stalled.length === 0) return null;
  return (
    <div className="notice notice--warn" role="status">
      <strong>
        {stalled.length} worker{stalled.length > 1 ? 's' : ''} stalled
      </strong>{' '}
      ({stalled.map((w) => w.id).join(', ')}). Their in-flight candidates are redispatched to another worker; see the <a href="/fleet">fleet</a>.
    </div>
  );
}

/* ------------------------------------------------------------------ what the run waits on */

export function PendingPanel({ view, onSequence }: { view: RunView; onSequence: OnSequence }) {
  const { gates, questions } = view.pending;
  if (gates.length === 0 && questions.length === 0) return null;
  return (
    <section className="card card--attention" aria-labelledby="pending-heading">
      <div className="card__head">
        <h2 id="pending-heading">Waiting for you</h2>
      </div>
      {gates.map((g) => (
        <GateForm key={g.phaseId} runId={view.id} phaseId={g.phaseId} message={g.message} onSequence={onSequence} />
      ))}
      {questions.map((q) => (
        <QuestionsForm key={q.phaseId} runId={view.id} phaseId={q.phaseId} questions={q.questions} onSequence={onSequence} />
      ))}
    </section>
  );
}

function GateForm({ runId, phaseId, message, onSequence }: { runId: string; phaseId: string; message: string; onSequence: OnSequence }) {
  const [comment, setComment] = useState('');
  const decide = useCommand(
    (decision: 'approve' | 'reject') => api.phaseCommand(runId, phaseId, decision, comment.trim() ? { comment: comment.trim() } : {}),
    (decision) => (decision === 'approve' ? [`Gate ${phaseId} approved`, 'Approval refused'] : [`Gate ${phaseId} rejected`, 'Rejection refused']),
    onSequence,
  );
  const id = useId();
  return (
    <form className="form gate-form" aria-labelledby={id} onSubmit={(e) => e.preventDefault()}>
      <h3 id={id}>
        Gate <code>{phaseId}</code>
      </h3>
      <p className="gate-form__message">{message}</p>
      <label className="field">
        Comment (optional)
        <textarea rows={2} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={4000} />
      </label>
      <div className="actions">
        <button type="button" className="btn btn--primary" disabled={decide.isPending} onClick={() => decide.mutate('approve')}>
          Approve
        </button>
        <button type="button" className="btn btn--danger" disabled={decide.isPending} onClick={() => decide.mutate('reject')}>
          Reject
        </button>
      </div>
      <CommandError error={decide.error} />
    </form>
  );
}

function QuestionsForm({
  runId,
  phaseId,
  questions,
  onSequence,
}: {
  runId: string;
  phaseId: string;
  questions: { id: string; question: string; why?: string }[];
  onSequence: OnSequence;
}) {
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const submit = useCommand(
    () => api.phaseCommand(runId, phaseId, 'answer', { answers: questions.map((q) => ({ question: q.question, answer: answers[q.id] ?? '' })) }),
    () => [`Answers to ${phaseId} submitted`, 'Answers refused'],
    onSequence,
  );
  const id = useId();
  const answered = questions.filter((q) => (answers[q.id] ?? '').trim().length > 0).length;
  const complete = answered === questions.length;
  return (
    <form
      className="form"
      aria-labelledby={id}
      onSubmit={(e) => {
        e.preventDefault();
        if (complete) submit.mutate(undefined);
      }}
    >
      <h3 id={id}>
        Questions from <code>{phaseId}</code>
      </h3>
      {questions.map((q, i) => (
        <label key={q.id} className="field">
          <span>
            {i + 1}. {q.question}
          </span>
          {q.why && <span className="muted small">{q.why}</span>}
          <textarea rows={2} required value={answers[q.id] ?? ''} onChange={(e) => setAnswers((a) => ({ ...a, [q.id]: e.target.value }))} maxLength={20_000} />
        </label>
      ))}
      <div className="actions">
        <button type="submit" className="btn btn--primary" disabled={!complete || submit.isPending}>
          Submit answers
        </button>
        <span className="muted" aria-live="polite" data-testid="answer-progress">
          {answered} of {questions.length} answered
        </span>
      </div>
      <CommandError error={submit.error} />
    </form>
  );
}

/* ------------------------------------------------------------------ phase actions */

export function PhaseActions({ view, phase, onSequence }: { view: RunView; phase: PhaseView; onSequence: OnSequence }) {
  const allowed = allowedPhaseActions(view, phase);
  const navigate = useNavigate();
  const [open, setOpen] = useState<null | 'retry' | 'accept'>(null);
  const dialog = (name: NonNullable<typeof open>) => ({ open: open === name, onOpenChange: (o: boolean) => setOpen(o ? name : null) });
  const skip = useCommand(() => api.phaseCommand(view.id, phase.id, 'skip'), () => [`Phase ${phase.id} skipped`, 'Skip refused'], onSequence);
  const forkToasts = toastOutcome<{ id: string }, void>(() => [`Forked from ${phase.id}`, 'Fork refused'], (r) => `New run ${r.id}`);
  const fork = useMutation({
    mutationFn: () => api.fork(view.id, phase.id),
    onSuccess: (r) => {
      forkToasts.onSuccess(r);
      navigate(`/runs/${encodeURIComponent(r.id)}?min_sequence=${r.sequence}`);
    },
    onError: forkToasts.onError,
  });
  return (
    <div className="run-toolbar" role="toolbar" aria-label={`Actions on phase ${phase.id}`}>
      <div className="run-toolbar__buttons">
        {allowed.retry && (
          <ControlDialog label="Retry…" title={<>Retry phase <code>{phase.id}</code></>} {...dialog('retry')}>
            <RetryForm view={view} phase={phase} onSequence={onSequence} onDone={() => setOpen(null)} />
          </ControlDialog>
        )}
        {allowed.accept && (
          <ControlDialog label="Accept output…" title={<>Accept the output of <code>{phase.id}</code></>} wide {...dialog('accept')}>
            <AcceptForm runId={view.id} phase={phase} onSequence={onSequence} onDone={() => setOpen(null)} />
          </ControlDialog>
        )}
        {allowed.skip && (
          <button type="button" className="btn btn--small" disabled={skip.isPending} onClick={() => skip.mutate(undefined)}>
            Skip
          </button>
        )}
        {allowed.fork && (
          <Tooltip content="A new run from this phase, reusing the recorded upstream outputs">
            <Button size="small" disabled={fork.isPending} onClick={() => fork.mutate()}>
              Fork from here
            </Button>
          </Tooltip>
        )}
      </div>
      <CommandError error={skip.error ?? fork.error} />
    </div>
  );
}

function RetryForm({ view, phase, onSequence, onDone }: { view: RunView; phase: PhaseView; onSequence: OnSequence; onDone: () => void }) {
  const providers = useQuery({ queryKey: keys.providers(), queryFn: ({ signal }) => api.listProviders({ signal }), retry: false });
  const first = phase.candidates[0];
  const [provider, setProvider] = useState('');
  const [model, setModel] = useState('');
  const retry = useCommand(
    () => api.phaseCommand(view.id, phase.id, 'retry', provider ? { provider, ...(model ? { model } : {}) } : {}),
    () => [`Phase ${phase.id} retried${provider ? ` with ${provider}${model ? ` / ${model}` : ''}` : ''}`, 'Retry refused'],
    onSequence,
    onDone,
  );
  const id = useId();
  const known = providers.data?.items.filter((p) => p.enabled !== false) ?? [];
  const choices = modelChoices(known.find((p) => p.name === provider), view, provider);
  const [typing, setTyping] = useState(false);
  const custom = typing || choices.length === 0;
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        retry.mutate(undefined);
      }}
    >
      <p className="muted">
        Attempt {phase.attempt + 1}. Leave the provider as it is to retry with the template's models
        {first ? ` (e.g. ${first.provider}/${first.model})` : ''}.
      </p>
      <div className="form__row">
        <div className="field">
          <span id={`${id}-provider`}>Provider</span>
          {known.length > 0 ? (
            <Select
              aria-labelledby={`${id}-provider`}
              value={provider}
              onValueChange={(v) => {
                setProvider(v);
                setModel('');
                setTyping(false);
              }}
              options={[{ value: '', label: 'same as before' }, ...known.map((p) => ({ value: p.name, label: `${p.name} (${p.kind})` }))]}
            />
          ) : (
            <input aria-labelledby={`${id}-provider`} value={provider} onChange={(e) => setProvider(e.target.value)} placeholder="same as before" />
          )}
        </div>
        <div className="field">
          <span id={`${id}-model`}>Model</span>
          {custom ? (
            <input aria-labelledby={`${id}-model`} value={model} onChange={(e) => setModel(e.target.value)} disabled={!provider} placeholder={provider ? 'model name' : '—'} />
          ) : (
            <Select
              aria-labelledby={`${id}-model`}
              value={model}
              placeholder="choose a model"
              onValueChange={(v) => (v === OTHER_MODEL ? (setTyping(true), setModel('')) : setModel(v))}
              options={[...choices.map((m) => ({ value: m, label: m })), { value: OTHER_MODEL, label: 'Other model…' }]}
            />
          )}
        </div>
      </div>
      <div className="actions">
        <Button type="submit" variant="primary" disabled={retry.isPending || (provider !== '' && model === '')}>
          Retry phase
        </Button>
      </div>
      <CommandError error={retry.error} />
    </form>
  );
}

const OTHER_MODEL = '__other__';

function AcceptForm({ runId, phase, onSequence, onDone }: { runId: string; phase: PhaseView; onSequence: OnSequence; onDone: () => void }) {
  const rejected = phase.candidates.find((c) => c.status === 'rejected');
  // Refused by the worker (output_invalid): the log keeps no raw output, so one must be typed in.
  const invalid = rejected ?? phase.candidates.find((c) => c.error?.code === 'output_invalid');
  const original = rejected ? toPrettyJson(rejected.output ?? null) : '{}';
  const [text, setText] = useState(original);
  let parsed: { ok: true; value: unknown } | { ok: false; message: string };
  try {
    parsed = { ok: true, value: JSON.parse(text) };
  } catch (err) {
    parsed = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  const asIs = rejected !== undefined && text === original;
  const accept = useCommand(
    () => api.phaseCommand(runId, phase.id, 'accept', asIs || !parsed.ok ? {} : { output: parsed.value }),
    () => [`Output of ${phase.id} accepted`, 'Accept refused'],
    onSequence,
    onDone,
  );
  const id = useId();
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        if (parsed.ok) accept.mutate(undefined);
      }}
    >
      {invalid?.error && (
        <p className="muted">
          Rejected because: <code>{invalid.error.message}</code>
        </p>
      )}
      <label className="field" htmlFor={id}>
        {rejected ? 'Output (JSON; edit it to replace the rejected one)' : 'Output (JSON; the rejected output was not recorded: type the one to use)'}
      </label>
      <textarea id={id} className="code-input" rows={10} value={text} onChange={(e) => setText(e.target.value)} aria-invalid={!parsed.ok} spellCheck={false} />
      {!parsed.ok && <p className="form-error">{parsed.message}</p>}
      <div className="actions">
        <button type="submit" className="btn btn--primary" disabled={!parsed.ok || accept.isPending}>
          {asIs ? 'Accept as is' : 'Accept edited output'}
        </button>
      </div>
      <CommandError error={accept.error} />
    </form>
  );
}
