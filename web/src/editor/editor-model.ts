import type { PhaseKind, TemplateError } from '@conclave/contracts';

/**
 * The template editor's state, pure. A draft is the import/export format as a user writes it
 * (`TemplateInput`), kept loose (`DraftPhase`) because a draft being edited is often invalid:
 * the server's validator (`POST /templates/validate`) is the judge, and its located errors are
 * mapped back onto nodes and fields here.
 */
export type DraftPhase = { id: string; kind: PhaseKind; dependsOn?: string[]; [field: string]: unknown };
export interface DraftTemplate {
  name: string;
  description?: string;
  inputs?: unknown;
  defaults?: unknown;
  phases: DraftPhase[];
  [field: string]: unknown;
}
export interface Point {
  x: number;
  y: number;
}

export const PHASE_KINDS: readonly PhaseKind[] = ['llm', 'agent', 'loop', 'interview', 'gate', 'condition', 'tool'];

const SIM = { provider: 'simulated', model: 'sim' };

/** A new phase of `kind` with the fields its schema requires, filled with working defaults. */
export function defaultPhase(kind: PhaseKind, id: string, dependsOn: string[] = []): DraftPhase {
  const base = { id, kind, dependsOn };
  switch (kind) {
    case 'llm':
      return { ...base, prompt: { user: 'Describe the task.' }, candidates: [{ ...SIM }], output: { artifact: 'text' } };
    case 'agent':
      return { ...base, prompt: { user: 'Make the change.' }, candidates: [{ ...SIM }], tools: ['read_file', 'list_files'], output: { artifact: 'code-change' } };
    case 'loop':
      return {
        ...base,
        prompt: { user: 'Write a draft.' },
        candidates: [{ ...SIM }],
        loop: { maxAttempts: 3, passThreshold: 0.8, evaluator: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] } },
        output: { artifact: 'text' },
      };
    case 'interview':
      return { ...base, prompt: { user: 'Ask what you need to know.' }, maxQuestions: 5 };
    case 'gate':
      return { ...base, message: 'Approve to continue?' };
    case 'condition':
      return { ...base, expression: { '==': [1, 1] }, ifTrue: [], ifFalse: [] };
    case 'tool':
      return { ...base, tool: { command: 'npm', args: ['test'] } };
  }
}

export function uniquePhaseId(draft: DraftTemplate, kind: string): string {
  const ids = new Set(draft.phases.map((p) => p.id));
  for (let i = 1; ; i++) if (!ids.has(`${kind}${i}`)) return `${kind}${i}`;
}

export function addPhase(draft: DraftTemplate, kind: PhaseKind, dependsOn: string[] = []): { draft: DraftTemplate; id: string } {
  const id = uniquePhaseId(draft, kind);
  return { draft: { ...draft, phases: [...draft.phases, defaultPhase(kind, id, dependsOn)] }, id };
}

/** Remove a phase and every reference to it (dependsOn, condition branches). */
export function removePhase(draft: DraftTemplate, id: string): DraftTemplate {
  return {
    ...draft,
    phases: draft.phases.filter((p) => p.id !== id).map((p) => rewriteRefs(p, (ref) => (ref === id ? null : ref))),
  };
}

/** Rename a phase's id and every reference to it; no-op when `to` is already taken. */
export function renamePhase(draft: DraftTemplate, from: string, to: string): DraftTemplate {
  if (from === to || draft.phases.some((p) => p.id === to)) return draft;
  return {
    ...draft,
    phases: draft.phases.map((p) => rewriteRefs(p.id === from ? { ...p, id: to } : p, (ref) => (ref === from ? to : ref))),
  };
}

function rewriteRefs(phase: DraftPhase, fn: (ref: string) => string | null): DraftPhase {
  const map = (list: unknown) => (Array.isArray(list) ? list.map((x) => (typeof x === 'string' ? fn(x) : x)).filter((x) => x !== null) : list);
  const next: DraftPhase = { ...phase, dependsOn: map(phase.dependsOn ?? []) as string[] };
  if (phase.kind === 'condition') {
    next.ifTrue = map(phase.ifTrue);
    next.ifFalse = map(phase.ifFalse);
  }
  return next;
}

/** `target` depends on `source` (an edge source → target). Refuses self-loops and duplicates. */
export function connect(draft: DraftTemplate, source: string, target: string): DraftTemplate {
  if (source === target) return draft;
  return updatePhase(draft, target, (p) => ((p.dependsOn ?? []).includes(source) ? p : { ...p, dependsOn: [...(p.dependsOn ?? []), source] }));
}

export function disconnect(draft: DraftTemplate, source: string, target: string): DraftTemplate {
  return updatePhase(draft, target, (p) => ({ ...p, dependsOn: (p.dependsOn ?? []).filter((d) => d !== source) }));
}

