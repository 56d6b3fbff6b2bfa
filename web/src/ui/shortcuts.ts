/**
 * Keyboard shortcuts (pure part): a key sequence → an action name. Two-key sequences start with
 * `g` ("go to"). Keys typed into a form field never trigger a shortcut.
 */
export const SHORTCUTS = [
  { keys: ['?'], action: 'help', label: 'Show this help' },
  { keys: ['g', 'r'], action: 'go:/runs', label: 'Go to runs' },
  { keys: ['g', 't'], action: 'go:/templates', label: 'Go to templates' },
  { keys: ['g', 'p'], action: 'go:/providers', label: 'Go to providers' },
  { keys: ['g', 'c'], action: 'go:/costs', label: 'Go to costs' },
  { keys: ['g', 'f'], action: 'go:/fleet', label: 'Go to fleet' },
  { keys: ['g', 'e'], action: 'go:/events', label: 'Go to the event log' },
  { keys: ['n'], action: 'go:/templates/new', label: 'New template (editor)' },
  { keys: ['/'], action: 'search', label: 'Focus the search / filter field' },
  { keys: ['d'], action: 'theme', label: 'Toggle dark / light theme' },
] as const;
export type ShortcutAction = (typeof SHORTCUTS)[number]['action'];

/** Feed one key; returns the action when a sequence completes, plus the new pending prefix. */
export function matchShortcut(pending: readonly string[], key: string): { action: ShortcutAction | null; pending: string[] } {
  const seq = [...pending, key];
  const exact = SHORTCUTS.find((s) => s.keys.length === seq.length && s.keys.every((k, i) => k === seq[i]));
  if (exact) return { action: exact.action, pending: [] };
  const prefix = SHORTCUTS.some((s) => s.keys.length > seq.length && seq.every((k, i) => s.keys[i] === k));
  if (prefix) return { action: null, pending: seq };
  // A broken sequence: the key may start a new one.
  return pending.length > 0 ? matchShortcut([], key) : { action: null, pending: [] };
}

export function isTypingTarget(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.tagName !== 'string') return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}
