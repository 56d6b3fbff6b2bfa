import { TemplateError, type PhaseKind, type TemplateValidation } from '@conclave/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { isApiError } from '../api/client';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { layoutGraph } from '../dag/layout';
import { ErrorNotice } from '../ui/ErrorNotice';
import { describeCommandError } from '../ui/feature-errors';
import { Loading } from '../ui/Loading';
import { TemplateErrorList } from '../ui/TemplateErrorList';
import {
  addPhase,
  connect,
  disconnect,
  emptyDraft,
  fromTemplateJson,
  mapErrors,
  PHASE_KINDS,
  removePhase,
  renamePhase,
  setDefaultWorkspace,
  toTemplateJson,
  updatePhase,
  type DraftTemplate,
  type Point,
} from './editor-model';
import { PhaseForm } from './PhaseForm';
import { notifyDone, notifyRefused } from '../ui/toast';

const EditorCanvas = lazy(() => import('./EditorCanvas'));
const VALIDATE_DEBOUNCE_MS = 400;

/** `/templates/new` and `/templates/:id/edit`. */
export default function TemplateEditorRoute() {
  const { id } = useParams();
  const template = useQuery({ queryKey: keys.template(id ?? '', undefined), queryFn: ({ signal }) => api.getTemplate(id!, { signal }), enabled: Boolean(id) });
  if (!id) return <TemplateEditor key="new" initial={emptyDraft()} />;
  if (template.isPending) return <Loading label="Loading template…" />;
  if (template.isError) return <ErrorNotice error={template.error} title="Could not load the template" onRetry={() => void template.refetch()} />;
  const { version: _version, ...draft } = template.data.template as unknown as DraftTemplate;
  return <TemplateEditor key={`${id}@${template.data.version}`} templateId={id} version={template.data.version} initial={draft as DraftTemplate} />;
}

function autoLayout(draft: DraftTemplate): Record<string, Point> {
  const map = layoutGraph(draft.phases.map((p) => ({ id: p.id, dependsOn: p.dependsOn ?? [] })));
  return Object.fromEntries(map);
}

