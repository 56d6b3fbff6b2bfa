import type { JsonSchema } from '@conclave/contracts';
import type { RJSFSchema } from '@rjsf/utils';
import { lazy, Suspense, useId, useMemo, useState } from 'react';
import { Tabs, TabsContent, TabsList, TabsTrigger } from '../../ui/Tabs';
import { fieldErrorsOf } from './input-errors';

const SchemaForm = lazy(() => import('./SchemaForm'));

export type InputsMode = 'form' | 'json';

interface Props {
  schema: JsonSchema;
  /** the inputs as the form holds them (the last JSON that parsed to an object) */
  value: Record<string, unknown>;
  /** the Advanced tab's text: follows the form, and may hold JSON that does not parse yet */
  text: string;
  jsonError: string | null;
  onFormChange: (value: Record<string, unknown>) => void;
  onTextChange: (text: string) => void;
  /** the gateway's verdict on `value` (`/path: message`) */
  errors: readonly string[];
}

/**
 * The run's inputs two ways, kept in sync: a form generated from the inputs schema, and the raw JSON
 * ("Advanced"). Each edit of one rewrites the other; JSON that does not parse stays in its tab
 * (the form keeps the last good value) and the form tab waits until it is fixed.
 */
export function InputsEditor({ schema, value, text, jsonError, onFormChange, onTextChange, errors }: Props) {
  const id = useId();
  const [mode, setMode] = useState<InputsMode>('form');
  const [blocked, setBlocked] = useState(false);
  const fieldErrors = useMemo(() => fieldErrorsOf(errors), [errors]);
  const declared = Object.keys(schema.properties ?? {}).length > 0;

  return (
    <Tabs
      value={mode}
      onValueChange={(next) => {
        if (next === 'form' && jsonError) return setBlocked(true);
        setBlocked(false);
        setMode(next as InputsMode);
      }}
    >
      <div className="start-run__inputs-head">
        <h3 id={`${id}-label`} className="start-run__subhead">
          Inputs
        </h3>
        <TabsList aria-label="How to edit the inputs">
          <TabsTrigger value="form">Form</TabsTrigger>
          <TabsTrigger value="json">Advanced (JSON)</TabsTrigger>
        </TabsList>
      </div>
      <TabsContent value="form" aria-labelledby={`${id}-label`}>
        {declared ? (
          <Suspense fallback={<p className="muted small">Loading the form…</p>}>
            <SchemaForm schema={schema as RJSFSchema} value={value} onChange={onFormChange} errors={fieldErrors} />
          </Suspense>
        ) : (
          <p className="muted small">This template declares no inputs; send any JSON object from the Advanced tab.</p>
        )}
        {errors.length > 0 && !declared && <InputErrorList errors={errors} />}
      </TabsContent>
      <TabsContent value="json">
        <label className="sr-only" htmlFor={`${id}-json`}>
          Inputs (JSON)
        </label>
        <textarea
          id={`${id}-json`}
          className="code-input"
          rows={Math.min(18, Math.max(5, text.split('\n').length + 1))}
          spellCheck={false}
          autoCapitalize="off"
          value={text}
          aria-invalid={jsonError || errors.length > 0 ? true : undefined}
          aria-describedby={jsonError ? `${id}-json-error` : undefined}
          onChange={(e) => {
            setBlocked(false);
            onTextChange(e.target.value);
          }}
        />
        {jsonError && (
          <p id={`${id}-json-error`} className="form-error" role="alert">
            {blocked ? 'Fix the JSON before going back to the form: ' : ''}
            {jsonError}
          </p>
        )}
        {!jsonError && errors.length > 0 && <InputErrorList errors={errors} />}
      </TabsContent>
    </Tabs>
  );
}

function InputErrorList({ errors }: { errors: readonly string[] }) {
  return (
    <ul className="start-run__input-errors" aria-label="Problems with the inputs">
      {errors.map((e) => (
        <li key={e}>{e}</li>
      ))}
    </ul>
  );
}
