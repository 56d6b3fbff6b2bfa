import type { StudyBody, StudyEstimate, StudyItemView, StudyPhaseReport, StudySummary, StudyView } from '@conclave/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDateTime, formatUsd } from '../lib/format';
import { useRoom } from '../live/use-room';
import { candidateLabel } from '../run/candidate-label';
import { Button } from '../ui/Button';
import { ErrorNotice } from '../ui/ErrorNotice';
import { JsonBlock } from '../ui/JsonBlock';
import { Loading } from '../ui/Loading';
import { SelectField } from '../ui/Select';
import { StatusBadge } from '../ui/StatusBadge';
import { notifyDone, notifyRefused } from '../ui/toast';
import { storyApi } from '../run/story/api';
import { estimateStudy, getStudy, listStudies, sawSequence, seenForStudy, startStudy, studyKeys } from './api';
import './judge-lab.css';

const pct = (n: number | null) => (n === null ? '—' : `${(n * 100).toFixed(1)}%`);
const num = (n: number | null, digits = 3) => (n === null ? '—' : n.toFixed(digits));
const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
/** a study not completed is refetched this often besides its room's events (a safety net, not the live path) */
const STUDY_RUNNING_REFETCH_MS = 10_000;
/** a `from`/`to` of the URL (a date or an ISO date-time, as the frontier's back-test link gives) as a date input's YYYY-MM-DD */
const dayOf = (v: string | null) => (v && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : '');

/**
 * The Judge lab (issue 15 §1, ADR 023): judge the stored candidates of past runs again with another
 * judge or rubric, and see how often the winner would have changed. The form asks for the estimate
 * first and starts the study with it (confirming a large one); the study's progress arrives live
 * over its socket room; its report gives per phase the flip rate with a 95 % interval, the score
 * shift per criterion, the agreement of the two judges and the flip matrix, and every flip opens
 * the two candidates side by side. `?study=<id>&item=<itemId>` is the state: share it. The
 * frontier's back-test link fills the form from `?templateId=&phases=&from=&to=`.
 */
export default function JudgeLabPage() {
  const [search, setSearch] = useSearchParams();
  const studyId = search.get('study');
  const itemId = search.get('item');
  const open = (id: string, item?: string) => setSearch(item ? { study: id, item } : { study: id });

  return (
    <div className="page">
      <title>Judge lab · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Judge lab</h1>
          <p className="muted">Judge past runs’ stored candidates again with another judge or rubric — the producers are never called — and see how often the winner changes.</p>
        </div>
      </header>
      <div className="judge-lab">
        <StudyForm search={search} onStarted={(id) => open(id)} />
        <StudyList selected={studyId} onOpen={open} />
      </div>
      {studyId && <StudyDetail key={studyId} id={studyId} itemId={itemId} onOpenItem={(item) => open(studyId, item)} />}
    </div>
  );
}

