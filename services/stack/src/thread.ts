import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import { flushTracing, metricsData, startTracing, type RunningService } from '@conclave/service-kit';
import { loadStart } from './load';
import type { HostedService } from './hosted-env';
import type { FromThread, ToThread } from './threads';

/**
 * The entry of a worker thread that hosts one service module (CONCLAVE_THREADS, threads.ts): it
 * boots the service from the environment the stack made for it, answers the stack's requests for
 * its metrics, and closes the service when told to. Its event loop is its own, so its work does
 * not wait behind the other services' (the projector's transactions, issue 12).
 */
const { service, env, entry } = workerData as { service: HostedService; env: NodeJS.ProcessEnv; entry?: string };
const port = parentPort!;
const send = (message: FromThread) => port.postMessage(message);

async function main(): Promise<void> {
  let running: RunningService;
  try {
    // the thread's own tracing SDK (a no-op without OTEL_EXPORTER_OTLP_ENDPOINT), named as the stack's
    await startTracing({ service: 'conclave', env });
    running = await loadStart(service, entry)(env, { hosted: true });
  } catch (err) {
    send({ kind: 'failed', error: err instanceof Error ? { name: err.name, message: err.message, issues: (err as { issues?: string[] }).issues } : { name: 'Error', message: String(err) } });
    return;
  }
  port.on('message', (message: ToThread) => {
    if (message.kind === 'metrics') {
      void metricsData().then(
        (data) => send({ kind: 'metrics', id: message.id, data }),
        () => send({ kind: 'metrics', id: message.id, data: [] }),
      );
    } else if (message.kind === 'close') {
      void running
        .close()
        .then(
          () => undefined,
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        )
        .then(async (error) => {
          await flushTracing().catch(() => undefined);
          send({ kind: 'closed', error });
          port.close(); // nothing else keeps the thread alive once its service is closed
        });
    }
  });
  send({ kind: 'started' });
}

void main();
