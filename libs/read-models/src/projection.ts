import type { EntityManager } from 'typeorm';
import { budgetDecisionText, ids, splitStreamId, type BudgetDecisionView, type EventData, type EventOf, type RunBudgetPolicyView, type ProviderFailure, type Recorded, type RunEvent, type RunStatus, type TemplateEvent } from '@conclave/contracts';
import {
  NO_PENDING,
  TemplateRow,
  type CandidateErrorInfo,
  type ErrorInfo,
  type GateInfo,
  type InterviewInfo,
  type LoopBounds,
  type PartialInfo,
  type PendingInfo,
  type PhaseCommitInfo,
  type WorkspaceInfo,
} from './entities';
import { jsonbSafe, jsonbSafeText, type JsonValue } from './json';
import { applyProviderEvent, PROVIDER_HEALTH_SQL, providerHealthParam } from './providers';
import { applyAlertAcknowledgements, applyAlertRaised, type AlertAcknowledgement } from './alerts';
import { applyStudyEvent } from './studies/projection';
import { copyIn, preparedQuery, simpleQuery } from './prepared';
import { binaryCopyRows, JSONB_BINARY_VERSION, ScratchBuffer, type CopyColumnType } from './binary-copy';

/**
 * An event the projection cannot apply, now or after any number of retries: an unknown type, a
 * shape the fold does not expect, or one that contradicts the read models (a phase of a run that
 * was never started, a second RunStarted for a run). Retrying cannot help; the projector halts
 * that projection and raises an alert instead of skipping (a skipped event is a silently wrong
 * read model).
 */
export class PoisonEventError extends Error {
  /** the stream (`run:<id>`, `template:<id>`) the event belongs to, when it can be told */
  streamId: string | null = null;
  constructor(
    readonly sequence: number,
    readonly eventType: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`poison event at sequence ${sequence} (${eventType}): ${reason}`, options);
    this.name = 'PoisonEventError';
  }
}

/** The checkpoint of the live projection. */
export const MAIN_CHECKPOINT = 'main';

/**
 * Fold `events` into the read models inside the caller's transaction and return the checkpoint.
 *
 * Guarantees:
 * - the checkpoint row is locked (lockCheckpoint) for the rest of the transaction, so concurrent
 *   projectors on the same checkpoint take turns; the later one sees the moved checkpoint;
 * - events at or below the checkpoint are skipped: redelivery and overlapping batches are harmless;
 * - the rest are applied in sequence order and the checkpoint moves to the last one applied, in
 *   the same transaction as the rows: either both commit or neither does;
 * - an event that cannot be applied throws PoisonEventError carrying that event's sequence; the
 *   caller must roll back (the transaction is unusable after a failed statement anyway), leaving
 *   the checkpoint before it.
 *
 * Set-based: the rows the batch touches are loaded in a few SELECTs, the events are applied to
 * them in memory in sequence order (the same rules as one statement per event), and each table is
 * written once (multi-row upsert / insert). A write the database refuses although the in-memory
 * checks passed is located by folding the batch again one event at a time (rare: data errors).
 *
 * One checkpoint per set of tables: two checkpoint names folding into the same tables would
 * apply every event twice (a rebuild must target empty tables and its own checkpoint).
 *
 * Round trips (issue 12): `settings` (the caller's SET LOCALs: PROJECTION_TRANSACTION_SETTINGS),
 * the checkpoint's lock and the savepoint travel as one simple query, and the savepoint is left
 * to the commit to release: three round trips fewer per batch. (Tried on 2026-12-05 and not
 * kept: a batch's loads as one statement of JSON arrays, and its writes with the checkpoint's move
 * as one statement of data-modifying CTEs. Folding the same log in alternating blocks, they saved
 * Postgres CPU on batches of one commit but cost more from a few dozen events on, and in
 * `npm run bench` Postgres spent more per run with them, one run at a time included.)
 */
export async function projectBatch(
  manager: EntityManager,
  events: readonly Recorded[],
  checkpointName = MAIN_CHECKPOINT,
  { committed, settings }: { committed?: number; settings?: string } = {},
): Promise<number> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('projectBatch must run inside a transaction (DataSource.transaction)');
  }
  const checkpoint = await lockCheckpoint(manager, checkpointName, settings);
  // `committed`: where the caller's last commit left the checkpoint. Lower here means a commit the
  // database acknowledged is gone (an asynchronous commit lost in a Postgres crash): folding on
  // would skip its events, so the caller must start again from the stored checkpoint
  if (committed !== undefined && checkpoint < committed) throw new LostCommitError(checkpointName, committed, checkpoint);
  const pending = pendingAfter(events, checkpoint);
  if (pending.length === 0) return checkpoint;

  try {
    await foldAndWrite(manager, pending);
  } catch (err) {
    if (err instanceof PoisonEventError || !isDeterministicDbError(err)) throw err;
    // the set-based write was refused: fold again event by event to find the one it cannot take
    await manager.query('ROLLBACK TO SAVEPOINT project_batch');
    for (const event of pending) {
      try {
        await foldAndWrite(manager, [event]);
      } catch (one) {
        throw asPoison(event, one);
      }
    }
  }
  const applied = pending[pending.length - 1]!.sequence;
  await preparedQuery(manager, 'UPDATE projection_checkpoints SET sequence = $2, updated_at = now() WHERE name = $1', [checkpointName, applied]);
  return applied;
}

/**
 * A batch folded and serialised before its transaction (pipelining, issue 12): the projector
 * folds batch N+1 while batch N's statements run in Postgres, so that Node and Postgres work at
 * the same time instead of in turn. commitFolded writes it; until then it is a guess that holds
 * only if the checkpoint is still `after` when its transaction locks it.
 */
export class FoldedBatch {
  constructor(
    /** the checkpoint it was folded on: what the batch before leaves (or the committed one) */
    readonly after: number,
    /** its last event's sequence */
    readonly last: number,
    /** its fold, which the batch after builds on while this one's transaction runs */
    readonly fold: BatchFold,
    readonly statements: readonly PreparedStatement[],
  ) {}
}

/** An event that is not folded in memory (it writes as it comes): its batch is folded in its transaction. */
class NotFoldedInMemory extends Error {}

/**
 * Fold `events` ahead of their transaction, on top of `before` (the batch whose transaction runs
 * meanwhile, or null when everything before is committed) and of the checkpoint `after`. Rows
 * the batch before did not fold are read on `reader` (a connection of its own, outside any
 * transaction: what it reads is committed, and the batch before does not change those rows).
 * Every statement is serialised here, so that the batch after may change these rows in memory.
 *
 * Returns null when the batch must be folded in its transaction by projectBatch instead: it holds
 * an event that writes as it comes (templates, providers, alerts raised or acknowledged,
 * studies), or one the fold refuses (projectBatch pins and reports it).
 */
export async function foldAhead(reader: EntityManager, events: readonly Recorded[], after: number, before: FoldedBatch | null): Promise<FoldedBatch | null> {
  const pending = pendingAfter(events, after);
  if (pending.length === 0) return null;
  const fold = new BatchFold(before?.fold ?? null);
  const turn = new Turns();
  try {
    await fold.load(reader, pending);
    for (const event of pending) {
      await applyEvent(null, event, fold);
      await turn.yieldSometimes();
    }
  } catch (err) {
    if (err instanceof NotFoldedInMemory || err instanceof PoisonEventError) return null;
    throw err;
  } finally {
    fold.forget();
  }
  const statements: PreparedStatement[] = [];
  for (const statement of fold.statements(reader)) {
    statements.push(statement.prepare());
    await turn.yieldSometimes();
  }
  return new FoldedBatch(after, pending[pending.length - 1]!.sequence, fold, statements);
}

