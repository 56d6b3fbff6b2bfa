import { AgentTool, ArtifactType } from '@conclave/contracts';
import { useEffect, useId, useState } from 'react';
import { fieldErrors, getField, setField, type DraftPhase, type LocatedError } from './editor-model';
import { SelectField } from '../ui/Select';

interface Props {
  phase: DraftPhase;
  allIds: readonly string[];
  errors: LocatedError[] | undefined;
  onChange: (next: DraftPhase) => void;
  onRename: (to: string) => void;
  onRemove: () => void;
}

const ARTIFACTS = ArtifactType.options;
const TOOLS = AgentTool.options;

/** The form of one phase, per kind (fields of libs/contracts/src/template.ts); errors are shown at their field. */
export function PhaseForm({ phase, allIds, errors, onChange, onRename, onRemove }: Props) {
  const set = (path: string, value: unknown) => onChange(setField(phase, path, value));
  const generative = phase.kind === 'llm' || phase.kind === 'agent' || phase.kind === 'loop' || phase.kind === 'interview';
  const phaseLevel = fieldErrors(errors, '').filter((e) => e.field === '');
  return (
    <form className="form phase-form" aria-label={`Phase ${phase.id}`} onSubmit={(e) => e.preventDefault()}>
      <div className="phase-form__head">
        <h3>
          <code>{phase.kind}</code> phase
        </h3>
        <button type="button" className="btn btn--small btn--danger" onClick={onRemove}>
          Remove phase
        </button>
      </div>
      {phaseLevel.map((e, i) => (
        <p key={i} className="form-error" role="alert">
          {e.message} <code>{e.code}</code>
        </p>
      ))}
      <IdField id={phase.id} taken={allIds} onRename={onRename} errors={fieldErrors(errors, 'id')} />
      <Text label="Name" value={getField(phase, 'name')} onChange={(v) => set('name', v || undefined)} errors={fieldErrors(errors, 'name')} />
      <Text label="Description" value={getField(phase, 'description')} onChange={(v) => set('description', v || undefined)} errors={fieldErrors(errors, 'description')} multiline />
      <Text
        label="Depends on (comma-separated ids; or connect on the canvas)"
        value={((phase.dependsOn ?? []) as string[]).join(', ')}
        onChange={(v) => set('dependsOn', splitList(v))}
        errors={fieldErrors(errors, 'dependsOn')}
      />

      {generative && (
        <fieldset>
          <legend>Prompt</legend>
          <Text label="System" value={getField(phase, 'prompt.system')} onChange={(v) => set('prompt.system', v || undefined)} errors={fieldErrors(errors, 'prompt.system')} multiline />
          <Text label="User (bindings: {{inputs.x}}, {{phases.<id>.output.<path>}}, {{answers.<id>}})" value={getField(phase, 'prompt.user')} onChange={(v) => set('prompt.user', v)} errors={fieldErrors(errors, 'prompt')} multiline rows={4} />
        </fieldset>
      )}
      {generative && <Candidates phase={phase} onChange={onChange} errors={fieldErrors(errors, 'candidates')} max={phase.kind === 'interview' ? 1 : 16} />}
      {(phase.kind === 'llm' || phase.kind === 'agent') && <JudgeFields prefix="judge" label="Judge (when more than one candidate)" phase={phase} onChange={onChange} errors={errors} optional />}
      {(phase.kind === 'llm' || phase.kind === 'agent' || phase.kind === 'loop') && <OutputField phase={phase} set={set} errors={fieldErrors(errors, 'output')} />}

      {phase.kind === 'agent' && (
        <fieldset>
          <legend>Tools</legend>
          <div className="checkbox-grid">
            {TOOLS.map((tool) => {
              const list = (getField(phase, 'tools') as string[] | undefined) ?? [];
              return (
                <label key={tool} className="field--inline">
                  <input
                    type="checkbox"
                    checked={list.includes(tool)}
                    onChange={(e) => set('tools', e.target.checked ? [...list, tool] : list.filter((t) => t !== tool))}
                  />
                  <code>{tool}</code>
                </label>
              );
            })}
          </div>
          <ErrorText errors={fieldErrors(errors, 'tools')} />
          <NumberField label="Max iterations" value={getField(phase, 'maxIterations')} onChange={(v) => set('maxIterations', v)} errors={fieldErrors(errors, 'maxIterations')} />
        </fieldset>
      )}
      {phase.kind === 'loop' && (
        <fieldset>
          <legend>Loop</legend>
          <NumberField label="Max attempts" value={getField(phase, 'loop.maxAttempts')} onChange={(v) => set('loop.maxAttempts', v)} errors={fieldErrors(errors, 'loop.maxAttempts')} />
          <NumberField label="Pass threshold (0–1)" step={0.05} value={getField(phase, 'loop.passThreshold')} onChange={(v) => set('loop.passThreshold', v)} errors={fieldErrors(errors, 'loop.passThreshold')} />
          <JudgeFields prefix="loop.evaluator" label="Evaluator" phase={phase} onChange={onChange} errors={errors} />
        </fieldset>
      )}
      {phase.kind === 'interview' && (
        <NumberField label="Max questions (1–10)" value={getField(phase, 'maxQuestions')} onChange={(v) => set('maxQuestions', v)} errors={fieldErrors(errors, 'maxQuestions')} />
      )}
      {phase.kind === 'gate' && <Text label="Message shown to the approver" value={getField(phase, 'message')} onChange={(v) => set('message', v)} errors={fieldErrors(errors, 'message')} multiline />}
      {phase.kind === 'condition' && (
        <>
          <JsonField label="Expression (JSON Logic over inputs, phases.<id>.output, answers)" value={getField(phase, 'expression')} onChange={(v) => set('expression', v)} errors={fieldErrors(errors, 'expression')} />
          <Text label="If true, run (ids)" value={((getField(phase, 'ifTrue') as string[] | undefined) ?? []).join(', ')} onChange={(v) => set('ifTrue', splitList(v))} errors={fieldErrors(errors, 'ifTrue')} />
          <Text label="If false, run (ids)" value={((getField(phase, 'ifFalse') as string[] | undefined) ?? []).join(', ')} onChange={(v) => set('ifFalse', splitList(v))} errors={fieldErrors(errors, 'ifFalse')} />
        </>
      )}
      {phase.kind === 'tool' && (
        <fieldset>
          <legend>Tool</legend>
          <Text label="Command (allow-listed)" value={getField(phase, 'tool.command')} onChange={(v) => set('tool.command', v)} errors={fieldErrors(errors, 'tool.command')} />
          <Text
            label="Arguments (one per line)"
            value={((getField(phase, 'tool.args') as string[] | undefined) ?? []).join('\n')}
            onChange={(v) => set('tool.args', v.split('\n').filter((a) => a !== ''))}
            errors={fieldErrors(errors, 'tool.args')}
            multiline
          />
        </fieldset>
      )}

      <fieldset>
        <legend>Execution</legend>
        <NumberField label="Timeout (s)" value={getField(phase, 'timeoutSeconds')} onChange={(v) => set('timeoutSeconds', v)} errors={fieldErrors(errors, 'timeoutSeconds')} />
        <NumberField label="Retry: max attempts" value={getField(phase, 'retry.maxAttempts')} onChange={(v) => set('retry', v === undefined ? undefined : { backoffSeconds: 2, ...(getField(phase, 'retry') as object), maxAttempts: v })} errors={fieldErrors(errors, 'retry')} />
        <NumberField label="Budget share (0–1)" step={0.05} value={getField(phase, 'budgetShare')} onChange={(v) => set('budgetShare', v)} errors={fieldErrors(errors, 'budgetShare')} />
        <label className="field--inline">
          <input
            type="checkbox"
            checked={getField(phase, 'autoProceed') !== false}
            onChange={(e) => set('autoProceed', e.target.checked ? undefined : false)}
          />
          Proceed automatically (off: wait for “continue”)
        </label>
      </fieldset>
      <ErrorText errors={(errors ?? []).filter((e) => e.field !== '' && !KNOWN_FIELDS.some((f) => e.field === f || e.field.startsWith(`${f}.`)))} />
    </form>
  );
}

