import { createTestEnv, type TestEnv } from '@conclave/testing';
import { ConclaveError, type Recorded, type RunView } from '@conclave/contracts';
import pg from 'pg';
import {
  commitFolded,
  COPY_MIN_ROWS,
  createDataSource,
  foldAhead,
  MAIN_CHECKPOINT,
  migrate,
  PoisonEventError,
  PROJECTION_TRANSACTION_SETTINGS,
  projectBatch,
  ReadModelQueries,
  READ_MODEL_ENTITIES,
  READ_MODEL_MIGRATIONS,
  type DataSource,
  type EntityManager,
} from '@conclave/read-models';
import { LoopWinners1795369200000 } from './migrations/1795369200000-LoopWinners';
import { at, cid, DRAFT_A_TRANSCRIPT, completedRunEvents, failedRunEvents, loopMaxRoundsEvents, loopRunEvents, Recorder, T0, template } from './__tests__/fixtures';

const RUN = 'run-1';
const judgeOf = (runId: string) => completedRunEvents(runId, TPL).find((e) => e.type === 'JudgeRequested')!;
const TPL = 'tpl-1';
/** the optional phase fields of kinds and controls this run does not use */
const NO_HUMAN = { gate: null, interview: null, retryAt: null, retryOverride: null, condition: null, commit: null };