/**
 * Gives the event loop a turn every few milliseconds of a long synchronous stretch: a batch
 * folded ahead shares the thread with the transaction of the batch before, whose next statement
 * goes out only when the answer to the last one has been read.
 */
class Turns {
  private since = performance.now();

  async yieldSometimes(): Promise<void> {
    if (performance.now() - this.since < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

const YIELD_EVERY_MS = 2;

/**
 * Write a batch folded ahead (foldAhead) in the caller's transaction, if the checkpoint is still
 * the one it was folded on; returns the new checkpoint, or null (nothing written: the transaction
 * is as the caller left it, and the batch must go through projectBatch). A write the database
 * refuses also returns null after rolling back to the batch's savepoint: projectBatch then pins
 * it on its event.
 */
export async function commitFolded(
  manager: EntityManager,
  batch: FoldedBatch,
  checkpointName = MAIN_CHECKPOINT,
  { committed, settings }: { committed?: number; settings?: string } = {},
): Promise<number | null> {
  if (!manager.queryRunner?.isTransactionActive) throw new Error('commitFolded must run inside a transaction (DataSource.transaction)');
  const checkpoint = await lockCheckpoint(manager, checkpointName, settings);
  if (committed !== undefined && checkpoint < committed) throw new LostCommitError(checkpointName, committed, checkpoint);
  // another writer (a second projector) moved it: the fold read what is no longer there
  if (checkpoint !== batch.after) return null;
  try {
    for (const statement of batch.statements) await statement.send(manager);
  } catch (err) {
    if (!isDeterministicDbError(err)) throw err;
    await manager.query('ROLLBACK TO SAVEPOINT project_batch');
    return null;
  }
  await preparedQuery(manager, 'UPDATE projection_checkpoints SET sequence = $2, updated_at = now() WHERE name = $1', [checkpointName, batch.last]);
  return batch.last;
}

/** The events after `checkpoint`, in sequence order, each once. */
function pendingAfter(events: readonly Recorded[], checkpoint: number): Recorded[] {
  const seen = new Set<number>();
  return [...events].sort((a, b) => a.sequence - b.sequence).filter((e) => e.sequence > checkpoint && !seen.has(e.sequence) && seen.add(e.sequence));
}

async function foldAndWrite(m: EntityManager, events: readonly Recorded[]): Promise<void> {
  const fold = new BatchFold();
  await fold.load(m, events);
  for (const event of events) {
    try {
      await applyEvent(m, event, fold);
    } catch (err) {
      throw asPoison(event, err);
    }
  }
  await fold.write(m);
}

/**
 * Lock the checkpoint row (creating it at 0 the first time) and set the batch's savepoint, after
 * `settings`, in one round trip: a simple query (the name is a literal; checkpoint names are the
 * code's own constants). The lock is an UPDATE rather than SELECT … FOR UPDATE: the batch moves
 * the row again inside its savepoint, and a row locked by the transaction but updated by its
 * subtransaction needs a MultiXact (an extra SLRU lookup on every later access of the row); a row
 * the transaction itself updated does not. A waiting projector reads the moved checkpoint either
 * way (READ COMMITTED re-reads the row it waited for).
 */
async function lockCheckpoint(m: EntityManager, name: string, settings?: string): Promise<number> {
  const lock = `UPDATE projection_checkpoints SET sequence = sequence WHERE name = ${sqlLiteral(name)} RETURNING sequence`;
  const results = await simpleQuery(m, [settings, lock, 'SAVEPOINT project_batch'].filter(Boolean).join('; '));
  let rows = results.find((r) => r.command === 'UPDATE')?.rows ?? [];
  if (rows.length === 0) {
    await m.query('INSERT INTO projection_checkpoints (name, sequence, updated_at) VALUES ($1, 0, now()) ON CONFLICT (name) DO NOTHING', [name]);
    rows = (await simpleQuery(m, lock))[0]!.rows;
  }
  return Number(rows[0]!.sequence);
}

const sqlLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * SQLSTATE classes whose errors repeat on every retry of the same event: 22 data exception,
 * 23 integrity constraint violation. Anything else (connection loss, deadlock, shutdown) is
 * treated as transient by the projector.
 */
export function isDeterministicDbError(err: unknown): boolean {
  const code = (err as { driverError?: { code?: unknown }; code?: unknown } | null)?.driverError?.code ?? (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23)[0-9A-Z]{3}$/.test(code);
}

function asPoison(event: Recorded, err: unknown): unknown {
  if (err instanceof PoisonEventError) return err;
  if (isDeterministicDbError(err)) return new PoisonEventError(event.sequence, event.type, (err as Error).message, { cause: err });
  return err;
}

/* ------------------------------------------------------------------ the batch in memory */

/** A row as Postgres names its columns (snake_case); written back as a jsonb array of such rows (upsert) or a binary COPY (insertRows). */
type Row = Record<string, unknown>;

interface RunState extends Row {
  id: string;
  status: RunStatus;
  pending: PendingInfo | null;
  cost_usd: number;
  tokens_input: number;
  tokens_output: number;
  sequence: number;
  workspace: WorkspaceInfo | null;
}

interface PhaseState extends Row {
  run_id: string;
  phase_id: string;
  status: string;
  started_at: Date | string | null;
  gate: GateInfo | null;
  interview: InterviewInfo | null;
  cost_usd: number;
  tokens_input: number;
  tokens_output: number;
  commit: PhaseCommitInfo | null;
}

interface CandidateState extends Row {
  id: string;
  run_id: string;
  output: JsonValue;
}

const WRITE_CHUNK = 2000;

/**
 * An event's value as a row holds it (undefined becomes SQL NULL). NUL characters, which Postgres
 * text and jsonb refuse, are replaced by U+FFFD when the rows are serialised (rowsParam), once per
 * statement rather than once per value.
 */
const stored = (value: unknown): JsonValue => (value === undefined ? null : (value as JsonValue));

const NUL_ESCAPE = Buffer.from('\\u0000');

/**
 * The rows of one statement as the jsonb array upsert (and insertRows' fallback) reads — each row an array of
 * its column values in `columns` order (no key repeated per row: less to write and for Postgres to
 * parse), every column present — sent as a Buffer: node-postgres passes a Buffer in binary format,
 * which for jsonb is the UTF-8 JSON text behind a version byte. Each row is serialised and encoded
 * on its own into one growing buffer (one JSON.stringify of the whole array builds a rope that
 * must then be flattened and encoded: over twice the time), and the NUL check is a byte search.
 * The growing buffer is the process's scratch (ScratchBuffer).
 */
function rowsParam(rows: Row[], columns: string[]): Buffer {
  const out = new ScratchBuffer();
  out.byte(JSONB_BINARY_VERSION);
  out.byte(0x5b); // [
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out.byte(0x2c); // ,
    out.utf8(JSON.stringify(values(rows[i]!, columns)));
  }
  out.byte(0x5d); // ]
  const param = out.result();
  if (param.indexOf(NUL_ESCAPE, 1) < 0) return param;
  const safe = jsonbSafeText(JSON.stringify(rows.map((r) => values(r, columns))));
  return Buffer.concat([Buffer.of(JSONB_BINARY_VERSION), Buffer.from(safe)]);
}

const key = (...parts: unknown[]) => parts.map(String).join('\u0000');

/**
 * The rows one batch reads and writes. Loaded up front by id (runs with all their phases,
 * candidates by id, the keys of insert-only rows the batch would add, to refuse a duplicate at
 * its own event), changed in memory, written once per table.
 */
class BatchFold {
  readonly runs = new Map<string, RunState>();
  readonly phases = new Map<string, PhaseState[]>();
  readonly candidates = new Map<string, CandidateState>();
  private readonly dirtyRuns = new Set<RunState>();
  private readonly dirtyPhases = new Set<PhaseState>();
  private readonly dirtyCandidates = new Set<CandidateState>();
  /** provider name → the batch's last word on its credentials (see PROVIDER_HEALTH_SQL) */
  readonly providerHealth = new Map<string, { sequence: number; failure: ProviderFailure | null }>();
  /** alert id → its first acknowledgement in this batch (applied after every insert; ADR 016) */
  readonly alertAcknowledgements = new Map<string, AlertAcknowledgement>();
  /** table → primary keys present (loaded or added by this batch) */
  private readonly keys = new Map<string, Set<string>>();
  /** insert-only rows, by table, in event order */
  private readonly inserts = new Map<string, Row[]>();
  /** candidate id → its tool calls (the latest generation's) */
  readonly toolCalls = new Map<string, Row[]>();

  /**
   * @param before the fold of the batch before, when this one is folded while that one's
   *   transaction still runs (FoldedBatch): the rows it holds are taken from it, not read (the
   *   database does not have them yet), and its keys count as present. Dropped once this batch
   *   is folded (forget), so folds do not chain.
   */
  constructor(private before: BatchFold | null = null) {}

  forget(): void {
    this.before = null;
  }

  async load(m: EntityManager, events: readonly Recorded[]): Promise<void> {
    const runIds = new Set<string>();
    const candidateIds = new Set<string>();
    const artifactIds = new Set<string>();
    const alertIds = new Set<string>();
    const verdictRuns = new Set<string>();
    const checkpointRuns = new Set<string>();
    for (const e of events) {
      const { aggregate, id } = splitStreamId(e.streamId);
      if (aggregate !== 'run') continue;
      runIds.add(id);
      const data = e.data as { candidateId?: unknown; artifactId?: unknown };
      if (typeof data.candidateId === 'string') candidateIds.add(data.candidateId);
      if (e.type === 'ArtifactRecorded' && typeof data.artifactId === 'string') artifactIds.add(data.artifactId);
      if (e.type === 'BudgetAlert' || e.type === 'BudgetExceeded' || e.type === 'BudgetPolicyApplied') alertIds.add(budgetAlertId(e));
      if (e.type === 'VerdictRecorded') verdictRuns.add(id);
      if (e.type === 'CheckpointCreated') checkpointRuns.add(id);
    }
    // what the batch before folded is taken from its fold (its transaction may not have committed)
    const before = this.before;
    if (before) {
      for (const id of runIds) {
        const run = before.runs.get(id);
        if (!run) continue;
        this.runs.set(id, run);
        this.phases.set(id, before.phases.get(id) ?? []);
        runIds.delete(id);
      }
      for (const id of candidateIds) {
        const candidate = before.candidates.get(id);
        if (!candidate) continue;
        this.candidates.set(id, candidate);
        candidateIds.delete(id);
      }
    }
    // one connection: the SELECTs run one after the other (pg refuses concurrent queries on a client)
    const select = async (when: boolean, sql: string, params: unknown[]): Promise<Row[]> => (when ? preparedQuery(m, sql, params) : []);
    const ids = (set: Set<string>) => [[...set]];
    // the entities' columns, not `*`: a prepared statement's result columns must not change under it
    // (a column added by a newer migration would make Postgres refuse the cached plan)
    const cols = (table: string) => shapeOf(m, table).list;
    const runs = await select(runIds.size > 0, `SELECT ${cols('runs')} FROM runs WHERE id = ANY($1::text[])`, ids(runIds));
    const phases = await select(runIds.size > 0, `SELECT ${cols('run_phases')} FROM run_phases WHERE run_id = ANY($1::text[]) ORDER BY run_id, position`, ids(runIds));
    const candidates = await select(candidateIds.size > 0, `SELECT ${cols('candidates')} FROM candidates WHERE id = ANY($1::text[])`, ids(candidateIds));
    const verdicts = await select(verdictRuns.size > 0, 'SELECT run_id, phase_id, attempt, round, purpose FROM verdicts WHERE run_id = ANY($1::text[])', ids(verdictRuns));
    const artifacts = await select(artifactIds.size > 0, 'SELECT id FROM artifacts WHERE id = ANY($1::text[])', ids(artifactIds));
    const checkpoints = await select(checkpointRuns.size > 0, 'SELECT run_id, id FROM checkpoints WHERE run_id = ANY($1::text[])', ids(checkpointRuns));
    const alerts = await select(alertIds.size > 0, 'SELECT id FROM alerts WHERE id = ANY($1::text[])', ids(alertIds));
    // timeline rows are keyed by the event's position, and projectBatch folds only positions above
    // the checkpoint, each once: none of them can exist yet (no load; the primary key still refuses one)
    for (const r of runs as RunState[]) this.runs.set(r.id, { ...r, sequence: Number(r.sequence) });
    for (const p of phases as PhaseState[]) this.phasesOf(p.run_id).push(p);
    for (const c of candidates as CandidateState[]) this.candidates.set(c.id, c);
    for (const v of verdicts) this.keysOf('verdicts').add(key(v.run_id, v.phase_id, v.attempt, v.round, v.purpose));
    for (const a of artifacts) this.keysOf('artifacts').add(key(a.id));
    for (const c of checkpoints) this.keysOf('checkpoints').add(key(c.run_id, c.id));
    for (const a of alerts) this.keysOf('alerts').add(key(a.id));
  }

  phasesOf(runId: string): PhaseState[] {
    let list = this.phases.get(runId);
    if (!list) this.phases.set(runId, (list = []));
    return list;
  }

  private keysOf(table: string): Set<string> {
    let set = this.keys.get(table);
    if (!set) this.keys.set(table, (set = new Set()));
    return set;
  }

  /** Add an insert-only row; a row with the same primary key (already there, or earlier in the batch) is poison. */
  insert(e: Recorded, table: string, pk: unknown[], row: Row): void {
    const k = key(...pk);
    const set = this.keysOf(table);
    if (set.has(k) || this.before?.keys.get(table)?.has(k)) throw new PoisonEventError(e.sequence, e.type, `duplicate key in ${table}: (${pk.map(String).join(', ')}) already exists`);
    set.add(k);
    let rows = this.inserts.get(table);
    if (!rows) this.inserts.set(table, (rows = []));
    rows.push(row);
  }

  addRun(e: Recorded, run: RunState, phases: PhaseState[]): void {
    if (this.runs.has(run.id)) throw new PoisonEventError(e.sequence, e.type, `duplicate key in runs: run ${run.id} was already started`);
    const ids = new Set(phases.map((p) => p.phase_id));
    if (ids.size !== phases.length) throw new PoisonEventError(e.sequence, e.type, `duplicate phase ids in run ${run.id}`);
    this.runs.set(run.id, run);
    this.dirtyRuns.add(run);
    // phases left over from nothing: a run id is started once, so its phase list starts empty
    this.phases.set(run.id, phases);
    for (const p of phases) this.dirtyPhases.add(p);
  }

  addCandidate(e: Recorded, row: CandidateState): void {
    if (this.candidates.has(row.id)) throw new PoisonEventError(e.sequence, e.type, `duplicate key in candidates: candidate ${row.id} was already requested`);
    this.candidates.set(row.id, row);
    this.dirtyCandidates.add(row);
  }

  run(e: Recorded, runId: string): RunState {
    const run = this.runs.get(runId);
    if (!run) throw new PoisonEventError(e.sequence, e.type, `run ${runId} was never started`);
    return run;
  }

  phase(e: Recorded, runId: string, phaseId: string): PhaseState {
    const phase = this.phases.get(runId)?.find((p) => p.phase_id === phaseId);
    if (!phase) throw new PoisonEventError(e.sequence, e.type, `phase ${phaseId} is not part of run ${runId}`);
    return phase;
  }

  candidate(e: Recorded, runId: string, candidateId: string): CandidateState {
    const candidate = this.candidates.get(candidateId);
    if (!candidate || candidate.run_id !== runId) throw new PoisonEventError(e.sequence, e.type, `candidate ${candidateId} of run ${runId} was never requested`);
    return candidate;
  }

  changeRun(run: RunState, set: Row): void {
    Object.assign(run, set);
    this.dirtyRuns.add(run);
  }

  changePhase(phase: PhaseState, set: Row): void {
    Object.assign(phase, set);
    this.dirtyPhases.add(phase);
  }

  changeCandidate(candidate: CandidateState, set: Row): void {
    Object.assign(candidate, set);
    this.dirtyCandidates.add(candidate);
  }

  async write(m: EntityManager): Promise<void> {
    await runInOrder(m, this.statements(m));
    if (this.alertAcknowledgements.size > 0) await applyAlertAcknowledgements(m, this.alertAcknowledgements);
  }

  /** The batch's writes: an upsert per changed table, the tool calls replaced, the insert-only rows, the providers' health. */
  statements(m: EntityManager): Statement[] {
    const statements = [
      ...upsert(m, 'runs', ['id'], [...this.dirtyRuns]),
      ...upsert(m, 'run_phases', ['run_id', 'phase_id'], [...this.dirtyPhases]),
      ...upsert(m, 'candidates', ['id'], [...this.dirtyCandidates]),
    ];
    if (this.toolCalls.size > 0) {
      const ids = [...this.toolCalls.keys()];
      statements.push(statement('DELETE FROM tool_calls WHERE candidate_id = ANY($1::text[])', () => [ids]));
      statements.push(...insertRows(m, 'tool_calls', [...this.toolCalls.values()].flat()));
    }
    for (const [table, rows] of this.inserts) statements.push(...insertRows(m, table, rows));
    if (this.providerHealth.size > 0) {
      const health = this.providerHealth;
      statements.push(statement(PROVIDER_HEALTH_SQL, () => [providerHealthParam(health)]));
    }
    return statements;
  }
}

/** A table's columns, from the entity metadata (the entities describe the migrated schema), and the rows' SELECT list. */
interface TableShape {
  columns: string[];
  /** each column's type, in column order */
  types: CopyColumnType[];
  /** `"a", "b", …` */
  list: string;
  /** each column read from the jsonb array `r` (a row's values, in column order), cast to its type */
  select: string;
}

const SHAPES = new Map<string, TableShape>();

/**
 * How a column is read from a row's JSON (its element of the row's array): the same values jsonb_populate_recordset gave (JSON null
 * is SQL NULL in every column; scalars through their type's input function), without its detour
 * of printing every jsonb field to text and parsing it again.
 */
const FROM_JSON: Record<CopyColumnType, (index: string) => string> = {
  text: (i) => `r->>${i}`,
  jsonb: (i) => `NULLIF(r->${i}, 'null'::jsonb)`,
  bigint: (i) => `(r->>${i})::bigint`,
  integer: (i) => `(r->>${i})::integer`,
  'double precision': (i) => `(r->>${i})::double precision`,
  boolean: (i) => `(r->>${i})::boolean`,
  timestamptz: (i) => `(r->>${i})::timestamptz`,
};

function shapeOf(m: EntityManager, table: string): TableShape {
  let shape = SHAPES.get(table);
  if (!shape) {
    const meta = m.connection.entityMetadatas.find((e) => e.tableName === table);
    if (!meta) throw new Error(`no entity for table ${table}`);
    const columns = meta.columns.map((c) => c.databaseName);
    const types = meta.columns.map((c) => {
      if (typeof c.type !== 'string' || !(c.type in FROM_JSON) || c.isArray) throw new Error(`column ${table}.${c.databaseName}: type ${String(c.type)} is not written by the projection`);
      return c.type as CopyColumnType;
    });
    const select = types.map((type, index) => FROM_JSON[type](String(index)));
    shape = { columns, types, list: columns.map(q).join(', '), select: select.join(', ') };
    SHAPES.set(table, shape);
  }
  return shape;
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A statement of a batch's write. Its data is serialised (`prepare`) only when it is about to be
 * sent, or while the statement before it runs (runInOrder).
 */
interface Statement {
  prepare(): PreparedStatement;
}

interface PreparedStatement {
  /** bytes of data it sends */
  bytes: number;
  send(m: EntityManager): Promise<unknown>;
}

/** A statement with parameters, as a named prepared statement. */
function statement(sql: string, params: () => unknown[]): Statement {
  return {
    prepare() {
      const values = params();
      const bytes = values.reduce<number>((sum, p) => sum + (Buffer.isBuffer(p) ? p.length : 0), 0);
      return { bytes, send: (m) => preparedQuery(m, sql, values) };
    },
  };
}

/** One statement per chunk: every row of `rows` (all columns) inserted, or updated when its key exists. */
function upsert(m: EntityManager, table: string, pk: string[], rows: Row[]): Statement[] {
  const { columns, list, select } = shapeOf(m, table);
  const set = columns
    .filter((c) => !pk.includes(c))
    .map((c) => `${q(c)} = excluded.${q(c)}`)
    .join(', ');
  const sql = `INSERT INTO ${q(table)} (${list}) SELECT ${select} FROM jsonb_array_elements($1::jsonb) AS r
       ON CONFLICT (${pk.map(q).join(', ')}) DO UPDATE SET ${set}`;
  return chunks(rows).map((chunk) => statement(sql, () => [rowsParam(chunk, columns)]));
}

/**
 * Insert-only rows: a chunk of at least COPY_MIN_ROWS as one binary COPY (binary-copy.ts: Postgres
 * reads the columns as they are, about a third less of its CPU per row than the jsonb-array insert
 * for the timeline); a smaller one, or one holding a value the binary form would not take as that
 * insert does, through that insert.
 */
function insertRows(m: EntityManager, table: string, rows: Row[]): Statement[] {
  const { columns, types, list, select } = shapeOf(m, table);
  const copy = `COPY ${q(table)} (${list}) FROM STDIN (FORMAT binary)`;
  const sql = `INSERT INTO ${q(table)} (${list}) SELECT ${select} FROM jsonb_array_elements($1::jsonb) AS r`;
  return chunks(rows).map((chunk) => ({
    prepare() {
      const data = chunk.length >= COPY_MIN_ROWS ? binaryCopyRows(chunk, columns, types) : null;
      return data ? { bytes: data.length, send: (m: EntityManager) => copyIn(m, copy, data) } : statement(sql, () => [rowsParam(chunk, columns)]).prepare();
    },
  }));
}

/**
 * Below this many rows the prepared insert is cheaper: a COPY costs a round trip more (the
 * server's CopyInResponse) and its statement is parsed every time, which outweighs what it saves
 * per row on the few rows of a live batch one run at a time (`npm run bench`, one in flight:
 * about 1 ms more per phase with every chunk copied).
 */
export const COPY_MIN_ROWS = 32;

function chunks(rows: Row[]): Row[][] {
  const out: Row[][] = [];
  for (let i = 0; i < rows.length; i += WRITE_CHUNK) out.push(rows.slice(i, i + WRITE_CHUNK));
  return out;
}

/** Below this many bytes of data a statement runs too briefly for anything to overlap it. */
const OVERLAP_BYTES = 64 * 1024;

/**
 * Run statements one after the other on the transaction's connection (node-postgres runs one
 * query at a time and does not pipeline). After a large statement is sent, the next one's data is
 * serialised while it executes; after a small one it is built at once (a trip through the event
 * loop would only add latency to a live batch of a few events).
 */
async function runInOrder(m: EntityManager, statements: readonly Statement[]): Promise<void> {
  let prepared = statements[0]?.prepare();
  for (let i = 0; i < statements.length; i++) {
    const current = prepared!;
    const running = current.send(m);
    running.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    // let the driver put it on the wire before building the next one's data
    if (current.bytes >= OVERLAP_BYTES && i + 1 < statements.length) await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      prepared = statements[i + 1]?.prepare();
    } finally {
      await running;
    }
  }
}

/** A row's values in column order; every column present (a missing one would be written NULL, not its default). */
function values(row: Row, columns: string[]): unknown[] {
  const out = new Array<unknown>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    if (!(c in row)) throw new Error(`row without column ${c}`);
    out[i] = row[c];
  }
  return out;
}

/* ------------------------------------------------------------------ the fold */

type Usage = { costUsd: number; tokens: { input: number; output: number } };

const DONE_STATUSES: readonly string[] = ['completed', 'skipped'];

/**
 * Fold one event. `m` is the batch's transaction; null when the batch is folded ahead of it
 * (foldAhead), which only events folded in memory allow (NotFoldedInMemory otherwise).
 */
async function applyEvent(m: EntityManager | null, e: Recorded, fold: BatchFold): Promise<void> {
  const written = (): EntityManager => {
    if (!m) throw new NotFoldedInMemory();
    return m;
  };
  switch (e.type) {
    case 'TemplateCreated':
    case 'TemplateVersionAdded':
    case 'TemplateArchived':
      // templates and providers share no table with runs: written as they come
      return applyTemplateEvent(written(), e);
    case 'RunStarted':
    case 'PhaseStarted':
    case 'CandidateRequested':
    case 'CandidateGenerated':
    case 'CandidateFailed':
    case 'JudgeRequested':
    case 'VerdictRecorded':
    case 'ArtifactRecorded':
    case 'OutputRejected':
    case 'PhaseCompleted':
    case 'PhaseFailed':
    case 'PhaseSkipped':
    case 'RunCompleted':
    case 'RunFailed':
    case 'GateOpened':
    case 'GateApproved':
    case 'GateRejected':
    case 'QuestionsAsked':
    case 'AnswersSubmitted':
    case 'ContinueRequired':
    case 'RunContinued':
    case 'RunPaused':
    case 'RunResumed':
    case 'RunCancelled':
    case 'PhaseRetryScheduled':
    case 'OutputAccepted':
    case 'ConditionEvaluated':
    case 'CheckpointCreated':
    case 'RolledBack':
    case 'RunForked':
    case 'CandidateRedispatched':
    case 'ResultRefused':
    case 'BudgetAlert':
    case 'BudgetExceeded':
    case 'BudgetRaised':
    case 'BudgetPolicyApplied':
    case 'ToolRunRequested':
    case 'ToolRunCompleted':
    case 'ToolRunFailed':
    case 'IntegrationRequested':
    case 'ChangesIntegrated':
    case 'IntegrationFailed':
    case 'PartialWorkRecorded':
      return applyRunEvent(e, fold);
    case 'ProviderConfigured':
    case 'ProviderRemoved':
      return applyProviderEvent(written(), e);
    case 'AlertRaised':
      return applyAlertRaised(written(), e);
    case 'AlertAcknowledged':
      written(); // applied after the batch's inserts, in its transaction
      if (!fold.alertAcknowledgements.has(e.data.alertId)) fold.alertAcknowledgements.set(e.data.alertId, { at: new Date(e.occurredAt), by: e.actor.id });
      return;
    case 'StudyStarted':
    case 'StudyJudgeRequested':
    case 'StudyVerdictRecorded':
    case 'StudyItemFailed':
    case 'StudyCompleted':
      return applyStudyEvent(written(), e);
    default: {
      const unknown: never = e;
      throw new PoisonEventError((unknown as Recorded).sequence, String((unknown as Recorded).type), 'unknown event type');
    }
  }
}

function applyRunEvent(e: Recorded<RunEvent>, fold: BatchFold): void {
  const { aggregate, id: runId } = splitStreamId(e.streamId);
  if (aggregate !== 'run') throw new PoisonEventError(e.sequence, e.type, `run event on stream ${e.streamId}`);
  const at = new Date(e.occurredAt);

  if (e.type === 'RunStarted') {
    startRun(fold, e, runId, at);
  } else {
    const run = fold.run(e, runId);
    applyToRun(fold, e, run, runId, at);
    fold.changeRun(run, { sequence: e.sequence });
  }

  const data = e.data as { phaseId?: unknown };
  fold.insert(e, 'timeline_events', [e.sequence], {
    sequence: e.sequence,
    event_id: e.id,
    run_id: runId,
    type: e.type,
    phase_id: typeof data.phaseId === 'string' ? data.phaseId : null,
    occurred_at: at,
    actor: e.actor,
    data: stored(e.data),
  });
}

function applyToRun(fold: BatchFold, e: Recorded<RunEvent>, run: RunState, runId: string, at: Date): void {
  const phase = (phaseId: string) => fold.phase(e, runId, phaseId);
  switch (e.type) {
    case 'RunStarted':
      // handled by startRun
      return;
    case 'PhaseStarted':
      fold.changePhase(phase(e.data.phaseId), {
        status: 'running',
        attempt: e.data.attempt,
        started_at: at,
        completed_at: null,
        error: null,
        artifact_id: null,
        // each attempt starts clean: a retried gate or interview asks again
        gate: null,
        interview: null,
        condition: null,
        retry_at: null,
        retry_override: null,
        rolled_back: false,
        // a new attempt's winner makes a new commit; the run branch keeps the old one until then
        commit: null,
        artifact_candidate_id: null,
      });
      recountDone(fold, run);
      recountFilesChanged(fold, run);
      return;
    case 'CandidateRequested':
      fold.addCandidate(e, {
        id: e.data.candidateId,
        run_id: runId,
        phase_id: e.data.phaseId,
        attempt: e.data.attempt,
        round: e.data.round,
        slot: e.data.slot,
        provider: e.data.provider,
        model: e.data.model,
        status: 'requested',
        output: null,
        tokens_input: 0,
        tokens_output: 0,
        cost_usd: 0,
        duration_ms: null,
        error: null,
        requested_at: at,
        transcript: null,
        partial: null,
        trace: null,
      });
      return;
    case 'CandidateGenerated': {
      const usage: Usage = { costUsd: e.data.costUsd, tokens: e.data.tokens };
      const candidate = fold.candidate(e, runId, e.data.candidateId);
      fold.providerHealth.set(String(candidate.provider), { sequence: e.sequence, failure: null });
      // added to what its failed tries cost (CandidateFailed with `retry`), as on its phase and run
      fold.changeCandidate(candidate, {
        status: 'generated',
        output: stored(e.data.output),
        tokens_input: Number(candidate.tokens_input) + usage.tokens.input,
        tokens_output: Number(candidate.tokens_output) + usage.tokens.output,
        cost_usd: Number(candidate.cost_usd) + usage.costUsd,
        duration_ms: e.data.durationMs,
        error: null,
        transcript: stored(e.data.transcript ?? null),
        ...(e.data.trace ? { trace: e.data.trace } : {}),
      });
      addUsage(fold, phase(e.data.phaseId), run, usage);
      replaceToolCalls(fold, e, runId);
      return;
    }
    case 'CandidateFailed': {
      const candidate = fold.candidate(e, runId, e.data.candidateId);
      chargeFailedCall(fold, candidate, phase(e.data.phaseId), run, e.data);
      if (e.data.error.code === 'auth_failed') {
        fold.providerHealth.set(String(candidate.provider), { sequence: e.sequence, failure: { code: e.data.error.code, message: e.data.error.message, at: e.occurredAt, runId } });
      }
      const retry = e.data.retry;
      // with `retry` this dispatch failed and the candidate stays outstanding until its re-dispatch
      // (CandidateRedispatched clears the note); without, it is dropped from the attempt
      fold.changeCandidate(candidate, {
        status: retry ? 'requested' : 'failed',
        error: stored({ ...errorInfo(e.data.error), ...(retry ? { retry: { number: retry.number, of: retry.of, notBefore: retry.notBefore } } : {}) } satisfies CandidateErrorInfo),
        ...(e.data.durationMs === undefined ? {} : { duration_ms: e.data.durationMs }),
        transcript: stored(e.data.transcript ?? null),
        ...(e.data.trace ? { trace: e.data.trace } : {}),
      });
      return;
    }
    case 'OutputRejected': {
      const candidate = fold.candidate(e, runId, e.data.candidateId);
      chargeFailedCall(fold, candidate, phase(e.data.phaseId), run, e.data);
      fold.changeCandidate(candidate, {
        status: 'rejected',
        error: { code: 'output_rejected', message: e.data.errors.join('; ') } satisfies ErrorInfo,
        // keep a generated output; otherwise show what was rejected
        output: candidate.output ?? stored(e.data.raw),
        ...(e.data.transcript ? { transcript: stored(e.data.transcript) } : {}),
      });
      return;
    }
    case 'JudgeRequested':
      return;
    case 'VerdictRecorded': {
      const d = e.data;
      const usage: Usage = { costUsd: d.costUsd, tokens: d.tokens };
      const target = phase(d.phaseId);
      fold.insert(e, 'verdicts', [runId, d.phaseId, d.attempt, d.round, d.purpose], {
        run_id: runId,
        phase_id: d.phaseId,
        attempt: d.attempt,
        round: d.round,
        purpose: d.purpose,
        sequence: e.sequence,
        judge_id: d.judgeId,
        winner_id: d.winnerId,
        scores: d.scores,
        rationale: d.rationale,
        order: d.order,
        missing: stored(d.missing),
        provider: d.provider,
        model: d.model,
        tokens_input: usage.tokens.input,
        tokens_output: usage.tokens.output,
        cost_usd: usage.costUsd,
        recorded_at: at,
      });
      addUsage(fold, target, run, usage);
      return;
    }
    case 'ArtifactRecorded': {
      // the phase's own artifact (not a losing agent's candidate-diff beside it) names the phase's
      // winner: for a loop stopped at maxAttempts, the best round's candidate rather than the last
      const target = phase(e.data.phaseId);
      if (e.data.artifactId === ids.artifact(runId, e.data.phaseId, e.data.attempt) && e.data.attempt === target.attempt) {
        fold.changePhase(target, { artifact_candidate_id: e.data.candidateId });
      }
      fold.insert(e, 'artifacts', [e.data.artifactId], {
        id: e.data.artifactId,
        run_id: runId,
        phase_id: e.data.phaseId,
        attempt: e.data.attempt,
        candidate_id: e.data.candidateId,
        artifact_type: e.data.artifactType,
        content: stored(e.data.content),
        created_at: at,
      });
      return;
    }
    case 'PhaseCompleted':
      fold.changePhase(phase(e.data.phaseId), { status: 'completed', completed_at: at, artifact_id: e.data.artifactId, error: null });
      recountDone(fold, run);
      return;
    case 'PhaseFailed':
      fold.changePhase(phase(e.data.phaseId), { status: 'failed', completed_at: at, error: errorInfo(e.data.reason) });
      recountDone(fold, run);
      return;
    case 'PhaseSkipped':
      fold.changePhase(phase(e.data.phaseId), { status: 'skipped', completed_at: at, error: null });
      // skipping the phase that failed the run revives it (unless another phase failed too)
      if (fold.phasesOf(runId).some((p) => p.status === 'failed')) recountDone(fold, run);
      else revive(fold, run);
      return;
    case 'RunCompleted':
      fold.changeRun(run, { status: 'completed', completed_at: at, error: null });
      return;
    case 'RunFailed':
      fold.changeRun(run, { status: 'failed', completed_at: at, error: errorInfo(e.data.reason) });
      return;

    /* ---------------------------------------------------------- human in the loop */
    case 'GateOpened': {
      const { phaseId, message } = e.data;
      fold.changePhase(phase(phaseId), { status: 'waiting', gate: { message, decision: null, comment: null } satisfies GateInfo });
      changePending(fold, run, (p) => ({ ...p, gates: [...p.gates.filter((g) => g.phaseId !== phaseId), { phaseId, message }] }));
      return;
    }
    case 'GateApproved':
    case 'GateRejected': {
      const { phaseId, comment } = e.data;
      // the decider follows with PhaseCompleted (approved) or PhaseFailed (rejected)
      const target = phase(phaseId);
      fold.changePhase(target, {
        status: 'running',
        gate: { ...(target.gate ?? { message: '' }), decision: e.type === 'GateApproved' ? 'approved' : 'rejected', comment },
      });
      changePending(fold, run, (p) => ({ ...p, gates: p.gates.filter((g) => g.phaseId !== phaseId) }));
      return;
    }
    case 'QuestionsAsked': {
      const { phaseId, questions } = e.data;
      fold.changePhase(phase(phaseId), { status: 'waiting', interview: stored({ questions, answers: null } satisfies InterviewInfo) });
      changePending(fold, run, (p) => ({ ...p, questions: [...p.questions.filter((x) => x.phaseId !== phaseId), { phaseId, questions }] }));
      return;
    }
    case 'AnswersSubmitted': {
      const { phaseId, answers } = e.data;
      const target = phase(phaseId);
      fold.changePhase(target, { status: 'running', interview: { ...(target.interview ?? { questions: [] }), answers: stored(answers) } });
      changePending(fold, run, (p) => ({ ...p, questions: p.questions.filter((x) => x.phaseId !== phaseId) }));
      return;
    }
    case 'ContinueRequired': {
      const { phaseIds } = e.data;
      changePending(fold, run, (p) => ({ ...p, continue: [...new Set([...p.continue, ...phaseIds])] }));
      return;
    }
    case 'RunContinued': {
      const { phaseIds } = e.data;
      changePending(fold, run, (p) => ({ ...p, continue: p.continue.filter((id) => !phaseIds.includes(id)) }));
      return;
    }

    /* ---------------------------------------------------------- controls */
    case 'RunPaused':
      fold.changeRun(run, { status: isSettled(run.status) ? run.status : 'paused', pause_reason: stored(e.data.reason) });
      return;
    case 'RunResumed':
      fold.changeRun(run, { status: run.status === 'paused' ? liveStatus('running', pendingOf(run)) : run.status, pause_reason: null });
      return;
    case 'RunCancelled':
      for (const p of fold.phasesOf(runId)) {
        if (p.status === 'running' || p.status === 'waiting' || p.status === 'pending') {
          fold.changePhase(p, { status: 'cancelled', completed_at: p.started_at === null ? null : at });
        }
      }
      recountDone(fold, run);
      fold.changeRun(run, { status: 'cancelled', completed_at: at, pending: NO_PENDING, pause_reason: null });
      return;
    case 'PhaseRetryScheduled': {
      const { phaseId, notBefore, override } = e.data;
      // the next PhaseStarted (attempt + 1) replaces the candidates, verdict and artifact in the view
      fold.changePhase(phase(phaseId), {
        status: 'pending',
        completed_at: null,
        error: null,
        retry_at: new Date(notBefore),
        retry_override: override ? stored(override) : null,
      });
      revive(fold, run);
      return;
    }
    case 'OutputAccepted': {
      const { phaseId, candidateId, output } = e.data;
      fold.changePhase(phase(phaseId), { status: 'running', completed_at: null, error: null });
      if (candidateId !== null) {
        // the artifact follows as ArtifactRecorded, then PhaseCompleted
        fold.changeCandidate(fold.candidate(e, runId, candidateId), { status: 'generated', output: stored(output), error: null });
      }
      revive(fold, run);
      return;
    }
    case 'ConditionEvaluated':
      fold.changePhase(phase(e.data.phaseId), { condition: { result: e.data.result } });
      return;
    case 'CheckpointCreated':
      fold.insert(e, 'checkpoints', [runId, e.data.checkpointId], {
        run_id: runId,
        id: e.data.checkpointId,
        phase_id: e.data.phaseId,
        completed_phase_ids: e.data.completedPhaseIds,
        commit: e.data.commit ?? null,
        sequence: e.sequence,
        created_at: at,
      });
      return;
    case 'RolledBack': {
      const reset = e.data.resetPhaseIds;
      const targets = fold.phasesOf(runId).filter((p) => reset.includes(p.phase_id));
      if (targets.length !== new Set(reset).size) throw new PoisonEventError(e.sequence, e.type, `a reset phase is not part of run ${runId}`);
      // attempt kept (the next start is attempt + 1); earlier attempts stay queryable
      for (const p of targets) {
        fold.changePhase(p, {
          status: 'pending',
          completed_at: null,
          artifact_id: null,
          error: null,
          gate: null,
          interview: null,
          condition: null,
          retry_at: null,
          retry_override: null,
          rolled_back: true,
          commit: null,
          artifact_candidate_id: null,
        });
      }
      // the run branch is reset to the checkpoint's commit (absent in runs without a workspace)
      if (e.data.commit !== undefined && run.workspace) fold.changeRun(run, { workspace: { ...run.workspace, head: e.data.commit } });
      recountFilesChanged(fold, run);
      const current = pendingOf(run);
      const pending: PendingInfo = {
        gates: current.gates.filter((g) => !reset.includes(g.phaseId)),
        questions: current.questions.filter((x) => !reset.includes(x.phaseId)),
        continue: [],
      };
      recountDone(fold, run);
      fold.changeRun(run, { pending, status: run.status === 'paused' ? 'paused' : liveStatus('running', pending), completed_at: null, error: null });
      return;
    }
    case 'RunForked':
      // the decider follows with PhaseStarted / ArtifactRecorded / PhaseCompleted for reused phases
      fold.changeRun(run, { origin: { kind: 'fork', runId: e.data.sourceRunId } });
      return;

    /* ---------------------------------------------------------- timers, budgets, safety */
    case 'CandidateRedispatched':
      fold.changeCandidate(fold.candidate(e, runId, e.data.candidateId), { status: 'requested', output: null, error: null, duration_ms: null });
      return;
    case 'ResultRefused':
      return;
    case 'ToolRunRequested':
    case 'ToolRunCompleted':
    case 'ToolRunFailed':
      // tool phases: the timeline shows the run; its output arrives as ArtifactRecorded, a failure as PhaseFailed
      return;

    /* ---------------------------------------------------------- the run branch (ADR 009) */
    case 'IntegrationRequested':
    case 'IntegrationFailed':
      // the timeline shows them; a conflict fails the phase through the decider's PhaseFailed
      return;
    case 'ChangesIntegrated': {
      const d = e.data;
      const target = phase(d.phaseId);
      // a late integration of an attempt the phase has moved past no longer describes it
      if (d.attempt === target.attempt && !target.rolled_back) {
        fold.changePhase(target, { commit: { sha: d.commit, parent: d.parent, candidateId: d.candidateId, files: d.files } satisfies PhaseCommitInfo });
      }
      if (run.workspace) fold.changeRun(run, { workspace: { ...run.workspace, head: d.commit } });
      recountFilesChanged(fold, run);
      return;
    }
    case 'PartialWorkRecorded': {
      const d = e.data;
      const partial: PartialInfo = { ...d.partial, toolCalls: d.toolCalls };
      fold.changeCandidate(fold.candidate(e, runId, d.candidateId), {
        partial: stored(partial),
        ...(d.transcript ? { transcript: stored(d.transcript) } : {}),
      });
      return;
    }
    case 'BudgetAlert':
      insertBudgetAlert(fold, e, runId, at, `run ${runId} has spent ${e.data.thresholdPct}% of its budget ($${e.data.spentUsd} of $${e.data.budgetUsd})`);
      return;
    case 'BudgetExceeded':
      insertBudgetAlert(
        fold,
        e,
        runId,
        at,
        `run ${runId} paused: phase ${e.data.phaseId} would exceed its budget of $${e.data.budgetUsd} (spent $${e.data.spentUsd}, reserved $${e.data.reservedUsd}, estimate $${e.data.estimateUsd})`,
      );
      return;
    case 'BudgetRaised':
      fold.changeRun(run, { budget_usd: e.data.budgetUsd });
      return;
    case 'BudgetPolicyApplied': {
      // the run's own change (paused, failed) comes with the RunPaused / RunFailed decided beside it
      insertBudgetAlert(fold, e, runId, at, `run ${runId}: ${budgetDecisionText(e.data)}`);
      const policy = (run.budget_policy as RunBudgetPolicyView | null) ?? { rules: [], decisions: [] };
      const decision: BudgetDecisionView = { sequence: e.sequence, at: e.occurredAt, ...e.data };
      fold.changeRun(run, { budget_policy: stored({ ...policy, decisions: [...policy.decisions, decision] }) });
      return;
    }
    default: {
      const unknown: never = e;
      throw new PoisonEventError((unknown as Recorded).sequence, String((unknown as Recorded).type), 'unknown run event type');
    }
  }
}

function startRun(fold: BatchFold, e: EventOf<'RunStarted'> & { sequence: number }, runId: string, at: Date): void {
  const d = e.data;
  if (d.runId !== runId) throw new PoisonEventError(e.sequence, e.type, `data.runId ${d.runId} does not match stream ${e.streamId}`);
  const budgetRules = budgetRulesOf(d);
  fold.addRun(
    e,
    {
      id: runId,
      name: d.name,
      template_id: d.templateId,
      template_version: d.templateVersion,
      template_name: d.template.name,
      status: 'running',
      inputs: stored(d.inputs),
      auto_mode: d.autoMode,
      budget_usd: d.budgetUsd,
      pending: NO_PENDING,
      pause_reason: null,
      origin: d.origin ?? null,
      workspace: d.workspace ? { ...d.workspace, head: d.workspace.baseCommit } : null,
      files_changed: 0,
      cost_usd: 0,
      tokens_input: 0,
      tokens_output: 0,
      started_at: at,
      completed_at: null,
      error: null,
      sequence: e.sequence,
      phases_total: d.template.phases.length,
      phases_done: 0,
      trace_id: d.trace?.traceId ?? null,
      budget_policy: budgetRules ? stored({ rules: budgetRules, decisions: [] }) : null,
    },
    d.template.phases.map((phase, position) => ({
      run_id: runId,
      phase_id: phase.id,
      position,
      name: phase.name ?? null,
      kind: phase.kind,
      depends_on: phase.dependsOn,
      status: 'pending',
      attempt: 0,
      started_at: null,
      completed_at: null,
      artifact_id: null,
      cost_usd: 0,
      tokens_input: 0,
      tokens_output: 0,
      error: null,
      gate: null,
      interview: null,
      retry_at: null,
      retry_override: null,
      condition: null,
      rolled_back: false,
      commit: null,
      artifact_candidate_id: null,
      loop: phase.kind === 'loop' ? ({ maxRounds: phase.loop.maxAttempts, passThreshold: phase.loop.passThreshold } satisfies LoopBounds) : null,
    })),
  );
}

/** Spent on every attempt, summed in sequence order (the same float sums as a fold event by event). */
/** A failed or rejected call that was still billed: its candidate, phase and run carry the spend. */
function chargeFailedCall(fold: BatchFold, candidate: CandidateState, phase: PhaseState, run: RunState, d: { tokens?: Usage['tokens']; costUsd?: number }): void {
  if (d.costUsd === undefined) return;
  const usage: Usage = { costUsd: d.costUsd, tokens: d.tokens ?? { input: 0, output: 0 } };
  fold.changeCandidate(candidate, {
    cost_usd: Number(candidate.cost_usd) + usage.costUsd,
    tokens_input: Number(candidate.tokens_input) + usage.tokens.input,
    tokens_output: Number(candidate.tokens_output) + usage.tokens.output,
  });
  addUsage(fold, phase, run, usage);
}

function addUsage(fold: BatchFold, phase: PhaseState, run: RunState, usage: Usage): void {
  const sums = (row: PhaseState | RunState): Row => ({
    cost_usd: row.cost_usd + usage.costUsd,
    tokens_input: row.tokens_input + usage.tokens.input,
    tokens_output: row.tokens_output + usage.tokens.output,
  });
  fold.changePhase(phase, sums(phase));
  fold.changeRun(run, sums(run));
}

/**
 * Recounted on every phase transition rather than incremented: a completed phase that is run
 * again (retry) stops counting until it completes again, and is never counted twice.
 */
function recountDone(fold: BatchFold, run: RunState): void {
  fold.changeRun(run, { phases_done: fold.phasesOf(run.id).filter((p) => DONE_STATUSES.includes(p.status)).length });
}

/** Distinct paths over the run's phases' current commits (what the run branch changed, as the view shows it). */
function recountFilesChanged(fold: BatchFold, run: RunState): void {
  const paths = new Set<string>();
  for (const p of fold.phasesOf(run.id)) for (const f of p.commit?.files ?? []) paths.add(f.path);
  if (Number(run.files_changed ?? 0) !== paths.size) fold.changeRun(run, { files_changed: paths.size });
}

const SETTLED: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];
const isSettled = (status: RunStatus) => SETTLED.includes(status);
const hasPending = (p: PendingInfo) => p.gates.length > 0 || p.questions.length > 0 || p.continue.length > 0;

