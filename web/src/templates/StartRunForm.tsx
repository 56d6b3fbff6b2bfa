import type { CreateRunBody, TemplateView, WorkspaceListing, WorkspaceRequest } from '@conclave/contracts';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { isApiError } from '../api/client';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { FRESH, RepositoryPicker, TEMPLATE_DEFAULT, findListed, workspaceKey, workspacePathOf } from './RepositoryPicker';
import { inputsSkeleton, isPlainObject, parseJson } from './template-json';
import { BudgetPolicyField, budgetPolicyOf, TEMPLATE_POLICY, type BudgetRuleDraft } from './start/BudgetPolicyField';
import { CostEstimate } from './start/CostEstimate';
import { inputErrorsOf } from './start/input-errors';
import { InputsEditor } from './start/InputsEditor';
import { PromptPreview } from './start/PromptPreview';
import { notifyDone, notifyRefused } from '../ui/toast';
import './start/start-run.css';

/**
 * Start a run of one template version. Inputs are edited in a form generated from the inputs
 * schema or as raw JSON (Advanced), both prefilled from the schema and kept in sync; the gateway
 * checks them as the user types (its estimate endpoint) and again at the start. Beside them: the
 * cost estimate (min / expected / max) and the first prompt rendered with the inputs. Auto mode
 * on: phases follow each other by themselves; off: each waits for "continue". On 201 the run page
 * opens with min_sequence so it reads its own write.
 */
export function StartRunForm({ template }: { template: TemplateView }) {
  const id = useId();
  const [name, setName] = useState('');
  const [budget, setBudget] = useState('');
  const [autoMode, setAutoMode] = useState(true);
  const [policy, setPolicy] = useState<BudgetRuleDraft>(TEMPLATE_POLICY);
  const [inputs, setInputs] = useState<Record<string, unknown>>(() => inputsSkeleton(template.template.inputs));
  const [inputsText, setInputsText] = useState(() => JSON.stringify(inputs, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);
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

  // The figures do not depend on the inputs: asked once per version. The inputs are checked by the
  // same endpoint as they change (debounced), so the form shows what a start would refuse.
  const estimate = useQuery({
    queryKey: [...keys.template(template.id, template.version), 'estimate'],
    queryFn: ({ signal }) => api.estimateTemplate(template.id, { version: template.version }, { signal }),
    retry: false,
    staleTime: 60_000,
  });
  const checkedInputs = useDebounced(inputs, 300);
  const inputsCheck = useQuery({
    queryKey: [...keys.template(template.id, template.version), 'estimate', 'inputs', JSON.stringify(checkedInputs)],
    queryFn: ({ signal }) => api.estimateTemplate(template.id, { version: template.version, inputs: checkedInputs }, { signal }),
    retry: false,
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
  const inputErrors = inputsCheck.isError && isApiError(inputsCheck.error) && inputsCheck.error.status === 422 ? inputErrorsOf(inputsCheck.error.details) : [];

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
      notifyDone('Run started', `Run ${runId}`);
      void qc.invalidateQueries({ queryKey: keys.runs() });
      navigate(`/runs/${encodeURIComponent(runId)}?min_sequence=${sequence}`);
    },
    onError: (error) => notifyRefused('Starting the run was refused', error),
  });

  const onSubmit = (e: React.FormEvent) => {
    e.preventDefault();
    if (jsonError) return setFormError(`Inputs are not valid: ${jsonError}`);
    const budgetUsd = budget.trim() ? Number(budget) : undefined;
    if (budgetUsd !== undefined && !(Number.isFinite(budgetUsd) && budgetUsd > 0)) return setFormError('The budget must be a positive number of dollars.');
    const budgetPolicy = budgetPolicyOf(policy);
    if (!budgetPolicy.ok) return setFormError(budgetPolicy.message);
    setFormError(null);
    const workspace = workspaceRequestOf(choice, chosen, items, templateDefault, baseRef.trim());
    start.mutate({
      templateId: template.id,
      templateVersion: template.version,
      ...(name.trim() ? { name: name.trim() } : {}),
      inputs,
      autoMode,
      ...(budgetUsd !== undefined ? { budgetUsd } : {}),
      ...(budgetPolicy.policy ? { budgetPolicy: budgetPolicy.policy } : {}),
      ...(workspace ? { workspace } : {}),
    });
  };

  const onFormChange = (value: Record<string, unknown>) => {
    setInputs(value);
    setInputsText(JSON.stringify(value, null, 2));
    setJsonError(null);
    setFormError(null);
  };
  const onTextChange = (text: string) => {
    setInputsText(text);
    setFormError(null);
    const parsed = parseJson(text);
    if (!parsed.ok) return setJsonError(`not valid JSON: ${parsed.message}`);
    if (!isPlainObject(parsed.value)) return setJsonError('the inputs must be a JSON object');
    setJsonError(null);
    setInputs(parsed.value);
  };
  const budgetNumber = budget.trim() ? Number(budget) : NaN;
  const effectiveBudget = Number.isFinite(budgetNumber) && budgetNumber > 0 ? budgetNumber : (estimate.data?.defaultBudgetUsd ?? null);

  return (
    <form className="form start-run" onSubmit={onSubmit} aria-labelledby="start-run-heading">
      <div className="start-run__layout">
        <div className="start-run__main">
          <div className="form__row">
            <label className="field field--grow" htmlFor={`${id}-name`}>
              <span>Run name (optional)</span>
              <input id={`${id}-name`} type="text" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder={template.name} />
            </label>
            <label className="field" htmlFor={`${id}-budget`}>
              <span>Budget, USD (optional)</span>
              <input
                id={`${id}-budget`}
                type="number"
                min="0"
                step="0.01"
                inputMode="decimal"
                value={budget}
                onChange={(e) => setBudget(e.target.value)}
                placeholder={estimate.data?.defaultBudgetUsd ? `${estimate.data.defaultBudgetUsd} (template default)` : 'no limit'}
              />
            </label>
          </div>
          <BudgetPolicyField value={policy} onChange={setPolicy} templatePolicy={template.template.defaults.budgetPolicy} />
          <div className="form__row">
            <label className="switch" htmlFor={`${id}-auto`}>
              <input id={`${id}-auto`} type="checkbox" role="switch" checked={autoMode} onChange={(e) => setAutoMode(e.target.checked)} aria-describedby={`${id}-auto-help`} />
              <span>
                Auto mode <span className="switch__state">{autoMode ? 'on' : 'off'}</span>
              </span>
            </label>
            <span id={`${id}-auto-help`} className="muted small">
              {autoMode ? 'Each phase starts as soon as the phases it depends on are done.' : 'Manual: after the first phase, each phase waits for you to continue it.'}
            </span>
          </div>
          <InputsEditor
            schema={template.template.inputs}
            value={inputs}
            text={inputsText}
            jsonError={jsonError}
            onFormChange={onFormChange}
            onTextChange={onTextChange}
            errors={inputErrors}
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
        </div>
        <div className="start-run__side">
          <CostEstimate estimate={estimate.data} error={estimate.error} pending={estimate.isFetching} budgetUsd={effectiveBudget} onRetry={() => void estimate.refetch()} />
          <PromptPreview template={template.template} inputs={inputs} />
        </div>
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

/** `value`, once it has stopped changing for `delayMs`. */
function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

function newIdempotencyKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