function TemplateEditor({ templateId, version, initial }: { templateId?: string; version?: number; initial: DraftTemplate }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<DraftTemplate>(initial);
  const [positions, setPositions] = useState<Record<string, Point>>(() => autoLayout(initial));
  const [selectedId, setSelectedId] = useState<string | null>(initial.phases[0]?.id ?? null);
  const [importError, setImportError] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  const edit = useCallback((fn: (d: DraftTemplate) => DraftTemplate) => {
    setDraft((d) => {
      const next = fn(d);
      if (next !== d) setDirty(true);
      return next;
    });
  }, []);

  /* ---- debounced validation; errors are mapped against the draft that was validated */
  const [validated, setValidated] = useState<{ draft: DraftTemplate; result: TemplateValidation } | null>(null);
  const [validateError, setValidateError] = useState<unknown>(null);
  const latest = useRef(0);
  useEffect(() => {
    const ticket = ++latest.current;
    const timer = setTimeout(() => {
      api.validateTemplate(draft).then(
        (result) => ticket === latest.current && (setValidated({ draft, result }), setValidateError(null)),
        (err: unknown) => {
          if (ticket !== latest.current) return;
          // A draft that does not even parse may come back as a 400/422 carrying the located errors.
          const errors = isApiError(err) ? (err.details as { errors?: unknown } | undefined)?.errors : undefined;
          const parsed = Array.isArray(errors) ? errors.map((e) => TemplateError.safeParse(e)) : [];
          if (parsed.length > 0 && parsed.every((p) => p.success)) {
            setValidated({ draft, result: { valid: false, errors: parsed.map((p) => p.data!), levels: [] } });
            setValidateError(null);
          } else setValidateError(err);
        },
      );
    }, VALIDATE_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [draft]);
  const errorMap = useMemo(() => (validated ? mapErrors(validated.draft, validated.result.errors) : { byPhase: {}, global: [] }), [validated]);
  const upToDate = validated?.draft === draft;

  /* ---- graph edits */
  const onAdd = (kind: PhaseKind) => {
    const { draft: next, id } = addPhase(draft, kind, selectedId ? [selectedId] : []);
    const anchor = selectedId ? positions[selectedId] : undefined;
    setPositions((p) => ({ ...p, [id]: anchor ? { x: anchor.x + 260, y: anchor.y + 30 } : { x: 40 * next.phases.length, y: 40 } }));
    edit(() => next);
    setSelectedId(id);
  };
  const onRemove = useCallback(
    (id: string) => {
      edit((d) => removePhase(d, id));
      setSelectedId((s) => (s === id ? null : s));
    },
    [edit],
  );
  const onRename = (from: string, to: string) => {
    if (draft.phases.some((p) => p.id === to)) return;
    edit((d) => renamePhase(d, from, to));
    setPositions((p) => {
      const { [from]: at, ...rest } = p;
      return at ? { ...rest, [to]: at } : rest;
    });
    setSelectedId(to);
  };
  const onConnect = useCallback((s: string, t: string) => edit((d) => connect(d, s, t)), [edit]);
  const onDisconnect = useCallback((s: string, t: string) => edit((d) => disconnect(d, s, t)), [edit]);
  const onMove = useCallback((next: Record<string, Point>) => setPositions((p) => ({ ...p, ...next })), []);

  /* ---- save / clone / import / export */
  const saveNew = useMutation({
    mutationFn: () => api.createTemplate(draft),
    onError: (error) => notifyRefused('Saving the template was refused', error),
    onSuccess: (r) => {
      notifyDone('Template created', `${r.id} v${r.version}`);
      setDirty(false);
      void qc.invalidateQueries({ queryKey: keys.templates() });
      navigate(`/templates/${encodeURIComponent(r.id)}?min_sequence=${r.sequence}`);
    },
  });
  const saveVersion = useMutation({
    mutationFn: () => api.updateTemplate(templateId!, draft),
    onError: (error) => notifyRefused('Saving the new version was refused', error),
    onSuccess: (r) => {
      notifyDone(`Version ${r.version} saved`, r.id);
      setDirty(false);
      void qc.invalidateQueries({ queryKey: keys.templates() });
      navigate(`/templates/${encodeURIComponent(r.id)}?min_sequence=${r.sequence}`);
    },
  });
  const clone = useMutation({
    mutationFn: () => api.cloneTemplate(templateId!),
    onSuccess: (r) => {
      notifyDone('Template cloned', r.id);
      navigate(`/templates/${encodeURIComponent(r.id)}/edit`);
    },
    onError: (error) => notifyRefused('Cloning the template was refused', error),
  });
  const fileInput = useRef<HTMLInputElement>(null);
  const onImport = async (file: File) => {
    const parsed = fromTemplateJson(await file.text());
    if (!parsed.ok) return setImportError(`${file.name}: ${parsed.message}`);
    setImportError(null);
    edit(() => parsed.draft);
    setPositions(autoLayout(parsed.draft));
    setSelectedId(parsed.draft.phases[0]?.id ?? null);
  };
  const onExport = () => {
    const blob = new Blob([toTemplateJson(draft)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = Object.assign(document.createElement('a'), { href: url, download: `${draft.name || 'template'}.json` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  // Leaving with unsaved edits asks first (browser navigation only; in-app links do not).
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const selected = draft.phases.find((p) => p.id === selectedId) ?? null;
  const saving = saveNew.isPending || saveVersion.isPending;
  const saveError = saveNew.error ?? saveVersion.error ?? clone.error;
  const errorCount = validated?.result.errors.length ?? 0;

  return (
    <div className="page page--wide">
      <title>{`${templateId ? `Edit ${draft.name}` : 'New template'} · Conclave`}</title>
      <header className="page-header">
        <div className="page-header__title">
          <p className="crumbs">
            <Link to="/templates">Templates</Link> /{' '}
            {templateId && (
              <>
                <Link to={`/templates/${encodeURIComponent(templateId)}`}>{templateId}</Link> /
              </>
            )}
          </p>
          <h1>{templateId ? `Edit “${initial.name}” (v${version})` : 'New template'}</h1>
          <p className="muted" role="status" aria-live="polite">
            {!validated && !validateError
              ? 'Validating…'
              : validateError
                ? `Validation unavailable: ${describeCommandError(validateError)}`
                : validated!.result.valid
                  ? `Valid · ${validated!.result.levels.length} execution levels${upToDate ? '' : ' · checking…'}`
                  : `${errorCount} error${errorCount > 1 ? 's' : ''}${upToDate ? '' : ' · checking…'}`}
            {dirty && ' · unsaved changes'}
          </p>
        </div>
        <div className="actions">
          <button type="button" className="btn" onClick={() => fileInput.current?.click()}>
            Import JSON
          </button>
          <input
            ref={fileInput}
            type="file"
            accept="application/json,.json"
            hidden
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void onImport(file);
              e.target.value = '';
            }}
          />
          <button type="button" className="btn" onClick={onExport}>
            Export JSON
          </button>
          {templateId && (
            <button type="button" className="btn" disabled={clone.isPending} onClick={() => clone.mutate()}>
              Clone
            </button>
          )}
          {templateId && (
            <button type="button" className="btn btn--primary" disabled={saving} onClick={() => saveVersion.mutate()}>
              Save as v{(version ?? 0) + 1}
            </button>
          )}
          <button type="button" className={`btn ${templateId ? '' : 'btn--primary'}`} disabled={saving} onClick={() => saveNew.mutate()} data-testid="save-new-template">
            Save as new template
          </button>
        </div>
      </header>
      {importError && (
        <div className="notice notice--error" role="alert">
          Import failed: {importError}
        </div>
      )}
      {saveError !== null && <ErrorNotice error={saveError} title="Could not save" />}

      <section className="card" aria-labelledby="template-settings">
        <h2 id="template-settings" className="sr-only">
          Template settings
        </h2>
        <div className="form__row">
          <label className="field field--grow">
            Name
            <input value={draft.name} onChange={(e) => edit((d) => ({ ...d, name: e.target.value }))} aria-invalid={errorMap.global.some((e) => e.path[0] === 'name')} />
          </label>
          <label className="field field--grow">
            Description
            <input value={typeof draft.description === 'string' ? draft.description : ''} onChange={(e) => edit((d) => ({ ...d, description: e.target.value }))} />
          </label>
        </div>
        <div className="form__row">
          <label className="field field--grow">
            Default repository <span className="muted">(a path under the gateway's WORKSPACE_ROOTS; empty = a fresh repository per run)</span>
            <input
              value={(draft.workspace as { path?: string } | undefined)?.path ?? ''}
              placeholder="e.g. my-service"
              onChange={(e) => edit((d) => setDefaultWorkspace(d, { path: e.target.value }))}
              aria-invalid={errorMap.global.some((e) => e.path[0] === 'workspace')}
            />
          </label>
          <label className="field">
            Base ref
            <input
              value={(draft.workspace as { baseRef?: string } | undefined)?.baseRef ?? ''}
              placeholder="HEAD"
              onChange={(e) => edit((d) => setDefaultWorkspace(d, { baseRef: e.target.value }))}
            />
          </label>
        </div>
        <details>
          <summary>Inputs schema and defaults (JSON)</summary>
          <div className="form__row">
            <JsonArea label="Inputs (JSON Schema)" value={draft.inputs} onChange={(v) => edit((d) => ({ ...d, inputs: v }))} />
            <JsonArea label="Defaults" value={draft.defaults ?? {}} onChange={(v) => edit((d) => ({ ...d, defaults: v }))} />
          </div>
        </details>
        {errorMap.global.length > 0 && <TemplateErrorList errors={errorMap.global} />}
      </section>

      <div className="editor">
        <section className="card editor__canvas" aria-labelledby="canvas-heading">
          <div className="card__head">
            <h2 id="canvas-heading">Phases</h2>
            <div className="actions" role="toolbar" aria-label="Add a phase">
              {PHASE_KINDS.map((kind) => (
                <button key={kind} type="button" className="btn btn--small" onClick={() => onAdd(kind)} title={selectedId ? `Add after ${selectedId}` : 'Add a phase'}>
                  + {kind}
                </button>
              ))}
              <button type="button" className="btn btn--small btn--ghost" onClick={() => setPositions(autoLayout(draft))}>
                Tidy layout
              </button>
            </div>
          </div>
          <Suspense fallback={<div className="graph graph--placeholder">Loading canvas…</div>}>
            <EditorCanvas
              phases={draft.phases}
              positions={positions}
              errors={errorMap.byPhase}
              selectedId={selectedId}
              onSelect={setSelectedId}
              onMove={onMove}
              onConnect={onConnect}
              onDisconnect={onDisconnect}
              onRemove={onRemove}
            />
          </Suspense>
          <p className="muted small">Drag between handles to add a dependency; select a node or edge and press Delete to remove it.</p>
        </section>
        <aside className="card editor__form" aria-label="Selected phase">
          {selected ? (
            <PhaseForm
              key={selected.id}
              phase={selected}
              allIds={draft.phases.map((p) => p.id)}
              errors={errorMap.byPhase[selected.id]}
              onChange={(next) => edit((d) => updatePhase(d, selected.id, () => next))}
              onRename={(to) => onRename(selected.id, to)}
              onRemove={() => onRemove(selected.id)}
            />
          ) : (
            <p className="muted">Select a phase on the canvas to edit it, or add one.</p>
          )}
        </aside>
      </div>
    </div>
  );
}

function JsonArea({ label, value, onChange }: { label: string; value: unknown; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(() => JSON.stringify(value ?? {}, null, 2));
  const [error, setError] = useState<string | null>(null);
  return (
    <label className="field field--grow">
      {label}
      <textarea
        className="code-input"
        rows={8}
        spellCheck={false}
        value={text}
        aria-invalid={error !== null}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(JSON.parse(e.target.value));
            setError(null);
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err));
          }
        }}
      />
      {error && <span className="form-error">{error}</span>}
    </label>
  );
}