/** A live run waits while a human owes it something; paused and settled runs keep their status. */
function liveStatus(current: RunStatus, pending: PendingInfo): RunStatus {
  if (current === 'paused' || isSettled(current)) return current;
  return hasPending(pending) ? 'waiting' : 'running';
}

function pendingOf(run: RunState): PendingInfo {
  return { ...NO_PENDING, ...(run.pending ?? {}) };
}

/** Change what the run waits on; its status follows (`waiting` while anything is pending). */
function changePending(fold: BatchFold, run: RunState, change: (p: PendingInfo) => PendingInfo): void {
  const pending = change(pendingOf(run));
  fold.changeRun(run, { pending, status: liveStatus(run.status, pending) });
}

/**
 * A failed run comes back to life when a user acts on the phase that failed it (retry, accept,
 * skip), as the decider's state does; other statuses are left alone.
 */
function revive(fold: BatchFold, run: RunState): void {
  recountDone(fold, run);
  if (run.status === 'failed') fold.changeRun(run, { status: liveStatus('running', pendingOf(run)), completed_at: null, error: null });
}

/**
 * The audited tool calls of the generation that counted. A candidate is generated once (a stale
 * result of a redispatched one is refused); should one be generated again, its calls replace the
 * earlier ones. Nothing to do for candidates without tool calls, the common case.
 */
