// One-shot set-up shared by `npm start`, the e2e tests, the bench and docker compose's `setup`
// service: run the read-model migrations, create the streams and consumers, seed the built-in
// templates. Idempotent: run it as often as you like.
//
// CLI: node scripts/setup.mjs   (NATS_URL, NATS_USER, NATS_PASSWORD, DATABASE_URL, CONCLAVE_PREFIX
// from the environment). Under least-privilege NATS it must run as the admin user: only the admin
// may create streams and consumers (libs/contracts nats-permissions.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// the libs are CommonJS builds (npm run build); require them like the services do
const require = createRequire(import.meta.url);

export async function setup({ natsUrl, natsUser, natsPassword, databaseUrl, prefix = '', log = (m) => console.log(`[setup] ${m}`) }) {
  const { EventLog, ConcurrencyError } = require('@conclave/event-log');
  const { validateTemplate } = require('@conclave/contracts');
  const { migrate } = require('@conclave/read-models');

  await migrate(databaseUrl);
  log('read-model migrations applied');

  const eventLog = await EventLog.connect({ servers: natsUrl.split(',').map((s) => s.trim()), prefix, name: 'conclave-setup', ...(natsUser ? { user: natsUser, pass: natsPassword ?? '' } : {}) });
  try {
    await eventLog.ensureTopology();
    log(`streams ready: ${Object.values(eventLog.names.streams).join(', ')}`);
    for (const seeded of await seedTemplates(eventLog, { validateTemplate, ConcurrencyError })) log(seeded);
  } finally {
    await eventLog.close();
  }
}

/**
 * Built-in templates live in templates/builtin/<id>.json. A template is created once under its
 * file name; when the file changes, a new version is appended (runs keep the version they froze).
 */
async function seedTemplates(eventLog, { validateTemplate, ConcurrencyError }) {
  const dir = join(root, 'templates', 'builtin');
  const outcomes = [];
  const meta = { occurredAt: new Date().toISOString(), correlationId: 'seed', causationId: null, actor: { kind: 'system', id: 'setup' } };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const id = basename(file, '.json');
    const checked = validateTemplate(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    if (!checked.valid) throw new Error(`built-in template ${file} is invalid: ${JSON.stringify(checked.errors)}`);
    const events = await eventLog.read('template', id);
    if (events.length === 0) {
      try {
        await eventLog.append('template', id, [{ id: `${id}@1`, type: 'TemplateCreated', data: { templateId: id, version: 1, template: checked.template } }], 0, meta);
        outcomes.push(`seeded template ${id} v1`);
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err; // another setup seeded it meanwhile
        outcomes.push(`template ${id} already seeded`);
      }
      continue;
    }
    const last = events.filter((e) => e.type === 'TemplateCreated' || e.type === 'TemplateVersionAdded').at(-1);
    if (last && JSON.stringify(last.data.template) === JSON.stringify(checked.template)) {
      outcomes.push(`template ${id} v${last.data.version} is current`);
      continue;
    }
    const version = (last?.data.version ?? 0) + 1;
    await eventLog.append('template', id, [{ id: `${id}@${version}`, type: 'TemplateVersionAdded', data: { templateId: id, version, template: checked.template } }], events.at(-1).sequence, meta);
    outcomes.push(`template ${id} updated to v${version}`);
  }
  return outcomes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  setup({
    natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    natsUser: process.env.NATS_USER || undefined,
    natsPassword: process.env.NATS_PASSWORD,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/conclave',
    prefix: process.env.CONCLAVE_PREFIX ?? '',
  }).catch((err) => {
    console.error(`[setup] failed: ${err.stack ?? err}`);
    process.exit(1);
  });
}
