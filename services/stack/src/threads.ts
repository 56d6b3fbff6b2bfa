import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { addThreadMetrics, ConfigError, type MetricsData, type RunningService } from '@conclave/service-kit';
import type { HostedService } from './hosted-env';

/** What the stack asks of a service's thread (thread.ts). */
export type ToThread = { kind: 'metrics'; id: number } | { kind: 'close' };
/** What a service's thread tells the stack. */
export type FromThread =
  | { kind: 'started' }
  | { kind: 'failed'; error: { name: string; message: string; issues?: string[] } }
  | { kind: 'metrics'; id: number; data: MetricsData }
  | { kind: 'closed'; error?: string };

/** a thread that has not answered a scrape by then is left out of it (metrics/registry.ts) */
const METRICS_TIMEOUT_MS = 2_000;
/** how long a closed service's thread may take to end on its own */
const EXIT_GRACE_MS = 5_000;

/**
 * Boot `service` in a worker thread of this process (CONCLAVE_THREADS, ADR 015): the same
 * `start(env)` as on the main thread, with its own event loop and heap. Its metrics are served
 * with the process's; `close()` closes the service as SIGTERM would and ends the thread.
 * `onLost`: the thread ended without being told to (an uncaught error in it) — a service that dies
 * takes the stack down with it, as it would take its own process.
 */
export function startThread(
  service: HostedService,
  env: NodeJS.ProcessEnv,
  onLost: (service: HostedService, reason: string) => void,
  /**
   * For tests: `entry`, the module whose `start` the thread calls (default: the service's built
   * main.js); `script`, the built thread.js (default: beside this file, which jest runs from src/).
   */
  options: { entry?: string; script?: string } = {},
): Promise<Pick<RunningService, 'close'>> {
  const worker = new Worker(options.script ?? join(__dirname, 'thread.js'), { workerData: { service, env, entry: options.entry }, env });
  let closing = false;
  let nextId = 0;
  const scrapes = new Map<number, (data: MetricsData) => void>();
  let failure: Error | undefined;
  worker.on('error', (err) => {
    failure = err;
  });
  worker.on('message', (message: FromThread) => {
    if (message.kind === 'metrics') scrapes.get(message.id)?.(message.data);
  });

  const removeMetrics = addThreadMetrics(
    () =>
      new Promise<MetricsData>((resolve) => {
        const id = ++nextId;
        const timer = setTimeout(() => done([]), METRICS_TIMEOUT_MS);
        const done = (data: MetricsData) => {
          clearTimeout(timer);
          scrapes.delete(id);
          resolve(data);
        };
        scrapes.set(id, done);
        worker.postMessage({ kind: 'metrics', id } satisfies ToThread);
      }),
  );
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));

  return new Promise((resolveStart, rejectStart) => {
    const onBoot = (message: FromThread) => {
      if (message.kind === 'started') {
        worker.off('message', onBoot);
        void exited.then((code) => {
          removeMetrics();
          if (!closing) onLost(service, failure ? failure.message : `its thread exited with code ${code}`);
        });
        resolveStart({ close });
      } else if (message.kind === 'failed') {
        worker.off('message', onBoot);
        closing = true;
        removeMetrics();
        const { name, message: text, issues } = message.error;
        const err = issues ? new ConfigError(issues) : Object.assign(new Error(text), { name });
        rejectStart(err);
        void worker.terminate();
      }
    };
    worker.on('message', onBoot);
    void exited.then((code) => {
      removeMetrics();
      rejectStart(failure ?? new Error(`${service}: its thread exited with code ${code} before the service started`));
    });
  });

  async function close(): Promise<void> {
    closing = true;
    const closed = new Promise<string | undefined>((resolve) => {
      worker.on('message', (message: FromThread) => message.kind === 'closed' && resolve(message.error));
      void exited.then(() => resolve(failure?.message));
    });
    worker.postMessage({ kind: 'close' } satisfies ToThread);
    const error = await closed;
    // a service whose close left a handle open would keep its thread alive: it is done, end it
    const stuck = setTimeout(() => void worker.terminate(), EXIT_GRACE_MS);
    await exited;
    clearTimeout(stuck);
    if (error) throw new Error(`${service}: ${error}`);
  }
}
