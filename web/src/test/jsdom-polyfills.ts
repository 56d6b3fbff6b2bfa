import { TextDecoder, TextEncoder } from 'node:util';

// jsdom lacks these; react-router reads them when it loads (imported first by ./render).
Object.assign(globalThis, { TextEncoder: globalThis.TextEncoder ?? TextEncoder, TextDecoder: globalThis.TextDecoder ?? TextDecoder });