const KNOWN_FIELDS = [
  'id', 'name', 'description', 'dependsOn', 'prompt', 'candidates', 'judge', 'output', 'tools', 'maxIterations', 'loop', 'maxQuestions',
  'message', 'expression', 'ifTrue', 'ifFalse', 'tool', 'timeoutSeconds', 'retry', 'budgetShare',
];

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

function ErrorText({ errors, id }: { errors: LocatedError[]; id?: string }) {
  if (errors.length === 0) return null;
  return (
    <ul className="field-errors" id={id}>
      {errors.map((e, i) => (
        <li key={i}>
          {e.field && <code>{e.field}</code>} {e.message}
        </li>
      ))}
    </ul>
  );
}

function Text({ label, value, onChange, errors, multiline, rows = 2 }: { label: string; value: unknown; onChange: (v: string) => void; errors: LocatedError[]; multiline?: boolean; rows?: number }) {
  const errId = useId();
  const common = {
    value: typeof value === 'string' ? value : '',
    'aria-invalid': errors.length > 0,
    'aria-describedby': errors.length > 0 ? errId : undefined,
  };
  return (
    <label className="field">
      {label}
      {multiline ? <textarea rows={rows} {...common} onChange={(e) => onChange(e.target.value)} /> : <input {...common} onChange={(e) => onChange(e.target.value)} />}
      <ErrorText errors={errors} id={errId} />
    </label>
  );
}

