import { defineGauge, type GaugeLike } from './registry';

/** Sets gauge values when Prometheus scrapes; it should answer within SOURCE_TIMEOUT_MS. */
export type ScrapeSource = () => Promise<void>;

const SOURCE_TIMEOUT_MS = 2_000;
/** the gauges of one group share a refresh started within this window (one scrape) */
const SHARED_REFRESH_MS = 1_000;

/**
 * Gauges refreshed together when Prometheus scrapes (e.g. pending, ack-pending and redelivered
 * from one JetStream consumer info request). Every service module of the process adds its own
 * sources and removes them when it closes. Each refresh first clears the group's gauges, so a
 * source that fails or times out shows as absent series (unknown), never as a stale value.
 */
export class ScrapedGauges<L extends string> {
  private readonly sources = new Set<ScrapeSource>();
  private refreshing: { at: number; done: Promise<void> } | null = null;
  readonly gauges: GaugeLike<L>[];

  constructor(defs: { name: string; help: string }[], labelNames: readonly L[]) {
    this.gauges = defs.map((d) => defineGauge({ ...d, labelNames, collect: () => this.refresh() }));
  }

  add(source: ScrapeSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** every gauge's collect calls this; prom-client starts them in the same tick, so they share one run */
  private refresh(): Promise<void> {
    const now = Date.now();
    if (this.refreshing && now - this.refreshing.at < SHARED_REFRESH_MS) return this.refreshing.done;
    for (const g of this.gauges) g.reset();
    const done = Promise.all([...this.sources].map((s) => withTimeout(s()).catch(() => undefined))).then(() => undefined);
    this.refreshing = { at: now, done };
    return done;
  }
}

function withTimeout(work: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error('scrape source timed out')), SOURCE_TIMEOUT_MS)))]).finally(() => clearTimeout(timer));
}
