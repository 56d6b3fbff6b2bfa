import type { Prompt } from './template';

/**
 * Prompt rendering, shared by the orchestrator (what it sends), the gateway (the start-run preview
 * of `POST /templates/:id/estimate`) and the dashboard (the same preview, live as the form changes).
 */

/** What bindings resolve against: `{{inputs.x}}`, `{{phases.<id>.output.<path>}}`, `{{answers.<id>}}`. */
export interface BindingContext {
  inputs: Record<string, unknown>;
  phases: Record<string, { output?: unknown }>;
  answers: Record<string, unknown>;
}

const BINDING = /\{\{\s*([^}]*?)\s*\}\}/g;

/**
 * Replace every binding with its value (strings as-is, anything else as JSON). The validator has
 * already proved each binding names something upstream; a value that is absent at run time
 * (an optional input, a path the output lacks) renders as an empty string.
 */
export function renderText(text: string, context: BindingContext): string {
  return text.replace(BINDING, (_match, expr: string) => {
    const value = lookup(context, expr.split('.'));
    if (value === undefined || value === null) return '';
    return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  });
}

export function renderPrompt(prompt: Prompt, context: BindingContext): Prompt {
  return {
    ...(prompt.system !== undefined ? { system: renderText(prompt.system, context) } : {}),
    user: renderText(prompt.user, context),
  };
}

/** An interview phase's first call: its rendered prompt plus the bound on the questions. */
export function interviewPrompt(rendered: Prompt, maxQuestions: number): Prompt {
  return { ...rendered, user: `${rendered.user}\n\nAsk at most ${maxQuestions} questions whose answers you need before the work can start.` };
}

function lookup(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) && /^\d+$/.test(key) ? current[Number(key)] : (current as Record<string, unknown>)[key];
  }
  return current;
}
