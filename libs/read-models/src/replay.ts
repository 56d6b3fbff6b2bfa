import { ConclaveError, type Recorded } from '@conclave/contracts';
import { DataSource, type EntityManager, type EntityTarget, type ObjectLiteral, type QueryRunner } from 'typeorm';
import { readModelDataSourceOptions } from './data-source';
import { ProjectionCheckpointRow, READ_MODEL_ENTITIES } from './entities';
import { advanceCheckpoint, parkStream } from './parked';
import { commitFolded, foldAhead, MAIN_CHECKPOINT, PoisonEventError, projectBatch, type FoldedBatch } from './projection';
import { PROJECTION_READER_SETTINGS, PROJECTION_TRANSACTION_SETTINGS } from './prepared';
import { ProviderRow } from './providers';

/**
 * Replay: rebuild every log-derived read model from sequence 1 into fresh tables, then either
 * swap them in or compare them with the live ones (docs/adr/004-replay.md).
 *
 * - The rebuild lives in its own schema `rebuild_<ms>`, created by the same migrations as the
 *   live one (identical columns, constraints and index names), and is folded with the same
 *   projectBatch on connections whose search_path is that schema only.
 * - The swap is one transaction: the live checkpoint row's table is locked EXCLUSIVE (live
 *   projectors wait at the start of their next batch), the rebuild catches up to the live
 *   checkpoint (when it is behind), the live tables move to a retired schema and the rebuilt
 *   ones into `public`, the checkpoint is set to the rebuild's; the live projector then
 *   continues from there (skipping what the rebuild already holds).
 * - Only tables derived from the log move (REPLAYED_ENTITIES). Gateway-owned tables (encrypted
 *   provider keys, budgets, workers, archive flags) and the checkpoints table stay; alerts a
 *   process raised (sequence NULL: a halted projection, a dead letter) are carried over into the
 *   rebuilt table. `dead_letters` is folded from the DEAD_LETTERS stream, not from EVENTS: a replay
 *   leaves it (and its `dead-letters` checkpoint) in place (dead-letters.ts).
 * - One replay at a time per database (an advisory lock): a second one is `illegal_state`.
 */

/** The read models a replay rebuilds: everything folded from the log (not the checkpoints). */
export const REPLAYED_ENTITIES: EntityTarget<ObjectLiteral>[] = [...READ_MODEL_ENTITIES.filter((e) => e !== ProjectionCheckpointRow), ProviderRow];

/**
 * Rows compared by verify, per table (default: all). Alerts raised by a process rather than
 * folded from an event are not in the log, so a rebuild cannot have them.
 */
export const VERIFIED_ROWS: Record<string, string> = { alerts: 'sequence IS NOT NULL' };

/**
 * Columns verify ignores, per table. None today: every column is a function of the events
 * (times come from `occurredAt`, ids from the events). Add one here only with a reason.
 */
export const VOLATILE_COLUMNS: Record<string, string[]> = {
  // when the stream was parked is the projecting process's clock, not a fact of the log
  parked_streams: ['parked_at'],
};

/** pg_advisory_lock key held for the whole replay (any fixed int8 distinct from the migrations'). */
export const REPLAY_LOCK_KEY = 7_236_911_025;

export interface ReplaySource {
  /** the log's last sequence (0 when empty) */
  lastSequence(): Promise<number>;
  /**
   * events after `after`, ascending, at most `limit` messages read; messages that do not decode
   * are skipped and reported in `poison` (stream, type, reason: what the live projector parks on)
   */
  read(after: number, limit: number, poison?: UndecodableMessage[]): Promise<Recorded[]>;
}

/** A message of the log that does not decode (EventLog's UnreadableEvent). */
export interface UndecodableMessage {
  sequence: number;
  streamId: string | null;
  type: string;
  reason: string;
}

export type ReplayPhase = 'preparing' | 'folding' | 'catching-up' | 'verifying' | 'swapping' | 'done';

/**
 * Progress as log positions (ADR 014: an event's sequence is its message's stream sequence × 1000 +
 * its index, so the number of events is not known before they are read): `processed` is the
 * position folded so far, `total` the log's last position when the replay began (or later).
 */
export interface ReplayProgress {
  phase: ReplayPhase;
  processed: number;
  total: number;
}