function NumberField({ label, value, onChange, errors, step = 1 }: { label: string; value: unknown; onChange: (v: number | undefined) => void; errors: LocatedError[]; step?: number }) {
  return (
    <label className="field">
      {label}
      <input
        type="number"
        step={step}
        value={typeof value === 'number' ? value : ''}
        aria-invalid={errors.length > 0}
        onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
      />
      <ErrorText errors={errors} />
    </label>
  );
}

/** A JSON value edited as text: the draft changes only while the text parses. */
function JsonField({ label, value, onChange, errors }: { label: string; value: unknown; onChange: (v: unknown) => void; errors: LocatedError[] }) {
  const [text, setText] = useState(() => JSON.stringify(value ?? null, null, 2));
  const [parseError, setParseError] = useState<string | null>(null);
  return (
    <label className="field">
      {label}
      <textarea
        className="code-input"
        rows={5}
        spellCheck={false}
        value={text}
        aria-invalid={parseError !== null || errors.length > 0}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(JSON.parse(e.target.value));
            setParseError(null);
          } catch (err) {
            setParseError(err instanceof Error ? err.message : String(err));
          }
        }}
      />
      {parseError && <span className="form-error">{parseError}</span>}
      <ErrorText errors={errors} />
    </label>
  );
}

function IdField({ id, taken, onRename, errors }: { id: string; taken: readonly string[]; onRename: (to: string) => void; errors: LocatedError[] }) {
  const [text, setText] = useState(id);
  useEffect(() => setText(id), [id]);
  const clash = text !== id && taken.includes(text);
  const bad = !/^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/.test(text);
  return (
    <label className="field">
      Id (renaming updates every reference)
      <input
        value={text}
        aria-invalid={clash || bad || errors.length > 0}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => (!clash && !bad ? onRename(text) : setText(id))}
        onKeyDown={(e) => e.key === 'Enter' && !clash && !bad && onRename(text)}
      />
      {clash && <span className="form-error">another phase has this id</span>}
      {bad && <span className="form-error">a letter first, then letters, digits, _ or -</span>}
      <ErrorText errors={errors} />
    </label>
  );
}

type ModelRefDraft = { provider?: string; model?: string; [k: string]: unknown };

