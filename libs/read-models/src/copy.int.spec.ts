import { createTestEnv, type TestEnv } from '@conclave/testing';
import type { Recorded } from '@conclave/contracts';
import { createDataSource, migrate, projectBatch, READ_MODEL_ENTITIES, type DataSource } from '@conclave/read-models';
import { COPY_MIN_ROWS } from './projection';
import { completedRunEvents, Recorder, template } from './__tests__/fixtures';

const TPL = 'tpl-copy';
/** what COPY's text format must escape, what Postgres refuses (NUL), and what merely looks like an escape */
const AWKWARD = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash', '\\N', 'nul\u0000char', 'escaped \\u0000 text', 'quote " and \u00e9 and \ud83d\ude00', ''];

describe('read models: a large batch is inserted through COPY, with the rows the INSERT path writes', () => {
  let env: TestEnv;
  let ds: DataSource;

  const tables = () => READ_MODEL_ENTITIES.map((e) => ds.getMetadata(e).tableName);
  const reset = () => ds.query(`TRUNCATE ${tables().join(', ')}`);
  /** every insert-only table's rows, in a stable order */
  async function snapshot() {
    return {
      timeline: await ds.query('SELECT * FROM timeline_events ORDER BY sequence'),
      verdicts: await ds.query('SELECT * FROM verdicts ORDER BY run_id, phase_id, attempt, round, purpose'),
      artifacts: await ds.query('SELECT * FROM artifacts ORDER BY id'),
      candidates: await ds.query('SELECT id, output, error FROM candidates ORDER BY id'),
    };
  }

  beforeAll(async () => {
    env = await createTestEnv('copyin', { database: true });
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  it('stores awkward text the same way, in one batch (COPY) as one event at a time (INSERT)', async () => {
    const rec = new Recorder();
    const events: Recorded[] = rec.record('template', TPL, [{ type: 'TemplateCreated', data: { templateId: TPL, version: 1, template } }]);
    for (let i = 0; i < AWKWARD.length || events.length < COPY_MIN_ROWS * 2; i++) {
      const text = AWKWARD[i % AWKWARD.length]!;
      const runEvents = completedRunEvents(`run-${i}`, TPL).map((e) =>
        e.type === 'CandidateGenerated' ? { ...e, data: { ...e.data, output: { text, [text]: [text, i] } } } : e.type === 'RunStarted' ? { ...e, data: { ...e.data, name: text } } : e,
      );
      events.push(...rec.record('run', `run-${i}`, runEvents));
    }
    const runEventCount = events.filter((e) => e.streamId.startsWith('run:')).length;
    expect(runEventCount).toBeGreaterThanOrEqual(COPY_MIN_ROWS); // the timeline's rows go through COPY

    await ds.transaction((m) => projectBatch(m, events));
    const copied = await snapshot();
    await reset();
    for (const event of events) await ds.transaction((m) => projectBatch(m, [event]));
    const inserted = await snapshot();

    expect(copied.timeline).toHaveLength(runEventCount);
    expect(copied).toEqual(inserted);
    // the values a reader gets back: NUL replaced by U+FFFD, everything else as sent
    const generated = copied.timeline.filter((r: { type: string }) => r.type === 'CandidateGenerated');
    const texts = new Set(generated.map((r: { data: { output: { text: string } } }) => r.data.output.text));
    expect(texts).toEqual(new Set(AWKWARD.map((t) => t.replaceAll('\u0000', '\uFFFD'))));
    const names = (await ds.query('SELECT name FROM runs')).map((r: { name: string }) => r.name);
    expect(new Set(names)).toEqual(new Set(AWKWARD.map((t) => t.replaceAll('\u0000', '\uFFFD'))));
  });

  it('refuses a duplicate key in a COPY batch as the INSERT path does: a deterministic error the projector treats as poison', async () => {
    await reset();
    const rec = new Recorder();
    const events: Recorded[] = rec.record('template', TPL, [{ type: 'TemplateCreated', data: { templateId: TPL, version: 1, template } }]);
    for (let i = 0; events.length < COPY_MIN_ROWS + 5; i++) events.push(...rec.record('run', `dup-${i}`, completedRunEvents(`dup-${i}`, TPL)));
    await ds.transaction((m) => projectBatch(m, events.slice(0, 1)));
    // a timeline row already at a later position (as if written by another projection): the batch's COPY hits it
    const clash = events[events.length - 1]!;
    await ds.query(`INSERT INTO timeline_events (sequence, event_id, run_id, type, phase_id, occurred_at, actor, data) VALUES ($1, 'x', 'x', 'x', NULL, now(), '{}', '{}')`, [clash.sequence]);
    await expect(ds.transaction((m) => projectBatch(m, events))).rejects.toMatchObject({ name: 'PoisonEventError', sequence: clash.sequence });
    expect(Number((await ds.query('SELECT sequence FROM projection_checkpoints'))[0].sequence)).toBe(events[0]!.sequence);
  });
});
