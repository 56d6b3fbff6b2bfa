import type { RunSummary } from '@conclave/contracts';
import type { Schema } from './client';

/**
 * Minimal response validators for the few responses the contracts do not define as one schema
 * (the raw log's page with a nullable `nextAfter`, command acknowledgements, untyped bodies). They check what the pages read and keep unknown
 * fields, so an additive server change never breaks a page; a missing or mistyped field is one
 * clear `bad_response` error. When these views land in libs/contracts, swap them for the schemas.
 */
type Check<T> = (value: unknown, path: string) => T;

export class ShapeError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

const fail = (path: string, expected: string, value: unknown): never => {
  throw new ShapeError(path, `expected ${expected}, got ${value === null ? 'null' : typeof value}`);
};

export const str: Check<string> = (v, p) => (typeof v === 'string' ? v : fail(p, 'a string', v));
export const num: Check<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(p, 'a number', v));
export const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, 'a boolean', v));
export const unknownValue: Check<unknown> = (v) => v;

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, p) => (v === null || v === undefined ? null : check(v, p));
}
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, p) => (v === undefined ? undefined : check(v, p));
}
export function arr<T>(check: Check<T>): Check<T[]> {
  return (v, p) => (Array.isArray(v) ? v.map((x, i) => check(x, `${p}.${i}`)) : fail(p, 'an array', v));
}
export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (v, p) => (typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : fail(p, values.join('|'), v));
}
export function record<T>(check: Check<T>): Check<Record<string, T>> {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'an object', v);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, check(x, `${p}.${k}`)]));
  };
}
type Out<S extends Record<string, Check<unknown>>> = {
  [K in keyof S as undefined extends ReturnType<S[K]> ? never : K]: ReturnType<S[K]>;
} & { [K in keyof S as undefined extends ReturnType<S[K]> ? K : never]?: ReturnType<S[K]> };
type Flat<T> = { [K in keyof T]: T[K] };

export function obj<S extends Record<string, Check<unknown>>>(fields: S): Check<Flat<Out<S>>> {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'an object', v);
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const [key, check] of Object.entries(fields)) {
      const value = check((v as Record<string, unknown>)[key], p ? `${p}.${key}` : key);
      if (value !== undefined) out[key] = value;
    }
    return out as Flat<Out<S>>;
  };
}

/** Adapts a check to the REST client's `Schema`. */
export function schema<T>(check: Check<T>): Schema<T> {
  return {
    safeParse(input: unknown) {
      try {
        return { success: true, data: check(input, '') };
      } catch (err) {
        if (!(err instanceof ShapeError)) throw err;
        return { success: false, error: { issues: [{ path: err.path ? err.path.split('.') : [], message: err.message }] } };
      }
    },
  };
}

/* ------------------------------------------------------------------ views */

export const SequenceResponse = schema(obj({ sequence: num }));
export const CreatedRunResponse = schema(obj({ id: str, sequence: num }));
export const AnyResponse = schema(unknownValue);

const logEvent = obj({ sequence: num, type: str, streamId: str, occurredAt: str, actor: unknownValue, data: unknownValue });
export type LogEvent = ReturnType<typeof logEvent>;
export const EventPage = schema(obj({ items: arr(logEvent), nextAfter: nullable(num) }));

/**
 * `GET /runs` items carry `loop`: for a run with a started loop phase (the running one, else the
 * last started), its round — 1-based, as shown: "round 2 of 5" — its bounds and the best evaluator
 * score so far (null before the first evaluation); `loop` is null for other runs. Parsed by the
 * contracts' RunSummary; this names its type for the runs list.
 */
export type RunLoopProgress = NonNullable<RunSummary['loop']>;