function replaceToolCalls(fold: BatchFold, e: EventOf<'CandidateGenerated'> & { sequence: number }, runId: string): void {
  const calls = e.data.toolCalls ?? [];
  if (calls.length === 0) return;
  fold.toolCalls.set(
    e.data.candidateId,
    calls.map((call, index) => ({
      candidate_id: e.data.candidateId,
      index,
      run_id: runId,
      phase_id: e.data.phaseId,
      attempt: e.data.attempt,
      tool: call.tool,
      input: stored(call.input),
      output_summary: call.outputSummary,
      duration_ms: call.durationMs,
      refused: call.refused,
      at: new Date(call.at),
      sequence: e.sequence,
    })),
  );
}

const budgetAlertId = (e: Recorded) => `event:${e.id}`;
/** The run's own budget policy, else its template's (as the orchestrator decides by). */
const budgetRulesOf = (d: EventData<'RunStarted'>) => d.budgetPolicy ?? d.template.defaults.budgetPolicy ?? null;

/** Budget alerts are facts of the log: keyed by the event id, so a replay rebuilds the same rows. */
function insertBudgetAlert(fold: BatchFold, e: Recorded<RunEvent>, runId: string, at: Date, message: string): void {
  fold.insert(e, 'alerts', [budgetAlertId(e)], {
    id: budgetAlertId(e),
    kind: 'budget',
    message,
    details: stored({ runId, event: e.type, ...(e.data as object) }),
    created_at: at,
    sequence: e.sequence,
    run_id: runId,
    provider_name: null,
    acknowledged_at: null,
    acknowledged_by: null,
  });
}

