import { createHash, randomBytes } from 'node:crypto';
import type { TextMapPropagator } from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { IdGenerator, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TraceContext } from '@conclave/contracts';

/**
 * One OpenTelemetry SDK per process (issue 14 §3). It starts only when an OTLP endpoint is
 * configured (`OTEL_EXPORTER_OTLP_ENDPOINT`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); otherwise
 * nothing is loaded into the API's globals, `tracingEnabled()` is false and every helper of this
 * folder returns at its first line: no span, no context, no header written.
 */
let sdk: NodeSDK | null = null;
let enabled = false;
/** W3C only, whatever OTEL_PROPAGATORS says: every Conclave service reads what the others write */
let propagator: TextMapPropagator | null = null;
let processors: SpanProcessor[] = [];

/** The W3C propagator, once tracing is on (nats.ts). */
export function w3cPropagator(): TextMapPropagator | null {
  return propagator;
}

/**
 * Span and trace ids chosen by the caller for the next span only. A run's and a phase's spans are
 * emitted when they end, possibly by another process than the one that began them, under the ids
 * the log recorded (or derived) when they began — the ids their children already name as parent.
 */
class PresetIdGenerator implements IdGenerator {
  next: { traceId?: string; spanId: string } | null = null;
  generateTraceId(): string {
    return this.next?.traceId ?? randomId(16);
  }
  generateSpanId(): string {
    return this.next?.spanId ?? randomId(8);
  }
}

/** `bytes` random bytes as lower-case hex, never all zeros (an invalid id) */
function randomId(bytes: number): string {
  for (;;) {
    const id = randomBytes(bytes).toString('hex');
    if (/[^0]/.test(id)) return id;
  }
}
const ids = new PresetIdGenerator();

/** Whether this process exports spans. Checked first by every helper (the cost when off). */
export function tracingEnabled(): boolean {
  return enabled;
}

export interface TracingOptions {
  /** `service.name` of the process (OTEL_SERVICE_NAME overrides it) */
  service: string;
  env?: NodeJS.ProcessEnv;
  /** tests: span processors instead of the OTLP exporter (tracing then starts without an endpoint) */
  spanProcessors?: SpanProcessor[];
}

/** The OTLP endpoint the exporter will use, if any. */
export function otlpEndpoint(env: NodeJS.ProcessEnv = process.env): string | null {
  if (/^(true|1)$/i.test(env.OTEL_SDK_DISABLED ?? '')) return null;
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || null;
}

/** Where spans are posted: the traces endpoint as given, or `<endpoint>/v1/traces` (the OTLP/HTTP convention). */
function tracesUrl(env: NodeJS.ProcessEnv): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  return `${(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Start the process's SDK when an endpoint is set; the first call wins (the single-process stack
 * starts it once for its five services, which then tell their spans apart by tracer name and the
 * `conclave.service` attribute). Returns whether tracing is on.
 */
export async function startTracing(options: TracingOptions): Promise<boolean> {
  if (sdk) return true;
  const env = options.env ?? process.env;
  if (!options.spanProcessors && !otlpEndpoint(env)) return false;
  // loaded only when tracing is on (the SDK costs ~140 ms and ~28 MB to load)
  const [{ NodeSDK }, { OTLPTraceExporter }, { BatchSpanProcessor }, { resourceFromAttributes }, { ATTR_SERVICE_NAME }, { W3CTraceContextPropagator }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/core'),
  ]);
  if (sdk) return true; // a concurrent start won
  propagator = new W3CTraceContextPropagator();
  processors = options.spanProcessors ?? [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(env) }))];
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || options.service }),
    autoDetectResources: false,
    // the exporter reads OTEL_EXPORTER_OTLP_* itself; BatchSpanProcessor reads OTEL_BSP_*
    spanProcessors: processors,
    idGenerator: ids,
    // Contexts are passed explicitly (message headers, recorded ids), never through async
    // context: no context manager is registered, since AsyncLocalStorage's run() (the batch
    // processor's export calls it) would turn async hooks on for every promise of the process.
    // No global propagator either: W3C is used directly (nats.ts).
    contextManager: null as never,
    textMapPropagator: null,
    // traces only: metrics are Prometheus' (/metrics), and no log records are exported
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  enabled = true;
  return true;
}

/** Export what is buffered now (a signal's shutdown, before the process exits). */
export async function flushTracing(): Promise<void> {
  await Promise.all(processors.map((p) => p.forceFlush()));
}

/** Export what is buffered and stop (a process's shutdown; tests between runs). */
export async function shutdownTracing(): Promise<void> {
  const running = sdk;
  sdk = null;
  enabled = false;
  propagator = null;
  processors = [];
  await running?.shutdown();
}

/** Run `start` (which must start exactly one span, synchronously) under the given ids. */
export function withIds<T>(preset: { traceId?: string; spanId: string }, start: () => T): T {
  ids.next = preset;
  try {
    return start();
  } finally {
    ids.next = null;
  }
}

/** A fresh root span context for a run (random ids), or undefined when tracing is off. */
export function newTrace(): TraceContext | undefined {
  if (!enabled) return undefined;
  return { traceId: randomId(16), spanId: randomId(8) };
}

/**
 * A span id derived from its trace and a business key (a phase attempt): every process finds the
 * same id from the log alone, so a child dispatched by one process and the span emitted later by
 * another agree on it.
 */
export function derivedSpanId(traceId: string, ...key: (string | number)[]): string {
  const id = createHash('sha256').update(`${traceId}/${key.join('/')}`).digest('hex').slice(0, 16);
  return id === '0000000000000000' ? '0000000000000001' : id;
}
