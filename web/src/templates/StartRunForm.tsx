import type { CreateRunBody, TemplateView, WorkspaceListing, WorkspaceRequest } from '@conclave/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { isApiError } from '../api/client';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { FRESH, RepositoryPicker, TEMPLATE_DEFAULT, findListed, workspaceKey, workspacePathOf } from './RepositoryPicker';
import { inputsSkeleton, isPlainObject, parseJson } from './template-json';

/**
 * Start a run of one template version. Inputs are JSON, prefilled from the inputs schema; the
 * gateway checks them against it. On 201 the run page opens with min_sequence so it reads its
 * own write.
 */
export function StartRunForm({ template }: { template: TemplateView }) {
  const id = useId();
  const [name, setName] = useState('');
  const [budget, setBudget] = useState('');
  const [inputs, setInputs] = useState(() => JSON.stringify(inputsSkeleton(template.template.inputs), null, 2));
  const [formError, setFormError] = useState<string | null>(null);
  // null until the user picks: the default follows the listing (the template's repository, else fresh)
  const [picked, setPicked] = useState<string | null>(null);
  const [baseRef, setBaseRef] = useState('');
  const navigate = useNavigate();
  const qc = useQueryClient();
  const templateDefault = template.template.workspace;
  const workspaces = useQuery({ queryKey: keys.workspaces(), queryFn: ({ signal }) => api.listWorkspaces({ signal }), staleTime: 10_000 });
  const items = workspaces.data?.items ?? [];
  const listedDefault = findListed(items, templateDefault);
  const choice = picked ?? (listedDefault ? workspaceKey(listedDefault) : templateDefault ? TEMPLATE_DEFAULT : FRESH);
  const chosen = items.find((i) => workspaceKey(i) === choice);

  // one key per distinct request body: submitting the same start again (a double click, a retry
  // after a timeout) returns the first run instead of starting a second one
  const submitKeys = useRef(new Map<string, string>());
  const start = useMutation({
    mutationFn: (body: CreateRunBody) => {
      const text = JSON.stringify(body);
      const key = submitKeys.current.get(text) ?? newIdempotencyKey();
      submitKeys.current.set(text, key);
      return api.createRun(body, key);
    },
    onSuccess: ({ id: runId, sequence }) => {
      void qc.invalidateQueries({ queryKey: keys.runs() });
      navigate(`/runs/${encodeURIComponent(runId)}?min_sequence=${sequence}`);
    },
  });

  const onSubmit = (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = parseJson(inputs);
    if (!parsed.ok) return setFormError(`Inputs are not valid JSON: ${parsed.message}`);
    if (!isPlainObject(parsed.value)) return setFormError('Inputs must be a JSON object.');
    const budgetUsd = budget.trim() ? Number(budget) : undefined;
    if (budgetUsd !== undefined && !(Number.isFinite(budgetUsd) && budgetUsd > 0)) return setFormError('The budget must be a positive number of dollars.');
    setFormError(null);
    const workspace = workspaceRequestOf(choice, chosen, items, templateDefault, baseRef.trim());
    start.mutate({
      templateId: template.id,
      templateVersion: template.version,
      ...(name.trim() ? { name: name.trim() } : {}),
      inputs: parsed.value,
      ...(budgetUsd !== undefined ? { budgetUsd } : {}),
      ...(workspace ? { workspace } : {}),
    });
  };

  return (
    <form className="form" onSubmit={onSubmit} aria-labelledby="start-run-heading">
      <div className="form__row">
        <label className="field field--grow" htmlFor={`${id}-name`}>
          <span>Run name (optional)</span>
          <input id={`${id}-name`} type="text" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder={template.name} />
        </label>
        <label className="field" htmlFor={`${id}-budget`}>
          <span>Budget, USD (optional)</span>
          <input id={`${id}-budget`} type="number" min="0" step="0.01" inputMode="decimal" value={budget} onChange={(e) => setBudget(e.target.value)} />
        </label>
      </div>
      <label className="field" htmlFor={`${id}-inputs`}>
        <span>Inputs (JSON)</span>
      </label>
      <textarea
        id={`${id}-inputs`}
        className="code-input"
        rows={Math.min(16, Math.max(4, inputs.split('\n').length + 1))}
        spellCheck={false}
        autoCapitalize="off"
        value={inputs}
        aria-invalid={formError ? true : undefined}
        onChange={(e) => {
          setInputs(e.target.value);
          setFormError(null);
        }}
      />
      {workspaces.isPending ? (
        <Loading label="Loading repositories…" />
      ) : workspaces.isError ? (
        <ErrorNotice error={workspaces.error} title="Could not list the repositories" onRetry={() => void workspaces.refetch()} />
      ) : (
        <>
          <RepositoryPicker items={items} value={choice} onChange={setPicked} templateDefault={templateDefault} templateDefaultListed={listedDefault !== undefined} />
          {items.length === 0 && (
            <p className="muted small">
              {workspaces.data.roots.length === 0
                ? 'No workspace roots are configured (WORKSPACE_ROOTS): runs work on a fresh repository of their own.'
                : `No git repository under ${workspaces.data.roots.join(', ')}.`}
            </p>
          )}
        </>
      )}
      {choice !== FRESH && (
        <div className="form__row">
          <label className="field field--grow" htmlFor={`${id}-base`}>
            <span>Base ref (optional)</span>
            <input
              id={`${id}-base`}
              type="text"
              maxLength={255}
              spellCheck={false}
              autoCapitalize="off"
              value={baseRef}
              onChange={(e) => setBaseRef(e.target.value)}
              placeholder={defaultBaseLabel(chosen, choice === TEMPLATE_DEFAULT || chosen === listedDefault ? templateDefault : undefined)}
              aria-describedby={`${id}-base-help`}
            />
          </label>
        </div>
      )}
      {choice !== FRESH && (
        <p id={`${id}-base-help`} className="muted small">
          A branch, tag or commit to branch from; the run works on its own branch <code>conclave/&lt;run id&gt;</code> and never touches your checkout.
          {chosen?.dirty && <strong> {chosen.name} has uncommitted changes: they are not included.</strong>}
        </p>
      )}
      {formError && (
        <div className="notice notice--error" role="alert">
          {formError}
        </div>
      )}
      {start.isError && (isWorkspaceRefusal(start.error) ? <WorkspaceRefusal error={start.error} /> : <ErrorNotice error={start.error} title="The run was not started" />)}
      <div className="actions">
        <button type="submit" className="btn btn--primary" disabled={start.isPending || template.archived}>
          {start.isPending ? 'Starting…' : `Start run (v${template.version})`}
        </button>
        {template.archived && <span className="muted">This template is archived.</span>}
      </div>
    </form>
  );
}

