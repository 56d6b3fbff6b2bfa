import { z } from 'zod';
import { declaredProperties } from './json-schema';
import { unpricedBudgetRules } from './prices';
import { Template, type Phase } from './template';

/**
 * The pure template validator. Every error names where it is: the phase (when there is one), the
 * field path inside the template, and a code the editor can map onto its nodes.
 */
export const TemplateErrorCode = z.enum([
  'schema', // the JSON does not fit the template format
  'duplicate_phase',
  'unknown_phase', // dependsOn / ifTrue / ifFalse names a phase that does not exist
  'self_dependency',
  'cycle',
  'unreachable', // can never start: depends (transitively) on a cycle
  'bad_branch', // a condition branch target that does not depend on the condition
  'bad_binding', // {{...}} that names nothing, or a phase that is not upstream
  'bad_expression', // a condition's JSON Logic with an unknown operator or a `var` that names nothing upstream
  'unpriced_model', // a budget policy switches to a model without a price (its reservations would be 0)
]);
export type TemplateErrorCode = z.infer<typeof TemplateErrorCode>;

export const TemplateError = z.object({
  code: TemplateErrorCode,
  message: z.string(),
  /** JSON path inside the template, e.g. ["phases", 2, "dependsOn", 0] */
  path: z.array(z.union([z.string(), z.number()])),
  phaseId: z.string().optional(),
  field: z.string().optional(),
});
export type TemplateError = z.infer<typeof TemplateError>;

export const TemplateValidation = z.object({
  valid: z.boolean(),
  errors: z.array(TemplateError),
  /** phases grouped by execution level: level n depends only on levels < n (empty when invalid) */
  levels: z.array(z.array(z.string())),
});
export type TemplateValidation = z.infer<typeof TemplateValidation>;

export type ValidateResult =
  | { valid: true; template: Template; errors: []; levels: string[][] }
  | { valid: false; errors: TemplateError[]; levels: string[][] };

const BINDING_RE = /\{\{\s*([^}]*?)\s*\}\}/g;

/** Every `{{ expr }}` in a string, with its trimmed expression. */
export function findBindings(text: string): string[] {
  return [...text.matchAll(BINDING_RE)].map((m) => m[1]!);
}

export interface ValidateOptions {
  /**
   * Compiles a JSON Schema (ajv in the services; contracts depend on zod only) and returns why it
   * does not compile, or null. Without it, schemas are checked for their structure only.
   */
  compileSchema?: (schema: unknown) => string | null;
}

export function validateTemplate(input: unknown, options: ValidateOptions = {}): ValidateResult {
  const parsed = Template.safeParse(input);
  if (!parsed.success) {
    return { valid: false, levels: [], errors: parsed.error.issues.map((issue) => schemaError(input, issue)) };
  }
  const template = parsed.data;
  const errors: TemplateError[] = [];
  const index = new Map<string, number>();

  template.phases.forEach((phase, i) => {
    if (index.has(phase.id)) {
      errors.push({ code: 'duplicate_phase', message: `phase id "${phase.id}" is used twice`, path: ['phases', i, 'id'], phaseId: phase.id, field: 'id' });
    } else index.set(phase.id, i);
  });

  const deps = new Map<string, string[]>();
  template.phases.forEach((phase, i) => {
    const known: string[] = [];
    phase.dependsOn.forEach((dep, j) => {
      const at = { path: ['phases', i, 'dependsOn', j], phaseId: phase.id, field: `dependsOn[${j}]` };
      if (dep === phase.id) errors.push({ code: 'self_dependency', message: `phase "${phase.id}" depends on itself`, ...at });
      else if (!index.has(dep)) errors.push({ code: 'unknown_phase', message: `phase "${phase.id}" depends on unknown phase "${dep}"`, ...at });
      else known.push(dep);
    });
    if (!deps.has(phase.id)) deps.set(phase.id, [...new Set(known)]);
  });

  const { levels, stuck, cycles } = executionLevels(deps);
  for (const cycle of cycles) {
    const first = cycle[0]!;
    errors.push({
      code: 'cycle',
      message: `phases depend on each other in a cycle: ${[...cycle, first].join(' needs ')}`,
      path: ['phases', index.get(first)!, 'dependsOn'],
      phaseId: first,
      field: 'dependsOn',
    });
  }
  const inCycle = new Set(cycles.flat());
  for (const id of stuck) {
    if (inCycle.has(id)) continue;
    errors.push({ code: 'unreachable', message: `phase "${id}" can never start: it depends on a cycle`, path: ['phases', index.get(id)!], phaseId: id });
  }

  const ancestors = ancestorSets(deps);
  template.phases.forEach((phase, i) => {
    if (phase.kind === 'condition') {
      for (const problem of checkExpression(phase.expression, phase, template, ancestors.get(phase.id) ?? new Set(), index)) {
        errors.push({ code: 'bad_expression', message: `expression of condition "${phase.id}": ${problem.message}`, path: ['phases', i, 'expression', ...problem.path], phaseId: phase.id, field: 'expression' });
      }
      for (const branch of ['ifTrue', 'ifFalse'] as const) {
        phase[branch].forEach((target, j) => {
          const at = { path: ['phases', i, branch, j], phaseId: phase.id, field: `${branch}[${j}]` };
          if (!index.has(target)) errors.push({ code: 'unknown_phase', message: `condition "${phase.id}" routes to unknown phase "${target}"`, ...at });
          else if (!(deps.get(target) ?? []).includes(phase.id))
            errors.push({ code: 'bad_branch', message: `branch target "${target}" must list "${phase.id}" in dependsOn`, ...at });
        });
      }
    }
    for (const { field, path, text } of bindableTexts(phase, i)) {
      for (const expr of findBindings(text)) {
        const problem = checkBinding(expr, phase, template, ancestors.get(phase.id) ?? new Set(), index);
        if (problem) errors.push({ code: 'bad_binding', message: `{{${expr}}} in ${field}: ${problem}`, path, phaseId: phase.id, field });
      }
    }
  });

  for (const { index, model } of unpricedBudgetRules(template.defaults.budgetPolicy)) {
    errors.push({
      code: 'unpriced_model',
      message: `the budget policy switches to ${model.provider}/${model.model}, which has no price: name a model with a list price (or the simulated provider)`,
      path: ['defaults', 'budgetPolicy', index, 'model'],
      field: `defaults.budgetPolicy[${index}].model`,
    });
  }

  if (options.compileSchema) {
    const check = (schema: unknown, path: (string | number)[], phaseId?: string) => {
      const problem = options.compileSchema!(schema);
      if (problem) {
        const field = phaseId ? 'output.schema' : 'inputs';
        errors.push({ code: 'schema', message: `the JSON Schema does not compile: ${problem}`, path, field, ...(phaseId ? { phaseId } : {}) });
      }
    };
    check(template.inputs, ['inputs']);
    template.phases.forEach((phase, i) => {
      if ('output' in phase && phase.output && 'schema' in phase.output) check(phase.output.schema, ['phases', i, 'output', 'schema'], phase.id);
    });
  }

  if (errors.length > 0) return { valid: false, errors, levels: [] };
  return { valid: true, template, errors: [], levels };
}