/* ------------------------------------------------------------------ the form: estimate, then start */
function StudyForm({ search, onStarted }: { search: URLSearchParams; onStarted: (id: string) => void }) {
  const ids = useId();
  const templates = useQuery({ queryKey: keys.templates(), queryFn: ({ signal }) => api.listTemplates({ signal }) });
  const providers = useQuery({ queryKey: keys.providers(), queryFn: ({ signal }) => api.listProviders({ signal }) });
  const [scope, setScope] = useState<'template' | 'runs'>(search.get('runs') ? 'runs' : 'template');
  const [templateId, setTemplateId] = useState(search.get('templateId') ?? '');
  const [from, setFrom] = useState(dayOf(search.get('from')));
  const [to, setTo] = useState(dayOf(search.get('to')));
  const [runIds, setRunIds] = useState(search.get('runs') ?? '');
  const [phases, setPhases] = useState(search.get('phases') ?? '');
  const [provider, setProvider] = useState('simulated');
  const [model, setModel] = useState('sim-judge');
  const [criteria, setCriteria] = useState('');
  const [rubric, setRubric] = useState('');
  const [budget, setBudget] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const [estimate, setEstimate] = useState<{ body: string; value: StudyEstimate } | null>(null);

  const body = useMemo((): StudyBody => {
    const day = (d: string, end: boolean) => (d ? new Date(`${d}T00:00:00Z`).getTime() + (end ? 86_400_000 : 0) : null);
    const fromMs = day(from, false);
    const toMs = day(to, true);
    return {
      runs: scope === 'runs' ? list(runIds.replace(/\s+/g, ',')) : { templateId, ...(fromMs !== null ? { from: new Date(fromMs).toISOString() } : {}), ...(toMs !== null ? { to: new Date(toMs).toISOString() } : {}) },
      ...(list(phases).length ? { phases: list(phases) } : {}),
      judge: { provider, model, ...(list(criteria).length ? { criteria: list(criteria) } : {}), ...(rubric.trim() ? { rubric: rubric.trim() } : {}) },
      ...(budget && Number(budget) > 0 ? { budgetUsd: Number(budget) } : {}),
    };
  }, [scope, runIds, templateId, from, to, phases, provider, model, criteria, rubric, budget]);
  const bodyKey = JSON.stringify(body);
  const current = estimate?.body === bodyKey ? estimate.value : null;

  const estimating = useMutation({
    mutationFn: () => estimateStudy(body),
    onSuccess: (value) => {
      setEstimate({ body: bodyKey, value });
      setConfirmed(false);
    },
  });
  const starting = useMutation({
    mutationFn: () => startStudy({ ...body, ...(current?.confirmRequired ? { confirm: confirmed } : {}) }),
    onSuccess: (accepted) => {
      sawSequence(accepted.sequence, accepted.id);
      notifyDone('Study started', `${accepted.estimate.items} verdicts to judge again`);
      setEstimate(null);
      onStarted(accepted.id);
    },
    onError: (error) => notifyRefused('Study refused', error),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (current) starting.mutate();
    else estimating.mutate();
  };
  const providerOptions = [{ value: 'simulated', label: 'simulated' }, ...(providers.data?.items ?? []).filter((p) => p.name !== 'simulated' && p.enabled).map((p) => ({ value: p.name, label: `${p.name} (${p.kind})` }))];
  const templateOptions = (templates.data?.items ?? []).map((t) => ({ value: t.id, label: t.name }));
  const canEstimate = Array.isArray(body.runs) ? body.runs.length > 0 : templateId !== '';

  return (
    <form className="card judge-lab__form" aria-labelledby={`${ids}-h`} onSubmit={submit} data-testid="study-form">
      <h2 id={`${ids}-h`}>New study</h2>
      <fieldset className="field">
        <legend>Runs</legend>
        <div className="actions" role="group">
          <label className="judge-lab__check">
            <input type="radio" name="scope" checked={scope === 'template'} onChange={() => setScope('template')} /> A template’s runs
          </label>
          <label className="judge-lab__check">
            <input type="radio" name="scope" checked={scope === 'runs'} onChange={() => setScope('runs')} /> Run ids
          </label>
        </div>
      </fieldset>
      {scope === 'template' ? (
        <>
          <SelectField label="Template" value={templateId} placeholder="Pick a template" onValueChange={setTemplateId} options={templateOptions} />
          <div className="judge-lab__row">
            <label className="field">
              <span>Started from</span>
              <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
            </label>
            <label className="field">
              <span>to (inclusive)</span>
              <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
            </label>
          </div>
        </>
      ) : (
        <label className="field">
          <span>Run ids (comma or space separated)</span>
          <textarea rows={3} value={runIds} onChange={(e) => setRunIds(e.target.value)} />
        </label>
      )}
      <label className="field">
        <span>Phases (comma separated; all judged phases when empty)</span>
        <input value={phases} onChange={(e) => setPhases(e.target.value)} />
      </label>
      <div className="judge-lab__row">
        <SelectField label="Judge provider" value={provider} onValueChange={setProvider} options={providerOptions} />
        <label className="field">
          <span>Judge model</span>
          <input value={model} required onChange={(e) => setModel(e.target.value)} />
        </label>
      </div>
      <label className="field">
        <span>Criteria (comma separated; the phase’s own when empty)</span>
        <input value={criteria} onChange={(e) => setCriteria(e.target.value)} />
      </label>
      <label className="field">
        <span>Rubric (an extra instruction to the judge)</span>
        <textarea rows={2} value={rubric} onChange={(e) => setRubric(e.target.value)} />
      </label>
      <label className="field">
        <span>Budget in USD (optional)</span>
        <input type="number" min="0" step="0.01" value={budget} onChange={(e) => setBudget(e.target.value)} />
      </label>

      {current && <EstimateSummary estimate={current} />}
      {current?.confirmRequired && (
        <label className="judge-lab__check" data-testid="study-confirm">
          <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} /> I read the estimate: judge {current.candidates} candidates
        </label>
      )}
      {estimating.isError && <ErrorNotice error={estimating.error} title="No estimate" />}
      <div className="actions">
        {current ? (
          <>
            <Button type="submit" variant="primary" disabled={starting.isPending || current.items === 0 || (current.confirmRequired && !confirmed)} data-testid="study-start">
              {starting.isPending ? 'Starting…' : 'Start study'}
            </Button>
            <Button variant="ghost" onClick={() => setEstimate(null)}>
              Change
            </Button>
          </>
        ) : (
          <Button type="submit" variant="primary" disabled={!canEstimate || estimating.isPending} data-testid="study-estimate-button">
            {estimating.isPending ? 'Estimating…' : 'Estimate cost'}
          </Button>
        )}
      </div>
    </form>
  );
}

