// Rebuild every read model from the log (docs/adr/004-replay.md).
//
//   npm run replay                 rebuild into fresh tables, then swap them in
//   npm run replay -- --verify     rebuild and compare with the live tables row by row; nothing changes
//
// Uses NATS_URL, NATS_USER, NATS_PASSWORD, DATABASE_URL and CONCLAVE_PREFIX like the services, and
// the built libs (npm run build). Against `npm start`'s own NATS: its URL and the `projector` (or
// `admin`) password from .conclave/nats-users.json.
// Exit code: 0 done (verify: no differences), 1 failed, 3 verify found differences.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

async function main() {
  const verify = process.argv.includes('--verify');
  const unknown = process.argv.slice(2).filter((a) => a !== '--verify');
  if (unknown.length > 0) {
    console.error(`usage: node scripts/replay.mjs [--verify]   (unknown: ${unknown.join(' ')})`);
    process.exit(2);
  }
  const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/conclave';
  const prefix = process.env.CONCLAVE_PREFIX ?? '';

  const { EventLog } = require('@conclave/event-log');
  const { createDataSource, migrate, replay } = require('@conclave/read-models');
  const { SingleBar, Presets } = require('cli-progress');

  await migrate(databaseUrl);
  const log = await EventLog.connect({ servers: natsUrl, prefix, name: 'conclave-replay', ...(process.env.NATS_USER ? { user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD ?? '' } : {}) });
  const dataSource = await createDataSource(databaseUrl, { applicationName: 'conclave-replay', poolSize: 3 }).initialize();
  const interactive = process.stderr.isTTY;
  const bar = new SingleBar({ format: ' {phase} |{bar}| log position {value}/{total} | {eta_formatted} left', etaBuffer: 50, noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
  let started = false;
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new Error('interrupted')));
  try {
    const report = await replay({
      dataSource,
      databaseUrl,
      source: { lastSequence: () => log.lastSequence(), read: (after, limit, poison) => log.readAll(after, limit, undefined, { poison }) },
      verify,
      signal: abort.signal,
      onProgress: ({ phase, processed, total }) => {
        if (!started) {
          bar.start(Math.max(total, 1), 0, { phase });
          started = true;
        }
        bar.setTotal(Math.max(total, processed, 1));
        bar.update(processed, { phase });
      },
    });
    if (started) bar.stop();
    const rate = report.durationMs > 0 ? Math.round((report.processed / report.durationMs) * 1000) : report.processed;
    console.log(
      `${verify ? 'verified' : 'rebuilt and swapped in'} ${report.tables.length} tables from ${report.processed} events ` +
        `(up to sequence ${report.sequence}) in ${(report.durationMs / 1000).toFixed(1)} s, ${rate} events/s`,
    );
    for (const p of report.parked) console.log(`parked ${p.streamId} at event ${p.sequence} (${p.type}): ${p.reason} — its later events are not projected, as in the live read models`);
    if (verify) {
      if (report.differenceCount === 0) console.log('no differences: the live read models equal the rebuild');
      else {
        console.log(`${report.differenceCount} differing rows (first ${report.differences.length}):`);
        for (const d of report.differences) console.log(`  ${d.table} ${JSON.stringify(d.key)} ${d.kind}${d.kind === 'different' ? `: ${d.columns.join(', ')}` : ''}`);
        process.exitCode = 3;
      }
    }
    if (!interactive && !started) console.log('the log is empty');
  } finally {
    if (started) bar.stop();
    await dataSource.destroy();
    await log.close();
  }
}

main().catch((err) => {
  console.error(`[replay] failed: ${err.stack ?? err}`);
  process.exit(1);
});