function schemaError(input: unknown, issue: z.core.$ZodIssue): TemplateError {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
  let phaseId: string | undefined;
  if (path[0] === 'phases' && typeof path[1] === 'number') {
    const phase = (input as { phases?: unknown[] })?.phases?.[path[1]] as { id?: unknown } | undefined;
    if (phase && typeof phase.id === 'string') phaseId = phase.id;
  }
  const fieldPath = path[0] === 'phases' && typeof path[1] === 'number' ? path.slice(2) : path;
  const field = fieldPath.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? p : `.${p}`)).join('') || undefined;
  return { code: 'schema', message: issue.message, path, ...(phaseId ? { phaseId } : {}), ...(field ? { field } : {}) };
}

/** Kahn's algorithm by levels; what is left over is stuck (in or behind a cycle). */
export function executionLevels(deps: Map<string, string[]>): { levels: string[][]; stuck: string[]; cycles: string[][] } {
  const remaining = new Map([...deps].map(([id, d]) => [id, new Set(d)]));
  const levels: string[][] = [];
  for (;;) {
    const ready = [...remaining].filter(([, d]) => d.size === 0).map(([id]) => id);
    if (ready.length === 0) break;
    levels.push(ready);
    for (const id of ready) remaining.delete(id);
    for (const d of remaining.values()) for (const id of ready) d.delete(id);
  }
  const stuck = [...remaining.keys()];
  return { levels, stuck, cycles: findCycles(remaining) };
}

function findCycles(graph: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string) => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of graph.get(id) ?? []) {
      if (state.get(dep) === 'visiting') cycles.push(stack.slice(stack.indexOf(dep)));
      else if (!state.has(dep) && graph.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of graph.keys()) if (!state.has(id)) visit(id);
  return cycles;
}

function ancestorSets(deps: Map<string, string[]>): Map<string, Set<string>> {
  const memo = new Map<string, Set<string>>();
  const walk = (id: string, seen: Set<string>): Set<string> => {
    const cached = memo.get(id);
    if (cached) return cached;
    const out = new Set<string>();
    if (seen.has(id)) return out; // cycle: reported elsewhere
    seen.add(id);
    for (const dep of deps.get(id) ?? []) {
      out.add(dep);
      for (const a of walk(dep, seen)) out.add(a);
    }
    memo.set(id, out);
    return out;
  };
  for (const id of deps.keys()) walk(id, new Set());
  return memo;
}

