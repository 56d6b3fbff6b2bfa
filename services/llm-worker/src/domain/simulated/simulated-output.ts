import type { JsonSchema } from '@conclave/contracts';
import type { GenerateRequest } from '../provider';
import { sampleFromSchema } from './sample';
import { createRng, seedOf } from './seed';
import { keywords } from './words';

/** Bumped when the generator changes what a given seed produces. */
const GENERATOR_VERSION = 'sim-v1';

/** a schema check (the worker's ajv validator) that makes anyOf / oneOf choices exact */
export type SimulatedCheck = (schema: JsonSchema | boolean, value: unknown) => boolean;

/** The deterministic output of a simulated request (no latency, no streaming). */
export function simulateOutput(request: GenerateRequest, check?: SimulatedCheck): unknown {
  const seed = seedOf(GENERATOR_VERSION, request.provider, request.model, request.prompt.system, request.prompt.user, request.slot);
  return sampleFromSchema(request.output.schema, {
    rng: createRng(seed),
    words: keywords(request.prompt.user, request.prompt.system),
    check,
  });
}


/** Resolves after `ms`; rejects with the signal's reason the moment it is aborted. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
