import Form, { type IChangeEvent } from '@rjsf/core';
import type { ErrorSchema, IconButtonProps, RJSFSchema, UiSchema } from '@rjsf/utils';
import validator from '@rjsf/validator-ajv8';
import { ArrowDown, ArrowUp, Copy, Plus, Trash2 } from 'lucide-react';
import type { ReactElement } from 'react';
import type { FieldErrors } from './input-errors';
import './schema-form.css';

/**
 * The run's inputs as a form generated from the template's inputs JSON Schema (@rjsf/core). Loaded
 * lazily: rjsf and ajv stay out of the page chunk until the form is shown.
 *
 * Validation is the gateway's (`errors`, from the estimate the page asks for on every change): the
 * dashboard's CSP forbids `eval`, which ajv needs to compile a schema in the browser, and the
 * gateway's messages are the orchestrator's own, so the form shows exactly what a start would
 * refuse. The ajv8 validator still serves rjsf's schema utilities where the browser allows it.
 */
export interface SchemaFormProps {
  schema: RJSFSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  errors: FieldErrors;
  disabled?: boolean;
}

const uiSchema: UiSchema = { 'ui:submitButtonOptions': { norender: true } };

export default function SchemaForm({ schema, value, onChange, errors, disabled }: SchemaFormProps) {
  return (
    <Form
      className="schema-form"
      tagName="div"
      idPrefix="inputs"
      schema={schema}
      uiSchema={uiSchema}
      formData={value}
      validator={validator}
      noValidate
      noHtml5Validate
      showErrorList={false}
      extraErrors={errors as ErrorSchema}
      disabled={disabled}
      templates={{ ButtonTemplates: { AddButton, RemoveButton, MoveUpButton, MoveDownButton, CopyButton } }}
      onChange={(event: IChangeEvent) => onChange(isRecord(event.formData) ? event.formData : {})}
    />
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** rjsf's buttons draw Bootstrap glyphicons this app does not ship: these use the app's icons and say what they do. */
function iconButton(label: string, icon: ReactElement, tone: 'plain' | 'danger' = 'plain') {
  function Button({ iconType: _iconType, icon: _icon, uiSchema: _ui, registry: _registry, className, ...rest }: IconButtonProps) {
    return (
      <button type="button" className={`btn btn--small schema-form__button${tone === 'danger' ? ' btn--danger' : ''}${className ? ` ${className}` : ''}`} title={label} aria-label={label} {...rest}>
        {icon}
      </button>
    );
  }
  Button.displayName = `SchemaForm${label.replace(/\s/g, '')}Button`;
  return Button;
}

const AddButton = iconButton('Add item', <Plus size={14} aria-hidden="true" />);
const RemoveButton = iconButton('Remove item', <Trash2 size={14} aria-hidden="true" />, 'danger');
const MoveUpButton = iconButton('Move up', <ArrowUp size={14} aria-hidden="true" />);
const MoveDownButton = iconButton('Move down', <ArrowDown size={14} aria-hidden="true" />);
const CopyButton = iconButton('Copy item', <Copy size={14} aria-hidden="true" />);
