import type { TemplateValidation } from '@conclave/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { ErrorNotice } from '../ui/ErrorNotice';
import { EXAMPLE_TEMPLATE_JSON } from './example-template';
import { parseJson } from './template-json';
import { ValidationResult } from './ValidationResult';
import { notifyDone, notifyRefused } from '../ui/toast';

/**
 * Create a template from JSON (the import format). Validate asks the gateway's validator (nothing
 * stored); Save creates it and opens it once the read model has it (min_sequence).
 */
export function NewTemplateForm({ onCancel }: { onCancel?: () => void }) {
  const id = useId();
  const [text, setText] = useState(EXAMPLE_TEMPLATE_JSON);
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [validation, setValidation] = useState<TemplateValidation | null>(null);
  const navigate = useNavigate();
  const qc = useQueryClient();

  const validate = useMutation({ mutationFn: api.validateTemplate, onSuccess: setValidation });
  const save = useMutation({
    mutationFn: api.createTemplate,
    onError: (error) => notifyRefused('Saving the template was refused', error),
    onSuccess: ({ id: templateId, sequence }) => {
      notifyDone('Template created', templateId);
      void qc.invalidateQueries({ queryKey: keys.templates() });
      navigate(`/templates/${encodeURIComponent(templateId)}?min_sequence=${sequence}`);
    },
  });

  /** The parsed JSON, or null after showing why it does not parse. */
  const parsed = (): unknown => {
    const result = parseJson(text);
    setJsonError(result.ok ? null : result.message);
    return result.ok ? result.value : null;
  };

  const onValidate = () => {
    save.reset();
    setValidation(null);
    const value = parsed();
    if (value !== null) validate.mutate(value);
  };
  const onSave = () => {
    validate.reset();
    setValidation(null);
    const value = parsed();
    if (value !== null) save.mutate(value);
  };
  const onFormat = () => {
    const result = parseJson(text);
    if (result.ok) setText(JSON.stringify(result.value, null, 2));
    setJsonError(result.ok ? null : result.message);
  };

  const busy = validate.isPending || save.isPending;
  return (
    <form
      className="card form"
      aria-labelledby={`${id}-title`}
      onSubmit={(e) => {
        e.preventDefault();
        onSave();
      }}
    >
      <div className="card__head">
        <h2 id={`${id}-title`}>New template</h2>
        {onCancel && (
          <button type="button" className="btn btn--ghost btn--small" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      <label className="field" htmlFor={`${id}-json`}>
        <span>Template JSON</span>
      </label>
      <textarea
        id={`${id}-json`}
        className="code-input"
        rows={26}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        value={text}
        aria-invalid={jsonError ? true : undefined}
        aria-describedby={`${id}-help`}
        onChange={(e) => {
          setText(e.target.value);
          setJsonError(null);
        }}
      />
      <p id={`${id}-help`} className="muted small">
        The import/export format: name, description, inputs (JSON Schema), defaults and phases. The <code>simulated</code> provider runs offline.
      </p>
      {jsonError && (
        <div className="notice notice--error" role="alert">
          <strong>Invalid JSON:</strong> {jsonError}
        </div>
      )}
      <div className="actions">
        <button type="button" className="btn" onClick={onValidate} disabled={busy}>
          {validate.isPending ? 'Validating…' : 'Validate'}
        </button>
        <button type="submit" className="btn btn--primary" disabled={busy}>
          {save.isPending ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="btn btn--ghost" onClick={onFormat} disabled={busy}>
          Format
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={() => {
            setText(EXAMPLE_TEMPLATE_JSON);
            setJsonError(null);
            setValidation(null);
          }}
          disabled={busy}
        >
          Reset to example
        </button>
      </div>
      <div aria-live="polite">
        {validation && <ValidationResult result={validation} />}
        {validate.isError && <ErrorNotice error={validate.error} title="Validation request failed" />}
        {save.isError && <ErrorNotice error={save.error} title="The template was not saved" />}
      </div>
    </form>
  );
}