export function updatePhase(draft: DraftTemplate, id: string, fn: (p: DraftPhase) => DraftPhase): DraftTemplate {
  let changed = false;
  const phases = draft.phases.map((p) => {
    if (p.id !== id) return p;
    const next = fn(p);
    changed ||= next !== p;
    return next;
  });
  return changed ? { ...draft, phases } : draft;
}

/** Set (or with `undefined`, delete) one field; nested by a dotted path, e.g. `prompt.user`. */
export function setField(phase: DraftPhase, path: string, value: unknown): DraftPhase {
  const keysPath = path.split('.');
  const write = (obj: Record<string, unknown>, i: number): Record<string, unknown> => {
    const key = keysPath[i]!;
    const copy = { ...obj };
    if (i === keysPath.length - 1) {
      if (value === undefined) delete copy[key];
      else copy[key] = value;
      return copy;
    }
    const child = copy[key];
    copy[key] = write(typeof child === 'object' && child !== null && !Array.isArray(child) ? (child as Record<string, unknown>) : {}, i + 1);
    return copy;
  };
  return write(phase, 0) as DraftPhase;
}

export function getField(phase: DraftPhase, path: string): unknown {
  return path.split('.').reduce<unknown>((obj, key) => (typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined), phase);
}

/* ------------------------------------------------------------------ validation errors → nodes */

export interface LocatedError {
  code: string;
  message: string;
  /** dotted field path inside the phase (`prompt.user`, `candidates.0.model`), '' for the phase itself */
  field: string;
}
export interface ErrorMap {
  byPhase: Record<string, LocatedError[]>;
  /** errors not inside one phase (name, inputs, defaults, the phases array) */
  global: TemplateError[];
}

/**
 * Place the validator's errors: on the phase named by `phaseId`, else on the phase at
 * `path[1]` when `path` starts with `phases`; the field is `field` when given, else the rest of
 * the path. Index-based paths are resolved against the draft that was validated (the caller must
 * pass the same one, not a later edit).
 */
export function mapErrors(draft: DraftTemplate, errors: readonly TemplateError[]): ErrorMap {
  const out: ErrorMap = { byPhase: {}, global: [] };
  for (const error of errors) {
    const inPhases = error.path[0] === 'phases' && typeof error.path[1] === 'number';
    const phaseId = error.phaseId ?? (inPhases ? draft.phases[error.path[1] as number]?.id : undefined);
    if (!phaseId || !draft.phases.some((p) => p.id === phaseId)) {
      out.global.push(error);
      continue;
    }
    const field = normalizeField(error.field ?? (inPhases ? error.path.slice(2).join('.') : ''));
    (out.byPhase[phaseId] ??= []).push({ code: error.code, message: error.message, field });
  }
  return out;
}

/** `candidates[0].model` → `candidates.0.model` (the validator writes fields with brackets, paths with dots). */
export function normalizeField(field: string): string {
  return field.replace(/\[(\d+)\]/g, '.$1').replace(/^\./, '');
}

/** The errors of one field of a phase: an exact match, or any nested under it (`candidates` gets `candidates.0.model`). */
export function fieldErrors(errors: readonly LocatedError[] | undefined, field: string): LocatedError[] {
  return (errors ?? []).filter((e) => e.field === field || e.field.startsWith(`${field}.`));
}

/**
 * The template's default repository (`workspace: { path, baseRef? }`): runs started without one
 * work there. An empty path removes it (runs then get a fresh repository); an empty base ref
 * means the repository's HEAD.
 */
export function setDefaultWorkspace(draft: DraftTemplate, change: { path?: string; baseRef?: string }): DraftTemplate {
  const current = (draft.workspace ?? {}) as { path?: string; baseRef?: string };
  const path = (change.path ?? current.path ?? '').trim();
  const baseRef = (change.baseRef ?? current.baseRef ?? '').trim();
  const { workspace: _dropped, ...rest } = draft;
  if (!path && !baseRef) return rest as DraftTemplate;
  return { ...rest, workspace: { path, ...(baseRef ? { baseRef } : {}) } };
}

/* ------------------------------------------------------------------ import / export */

/** Strip the editor-only parts; the result is the template import/export format. */
export function toTemplateJson(draft: DraftTemplate): string {
  return JSON.stringify(draft, null, 2);
}

export function fromTemplateJson(text: string): { ok: true; draft: DraftTemplate } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: 'a template is a JSON object' };
  const t = value as Record<string, unknown>;
  if (!Array.isArray(t.phases)) return { ok: false, message: 'a template has a "phases" array' };
  const phases = t.phases.filter((p): p is DraftPhase => typeof p === 'object' && p !== null && typeof (p as DraftPhase).id === 'string');
  if (phases.length !== t.phases.length) return { ok: false, message: 'every phase needs an "id"' };
  return { ok: true, draft: { ...(t as DraftTemplate), name: typeof t.name === 'string' ? t.name : '', phases } };
}

export function emptyDraft(): DraftTemplate {
  return {
    name: 'new-template',
    description: '',
    inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
    phases: [defaultPhase('llm', 'draft')],
  };
}