/** The `workspace` of `POST /runs` for the picker's choice (undefined: none, or the template's default as is). */
export function workspaceRequestOf(
  choice: string,
  chosen: WorkspaceListing | undefined,
  items: readonly WorkspaceListing[],
  templateDefault: WorkspaceRequest | undefined,
  baseRef: string,
): WorkspaceRequest | undefined {
  if (choice === FRESH) return undefined;
  if (choice === TEMPLATE_DEFAULT) return templateDefault && baseRef ? { path: templateDefault.path, baseRef } : undefined;
  if (!chosen) return undefined;
  const isDefault = templateDefault !== undefined && findListed(items, templateDefault) === chosen;
  const ref = baseRef || (isDefault ? templateDefault.baseRef : undefined);
  return { path: workspacePathOf(chosen, items), ...(ref ? { baseRef: ref } : {}) };
}

function defaultBaseLabel(chosen: WorkspaceListing | undefined, templateDefault: WorkspaceRequest | undefined): string {
  if (templateDefault?.baseRef) return `${templateDefault.baseRef} (the template's)`;
  if (chosen?.branch) return `HEAD (${chosen.branch})`;
  return 'HEAD';
}

interface Refusal {
  message: string;
  code: string;
  problem?: string;
  roots: string[];
}

function refusalOf(error: unknown): Refusal | null {
  if (!isApiError(error) || error.status !== 422) return null;
  const details = error.details as { roots?: unknown; problem?: unknown } | null | undefined;
  if (!details || !Array.isArray(details.roots)) return null;
  return {
    message: error.message,
    code: error.code,
    problem: typeof details.problem === 'string' ? details.problem : undefined,
    roots: details.roots.filter((r): r is string => typeof r === 'string'),
  };
}

function isWorkspaceRefusal(error: unknown): boolean {
  return refusalOf(error) !== null;
}

/** The gateway's 422 for a workspace: what is wrong, and where repositories may live. */
function WorkspaceRefusal({ error }: { error: unknown }) {
  const refusal = refusalOf(error)!;
  return (
    <div className="notice notice--error" role="alert">
      <div className="notice__head">
        <strong>The run was not started</strong>
        <code className="notice__code">{refusal.problem ?? refusal.code}</code>
      </div>
      <p className="notice__message">{refusal.message}</p>
      <p className="muted small">
        {refusal.roots.length === 0 ? (
          'No workspace roots are configured (WORKSPACE_ROOTS).'
        ) : (
          <>
            Repositories may live under: {refusal.roots.map((r, i) => (
              <span key={r}>
                {i > 0 && ', '}
                <code>{r}</code>
              </span>
            ))}
          </>
        )}
      </p>
    </div>
  );
}

function newIdempotencyKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