export interface ReplayDifference {
  table: string;
  /** primary-key values, in key order */
  key: unknown[];
  kind: 'missing_in_live' | 'missing_in_rebuild' | 'different';
  /** the columns that differ (all of them when a row is missing) */
  columns: string[];
  live: Record<string, unknown> | null;
  rebuilt: Record<string, unknown> | null;
}

export interface ReplayReport {
  mode: 'swap' | 'verify';
  /** events folded into the rebuild */
  processed: number;
  /** the sequence the rebuild describes (= the live checkpoint at the swap / comparison) */
  sequence: number;
  tables: string[];
  /** total number of differing rows (verify), over every table */
  differenceCount: number;
  /** the first `maxDifferences` of them, table by table in key order */
  differences: ReplayDifference[];
  /** streams the rebuild parked on poison, as the live projection does (issue 11 §4): said, never skipped silently */
  parked: { streamId: string; sequence: number; type: string; reason: string }[];
  durationMs: number;
}

export interface ReplayOptions {
  /** the live read models (migrated) */
  dataSource: DataSource;
  databaseUrl: string;
  source: ReplaySource;
  /** compare instead of swapping (nothing live changes) */
  verify?: boolean;
  /**
   * events per transaction (default 15,000: fewer page reads, loads and commits per event; a page
   * of commits (ADR 014, ~3 events each) then fits the log's 5,000-message fetch instead of reading
   * 5,000 messages to keep 10,000 events and reading the rest again for the next page)
   */
  batchSize?: number;
  /** how many differences to report in detail (default 100) */
  maxDifferences?: number;
  /** how long to wait for a lagging live projection to reach the rebuild (default 30 s) */
  catchUpTimeoutMs?: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** stops the replay between batches (nothing live has changed until the final transaction) */
  signal?: AbortSignal;
  /** test hook: runs inside the final transaction, after the catch-up, before the compare/swap */
  beforeFinish?: (manager: EntityManager) => Promise<void>;
}

