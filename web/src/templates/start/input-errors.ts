/**
 * The gateway checks inputs with the orchestrator's validator and words its errors
 * `<instance path>: <message>` (`/weeks: must be >= 1`, `(root): must have required property 'idea'`).
 * These helpers place them on the generated form's fields (rjsf's `extraErrors` shape). Pure.
 */

/** rjsf's ErrorSchema: `{ field: { __errors: [...], nested: {...} } }`. */
export interface FieldErrors {
  __errors?: string[];
  [field: string]: FieldErrors | string[] | undefined;
}

const REQUIRED = /^must have required property '(.+)'$/;

/** The inputs' errors from a 422's details (`details.errors: string[]`), or [] when it carries none. */
export function inputErrorsOf(details: unknown): string[] {
  const errors = (details as { errors?: unknown } | null | undefined)?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
}

export function fieldErrorsOf(errors: readonly string[]): FieldErrors {
  const root: FieldErrors = {};
  for (const error of errors) {
    const split = error.indexOf(': ');
    if (split < 0) {
      push(root, [], error);
      continue;
    }
    const pointer = error.slice(0, split);
    let message = error.slice(split + 2);
    const path = pointer === '(root)' ? [] : pointer.split('/').slice(1).map(unescapePointer);
    // "must have required property 'x'" is about the missing field: show it there
    const required = REQUIRED.exec(message);
    if (required) {
      path.push(required[1]!);
      message = 'is required';
    }
    push(root, path, message);
  }
  return root;
}

function push(root: FieldErrors, path: string[], message: string): void {
  let node = root;
  for (const key of path) {
    const next = (node[key] as FieldErrors | undefined) ?? {};
    node[key] = next;
    node = next;
  }
  node.__errors = [...(node.__errors ?? []), message];
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