function Candidates({ phase, onChange, errors, max }: { phase: DraftPhase; onChange: (p: DraftPhase) => void; errors: LocatedError[]; max: number }) {
  const list = (Array.isArray(phase.candidates) ? phase.candidates : []) as ModelRefDraft[];
  const write = (next: ModelRefDraft[]) => onChange(setField(phase, 'candidates', next.length ? next : undefined));
  return (
    <fieldset>
      <legend>Candidates ({list.length})</legend>
      {list.map((c, i) => (
        <div key={i} className="form__row candidate-row">
          <label className="field">
            Provider
            <input value={c.provider ?? ''} onChange={(e) => write(list.map((x, j) => (j === i ? { ...x, provider: e.target.value } : x)))} aria-invalid={fieldErrors(errors, `candidates.${i}.provider`).length > 0} />
          </label>
          <label className="field">
            Model
            <input value={c.model ?? ''} onChange={(e) => write(list.map((x, j) => (j === i ? { ...x, model: e.target.value } : x)))} aria-invalid={fieldErrors(errors, `candidates.${i}.model`).length > 0} />
          </label>
          <button type="button" className="btn btn--small btn--ghost" aria-label={`Remove candidate ${i + 1}`} onClick={() => write(list.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      {list.length < max && (
        <button type="button" className="btn btn--small" onClick={() => write([...list, { provider: 'simulated', model: 'sim' }])}>
          + Candidate
        </button>
      )}
      <ErrorText errors={errors} />
    </fieldset>
  );
}

function JudgeFields({ prefix, label, phase, onChange, errors, optional }: { prefix: string; label: string; phase: DraftPhase; onChange: (p: DraftPhase) => void; errors: LocatedError[] | undefined; optional?: boolean }) {
  const judge = getField(phase, prefix) as { provider?: string; model?: string; criteria?: string[] } | undefined;
  const set = (key: string, value: unknown) => onChange(setField(phase, `${prefix}.${key}`, value));
  return (
    <fieldset>
      <legend>{label}</legend>
      {optional && (
        <label className="field--inline">
          <input type="checkbox" checked={judge !== undefined} onChange={(e) => onChange(setField(phase, prefix, e.target.checked ? { provider: 'simulated', model: 'sim-judge' } : undefined))} />
          Use an explicit judge
        </label>
      )}
      {judge !== undefined && (
        <div className="form__row">
          <Text label="Provider" value={judge.provider} onChange={(v) => set('provider', v)} errors={fieldErrors(errors, `${prefix}.provider`)} />
          <Text label="Model" value={judge.model} onChange={(v) => set('model', v)} errors={fieldErrors(errors, `${prefix}.model`)} />
          <Text label="Criteria (comma-separated)" value={(judge.criteria ?? []).join(', ')} onChange={(v) => set('criteria', splitList(v).length ? splitList(v) : undefined)} errors={fieldErrors(errors, `${prefix}.criteria`)} />
        </div>
      )}
      <ErrorText errors={fieldErrors(errors, prefix).filter((e) => !/\.(provider|model|criteria)(\.|$)/.test(e.field))} />
    </fieldset>
  );
}

const SCHEMA_OUTPUT = '__schema';

function OutputField({ phase, set, errors }: { phase: DraftPhase; set: (path: string, value: unknown) => void; errors: LocatedError[] }) {
  const output = phase.output as { artifact?: string; schema?: unknown } | undefined;
  const mode = output?.schema !== undefined ? 'schema' : 'artifact';
  return (
    <fieldset>
      <legend>Output</legend>
      <SelectField
        label="Kind"
        value={mode === 'schema' ? SCHEMA_OUTPUT : (output?.artifact ?? '')}
        onValueChange={(v) => set('output', v === SCHEMA_OUTPUT ? { schema: { type: 'object', properties: {} } } : v ? { artifact: v } : undefined)}
        options={[{ value: '', label: 'default for the kind' }, ...ARTIFACTS.map((a) => ({ value: a, label: `built-in: ${a}` })), { value: SCHEMA_OUTPUT, label: 'a JSON Schema…' }]}
      />
      {mode === 'schema' && <JsonField key="schema" label="JSON Schema" value={output?.schema} onChange={(v) => set('output', { schema: v })} errors={fieldErrors(errors, 'output.schema')} />}
      <ErrorText errors={errors.filter((e) => !e.field.startsWith('output.schema'))} />
    </fieldset>
  );
}
