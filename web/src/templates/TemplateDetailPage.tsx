import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { describeCommandError } from '../ui/feature-errors';
import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { Link, useLocation, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDateTime } from '../lib/format';
import { pendingPhases } from '../run/pending-phases';
import { ErrorNotice } from '../ui/ErrorNotice';
import { SelectField } from '../ui/Select';
import { ConfirmButton } from '../ui/Dialog';
import { JsonBlock } from '../ui/JsonBlock';
import { Loading } from '../ui/Loading';
import { StartRunForm } from './StartRunForm';
import { notifyDone, notifyRefused } from '../ui/toast';

const PipelineGraph = lazy(() => import('../dag/PipelineGraph'));

function positiveInt(value: string | null): number | undefined {
  const n = Number(value);
  return value && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** One template (`?version=` for an older one): DAG preview, a start-run form, and its JSON. */
export default function TemplateDetailPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const version = positiveInt(params.get('version'));
  const minSequence = positiveInt(params.get('min_sequence'));
  const { hash } = useLocation();

  const template = useQuery({
    queryKey: keys.template(id, version),
    queryFn: ({ signal }) => api.getTemplate(id, { version, minSequence, signal }),
  });
  const phases = useMemo(() => (template.data ? pendingPhases(template.data.template) : []), [template.data]);
  const [copied, setCopied] = useState(false);

  // The list's "Start run" links to #start-run: scroll there once the form exists.
  useEffect(() => {
    if (template.data && hash === '#start-run') document.getElementById('start-run')?.scrollIntoView({ block: 'start' });
  }, [template.data, hash]);

  if (template.isPending) return <Loading label="Loading template…" />;
  if (template.isError)
    return (
      <div className="page">
        <title>Template · Conclave</title>
        <p>
          <Link to="/templates">← Templates</Link>
        </p>
        <ErrorNotice error={template.error} title="Could not load the template" onRetry={() => void template.refetch()} />
      </div>
    );

  const view = template.data;
  const json = JSON.stringify(view.template, null, 2);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(json);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };

  return (
    <div className="page">
      <title>{`${view.name} · Conclave`}</title>
      <header className="page-header">
        <div className="page-header__title">
          <p className="crumbs">
            <Link to="/templates">Templates</Link> /
          </p>
          <h1>
            {view.name} {view.archived && <span className="badge status--cancelled">archived</span>}
          </h1>
          <p className="muted">
            <span className="mono">{view.id}</span> · updated {formatDateTime(view.updatedAt)}
          </p>
          {view.description && <p>{view.description}</p>}
        </div>
        <div className="actions">
          <Link className="btn btn--primary" to={`/templates/${encodeURIComponent(view.id)}/edit`}>
            Edit
          </Link>
          <TemplateActions id={view.id} archived={view.archived} />
        </div>
        {view.versions.length > 1 && (
          <SelectField
            fieldClassName="field--inline"
            label="Version"
            value={String(view.version)}
            onValueChange={(v) =>
              setParams(
                (prev) => {
                  const next = new URLSearchParams(prev);
                  next.set('version', v);
                  next.delete('min_sequence');
                  return next;
                },
                { replace: true },
              )
            }
            options={[...view.versions].sort((a, b) => b - a).map((v) => ({ value: String(v), label: `v${v}` }))}
          />
        )}
      </header>

      <section className="card" aria-labelledby="preview-heading">
        <div className="card__head">
          <h2 id="preview-heading">Pipeline</h2>
          <span className="muted">
            {phases.length} phase{phases.length === 1 ? '' : 's'}
          </span>
        </div>
        <Suspense fallback={<div className="graph graph--placeholder">Loading graph…</div>}>
          <PipelineGraph phases={phases} label="Template pipeline preview" height={300} />
        </Suspense>
      </section>

      <section className="card" id="start-run" aria-labelledby="start-run-heading">
        <div className="card__head">
          <h2 id="start-run-heading">Start a run</h2>
        </div>
        <StartRunForm key={`${view.id}@${view.version}`} template={view} />
      </section>

      <section className="card" aria-labelledby="json-heading">
        <div className="card__head">
          <h2 id="json-heading">Template JSON</h2>
          <button type="button" className="btn btn--small" onClick={() => void copy()}>
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
        <JsonBlock value={json} label="Template JSON" maxHeight={520} />
      </section>
    </div>
  );
}

/** Clone (then edit the copy) and archive (DELETE: hidden from the list; runs keep their snapshot). */
function TemplateActions({ id, archived }: { id: string; archived: boolean }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const clone = useMutation({
    mutationFn: () => api.cloneTemplate(id),
    onSuccess: (r) => {
      notifyDone('Template cloned', r.id);
      navigate(`/templates/${encodeURIComponent(r.id)}/edit`);
    },
    onError: (error) => notifyRefused('Cloning the template was refused', error),
  });
  const archive = useMutation({
    mutationFn: () => api.archiveTemplate(id),
    onError: (error) => notifyRefused('Archiving the template was refused', error),
    onSuccess: () => {
      notifyDone(`Template ${id} archived`);
      void qc.invalidateQueries({ queryKey: keys.templates() });
      navigate('/templates');
    },
  });
  const error = clone.error ?? archive.error;
  return (
    <>
      <button type="button" className="btn" disabled={clone.isPending} onClick={() => clone.mutate()}>
        Clone
      </button>
      {!archived && (
        <ConfirmButton
          label="Archive"
          title="Archive this template?"
          description="It leaves the templates list; existing runs are not affected."
          confirmLabel="Archive"
          variant="danger"
          disabled={archive.isPending}
          onConfirm={() => archive.mutate()}
        />
      )}
      {error && <p className="form-error">{describeCommandError(error)}</p>}
    </>
  );
}