const DEFAULT_REPLAY_BATCH = 15_000;

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function replay(options: ReplayOptions): Promise<ReplayReport> {
  const started = Date.now();
  const { dataSource: ds, source } = options;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_REPLAY_BATCH);
  const progress = (p: ReplayProgress) => options.onProgress?.(p);
  const tables = REPLAYED_ENTITIES.map((e) => ds.getMetadata(e).tableName);

  const lock = ds.createQueryRunner();
  await lock.connect();
  try {
    const [{ locked }]: [{ locked: boolean }] = await lock.query('SELECT pg_try_advisory_lock($1) AS locked', [REPLAY_LOCK_KEY]);
    if (!locked) throw new ConclaveError('illegal_state', 'a replay is already running on this database');
    const schema = `rebuild_${started}`;
    try {
      const total = await source.lastSequence();
      progress({ phase: 'preparing', processed: 0, total });
      await createRebuildSchema(options.databaseUrl, ds, schema);

      // fold the log into the rebuild, batch by batch (each batch moves the rebuild's own checkpoint)
      let after = 0;
      let processed = 0;
      progress({ phase: 'folding', processed, total });
      // the next page is read while this one folds (the log and the database work in parallel)
      type Page = { events: Recorded[]; poison: UndecodableMessage[] };
      const readAhead = (from: number): Promise<Page> | null => {
        if (from >= total) return null;
        const poison: UndecodableMessage[] = [];
        const page = source.read(from, Math.min(batchSize, total - from), poison).then((events) => ({ events, poison }));
        page.catch(() => undefined); // awaited below; a fold failing first must not leave it unhandled
        return page;
      };
      // secondary indexes are built once after the fold (a sort) instead of row by row
      const deferred = await dropSecondaryIndexes(ds, schema);
      // poison is parked as the live projector parks it (issue 11 §4): said, never skipped silently
      const parked = new Map<string, ReplayReport['parked'][number]>();
      // pipelined as the live projector is (issue 12): page N+1 is folded in memory while page N's
      // statements run in Postgres (foldAhead / commitFolded); a page with poison, or one whose
      // folded write does not hold, is folded by foldWithParking once everything before it is in
      const reader = await rebuildReader(options.databaseUrl, schema);
      /** the transaction of the page before, while it runs */
      let committing: Promise<PageCommit> | null = null;
      /** that page as folded ahead (the next one builds on it) */
      let before: FoldedBatch | null = null;
      try {
        let next = readAhead(after);
        while (next) {
          options.signal?.throwIfAborted();
          const page = await next;
          const last = Math.max(0, ...page.events.map((e) => e.sequence), ...page.poison.map((p) => p.sequence));
          if (last === 0) break;
          next = readAhead(last);
          const kept = page.poison.length === 0 ? page.events.filter((e) => !parked.has(e.streamId)) : [];
          let batch: FoldedBatch | null = kept.length > 0 ? await foldAhead(reader.manager, kept, after, before) : null;
          if (committing) {
            const done: PageCommit = await committing;
            committing = null;
            // the page before was folded again in its transaction (it may have parked a stream): this one's fold does not hold
            if (done.refolded) batch = null;
            after = done.checkpoint;
          }
          if (batch && batch.after === after) {
            const folded: FoldedBatch = batch;
            committing = commitPage(ds, schema, folded, last).then(async (checkpoint) =>
              checkpoint === null ? { checkpoint: await foldWithParking(ds, schema, page.events, page.poison, parked), refolded: true } : { checkpoint, refolded: false },
            );
            committing.catch(() => undefined); // awaited by the next turn, or below
            before = folded;
            after = last;
          } else {
            after = await foldWithParking(ds, schema, page.events, page.poison, parked);
            before = null;
          }
          processed += page.events.length + page.poison.length;
          progress({ phase: 'folding', processed: after, total });
        }
        if (committing) after = (await committing).checkpoint;
        committing = null;
      } finally {
        await committing?.catch(() => undefined);
        await reader.close();
      }
      options.signal?.throwIfAborted();
      await createIndexes(ds, deferred);

      options.signal?.throwIfAborted();
      let reached = after;
      const result = await finish(options, schema, tables, after, (n, position) => {
        processed += n;
        reached = Math.max(reached, position);
        progress({ phase: 'catching-up', processed: reached, total: Math.max(total, reached) });
      }, progress);
      reached = Math.max(reached, result.sequence);
      progress({ phase: 'done', processed: reached, total: Math.max(total, reached) });
      return { ...result, mode: options.verify ? 'verify' : 'swap', processed, tables, parked: [...parked.values()], durationMs: Date.now() - started };
    } finally {
      await ds.query(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`).catch(() => undefined);
    }
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [REPLAY_LOCK_KEY]).catch(() => undefined);
    await lock.release().catch(() => undefined);
  }
}

/** The read-model schema, as the migrations build it, inside `schema` (its own migrations table too). */
async function createRebuildSchema(databaseUrl: string, ds: DataSource, schema: string): Promise<void> {
  await ds.query(`CREATE SCHEMA ${quote(schema)}`);
  const base = readModelDataSourceOptions(databaseUrl, { poolSize: 1, applicationName: 'conclave-replay-migrate' });
  const migrator = new DataSource({ ...base, extra: { options: `-c search_path=${schema}` } } as typeof base);
  await migrator.initialize();
  try {
    await migrator.runMigrations({ transaction: 'all' });
  } finally {
    await migrator.destroy();
  }
}

/**
 * Fold one page into the rebuild, parking streams exactly as the live projector does: an event
 * that does not decode, or that the fold refuses, parks its stream (the events before it are
 * folded, the stream's later ones skipped); one whose stream cannot be told fails the replay.
 * Returns the rebuild's checkpoint.
 */
async function foldWithParking(ds: DataSource, schema: string, events: Recorded[], poison: UndecodableMessage[], parked: Map<string, ReplayReport['parked'][number]>): Promise<number> {
  type Item = { sequence: number; event?: Recorded; poison?: UndecodableMessage };
  let pending: Item[] = [...events.map((event) => ({ sequence: event.sequence, event })), ...poison.map((p) => ({ sequence: p.sequence, poison: p }))].sort((a, b) => a.sequence - b.sequence);
  let checkpoint = 0;
  const park = async (streamId: string, sequence: number, eventType: string, reason: string) => {
    await inRebuild(ds, schema, (m) => parkStream(m, MAIN_CHECKPOINT, { streamId, sequence, eventType, reason }));
    parked.set(streamId, { streamId, sequence, type: eventType, reason });
    checkpoint = Math.max(checkpoint, sequence);
  };
  while (pending.length > 0) {
    const stop = pending.findIndex((i) => i.poison);
    const run = (stop < 0 ? pending : pending.slice(0, stop)).map((i) => i.event!);
    const kept = run.filter((e) => !parked.has(e.streamId));
    try {
      if (kept.length > 0) checkpoint = await foldInto(ds, schema, kept);
    } catch (err) {
      const streamId = err instanceof PoisonEventError ? kept.find((e) => e.sequence === err.sequence)?.streamId : undefined;
      if (!(err instanceof PoisonEventError) || !streamId) throw err;
      const before = kept.filter((e) => e.sequence < err.sequence);
      if (before.length > 0) checkpoint = await foldInto(ds, schema, before);
      await park(streamId, err.sequence, err.eventType, err.reason);
      pending = pending.filter((i) => i.sequence > err.sequence);
      continue;
    }
    const lastOfRun = run[run.length - 1]?.sequence ?? 0;
    if (lastOfRun > checkpoint) {
      // the run ended with events of parked streams: the checkpoint moves past them too
      await inRebuild(ds, schema, (m) => advanceCheckpoint(m, MAIN_CHECKPOINT, lastOfRun));
      checkpoint = lastOfRun;
    }
    if (stop < 0) break;
    const bad = pending[stop]!.poison!;
    if (!bad.streamId) throw new PoisonEventError(bad.sequence, bad.type, bad.reason);
    if (parked.has(bad.streamId)) {
      await inRebuild(ds, schema, (m) => advanceCheckpoint(m, MAIN_CHECKPOINT, bad.sequence));
      checkpoint = Math.max(checkpoint, bad.sequence);
    } else {
      await park(bad.streamId, bad.sequence, bad.type, bad.reason);
    }
    pending = pending.slice(stop + 1);
  }
  return checkpoint;
}

/** One transaction on the rebuild schema. */
function inRebuild(ds: DataSource, schema: string, work: (m: EntityManager) => Promise<void>): Promise<void> {
  return ds.transaction(async (m) => {
    await m.query(`SET LOCAL search_path TO ${quote(schema)}`);
    await work(m);
  });
}

/**
 * One transaction folding `events` into the rebuild schema; returns its checkpoint. Committed
 * without waiting for the WAL flush (synchronous_commit off): the rebuild is thrown away unless the
 * final transaction, a normal commit, swaps or compares it, and that commit's flush makes every
 * earlier one durable too (the WAL is written in order). A crash before it loses only a rebuild
 * that would be dropped anyway.
 */
function foldInto(ds: DataSource, schema: string, events: readonly Recorded[]): Promise<number> {
  return ds.transaction(async (m) => {
    return projectBatch(m, events, MAIN_CHECKPOINT, { settings: `SET LOCAL search_path TO ${quote(schema)}; ${PROJECTION_TRANSACTION_SETTINGS}` });
  });
}

/** A page's transaction, done: the rebuild's checkpoint, and whether its fold ahead did not hold (it was folded again). */
interface PageCommit {
  checkpoint: number;
  refolded: boolean;
}

/**
 * Write a page folded ahead into the rebuild (commitFolded), moving the checkpoint to the page's
 * last message even when its last events belong to parked streams; null when the fold does not
 * hold (nothing written).
 */
function commitPage(ds: DataSource, schema: string, batch: FoldedBatch, last: number): Promise<number | null> {
  return ds.transaction(async (m) => {
    const reached = await commitFolded(m, batch, MAIN_CHECKPOINT, { settings: `SET LOCAL search_path TO ${quote(schema)}; ${PROJECTION_TRANSACTION_SETTINGS}` });
    if (reached === null) return null;
    if (last > reached) await advanceCheckpoint(m, MAIN_CHECKPOINT, last);
    return Math.max(reached, last);
  });
}

/**
 * A connection of its own reading the rebuild, for folding ahead (planned as the fold's
 * transactions are), outside the caller's pool: a replay then needs no more of that pool than it
 * did before pipelining (its lock and one transaction at a time).
 */
async function rebuildReader(databaseUrl: string, schema: string): Promise<{ manager: EntityManager; close: () => Promise<void> }> {
  const base = readModelDataSourceOptions(databaseUrl, { poolSize: 1, applicationName: 'conclave-replay-reader' });
  const source = new DataSource({ ...base, extra: { options: `-c search_path=${schema}` } } as typeof base);
  await source.initialize();
  const runner: QueryRunner = source.createQueryRunner();
  const close = async () => {
    await runner.release().catch(() => undefined);
    await source.destroy().catch(() => undefined);
  };
  try {
    await runner.connect();
    await runner.query(PROJECTION_READER_SETTINGS);
    return { manager: runner.manager, close };
  } catch (err) {
    await close();
    throw err;
  }
}

interface IndexDefinition {
  name: string;
  /** `CREATE INDEX name ON <schema>.<table> USING …`, as pg_indexes spells it */
  definition: string;
}

/**
 * Drop the rebuild's non-unique indexes (the fold reads only by primary key and never relies on
 * them) and return their definitions. Unique indexes and constraints stay: they refuse a
 * duplicate at the event that makes it, as in the live fold.
 */
async function dropSecondaryIndexes(ds: DataSource, schema: string): Promise<IndexDefinition[]> {
  const rows: IndexDefinition[] = await ds.query(
    `SELECT i.indexname AS name, i.indexdef AS definition
       FROM pg_indexes i
       JOIN pg_namespace n ON n.nspname = i.schemaname
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = i.indexname
       JOIN pg_index x ON x.indexrelid = c.oid
      WHERE i.schemaname = $1 AND NOT x.indisunique
      ORDER BY i.indexname`,
    [schema],
  );
  for (const index of rows) await ds.query(`DROP INDEX ${quote(schema)}.${quote(index.name)}`);
  return rows;
}

/** Build the indexes dropSecondaryIndexes removed, under their own names (a swap keeps them). */
async function createIndexes(ds: DataSource, indexes: IndexDefinition[]): Promise<void> {
  for (const index of indexes) await ds.query(index.definition);
}

async function checkpointIn(m: EntityManager, schema: string): Promise<number> {
  const rows: { sequence: string }[] = await m.query(`SELECT sequence FROM ${quote(schema)}.projection_checkpoints WHERE name = $1`, [MAIN_CHECKPOINT]);
  return rows.length > 0 ? Number(rows[0]!.sequence) : 0;
}

/**
 * The final transaction: stop the live projections (EXCLUSIVE on the checkpoints table), bring
 * the rebuild to the live checkpoint, then compare or swap. When the live projection lags behind
 * the rebuild, release and wait for it (the comparison must describe one sequence).
 */
async function finish(
  options: ReplayOptions,
  schema: string,
  tables: string[],
  rebuilt: number,
  caughtUp: (events: number, position: number) => void,
  progress: (p: ReplayProgress) => void,
): Promise<Pick<ReplayReport, 'sequence' | 'differenceCount' | 'differences'>> {
  const { dataSource: ds, source } = options;
  const deadline = Date.now() + (options.catchUpTimeoutMs ?? 30_000);
  for (;;) {
    type Outcome = { lagging: number } | Pick<ReplayReport, 'sequence' | 'differenceCount' | 'differences'>;
    const outcome = await ds.transaction(async (m): Promise<Outcome> => {
      await m.query('LOCK TABLE public.projection_checkpoints IN EXCLUSIVE MODE');
      const live = await checkpointIn(m, 'public');
      let sequence = await checkpointIn(m, schema);
      // a swap may run ahead of the live projection (it then skips what the rebuild holds);
      // a comparison must describe one sequence on both sides
      if (live < sequence && options.verify) return { lagging: live };
      while (sequence < live) {
        const events = await source.read(sequence, Math.min(options.batchSize ?? DEFAULT_REPLAY_BATCH, live - sequence));
        if (events.length === 0) throw new Error(`the log ends at ${sequence}, before the live checkpoint ${live}`);
        await m.query(`SET LOCAL search_path TO ${quote(schema)}`);
        sequence = await projectBatch(m, events);
        await m.query('SET LOCAL search_path TO public');
        caughtUp(events.length, sequence);
      }
      await options.beforeFinish?.(m);
      if (options.verify) {
        progress({ phase: 'verifying', processed: sequence, total: sequence });
        const { count, differences } = await compare(m, schema, tables, options.maxDifferences ?? 100);
        return { sequence, differenceCount: count, differences };
      }
      progress({ phase: 'swapping', processed: sequence, total: sequence });
      await swap(m, schema, tables, sequence);
      return { sequence, differenceCount: 0, differences: [] };
    });
    if (!('lagging' in outcome)) return outcome;
    if (Date.now() > deadline) {
      throw new ConclaveError('unavailable', `the live projection (at ${outcome.lagging}) did not reach the rebuild (at ${rebuilt}) in time`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function columnsOf(m: EntityManager, schema: string, table: string): Promise<string[]> {
  const rows: { column_name: string }[] = await m.query(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [schema, table],
  );
  return rows.map((r) => r.column_name);
}

async function primaryKeyOf(m: EntityManager, table: string): Promise<string[]> {
  const rows: { attname: string }[] = await m.query(
    `SELECT a.attname FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = to_regclass($1) AND i.indisprimary
      ORDER BY array_position(i.indkey, a.attnum)`,
    [`public.${quote(table)}`],
  );
  if (rows.length === 0) throw new Error(`table ${table} has no primary key: it cannot be compared row by row`);
  return rows.map((r) => r.attname);
}

/** Row-by-row comparison of each rebuilt table with the live one, joined on the primary key. */
async function compare(m: EntityManager, schema: string, tables: string[], max: number): Promise<{ count: number; differences: ReplayDifference[] }> {
  let count = 0;
  const differences: ReplayDifference[] = [];
  for (const table of tables) {
    const pk = await primaryKeyOf(m, table);
    const volatile = VOLATILE_COLUMNS[table] ?? [];
    const where = VERIFIED_ROWS[table] ? `WHERE ${VERIFIED_ROWS[table]}` : '';
    const side = (s: string) =>
      `SELECT jsonb_build_array(${pk.map((c) => `t.${quote(c)}`).join(', ')}) AS k, to_jsonb(t) - $1::text[] AS row FROM ${quote(s)}.${quote(table)} t ${where}`;
    const rows: { k: unknown[]; live: Record<string, unknown> | null; rebuilt: Record<string, unknown> | null; n: string }[] = await m.query(
      `SELECT COALESCE(l.k, r.k) AS k, l.row AS live, r.row AS rebuilt, count(*) OVER () AS n
         FROM (${side('public')}) l FULL JOIN (${side(schema)}) r ON l.k = r.k
        WHERE l.row IS DISTINCT FROM r.row
        ORDER BY 1
        LIMIT $2`,
      [volatile, Math.max(0, max - differences.length) || 1],
    );
    if (rows.length === 0) continue;
    count += Number(rows[0]!.n);
    for (const row of rows) {
      if (differences.length >= max) break;
      const keys = new Set([...Object.keys(row.live ?? {}), ...Object.keys(row.rebuilt ?? {})]);
      const columns = [...keys].filter((c) => JSON.stringify(row.live?.[c]) !== JSON.stringify(row.rebuilt?.[c])).sort();
      differences.push({
        table,
        key: row.k,
        kind: row.live === null ? 'missing_in_live' : row.rebuilt === null ? 'missing_in_rebuild' : 'different',
        columns,
        live: row.live,
        rebuilt: row.rebuilt,
      });
    }
  }
  return { count, differences };
}

/** Retire the live tables and move the rebuilt ones in, in the caller's transaction. */
async function swap(m: EntityManager, schema: string, tables: string[], sequence: number): Promise<void> {
  const retired = `${schema}_retired`;
  // alerts raised by processes are not in the log: keep them
  const alertColumns = (await columnsOf(m, 'public', 'alerts')).map(quote).join(', ');
  await m.query(`INSERT INTO ${quote(schema)}.alerts (${alertColumns}) SELECT ${alertColumns} FROM public.alerts WHERE sequence IS NULL`);
  for (const table of tables) await m.query(`LOCK TABLE public.${quote(table)} IN ACCESS EXCLUSIVE MODE`);
  await m.query(`CREATE SCHEMA ${quote(retired)}`);
  for (const table of tables) {
    await m.query(`ALTER TABLE public.${quote(table)} SET SCHEMA ${quote(retired)}`);
    await m.query(`ALTER TABLE ${quote(schema)}.${quote(table)} SET SCHEMA public`);
  }
  await m.query(
    `INSERT INTO public.projection_checkpoints (name, sequence, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (name) DO UPDATE SET sequence = excluded.sequence, updated_at = excluded.updated_at`,
    [MAIN_CHECKPOINT, sequence],
  );
  await m.query(`DROP SCHEMA ${quote(retired)} CASCADE`);
}
