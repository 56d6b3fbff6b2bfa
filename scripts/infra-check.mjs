#!/usr/bin/env node
// Ensures NATS and Postgres as `npm start` / `npm test` do, and prints what it did.
//   node scripts/infra-check.mjs          keep (or start) them, leave them running
//   node scripts/infra-check.mjs --stop   then stop whatever this run started (a smoke test)
// Environment: NATS_URL (nats://127.0.0.1:4222), DATABASE_URL
// (postgres://postgres@127.0.0.1:5432/conclave), CONCLAVE_DATA_DIR (<repo>/.conclave).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInfra, stopStarted } from './infra.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/conclave';
const dataDir = resolve(root, process.env.CONCLAVE_DATA_DIR ?? '.conclave');

const t0 = Date.now();
try {
  const infra = await ensureInfra({ natsUrl, databaseUrl, dataDir });
  const took = `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  if (infra.started.length === 0) {
    console.log(`[infra] NATS and Postgres were already up; started nothing (${took})`);
  } else {
    for (const p of infra.started) console.log(`[infra] started ${p.service} (pid ${p.pid}, ${p.how})`);
    console.log(`[infra] ready in ${took}`);
  }
  if (process.argv.includes('--stop')) await stopStarted(infra.started);
} catch (err) {
  console.error(`[infra] ${err.message}`);
  process.exit(1);
}