function bindableTexts(phase: Phase, i: number): { field: string; path: (string | number)[]; text: string }[] {
  const out: { field: string; path: (string | number)[]; text: string }[] = [];
  if ('prompt' in phase) {
    out.push({ field: 'prompt.user', path: ['phases', i, 'prompt', 'user'], text: phase.prompt.user });
    if (phase.prompt.system) out.push({ field: 'prompt.system', path: ['phases', i, 'prompt', 'system'], text: phase.prompt.system });
  }
  if (phase.kind === 'gate') out.push({ field: 'message', path: ['phases', i, 'message'], text: phase.message });
  if (phase.kind === 'tool') phase.tool.args.forEach((a, j) => out.push({ field: `tool.args[${j}]`, path: ['phases', i, 'tool', 'args', j], text: a }));
  return out;
}

function checkBinding(expr: string, phase: Phase, template: Template, upstream: Set<string>, index: Map<string, number>): string | null {
  const parts = expr.split('.');
  const root = parts[0];
  if (root === 'inputs') {
    if (parts.length < 2 || !parts[1]) return 'name an input: {{inputs.<name>}}';
    const declared = declaredProperties(template.inputs);
    if (declared && !declared.includes(parts[1])) return `input "${parts[1]}" is not declared in the template's inputs schema`;
    return null;
  }
  if (root === 'phases') {
    const id = parts[1];
    if (!id) return 'name a phase: {{phases.<id>.output}}';
    if (!index.has(id)) return `unknown phase "${id}"`;
    if (id === phase.id) return 'a phase cannot bind its own output';
    if (!upstream.has(id)) return `phase "${id}" is not upstream of "${phase.id}" (add it to dependsOn)`;
    if (parts[2] !== 'output') return `only {{phases.${id}.output[.<path>]}} can be bound`;
    return null;
  }
  if (root === 'answers') {
    const id = parts[1];
    if (!id) return 'name an interview phase: {{answers.<id>}}';
    const target = index.has(id) ? template.phases[index.get(id)!] : undefined;
    if (!target) return `unknown phase "${id}"`;
    if (target.kind !== 'interview') return `phase "${id}" is not an interview`;
    if (!upstream.has(id)) return `interview "${id}" is not upstream of "${phase.id}"`;
    return null;
  }
  return `unknown binding root "${root}" (use inputs, phases or answers)`;
}

/** The operators of json-logic-js (the orchestrator's evaluator); anything else throws at run time. */
export const JSON_LOGIC_OPERATORS: ReadonlySet<string> = new Set([
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!', '!!', '%', 'and', 'or', '?:', 'if', 'in', 'cat', 'substr',
  '+', '*', '-', '/', 'min', 'max', 'merge', 'var', 'missing', 'missing_some', 'log', 'map', 'reduce', 'filter', 'all', 'none', 'some',
]);
/** operators whose later arguments are evaluated against each element: a `var` there names the element */
const SCOPED_OPERATORS = new Set(['map', 'reduce', 'filter', 'all', 'none', 'some']);

/**
 * A condition's JSON Logic, checked before any run meets it: every operator is one json-logic-js
 * knows, and every `var` names `inputs.<declared>`, `phases.<upstream>.output[…]` or
 * `answers.<upstream interview>` (the data the orchestrator evaluates it over). Inside the
 * element-scoped arguments of map / filter / all / … a `var` names the element and is not checked.
 */
function checkExpression(
  expression: unknown,
  phase: Phase,
  template: Template,
  upstream: Set<string>,
  index: Map<string, number>,
): { message: string; path: (string | number)[] }[] {
  const problems: { message: string; path: (string | number)[] }[] = [];
  const walk = (node: unknown, path: (string | number)[], scoped: boolean): void => {
    if (Array.isArray(node)) {
      node.forEach((item, k) => walk(item, [...path, k], scoped));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const keys = Object.keys(node);
    if (keys.length !== 1) {
      problems.push({ message: `an operation is an object with exactly one operator (found ${keys.length === 0 ? 'none' : keys.join(', ')})`, path });
      return;
    }
    const op = keys[0]!;
    const args = (node as Record<string, unknown>)[op];
    if (!JSON_LOGIC_OPERATORS.has(op)) {
      problems.push({ message: `unknown operator "${op}"`, path: [...path, op] });
      return;
    }
    if (op === 'var' && !scoped) {
      const name = Array.isArray(args) ? args[0] : args;
      if (typeof name === 'string' && name !== '') {
        const problem = checkBinding(name, phase, template, upstream, index);
        if (problem) problems.push({ message: `{"var": "${name}"}: ${problem}`, path: [...path, op] });
      } else if (typeof name !== 'number' && !(name !== null && typeof name === 'object')) {
        problems.push({ message: '{"var": …} names nothing: name inputs.<x>, phases.<id>.output… or answers.<id>', path: [...path, op] });
      }
    }
    const list = Array.isArray(args) ? args : [args];
    list.forEach((arg, k) => walk(arg, [...path, op, ...(Array.isArray(args) ? [k] : [])], scoped || (SCOPED_OPERATORS.has(op) && k > 0)));
  };
  walk(expression, [], false);
  return problems;
}