function EstimateSummary({ estimate: e }: { estimate: StudyEstimate }) {
  return (
    <div className="notice" role="status" data-testid="study-estimate">
      <strong>
        {e.items} verdicts over {e.runs} runs: {e.candidates} candidates, about {formatUsd(e.estimateUsd)}
      </strong>
      <p className="notice__message">
        {e.tokens.input.toLocaleString()} input and {e.tokens.output.toLocaleString()} output tokens expected.{' '}
        {e.skipped.runs + e.skipped.phases > 0 ? `Skipped: ${e.skipped.runs} runs and ${e.skipped.phases} phases without their stored candidates.` : 'Nothing skipped.'}
        {e.confirmRequired ? ` Over ${e.confirmThreshold} candidates: confirm to start.` : ''}
      </p>
    </div>
  );
}

/* ------------------------------------------------------------------ the list, live over `studies` */
function StudyList({ selected, onOpen }: { selected: string | null; onOpen: (id: string) => void }) {
  const qc = useQueryClient();
  const studies = useQuery({ queryKey: studyKeys.list(), queryFn: ({ signal }) => listStudies(signal) });
  const refresh = () => void qc.invalidateQueries({ queryKey: studyKeys.list() });
  useRoom('studies', {
    onEvent: (e) => {
      sawSequence(e.sequence, e.studyId);
      if (e.type === 'StudyStarted' || e.type === 'StudyCompleted') refresh();
    },
    onSubscribed: refresh,
  });
  return (
    <section className="card judge-lab__list" aria-labelledby="studies-h">
      <h2 id="studies-h">Studies</h2>
      {studies.isPending ? (
        <Loading label="Loading studies…" />
      ) : studies.isError ? (
        <ErrorNotice error={studies.error} title="Studies could not be loaded" />
      ) : studies.data.items.length === 0 ? (
        <p className="muted">No study yet.</p>
      ) : (
        <ul className="judge-lab__studies">
          {studies.data.items.map((s: StudySummary) => (
            <li key={s.id}>
              <Button variant={s.id === selected ? 'primary' : 'ghost'} size="small" aria-current={s.id === selected ? 'true' : undefined} onClick={() => onOpen(s.id)} data-testid="study-link">
                {s.name ?? s.id.slice(0, 8)} · {s.judge.provider}/{s.judge.model}
              </Button>
              <StudyStatus status={s.status} /> <span className="muted">{formatDateTime(s.startedAt)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** A study's status on the run palette: running until it completes. */
function StudyStatus({ status }: { status: StudySummary['status'] }) {
  return <StatusBadge status={status === 'completed' ? 'completed' : 'running'} label={status} />;
}

/* ------------------------------------------------------------------ one study: progress and report */
function StudyDetail({ id, itemId, onOpenItem }: { id: string; itemId: string | null; onOpenItem: (itemId: string) => void }) {
  const qc = useQueryClient();
  const study = useQuery({
    queryKey: studyKeys.one(id),
    queryFn: ({ signal }) => getStudy(id, signal),
    // not folded yet (404), or the read models slower than the gateway waits for them (503)
    retry: (n, err) => n < 5 && [404, 503].includes((err as { status?: number }).status ?? 0),
    // live over the room; until it completes, also now and then, in case an event fell into a
    // reconnect's gap or the refetch after the last one failed
    refetchInterval: (q) => (q.state.data?.status === 'completed' ? false : STUDY_RUNNING_REFETCH_MS),
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: studyKeys.one(id) });
  useRoom(`study:${id}`, {
    onEvent: (e) => {
      sawSequence(e.sequence, id);
      refresh();
    },
    onSubscribed: refresh,
  });
  // a read older than the study's newest event seen here (it came during the first read) is made again
  const readAt = study.data?.sequence;
  const reading = study.isFetching;
  useEffect(() => {
    if (!reading && readAt !== undefined && readAt < seenForStudy(id)) void qc.invalidateQueries({ queryKey: studyKeys.one(id) });
  }, [readAt, reading, id, qc]);
  if (study.isPending) return <Loading label="Loading the study…" />;
  if (study.isError) return <ErrorNotice error={study.error} title="The study could not be loaded" />;
  const s = study.data;
  const item = itemId ? s.itemsList.find((i) => i.itemId === itemId) : undefined;
  return (
    <section className="judge-lab__study" aria-labelledby="study-h" data-testid="study-detail" data-status={s.status}>
      <h2 id="study-h">
        {s.name ?? 'Study'} <span className="muted">judged by {s.judge.provider}/{s.judge.model}</span>
      </h2>
      {s.judge.rubric && <p className="muted">Rubric: “{s.judge.rubric}”</p>}
      <Progress study={s} />
      <p data-testid="study-overall">
        Overall flip rate <strong>{pct(s.report.flipRate)}</strong> ({s.report.flips} of {s.report.judged}; 95 % interval {pct(s.report.flipRateCi.low)}–{pct(s.report.flipRateCi.high)}).
      </p>
      {s.report.phases.map((p) => (
        <PhaseReportCard key={p.phaseId} phase={p} items={s.itemsList.filter((i) => i.phaseId === p.phaseId)} onOpenItem={onOpenItem} />
      ))}
      {itemId && (item ? <FlipView item={item} /> : <p role="alert">This study has no item {itemId}.</p>)}
    </section>
  );
}

function Progress({ study: s }: { study: StudyView }) {
  const done = s.judged + s.failed;
  return (
    <div className="judge-lab__progress" data-testid="study-progress">
      <label>
        <span>
          <StudyStatus status={s.status} /> {done} of {s.items} verdicts settled ({s.judged} judged, {s.failed} failed)
        </span>
        <progress max={Math.max(1, s.items)} value={s.items === 0 ? 1 : done} />
      </label>
      <p className="muted">
        Cost {formatUsd(s.costUsd)} of an estimated {formatUsd(s.estimateUsd)}
        {s.budgetUsd !== null ? ` (budget ${formatUsd(s.budgetUsd)})` : ''}. Skipped: {s.skipped.runs} runs and {s.skipped.phases} phases without stored candidates.
      </p>
      {s.skipped.details.length > 0 && (
        <details>
          <summary>Why they were skipped</summary>
          <ul>
            {s.skipped.details.map((d) => (
              <li key={`${d.runId}/${d.phaseId ?? ''}`}>
                {d.runId}
                {d.phaseId ? ` · ${d.phaseId}` : ''}: {d.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function PhaseReportCard({ phase: p, items, onOpenItem }: { phase: StudyPhaseReport; items: StudyItemView[]; onOpenItem: (itemId: string) => void }) {
  const oldModels = [...new Set(p.matrix.map((c) => c.oldModel))].sort();
  const newModels = [...new Set(p.matrix.map((c) => c.newModel))].sort();
  // indexed once: the table reads a count per cell (the first entry of a pair, as a lookup would)
  const counts = new Map<string, Map<string, number>>();
  for (const c of p.matrix) {
    let row = counts.get(c.oldModel);
    if (!row) counts.set(c.oldModel, (row = new Map()));
    if (!row.has(c.newModel)) row.set(c.newModel, c.count);
  }
  const count = (o: string, n: string) => counts.get(o)?.get(n) ?? 0;
  const flips = items.filter((i) => i.flipped);
  const modelOf = (i: StudyItemView, cid: string | null) => {
    const c = i.candidates.find((x) => x.candidateId === cid);
    return c ? `${c.provider}/${c.model}` : (cid ?? '—');
  };
  return (
    <article className="card" aria-labelledby={`phase-${p.phaseId}`} data-testid="study-phase" data-phase={p.phaseId}>
      <h3 id={`phase-${p.phaseId}`}>Phase {p.phaseId}</h3>
      <dl className="judge-lab__figures">
        <div>
          <dt>Flip rate</dt>
          <dd data-testid="flip-rate">
            {pct(p.flipRate)} <span className="muted">({p.flips} of {p.judged}; 95 % {pct(p.flipRateCi.low)}–{pct(p.flipRateCi.high)})</span>
          </dd>
        </div>
        <div>
          <dt>Same winner</dt>
          <dd>{pct(p.sameWinner)}</dd>
        </div>
        <div>
          <dt>Kendall tau of the orders</dt>
          <dd>{num(p.kendallTau)}</dd>
        </div>
        <div>
          <dt>Score shift (new − old)</dt>
          <dd>{Object.keys(p.scoreShift).length === 0 ? '—' : Object.entries(p.scoreShift).map(([c, v]) => `${c} ${v >= 0 ? '+' : ''}${v.toFixed(3)}`).join(', ')}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{formatUsd(p.costUsd)}</dd>
        </div>
      </dl>
      {p.matrix.length > 0 && (
        <table className="table judge-lab__matrix" data-testid="flip-matrix">
          <caption>Flip matrix: the old winner’s model (rows) × the new winner’s model (columns); off the diagonal, the winner changed</caption>
          <thead>
            <tr>
              <th scope="col">Old ↓ / new →</th>
              {newModels.map((m) => (
                <th key={m} scope="col">
                  {m}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {oldModels.map((o) => (
              <tr key={o}>
                <th scope="row">{o}</th>
                {newModels.map((n) => (
                  <td key={n} data-old={o} data-new={n} className={o !== n && count(o, n) > 0 ? 'judge-lab__flip-cell' : undefined}>
                    {count(o, n)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {flips.length > 0 && (
        <details open={flips.length <= 10}>
          <summary>
            {flips.length} flip{flips.length === 1 ? '' : 's'}
          </summary>
          <ul className="judge-lab__flips">
            {flips.map((i) => (
              <li key={i.itemId}>
                <Button variant="ghost" size="small" onClick={() => onOpenItem(i.itemId)} data-testid="flip-link" data-item={i.itemId}>
                  Run {i.runId.slice(0, 8)}: {modelOf(i, i.oldWinnerId)} → {modelOf(i, i.newWinnerId)}
                </Button>
              </li>
            ))}
          </ul>
        </details>
      )}
    </article>
  );
}

/* ------------------------------------------------------------------ a flip: the two candidates side by side */
function FlipView({ item }: { item: StudyItemView }) {
  const candidates = useQuery({
    queryKey: studyKeys.candidates(item.runId, item.phaseId, item.attempt),
    queryFn: ({ signal }) => storyApi.candidates(item.runId, item.phaseId, item.attempt, signal),
  });
  const pair = [
    { role: 'Old winner', id: item.oldWinnerId },
    { role: 'New winner', id: item.newWinnerId },
  ].filter((x): x is { role: string; id: string } => x.id !== null);
  return (
    <section className="card" aria-labelledby="flip-h" data-testid="flip-view">
      <h3 id="flip-h">
        Run <Link to={`/runs/${item.runId}?phase=${encodeURIComponent(item.phaseId)}`}>{item.runId}</Link> · phase {item.phaseId} · attempt {item.attempt}
      </h3>
      {item.rationale && <p className="muted">New judge: {item.rationale}</p>}
      {candidates.isPending ? (
        <Loading label="Loading the candidates…" />
      ) : candidates.isError ? (
        <ErrorNotice error={candidates.error} title="The candidates could not be loaded" />
      ) : (
        <div className="judge-lab__pair">
          {pair.map(({ role, id }) => {
            const c = candidates.data.items.find((x) => x.id === id);
            return (
              <article key={role} className="card" data-testid="flip-candidate" data-role={role === 'Old winner' ? 'old' : 'new'}>
                <h4>
                  {role}: {c ? candidateLabel(c) : id}
                </h4>
                <p>
                  Old judge {num(item.oldScores[id]?.overall ?? null)} · new judge {num(item.newScores?.[id]?.overall ?? null)}
                </p>
                {c ? <JsonBlock value={c.output} label={`Output of ${candidateLabel(c)} (${role.toLowerCase()})`} maxHeight={320} /> : <p className="muted">This candidate is no longer stored.</p>}
              </article>
            );
          })}
        </div>
      )}
    </section>
  );
}