function errorInfo(failure: { code: string; message: string }): ErrorInfo {
  return { code: failure.code, message: failure.message };
}

/* ------------------------------------------------------------------ templates */

async function applyTemplateEvent(m: EntityManager, e: Recorded<TemplateEvent>): Promise<void> {
  const { aggregate, id } = splitStreamId(e.streamId);
  if (aggregate !== 'template' || id !== e.data.templateId) {
    throw new PoisonEventError(e.sequence, e.type, `template event for ${e.data.templateId} on stream ${e.streamId}`);
  }
  const at = new Date(e.occurredAt);
  switch (e.type) {
    case 'TemplateCreated':
    case 'TemplateVersionAdded': {
      const { templateId, version, template } = e.data;
      // latest_version only moves forward; name/description follow the latest version
      await m.query(
        `INSERT INTO templates AS t (id, name, description, latest_version, archived, updated_at)
         VALUES ($1, $2, $3, $4, false, $5)
         ON CONFLICT (id) DO UPDATE SET
           name           = CASE WHEN excluded.latest_version >= t.latest_version THEN excluded.name ELSE t.name END,
           description    = CASE WHEN excluded.latest_version >= t.latest_version THEN excluded.description ELSE t.description END,
           latest_version = GREATEST(t.latest_version, excluded.latest_version),
           updated_at     = excluded.updated_at`,
        [templateId, template.name, template.description, version, at],
      );
      await m.query('INSERT INTO template_versions (template_id, version, template, created_at) VALUES ($1, $2, $3, $4)', [
        templateId,
        version,
        JSON.stringify(jsonbSafe(template)),
        at,
      ]);
      return;
    }
    case 'TemplateArchived': {
      const result = await m
        .createQueryBuilder()
        .update(TemplateRow)
        .set({ archived: true, updatedAt: at })
        .where('id = :id', { id: e.data.templateId })
        .execute();
      if (result.affected !== 1) throw new PoisonEventError(e.sequence, e.type, `template ${e.data.templateId} was never created`);
      return;
    }
    default: {
      const unknown: never = e;
      throw new PoisonEventError((unknown as Recorded).sequence, String((unknown as Recorded).type), 'unknown template event type');
    }
  }
}

/** The stored checkpoint is behind one this process committed (see projectBatch's `committed`). */
export class LostCommitError extends Error {
  constructor(readonly checkpointName: string, readonly committed: number, readonly stored: number) {
    super(`the ${checkpointName} checkpoint is at ${stored}, behind the ${committed} this process committed: a commit was lost; folding again from ${stored}`);
    this.name = 'LostCommitError';
  }
}
