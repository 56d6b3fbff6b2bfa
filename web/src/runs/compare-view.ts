import { diffLines } from 'diff';
import type { ComparePhaseRun } from '@conclave/contracts';

/**
 * Pure helpers of the compare page: which run is best on a figure, the text a winner's output is
 * diffed as, and the line diff between two outputs.
 */

/**
 * Indices of the best value (lowest for cost and duration, highest for a score) among the runs
 * that have one; ties are all best. Nothing is best when fewer than two runs have a value or all
 * values are equal (there is nothing to prefer).
 */
export function bestIndices(values: readonly (number | null | undefined)[], better: 'min' | 'max'): Set<number> {
  const present = values.flatMap((v, i) => (typeof v === 'number' && Number.isFinite(v) ? [{ v, i }] : []));
  if (present.length < 2) return new Set();
  const target = better === 'min' ? Math.min(...present.map((p) => p.v)) : Math.max(...present.map((p) => p.v));
  if (present.every((p) => p.v === target)) return new Set();
  return new Set(present.filter((p) => p.v === target).map((p) => p.i));
}

/**
 * A winner's output as text: a string as it is; an object whose only field is a string (`{ text }`,
 * `{ markdown }`) as that string; anything else as indented JSON with sorted keys, so two outputs
 * differ only where their content does.
 */
export function outputText(output: unknown): string {
  if (output === null || output === undefined) return '';
  if (typeof output === 'string') return output;
  if (typeof output === 'object' && !Array.isArray(output)) {
    const entries = Object.entries(output as Record<string, unknown>);
    if (entries.length === 1 && typeof entries[0]![1] === 'string') return entries[0]![1] as string;
  }
  return JSON.stringify(sortKeys(output), null, 2);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export interface DiffRow {
  kind: 'add' | 'del' | 'context';
  text: string;
  /** line number in the left (base) text, null for an added line */
  left: number | null;
  /** line number in the right text, null for a removed line */
  right: number | null;
}

/**
 * Line diff of `base` → `other` (the `diff` package's Myers diff), one row per line. Both texts
 * are compared as newline-terminated, so a last line without "\n" is not a change of its own.
 */
export function lineDiff(base: string, other: string): DiffRow[] {
  const rows: DiffRow[] = [];
  let left = 1;
  let right = 1;
  const terminated = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);
  for (const change of diffLines(terminated(base), terminated(other))) {
    const lines = change.value.replace(/\n$/, '').split('\n');
    for (const text of lines) {
      if (change.added) rows.push({ kind: 'add', text, left: null, right: right++ });
      else if (change.removed) rows.push({ kind: 'del', text, left: left++, right: null });
      else rows.push({ kind: 'context', text, left: left++, right: right++ });
    }
  }
  return rows;
}

/** The overall score the phase's winner got (for "best score"): null when no judge scored it. */
export const winnerScore = (phase: ComparePhaseRun | null): number | null => phase?.score ?? null;