describe('read models: projectBatch + ReadModelQueries against Postgres', () => {
  let env: TestEnv;
  let ds: DataSource;
  let queries: ReadModelQueries;

  const fold = (events: Recorded[], name?: string) => ds.transaction((m) => projectBatch(m, events, name));
  const tables = () => READ_MODEL_ENTITIES.map((e) => ds.getMetadata(e).tableName);
  async function rowCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of tables()) out[t] = Number((await ds.query(`SELECT count(*) AS n FROM ${t}`))[0].n);
    return out;
  }
  async function reset() {
    await ds.query(`TRUNCATE ${tables().join(', ')}`);
  }

  beforeAll(async () => {
    env = await createTestEnv('readmodels', { database: true });
    // two processes booting at once: both succeed, the migration runs once
    const [a, b] = await Promise.all([migrate(env.databaseUrl), migrate(env.databaseUrl)]);
    expect([...a, ...b]).toEqual(READ_MODEL_MIGRATIONS.map((M) => new M().name));
    expect(await migrate(env.databaseUrl)).toEqual([]);
    ds = await createDataSource(env.databaseUrl).initialize();
    queries = new ReadModelQueries(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  it('has entities that describe exactly the migrated schema', async () => {
    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  describe('a 2-phase run', () => {
    const rec = new Recorder();
    const templateEvents = rec.record('template', TPL, [{ type: 'TemplateCreated', data: { templateId: TPL, version: 1, template } }]);
    const runEvents = rec.record('run', RUN, completedRunEvents(RUN, TPL));
    const all = [...templateEvents, ...runEvents];
    const last = rec.last;

    const expected: RunView = {
      id: RUN,
      archived: false,
      parked: null,
      name: 'Cats essay',
      templateId: TPL,
      templateVersion: 1,
      templateName: 'essay-pipeline',
      status: 'completed',
      inputs: { topic: 'cats' },
      phases: [
        {
          id: 'draft',
          name: 'Draft',
          kind: 'llm',
          dependsOn: [],
          status: 'completed',
          attempt: 2,
          startedAt: at(9),
          completedAt: at(17),
          candidates: [
            { id: cid(RUN, 'draft', 2, 0), slot: 0, provider: 'simulated', model: 'sim-a', status: 'generated', tokens: { input: 100, output: 150 }, costUsd: 0.25, durationMs: 1200, output: { text: 'draft a' }, error: null, transcript: DRAFT_A_TRANSCRIPT, partial: null, retry: null, round: 0 },
            { id: cid(RUN, 'draft', 2, 1), slot: 1, provider: 'simulated', model: 'sim-b', status: 'generated', tokens: { input: 100, output: 200 }, costUsd: 0.5, durationMs: 1500, output: { text: 'draft b' }, error: null, transcript: null, partial: null, retry: null, round: 0 },
          ],
          verdict: {
            winnerId: cid(RUN, 'draft', 2, 1),
            scores: {
              [cid(RUN, 'draft', 2, 0)]: { overall: 0.5, criteria: { quality: 0.5 } },
              [cid(RUN, 'draft', 2, 1)]: { overall: 0.75, criteria: { quality: 0.75 } },
            },
            rationale: 'b is clearer',
            missing: [],
          },
          artifactId: `${RUN}.draft.2.artifact`,
          artifactCandidateId: cid(RUN, 'draft', 2, 1),
          loop: null,
          // both attempts and the judge: 0.125 + 0.5 + 0.25 + 0.0625
          costUsd: 0.9375,
          tokens: { input: 510, output: 400 },
          error: null,
          ...NO_HUMAN,
        },
        {
          id: 'polish',
          name: null,
          kind: 'llm',
          dependsOn: ['draft'],
          status: 'completed',
          attempt: 2,
          startedAt: at(22),
          completedAt: at(26),
          candidates: [
            { id: cid(RUN, 'polish', 2, 0), slot: 0, provider: 'simulated', model: 'sim-c', status: 'generated', tokens: { input: 50, output: 60 }, costUsd: 0.25, durationMs: 700, output: { text: 'polished b' }, error: null, transcript: null, partial: null, retry: null, round: 0 },
          ],
          verdict: null,
          artifactId: `${RUN}.polish.2.artifact`,
          artifactCandidateId: cid(RUN, 'polish', 2, 0),
          loop: null,
          costUsd: 0.28125,
          tokens: { input: 55, output: 60 },
          error: null,
          ...NO_HUMAN,
        },
      ],
      currentPhases: [],
      costUsd: 1.21875,
      tokens: { input: 565, output: 460 },
      startedAt: at(2),
      completedAt: at(last),
      sequence: last,
      error: null,
      pending: { gates: [], questions: [], continue: [] },
      pauseReason: null,
      budgetUsd: null,
      origin: null,
      workspace: null,
      filesChanged: 0,
    };
    // the run page's story (issue 13 §2): when each candidate was requested, who judged, each phase's attempts
    const requestedAt = (id: string) => new Date(runEvents.find((e) => e.type === 'CandidateRequested' && (e.data as { candidateId: string }).candidateId === id)!.occurredAt).toISOString();
    for (const phase of expected.phases) for (const c of phase.candidates) c.requestedAt = requestedAt(c.id);
    expected.phases[0]!.verdict!.judge = { provider: 'simulated', model: 'sim-judge', tokens: { input: 300, output: 30 }, costUsd: 0.0625 };
    expected.phases[0]!.attempts = [
      { attempt: 1, status: 'failed', startedAt: at(3), completedAt: at(8), error: { code: 'candidates_failed', message: 'not enough candidates' }, retried: null },
      { attempt: 2, status: 'completed', startedAt: at(9), completedAt: at(17), error: null, retried: null },
    ];
    // the fixture starts polish's attempt 2 with nothing closing attempt 1 (no PhaseFailed, no PhaseRetryScheduled): it did not finish
    expected.phases[1]!.attempts = [
      { attempt: 1, status: 'cancelled', startedAt: at(18), completedAt: null, error: null, retried: null },
      { attempt: 2, status: 'completed', startedAt: at(22), completedAt: at(26), error: null, retried: null },
    ];

    beforeAll(reset);

    it('folds a prefix into an in-flight view', async () => {
      const upTo = all.findIndex((e) => e.sequence === 11) + 1; // attempt 2's candidates requested
      expect(await fold(all.slice(0, upTo))).toBe(11);
      const view = await queries.getRun(RUN);
      expect(view).toMatchObject({ status: 'running', currentPhases: ['draft'], sequence: 11, costUsd: 0.125, completedAt: null });
      const [draft, polish] = view!.phases;
      expect(draft).toMatchObject({ status: 'running', attempt: 2, startedAt: at(9), completedAt: null, error: null, verdict: null, costUsd: 0.125 });
      expect(draft!.candidates.map((c) => [c.id, c.status, c.output])).toEqual([
        [cid(RUN, 'draft', 2, 0), 'requested', undefined],
        [cid(RUN, 'draft', 2, 1), 'requested', undefined],
      ]);
      expect(polish).toMatchObject({ status: 'pending', attempt: 0, startedAt: null, candidates: [], costUsd: 0, tokens: { input: 0, output: 0 } });
      expect((await queries.listRuns({ limit: 10 })).items[0]).toMatchObject({ phasesTotal: 2, phasesDone: 0 });
    });

    it('folds the rest into the expected RunView', async () => {
      expect(await fold(all)).toBe(last);
      expect(await queries.getRun(RUN)).toEqual(expected);
      expect(await queries.appliedSequence()).toBe(last);
      expect(await queries.runExists(RUN)).toBe(true);
      expect(await queries.runExists('nope')).toBe(false);
      expect(await queries.getRun('nope')).toBeNull();
    });

    it('sets up a batch in one round trip (settings, checkpoint lock, savepoint) and releases nothing before the commit', async () => {
      await reset();
      const upTo = all.findIndex((e) => e.sequence === 11) + 1;
      await fold(all.slice(0, upTo));
      const sent: string[] = [];
      const original = pg.Client.prototype.query;
      const query = jest.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
        const first = args[0] as string | { text: string };
        sent.push(typeof first === 'string' ? first : first.text);
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as never);
      try {
        expect(await ds.transaction((m) => projectBatch(m, all.slice(upTo), MAIN_CHECKPOINT, { settings: PROJECTION_TRANSACTION_SETTINGS }))).toBe(last);
      } finally {
        query.mockRestore();
      }
      expect(sent[0]).toBe('START TRANSACTION');
      expect(sent[1]).toBe(`${PROJECTION_TRANSACTION_SETTINGS}; UPDATE projection_checkpoints SET sequence = sequence WHERE name = 'main' RETURNING sequence; SAVEPOINT project_batch`);
      const rest = sent.slice(2);
      expect(rest.filter((text) => /SAVEPOINT|^SET /.test(text))).toEqual([]);
      // the loads, the writes (one statement per table: a batch this small inserts even its insert-only rows, COPY_MIN_ROWS), the checkpoint's move, the commit
      expect(rest.map((text) => text.trim().split(/\s+/)[0])).toEqual(['SELECT', 'SELECT', 'SELECT', 'SELECT', 'SELECT', 'INSERT', 'INSERT', 'INSERT', 'INSERT', 'INSERT', 'INSERT', 'UPDATE', 'UPDATE', 'COMMIT']);
      expect(rest.at(-2)).toMatch(/^UPDATE projection_checkpoints SET sequence/);
      expect(await queries.getRun(RUN)).toEqual(expected);
    });

    it('changes nothing when the same events are applied again, whole or overlapping', async () => {
      const counts = await rowCounts();
      expect(counts).toMatchObject({ runs: 1, run_phases: 2, candidates: 6, verdicts: 1, artifacts: 2, timeline_events: runEvents.length, templates: 1, template_versions: 1 });
      expect(await fold(all)).toBe(last);
      expect(await fold(all.slice(10))).toBe(last);
      expect(await fold([...all].reverse().slice(0, 3))).toBe(last);
      expect(await queries.getRun(RUN)).toEqual(expected);
      expect(await rowCounts()).toEqual(counts);
    });

    it('applies a batch once when two projectors race on it', async () => {
      await reset();
      const results = await Promise.all([fold(all), fold(all), fold(all.slice(0, 10))]);
      expect(results.slice(0, 2)).toEqual([last, last]);
      expect([10, last]).toContain(results[2]); // 10 when it took the lock first
      expect(await queries.getRun(RUN)).toEqual(expected);
      expect((await rowCounts()).timeline_events).toBe(runEvents.length);
    });

    it('serves the timeline ascending, after a sequence, bounded', async () => {
      const timeline = await queries.timeline(RUN);
      expect(timeline.map((t) => t.sequence)).toEqual(runEvents.map((e) => e.sequence));
      expect(timeline[0]).toEqual({ sequence: 2, type: 'RunStarted', occurredAt: at(2), phaseId: null, actor: { kind: 'system', id: 'test' }, data: runEvents[0]!.data });
      expect(timeline[1]).toMatchObject({ sequence: 3, type: 'PhaseStarted', phaseId: 'draft', data: { phaseId: 'draft', attempt: 1 } });
      expect((await queries.timeline(RUN, 20, 3)).map((t) => t.sequence)).toEqual([21, 22, 23]);
      expect(await queries.timeline('nope')).toEqual([]);
    });

    it('lists every candidate of every attempt, failures and rejections included', async () => {
      const all = await queries.listCandidates(RUN);
      expect(all.map((c) => [c.phaseId, c.attempt, c.slot, c.status])).toEqual([
        ['draft', 1, 0, 'generated'],
        ['draft', 1, 1, 'failed'],
        ['draft', 2, 0, 'generated'],
        ['draft', 2, 1, 'generated'],
        ['polish', 1, 0, 'rejected'],
        ['polish', 2, 0, 'generated'],
      ]);
      expect(all.find((c) => c.id === cid(RUN, 'draft', 1, 1))).toMatchObject({ error: { code: 'provider', message: 'boom' }, durationMs: 50, costUsd: 0 });
      expect(all.find((c) => c.id === cid(RUN, 'polish', 1, 0))).toMatchObject({
        error: { code: 'output_rejected', message: 'text: too short; text: empty' },
        output: { text: '' },
        costUsd: 0.03125,
      });
      expect((await queries.listCandidates(RUN, 'polish')).map((c) => c.id)).toEqual([cid(RUN, 'polish', 1, 0), cid(RUN, 'polish', 2, 0)]);
    });

    it('serves artifacts', async () => {
      const artifacts = await queries.listArtifacts(RUN);
      expect(artifacts).toEqual([
        { id: `${RUN}.draft.2.artifact`, runId: RUN, phaseId: 'draft', candidateId: cid(RUN, 'draft', 2, 1), artifactType: 'text', content: { text: 'draft b' }, createdAt: at(16) },
        { id: `${RUN}.polish.2.artifact`, runId: RUN, phaseId: 'polish', candidateId: cid(RUN, 'polish', 2, 0), artifactType: 'text', content: { text: 'polished b' }, createdAt: at(25) },
      ]);
      expect(await queries.getArtifact(RUN, `${RUN}.polish.2.artifact`)).toEqual(artifacts[1]);
      expect(await queries.getArtifact('other-run', `${RUN}.polish.2.artifact`)).toBeNull();
    });

    it('halts on an unknown event type without moving the checkpoint', async () => {
      const more = new Recorder(last + 1);
      const fine = more.record('run', 'run-2', failedRunEvents('run-2', TPL));
      const unknown = { ...fine[1]!, type: 'PhaseExploded', sequence: more.last + 1 } as unknown as Recorded;
      const error = await fold([...fine, unknown]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PoisonEventError);
      expect(error).toMatchObject({ sequence: more.last + 1, eventType: 'PhaseExploded' });
      expect(await queries.appliedSequence()).toBe(last);
      expect(await queries.runExists('run-2')).toBe(false);
      // the events before it are fine on their own
      expect(await fold(fine)).toBe(more.last);
      expect(await queries.getRun('run-2')).toMatchObject({ status: 'failed', error: { code: 'phase_failed', message: 'draft failed' }, completedAt: at(more.last) });
    });

    it('treats events that contradict the read models as poison', async () => {
      const cp = await queries.appliedSequence();
      const more = new Recorder(cp + 1);
      const orphan = more.record('run', 'never-started', [{ type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } }]);
      await expect(fold(orphan)).rejects.toMatchObject({ name: 'PoisonEventError', reason: expect.stringContaining('never-started') });
      const more2 = new Recorder(cp + 1);
      const badPhase = more2.record('run', RUN, [{ type: 'PhaseStarted', data: { phaseId: 'ghost', attempt: 1 } }]);
      await expect(fold(badPhase)).rejects.toMatchObject({ name: 'PoisonEventError', reason: expect.stringContaining('ghost') });
      const more3 = new Recorder(cp + 1);
      const restart = more3.record('run', RUN, completedRunEvents(RUN, TPL).slice(0, 1));
      await expect(fold(restart)).rejects.toMatchObject({ name: 'PoisonEventError' }); // unique violation → deterministic

      // events whose run is checked at the end of the batch (they change nothing else on the run)
      const judge = completedRunEvents('late', TPL).find((e) => e.type === 'JudgeRequested')!;
      const more4 = new Recorder(cp + 1);
      const unknownRun = [...more4.record('run', RUN, [judgeOf(RUN)]), ...more4.record('run', 'late', [judge])];
      await expect(fold(unknownRun)).rejects.toMatchObject({ name: 'PoisonEventError', sequence: cp + 2, reason: expect.stringContaining('late') });
      const more5 = new Recorder(cp + 1);
      const startsAfter = [...more5.record('run', 'late', [judge]), ...more5.record('run', 'late', completedRunEvents('late', TPL).slice(0, 1))];
      await expect(fold(startsAfter)).rejects.toMatchObject({ name: 'PoisonEventError', sequence: cp + 1, eventType: 'JudgeRequested' });
      expect(await queries.appliedSequence()).toBe(cp);
      expect(await queries.runExists('late')).toBe(false);
    });

    it('pins a write the database refuses on the event that made it (set-based write, then event by event)', async () => {
      const cp = await queries.appliedSequence();
      const more = new Recorder(cp + 1);
      const events = completedRunEvents('huge', TPL);
      const bad = events.findIndex((e) => e.type === 'CandidateGenerated');
      const data = events[bad]!.data as { tokens: { input: number; output: number } };
      // beyond int4: only the INSERT … ON CONFLICT of the batch finds out
      events[bad] = { ...events[bad]!, data: { ...data, tokens: { ...data.tokens, input: 3_000_000_000 } } } as (typeof events)[number];
      const recorded = more.record('run', 'huge', events);
      const error = await fold(recorded).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PoisonEventError);
      expect(error).toMatchObject({ sequence: recorded[bad]!.sequence, eventType: 'CandidateGenerated' });
      expect(await queries.appliedSequence()).toBe(cp);
      expect(await queries.runExists('huge')).toBe(false);
      // the events before it are fine on their own
      expect(await fold(recorded.slice(0, bad))).toBe(recorded[bad - 1]!.sequence);
      expect(await queries.runExists('huge')).toBe(true);
    });

    it('pins a row the binary COPY is refused on the event that made it', async () => {
      const cp = await queries.appliedSequence();
      const more = new Recorder(cp + 1);
      // enough timeline rows in one batch for a COPY
      const recorded = [...more.record('run', 'copied-1', completedRunEvents('copied-1', TPL)), ...more.record('run', 'unpaired', completedRunEvents('unpaired', TPL))];
      expect(recorded.length).toBeGreaterThanOrEqual(COPY_MIN_ROWS);
      const bad = recorded.findIndex((e) => e.type === 'RunCompleted' && e.streamId.endsWith('unpaired'));
      // only its timeline row holds its data: here an unpaired surrogate, which Postgres' JSON input refuses
      recorded[bad] = { ...recorded[bad]!, data: { note: 'x\ud800y' } } as unknown as (typeof recorded)[number];
      const error = await fold(recorded).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'PoisonEventError', sequence: recorded[bad]!.sequence, eventType: 'RunCompleted' });
      expect(await queries.appliedSequence()).toBe(cp);
      expect(await queries.runExists('copied-1')).toBe(false);
      expect(await fold(recorded.slice(0, bad))).toBe(recorded[bad - 1]!.sequence);
      expect((await queries.timeline('copied-1')).length).toBe(completedRunEvents('copied-1', TPL).length);
      expect((await queries.timeline('unpaired')).length).toBe(bad - completedRunEvents('copied-1', TPL).length);
    });

    describe('folded ahead of the transaction (pipelining)', () => {
      const split = all.findIndex((e) => e.sequence === 11) + 1;
      const [first, second] = [runEvents.filter((e) => e.sequence <= 11), all.slice(split)];
      const withReader = async <T>(work: (reader: EntityManager) => Promise<T>): Promise<T> => {
        const reader = ds.createQueryRunner();
        await reader.connect();
        try {
          return await work(reader.manager);
        } finally {
          await reader.release();
        }
      };

      it('folds a batch while the one before is still in its transaction, and ends where folding in turn ends', async () => {
        await reset();
        await fold(templateEvents);
        await withReader(async (reader) => {
          const a = await foldAhead(reader, first, 1, null);
          expect(a).toMatchObject({ after: 1, last: 11 });
          const inFlight = ds.createQueryRunner();
          await inFlight.connect();
          await inFlight.startTransaction();
          try {
            expect(await commitFolded(inFlight.manager, a!)).toBe(11);
            // the reader cannot see a's rows yet: b takes them from a's fold
            expect(await reader.query('SELECT count(*)::int AS n FROM runs')).toEqual([{ n: 0 }]);
            const b = await foldAhead(reader, second, 11, a);
            expect(b).toMatchObject({ after: 11, last });
            await inFlight.commitTransaction();
            expect(await ds.transaction((m) => commitFolded(m, b!))).toBe(last);
          } finally {
            if (inFlight.isTransactionActive) await inFlight.rollbackTransaction();
            await inFlight.release();
          }
        });
        expect(await queries.getRun(RUN)).toEqual(expected);
        expect(await queries.appliedSequence()).toBe(last);
        expect(await rowCounts()).toMatchObject({ runs: 1, run_phases: 2, candidates: 6, verdicts: 1, artifacts: 2, timeline_events: runEvents.length });
      });

      it('writes nothing when another writer moved the checkpoint, and projectBatch then finds the batch applied', async () => {
        await reset();
        await fold(templateEvents);
        await withReader(async (reader) => {
          const a = (await foldAhead(reader, first, 1, null))!;
          const b = (await foldAhead(reader, second, 11, a))!;
          expect(await fold(all)).toBe(last); // a second projector, meanwhile
          expect(await ds.transaction((m) => commitFolded(m, a))).toBeNull();
          expect(await ds.transaction(async (m) => (await commitFolded(m, b)) ?? projectBatch(m, second))).toBe(last);
        });
        expect(await queries.getRun(RUN)).toEqual(expected);
        expect((await rowCounts()).timeline_events).toBe(runEvents.length);
      });

      it('leaves to projectBatch a batch with an event written as it comes, or one the fold refuses', async () => {
        await reset();
        await withReader(async (reader) => {
          expect(await foldAhead(reader, all, 0, null)).toBeNull(); // TemplateCreated
          expect(await foldAhead(reader, second, 11, null)).toBeNull(); // run-1 was never started (nothing committed)
          expect(await foldAhead(reader, first, last, null)).toBeNull(); // nothing after the checkpoint
        });
        expect(await queries.appliedSequence()).toBe(0);
      });

      it('rolls a refused write back to the batch savepoint, and projectBatch pins it on its event in the same transaction', async () => {
        await reset();
        await fold(templateEvents);
        const bad = first.findIndex((e) => e.type === 'CandidateGenerated');
        const data = first[bad]!.data as { tokens: { input: number; output: number } };
        // beyond int4: only the candidates' upsert finds out
        const events = first.map((e, i) => (i === bad ? ({ ...e, data: { ...data, tokens: { ...data.tokens, input: 3_000_000_000 } } } as typeof e) : e));
        const folded = (await withReader((reader) => foldAhead(reader, events, 1, null)))!;
        expect(folded).not.toBeNull();
        const error = await ds
          .transaction(async (m) => {
            expect(await commitFolded(m, folded)).toBeNull();
            return projectBatch(m, events);
          })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'PoisonEventError', sequence: events[bad]!.sequence, eventType: 'CandidateGenerated' });
        expect(await queries.appliedSequence()).toBe(1);
        expect(await queries.runExists(RUN)).toBe(false);
      });
    });

    it('refuses to run outside a transaction', async () => {
      await expect(projectBatch(ds.manager, all)).rejects.toThrow(/inside a transaction/);
    });
  });

  describe('a loop phase', () => {
    beforeAll(reset);
    it('keeps every round of the attempt and shows the latest verdict', async () => {
      const rec = new Recorder();
      await fold(rec.record('run', 'loop-1', loopRunEvents('loop-1', TPL)));
      const run = await queries.getRun('loop-1');
      expect(run).toMatchObject({ status: 'completed', costUsd: 0.625, tokens: { input: 30, output: 30 } });
      const [write] = run!.phases;
      expect(write).toMatchObject({
        id: 'write',
        kind: 'loop',
        status: 'completed',
        attempt: 1,
        artifactId: 'loop-1.write.1.artifact',
        verdict: { winnerId: 'loop-1.write.1.r1.c0', rationale: 'good', scores: { 'loop-1.write.1.r1.c0': { overall: 0.875, criteria: { quality: 0.875 } } }, missing: [] },
      });
      expect(write!.candidates.map((c) => [c.id, c.output])).toEqual([
        ['loop-1.write.1.c0', { text: 'rough' }],
        ['loop-1.write.1.r1.c0', { text: 'detailed' }],
      ]);
      expect((await queries.listCandidates('loop-1')).map((c) => [c.round, c.slot, c.status])).toEqual([
        [0, 0, 'generated'],
        [1, 0, 'generated'],
      ]);
      expect(Number((await ds.query(`SELECT count(*) AS n FROM verdicts WHERE purpose = 'evaluate'`))[0].n)).toBe(2);
    });

    it('stores text with NUL characters, which jsonb refuses, instead of halting', async () => {
      const rec = new Recorder(100);
      const events = loopRunEvents('loop-nul', TPL).map((e) =>
        e.type === 'CandidateGenerated' ? { ...e, data: { ...e.data, output: { text: 'a\u0000b' } } } : e,
      );
      await fold(rec.record('run', 'loop-nul', events));
      const [write] = (await queries.getRun('loop-nul'))!.phases;
      expect(write!.candidates[0]!.output).toEqual({ text: 'a\uFFFDb' });
      expect((await queries.timeline('loop-nul')).find((t) => t.type === 'CandidateGenerated')?.data).toMatchObject({ output: { text: 'a\uFFFDb' } });
    });

    it('stopped at max rounds: the winner is the best round the artifact was taken from, every round keeps its score and feedback', async () => {
      const rec = new Recorder(400);
      await fold(rec.record('run', 'loop-max', loopMaxRoundsEvents('loop-max', TPL)));
      const [write] = (await queries.getRun('loop-max'))!.phases;
      const best = 'loop-max.write.1.r1.c0';
      const artifact = await queries.getArtifact('loop-max', write!.artifactId!);
      expect(artifact).toMatchObject({ candidateId: best, content: { text: 'detailed' } });
      // the ★ follows the artifact, not the last verdict (round 3, 0.625)
      expect(write!.artifactCandidateId).toBe(best);
      expect(write!.verdict).toMatchObject({ winnerId: best, rationale: 'almost: cite sources', scores: { [best]: { overall: 0.75 } } });
      expect(write!.loop).toEqual({
        maxRounds: 3,
        passThreshold: 0.8,
        rounds: [
          { round: 0, candidateId: 'loop-max.write.1.c0', score: 0.5, criteria: { quality: 0.5 }, feedback: 'needs detail', evaluatedAt: expect.any(String) },
          { round: 1, candidateId: best, score: 0.75, criteria: { quality: 0.75 }, feedback: 'almost: cite sources', evaluatedAt: expect.any(String) },
          { round: 2, candidateId: 'loop-max.write.1.r2.c0', score: 0.625, criteria: { quality: 0.625 }, feedback: 'lost focus', evaluatedAt: expect.any(String) },
        ],
      });
      expect(write!.candidates.map((c) => [c.id, c.round])).toEqual([
        ['loop-max.write.1.c0', 0],
        [best, 1],
        ['loop-max.write.1.r2.c0', 2],
      ]);
      // the runs list: the loop's last round (1-based), bounds and best score
      const { items } = await queries.listRuns({ q: 'loop-max', limit: 10 });
      expect(items.map((r) => [r.id, r.loop])).toEqual([['loop-max', { phaseId: 'write', round: 3, maxRounds: 3, bestScore: 0.75, passThreshold: 0.8 }]]);
    });

    it('migration 1795369200000 fills the winner and the loop bounds of rows folded before it', async () => {
      const before = (await queries.getRun('loop-max'))!.phases[0];
      const migration = new LoopWinners1795369200000();
      const runner = ds.createQueryRunner();
      try {
        await migration.down(runner);
        await migration.up(runner);
      } finally {
        await runner.release();
      }
      const after = (await queries.getRun('loop-max'))!.phases[0];
      expect(after).toMatchObject({ artifactCandidateId: 'loop-max.write.1.r1.c0', loop: { maxRounds: 3, passThreshold: 0.8 } });
      expect(after).toEqual(before);
    });

    it('a running loop: each verdict adds a round without replacing the earlier ones; no winner before the artifact', async () => {
      const rec = new Recorder(500);
      const events = loopMaxRoundsEvents('loop-live', TPL);
      const upToRound2 = events.slice(0, 2 + 4 * 2);
      await fold(rec.record('run', 'loop-live', upToRound2));
      const [write] = (await queries.getRun('loop-live'))!.phases;
      expect(write).toMatchObject({ status: 'running', artifactCandidateId: null });
      expect(write!.loop!.rounds.map((r) => [r.round, r.score, r.feedback])).toEqual([
        [0, 0.5, 'needs detail'],
        [1, 0.75, 'almost: cite sources'],
      ]);
      const { items } = await queries.listRuns({ q: 'loop-live', limit: 10 });
      expect(items[0]!.loop).toEqual({ phaseId: 'write', round: 2, maxRounds: 3, bestScore: 0.75, passThreshold: 0.8 });
      // a loop that passed in its second round
      expect((await queries.listRuns({ q: 'loop-1', limit: 10 })).items[0]!.loop).toMatchObject({ round: 2, bestScore: 0.875 });
    });
  });

  describe('templates', () => {
    beforeAll(reset);
    it('keeps the latest version, every version, and archives', async () => {
      const rec = new Recorder();
      const v2 = { ...template, name: 'essay-pipeline-2', description: 'second' };
      await fold([
        ...rec.record('template', 'a', [{ type: 'TemplateCreated', data: { templateId: 'a', version: 1, template } }]),
        ...rec.record('template', 'b', [{ type: 'TemplateCreated', data: { templateId: 'b', version: 1, template: { ...template, name: 'b-template' } } }]),
        ...rec.record('template', 'a', [{ type: 'TemplateVersionAdded', data: { templateId: 'a', version: 2, template: v2 } }]),
        ...rec.record('template', 'b', [{ type: 'TemplateArchived', data: { templateId: 'b' } }]),
      ]);
      expect(await queries.listTemplates()).toEqual([
        { id: 'a', name: 'essay-pipeline-2', version: 2, description: 'second', archived: false, updatedAt: at(3) },
      ]);
      expect(await queries.getTemplate('a')).toEqual({
        id: 'a', name: 'essay-pipeline-2', version: 2, description: 'second', archived: false, updatedAt: at(3), template: v2, versions: [1, 2],
      });
      expect(await queries.getTemplate('a', 1)).toMatchObject({ name: 'essay-pipeline', version: 1, template, versions: [1, 2] });
      expect(await queries.getTemplate('a', 7)).toBeNull();
      expect(await queries.getTemplate('b')).toMatchObject({ archived: true, updatedAt: at(4) });
      expect(await queries.templateExists('b')).toBe(true);
      expect(await queries.templateExists('c')).toBe(false);
    });
  });

  describe('listRuns', () => {
    beforeAll(reset);
    // ids and start times: r5 and r6 start at the same instant (ties break on id, descending)
    const specs = [
      { id: 'r1', tpl: 'tpl-x', name: 'alpha', fail: false, t: 1 },
      { id: 'r2', tpl: 'tpl-y', name: '100% done_ish', fail: true, t: 2 },
      { id: 'r3', tpl: 'tpl-x', name: null, fail: false, t: 3 },
      { id: 'r4', tpl: 'tpl-x', name: 'beta', fail: true, t: 4 },
      { id: 'r5', tpl: 'tpl-y', name: 'gamma', fail: false, t: 5 },
      { id: 'r6', tpl: 'tpl-x', name: 'delta', fail: false, t: 5 },
      { id: 'r7', tpl: 'tpl-y', name: 'Alphabet', fail: false, t: 7 },
    ];

    beforeAll(async () => {
      const rec = new Recorder();
      const events = specs.flatMap((s) => {
        const all = s.fail ? failedRunEvents(s.id, s.tpl, s.name) : completedRunEvents(s.id, s.tpl).map((e) => (e.type === 'RunStarted' ? { ...e, data: { ...e.data, name: s.name } } : e));
        return rec.record('run', s.id, s.fail ? all : all.slice(0, 3), T0 + s.t * 60_000);
      });
      await fold(events);
    });

    async function pages(options: { status?: string; templateId?: string; q?: string }, limit: number): Promise<string[][]> {
      const out: string[][] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await queries.listRuns({ ...options, cursor, limit });
        out.push(page.items.map((r) => r.id));
        if (!page.nextCursor) return out;
        cursor = page.nextCursor;
      }
    }

    it('pages newest first with an opaque cursor', async () => {
      expect(await pages({}, 3)).toEqual([['r7', 'r6', 'r5'], ['r4', 'r3', 'r2'], ['r1']]);
      expect(await pages({}, 7)).toEqual([['r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1']]);
      expect(await pages({}, 2)).toEqual([['r7', 'r6'], ['r5', 'r4'], ['r3', 'r2'], ['r1']]);
      const first = await queries.listRuns({ limit: 1 });
      expect(first.items[0]).toEqual({
        id: 'r7', name: 'Alphabet', templateId: 'tpl-y', templateVersion: 1, templateName: 'essay-pipeline', status: 'running',
        costUsd: 0, startedAt: new Date(T0 + 7 * 60_000).toISOString(), completedAt: null, sequence: expect.any(Number), phasesTotal: 2, phasesDone: 0, origin: null, archived: false, filesChanged: 0, loop: null,
      });
    });

    it('filters by status, template and text, and pages the filtered list', async () => {
      expect(await pages({ status: 'failed' }, 10)).toEqual([['r4', 'r2']]);
      expect(await pages({ status: 'failed,running' }, 10)).toEqual([['r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1']]);
      expect(await pages({ templateId: 'tpl-x' }, 2)).toEqual([['r6', 'r4'], ['r3', 'r1']]);
      expect(await pages({ templateId: 'tpl-x', status: 'running' }, 10)).toEqual([['r6', 'r3', 'r1']]);
      expect(await pages({ q: 'ALPHA' }, 10)).toEqual([['r7', 'r1']]);
      expect(await pages({ q: '%' }, 10)).toEqual([['r2']]); // wildcards match literally
      expect(await pages({ q: '_' }, 10)).toEqual([['r2']]);
      expect(await pages({ q: 'r3' }, 10)).toEqual([['r3']]); // the id
      expect(await pages({ q: 'essay' }, 4)).toEqual([['r7', 'r6', 'r5', 'r4'], ['r3', 'r2', 'r1']]); // the template name
      expect(await pages({ q: 'zzz' }, 10)).toEqual([[]]);
    });

    it('refuses a cursor it did not issue', async () => {
      await expect(queries.listRuns({ limit: 2, cursor: 'garbage' })).rejects.toBeInstanceOf(ConclaveError);
      await expect(queries.listRuns({ limit: 2, cursor: Buffer.from('[1,2]').toString('base64url') })).rejects.toMatchObject({ code: 'bad_request' });
    });

    it('waits for a sequence with a bound', async () => {
      const applied = await queries.appliedSequence();
      expect(await queries.waitForSequence(applied, 1000)).toBe(true);
      const started = Date.now();
      expect(await queries.waitForSequence(applied + 1, 100)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    });
  });

  it('charges what failed and rejected calls cost to their candidate, phase and run', async () => {
    await reset();
    const rec = new Recorder();
    const events = rec.record('run', 'r-c', [
      ...completedRunEvents('r-c', TPL).slice(0, 4),
      { type: 'CandidateFailed', data: { phaseId: 'draft', attempt: 1, candidateId: cid('r-c', 'draft', 1, 1), error: { code: 'timeout', message: 'slow', retryable: true }, tokens: { input: 30, output: 40 }, costUsd: 0.5 } },
      { type: 'OutputRejected', data: { phaseId: 'draft', attempt: 1, candidateId: cid('r-c', 'draft', 1, 0), errors: ['(root): must have text'], raw: { nope: 1 }, tokens: { input: 10, output: 20 }, costUsd: 0.25 } },
    ]);
    await fold(events);
    await fold(events.slice(-2)); // redelivered: charged once
    const run = (await queries.getRun('r-c'))!;
    expect([run.costUsd, run.tokens]).toEqual([0.75, { input: 40, output: 60 }]);
    expect(run.phases.find((p) => p.id === 'draft')!.costUsd).toBe(0.75);
    expect(run.phases.find((p) => p.id === 'draft')!.candidates.map((c) => [c.status, c.costUsd, c.tokens])).toEqual([
      ['rejected', 0.25, { input: 10, output: 20 }],
      ['failed', 0.5, { input: 30, output: 40 }],
    ]);
  });

  describe('provider health', () => {
    const configured = (sequenceHint: string) => ({
      type: 'ProviderConfigured' as const,
      data: { providerId: 'simulated', name: 'simulated', kind: 'simulated' as const, baseUrl: null, models: [sequenceHint], enabled: true, prices: {}, hasApiKey: true, source: 'api' as const },
    });
    const authFailed = (runId: string, slot: number) => ({
      type: 'CandidateFailed' as const,
      data: { phaseId: 'draft', attempt: 1, candidateId: cid(runId, 'draft', 1, slot), error: { code: 'auth_failed', message: 'invalid x-api-key', retryable: false }, durationMs: 5 },
    });
    const failureOf = async () => (await ds.query(`SELECT failure FROM providers WHERE id = 'simulated'`))[0].failure;

    it('marks a provider failing on a 401/403, clears it on a later success or a new configuration, idempotently', async () => {
      await reset();
      await ds.query('TRUNCATE providers');
      const rec = new Recorder();
      const provider = rec.record('provider', 'simulated', [configured('v1')]);
      const run = rec.record('run', 'r-h', [...completedRunEvents('r-h', TPL).slice(0, 4), authFailed('r-h', 1)]);
      await fold([...provider, ...run]);
      expect(await failureOf()).toEqual({ code: 'auth_failed', message: 'invalid x-api-key', at: run.at(-1)!.occurredAt, runId: 'r-h' });
      // a success through the same provider clears it; the failure delivered again does not come back
      const ok = rec.record('run', 'r-h', [completedRunEvents('r-h', TPL)[4]!]);
      await fold(ok);
      expect(await failureOf()).toBeNull();
      await fold(run.slice(-1));
      expect(await failureOf()).toBeNull();
      // a failure followed, in the same batch, by a new configuration (a new key) ends cleared
      const run2 = rec.record('run', 'r-i', [...completedRunEvents('r-i', TPL).slice(0, 4), authFailed('r-i', 1)]);
      const reconfigured = rec.record('provider', 'simulated', [configured('v2')]);
      await fold([...run2, ...reconfigured]);
      expect(await failureOf()).toBeNull();
      // a refusal after the new configuration marks it failing again
      const run3 = rec.record('run', 'r-j', [...completedRunEvents('r-j', TPL).slice(0, 4), authFailed('r-j', 0)]);
      await fold(run3);
      expect(await failureOf()).toMatchObject({ runId: 'r-j' });
    });
  });

  it('keeps separate checkpoints apart', async () => {
    await reset();
    const rec = new Recorder();
    const events = rec.record('run', 'r-x', failedRunEvents('r-x', TPL));
    expect(await fold(events.slice(0, 2), 'main')).toBe(2);
    expect(await queries.appliedSequence('main')).toBe(2);
    expect(await queries.appliedSequence('other')).toBe(0);
  });
});
