import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/**
 * One Prometheus registry per process (prom-client), holding Node's default process metrics and
 * every Conclave metric. In the single-process stack (ADR 015) every hosted service records into
 * this same registry with its own `service` label, and one `/metrics` serves it all; a metric is
 * defined once per process, whichever service asks for it first.
 *
 * `CONCLAVE_METRICS=off` (read once, process-wide) turns recording off: no registry, no default
 * collectors, and every instrument a no-op — what the overhead figures compare against.
 */

export interface CounterLike<L extends string> {
  inc(labels: Partial<Record<L, string>>, value?: number): void;
}
export interface HistogramLike<L extends string> {
  observe(labels: Partial<Record<L, string>>, value: number): void;
}
export interface GaugeLike<L extends string> {
  set(labels: Partial<Record<L, string>>, value: number): void;
  reset(): void;
}

const OFF = new Set(['off', '0', 'false', 'no']);

/** Whether this process records metrics (CONCLAVE_METRICS, default on). */
export function metricsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !OFF.has((env.CONCLAVE_METRICS ?? '').trim().toLowerCase());
}

let registry: Registry | null | undefined;

/** The process's registry, created with the default process metrics on first use; null when metrics are off. */
export function processRegistry(): Registry | null {
  if (registry === undefined) {
    registry = metricsEnabled() ? new Registry() : null;
    if (registry) collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/** Forget the registry (tests that flip CONCLAVE_METRICS; a service never calls this). */
export function resetProcessRegistry(): void {
  registry?.clear();
  registry = undefined;
}

interface Definition<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
}

/**
 * The metric already registered under `name`, or a new one. A second definition with other
 * labels or another type is a programming error and throws (the two call sites disagree).
 */
function defineOnce<M extends Counter<string> | Gauge<string> | Histogram<string>>(type: string, def: Definition<string>, create: (registers: Registry[]) => M): M | null {
  const reg = processRegistry();
  if (!reg) return null;
  const existing = reg.getSingleMetric(def.name) as (M & { type?: string; labelNames?: string[] }) | undefined;
  if (existing) {
    const same = existing.type === type && JSON.stringify([...(existing.labelNames ?? [])].sort()) === JSON.stringify([...def.labelNames].sort());
    if (!same) throw new Error(`metric ${def.name} is already defined with other labels or another type`);
    return existing;
  }
  return create([reg]);
}

const NOOP = { inc() {}, observe() {}, set() {}, reset() {} };

export function defineCounter<L extends string>(def: Definition<L>): CounterLike<L> {
  return defineOnce('counter', def, (registers) => new Counter({ name: def.name, help: def.help, labelNames: def.labelNames, registers })) ?? NOOP;
}

export function defineHistogram<L extends string>(def: Definition<L> & { buckets: number[] }): HistogramLike<L> {
  return defineOnce('histogram', def, (registers) => new Histogram({ name: def.name, help: def.help, labelNames: def.labelNames, buckets: def.buckets, registers })) ?? NOOP;
}

/**
 * A gauge whose value is read when Prometheus scrapes (`collect`), e.g. from JetStream consumer
 * info: nothing runs per message.
 */
export function defineGauge<L extends string>(def: Definition<L> & { collect?: () => Promise<void> }): GaugeLike<L> {
  return (
    defineOnce('gauge', def, (registers) => new Gauge({ name: def.name, help: def.help, labelNames: def.labelNames, registers, ...(def.collect ? { collect: def.collect } : {}) })) ??
    NOOP
  );
}

/** A registry's metrics as data (what crosses from a worker thread to the main thread: no functions). */
export type MetricsData = Omit<MetricObjectWithValues<MetricValue<string>>, 'collect'>[];

/** Other threads of this process whose registries /metrics includes (services/stack's worker threads). */
const threadSources = new Set<() => Promise<MetricsData>>();

/**
 * Serve the metrics of a service module hosted in a worker thread of this process (its registry is
 * the thread's own) alongside this thread's. Returns the function that removes it.
 */
export function addThreadMetrics(source: () => Promise<MetricsData>): () => void {
  threadSources.add(source);
  return () => threadSources.delete(source);
}

/** This thread's metrics as data, for the thread that serves /metrics ([] when metrics are off). */
export async function metricsData(): Promise<MetricsData> {
  return (await processRegistry()?.getMetricsAsJSON()) ?? [];
}

/** Node's default metrics: the process's (CPU, memory, handles) are told once, by the main thread. */
const NODE_DEFAULT = /^(process|nodejs)_/;

/**
 * The exposition text of every metric of the process, and its content type; null when metrics are
 * off. With worker threads, their metrics join this thread's: every Conclave series carries its
 * service label, so series of one name from several threads are distinct (identical ones add up);
 * Node's default metrics are this thread's only. A thread that does not answer is left out.
 */
export async function renderMetrics(): Promise<{ contentType: string; body: string } | null> {
  const reg = processRegistry();
  if (!reg) return null;
  if (threadSources.size === 0) return { contentType: reg.contentType, body: await reg.metrics() };
  const others = await Promise.all([...threadSources].map((source) => source().catch((): MetricsData => [])));
  const all = [await reg.getMetricsAsJSON(), ...others.map((data) => data.filter((m) => !NODE_DEFAULT.test(m.name)))];
  // 'sum' throughout: a default metric's own aggregator (e.g. 'omit' or 'average') is meant for cluster workers
  const merged = AggregatorRegistry.aggregate(all.map((data) => data.map((m) => ({ ...m, aggregator: 'sum' }) as MetricObjectWithValues<MetricValue<string>>)));
  return { contentType: reg.contentType, body: await merged.metrics() };
}
