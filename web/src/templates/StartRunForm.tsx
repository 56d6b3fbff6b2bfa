import type { TemplateView } from '@conclave/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { ErrorNotice } from '../ui/ErrorNotice';
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
  const navigate = useNavigate();
  const qc = useQueryClient();

  const start = useMutation({
    mutationFn: api.createRun,
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
    start.mutate({
      templateId: template.id,
      templateVersion: template.version,
      ...(name.trim() ? { name: name.trim() } : {}),
      inputs: parsed.value,
      ...(budgetUsd !== undefined ? { budgetUsd } : {}),
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
      {formError && (
        <div className="notice notice--error" role="alert">
          {formError}
        </div>
      )}
      {start.isError && <ErrorNotice error={start.error} title="The run was not started" />}
      <div className="actions">
        <button type="submit" className="btn btn--primary" disabled={start.isPending || template.archived}>
          {start.isPending ? 'Starting…' : `Start run (v${template.version})`}
        </button>
        {template.archived && <span className="muted">This template is archived.</span>}
      </div>
    </form>
  );
}
