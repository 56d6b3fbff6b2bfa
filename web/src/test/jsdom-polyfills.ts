import { TextDecoder, TextEncoder } from 'node:util';

// jsdom lacks these; react-router reads them when it loads (imported first by ./render).
Object.assign(globalThis, { TextEncoder: globalThis.TextEncoder ?? TextEncoder, TextDecoder: globalThis.TextDecoder ?? TextDecoder });

// jsdom's window hides Node's structuredClone; rjsf (the start-run form) clones form data with it.
if (typeof globalThis.structuredClone !== 'function') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const v8 = require('node:v8') as typeof import('node:v8');
  Object.assign(globalThis, { structuredClone: <T,>(value: T): T => v8.deserialize(v8.serialize(value)) as T });
}
