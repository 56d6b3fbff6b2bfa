import { In, type DataSource, type SelectQueryBuilder } from 'typeorm';
import type { RunSort, SortOrder } from '@conclave/contracts';
import type {
  ArtifactView,
  CandidateView,
  CheckpointView,
  DeadLetterListQuery,
  DeadLetterView,
  RunSummary,
  RunUsageItem,
  RunView,
  Template,
  TemplateSummary,
  TemplateView,
  TimelineEntry,
  ToolCallView,
  VerdictListItem,
} from '@conclave/contracts';
import { ATTEMPT_EVENT_TYPES, type AttemptEvent } from './attempts';
import { decodeCursor, encodeCursor, escapeLike } from './cursor';
import { loopProgress } from './loops';
import { decodeSortCursor, encodeSortCursor, SORT_KEYS } from './run-sort';
import { getDeadLetter, listDeadLetters } from './dead-letters';
import {
  AlertRow,
  ArtifactRow,
  CandidateRow,
  CheckpointRow,
  RunPhaseRow,
  RunRow,
  TemplateRow,
  TemplateVersionRow,
  TimelineEventRow,
  ToolCallRow,
  VerdictRow,
} from './entities';
import { MAIN_CHECKPOINT } from './projection';
import { RunArchiveRow } from './operational';
import {
  toAlertView,
  toArtifactView,
  toCandidateView,
  toCheckpointView,
  toRunSummary,
  toRunView,
  toTemplateSummary,
  toTimelineEntry,
  toToolCallView,
  toVerdictListItem,
  type AlertView,
} from './views';

export interface RunListOptions {
  /** one status or a comma-separated list (`running,waiting`) */
  status?: string;
  templateId?: string;
  /** case-insensitive substring of the run's name, id or template name (matched literally) */
  q?: string;
  /** archived runs (gateway-owned run_archive) are hidden by default; 'true' lists only them, 'all' both */
  archived?: 'true' | 'false' | 'all';
  /** absent with `order`: newest first; either present: keyset paging by (sort value, id), see run-sort.ts */
  sort?: RunSort;
  order?: SortOrder;
  /** runs started at or after / before (ISO date or date-time; checked by the gateway) */
  from?: string;
  to?: string;
  /** `nextCursor` of the previous page (of the same sort and order) */
  cursor?: string;
  /** 1–500 */
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A candidate of any attempt; `round` is the loop round within the attempt (0 outside loops). */
export type CandidateListItem = CandidateView & { phaseId: string; attempt: number; round: number };

const MAX_PAGE = 500;

type JsonRow = Record<string, unknown>;

/** only the phase's current attempt (the join keeps candidates and verdicts of other attempts out) */
const CURRENT_ATTEMPT = 'p.run_id = x.run_id AND p.phase_id = x.phase_id AND p.attempt = x.attempt';
const GET_RUN_SQL = `
  SELECT to_jsonb(r) AS run,
         EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id) AS archived,
         (SELECT jsonb_build_object('sequence', s.sequence, 'type', s.event_type, 'reason', s.reason, 'at', s.parked_at) FROM parked_streams s WHERE s.stream_id = 'run:' || r.id) AS parked,
         COALESCE((SELECT jsonb_agg(to_jsonb(p) ORDER BY p.position) FROM run_phases p WHERE p.run_id = r.id), '[]') AS phases,
         COALESCE((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.round, x.slot)
                     FROM candidates x JOIN run_phases p ON ${CURRENT_ATTEMPT} WHERE x.run_id = r.id), '[]') AS candidates,
         COALESCE((SELECT jsonb_agg(to_jsonb(x))
                     FROM verdicts x JOIN run_phases p ON ${CURRENT_ATTEMPT} WHERE x.run_id = r.id), '[]') AS verdicts,
         COALESCE((SELECT jsonb_agg(jsonb_build_object('type', t.type, 'phaseId', t.phase_id, 'at', t.occurred_at, 'data', t.data) ORDER BY t.sequence)
                     FROM timeline_events t WHERE t.run_id = r.id AND t.type IN (${ATTEMPT_EVENT_TYPES.map((t) => `'${t}'`).join(', ')})), '[]') AS attempt_events
    FROM runs r
   WHERE r.id = $1`;
const POLL_MS = 20;
interface ParkedInfo {
  sequence: number | string;
  type: string;
  reason: string;
  at: string;
}

/**
 * Reads of the read models, returning the contracts' REST views. Multi-table views are read in
 * one REPEATABLE READ transaction, so they reflect exactly one projector commit (the view's
 * `sequence` describes all of it). Pass a DataSource made by createDataSource (it knows the
 * entities).
 */
export class ReadModelQueries {
  constructor(private readonly ds: DataSource) {}

  /**
   * One statement, one round trip: the run row, its phases, the candidates and verdicts of each
   * phase's current attempt (as jsonb arrays of rows) and whether it is archived. A single
   * statement reads one snapshot, so the view still reflects exactly one projector commit, as the
   * REPEATABLE READ transaction of five queries it replaces did (eight round trips with BEGIN, SET
   * TRANSACTION and COMMIT: most of the latency under load). The rows are hydrated through the
   * entities' column metadata, as TypeORM hydrates a find().
   */
  async getRun(id: string): Promise<RunView | null> {
    const rows: { run: JsonRow; phases: JsonRow[]; candidates: JsonRow[]; verdicts: JsonRow[]; archived: boolean; parked: ParkedInfo | null; attempt_events: AttemptEvent[] }[] =
      await this.ds.query(GET_RUN_SQL, [id]);
    const row = rows[0];
    if (!row) return null;
    const view = toRunView(
      this.hydrate(RunRow, row.run),
      row.phases.map((p) => this.hydrate(RunPhaseRow, p)),
      row.candidates.map((c) => this.hydrate(CandidateRow, c)),
      row.verdicts.map((v) => this.hydrate(VerdictRow, v)),
      row.archived,
      row.attempt_events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
    );
    return row.parked ? { ...view, parked: { ...row.parked, sequence: Number(row.parked.sequence), at: new Date(row.parked.at).toISOString() } } : view;
  }

  /** Streams the live projection skips (poison parked, issue 11 §4). */
  async parkedStreams(): Promise<string[]> {
    const rows: { stream_id: string }[] = await this.ds.query('SELECT stream_id FROM parked_streams');
    return rows.map((r) => r.stream_id);
  }

  /** A row as `to_jsonb` gives it (column names as keys) → the entity TypeORM would have read. */
  private hydrate<T extends object>(entity: new () => T, json: JsonRow): T {
    const meta = this.ds.getMetadata(entity);
    const out = meta.create() as T;
    for (const column of meta.columns) column.setEntityValue(out, this.ds.driver.prepareHydratedValue(json[column.databaseName], column));
    return out;
  }

  /** Newest first (started_at, then id), keyset-paged. An invalid cursor is a ConclaveError('bad_request'). */
  async listRuns(options: RunListOptions): Promise<Page<RunSummary>> {
    const limit = Math.min(MAX_PAGE, Math.max(1, Math.trunc(options.limit)));
    const qb = this.ds.getRepository(RunRow).createQueryBuilder('r');
    const statuses = (options.status ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (statuses.length > 0) qb.andWhere('r.status IN (:...statuses)', { statuses });
    if (options.templateId) qb.andWhere('r.templateId = :templateId', { templateId: options.templateId });
    if (options.archived !== 'all') qb.andWhere(`${options.archived === 'true' ? '' : 'NOT '}EXISTS (SELECT 1 FROM run_archive ra WHERE ra.run_id = r.id)`);
    if (options.q) {
      qb.andWhere('(r.name ILIKE :q OR r.id ILIKE :q OR r.templateName ILIKE :q)', { q: `%${escapeLike(options.q)}%` });
    }
    if (options.from) qb.andWhere('r.startedAt >= :from', { from: new Date(options.from) });
    if (options.to) qb.andWhere('r.startedAt < :to', { to: new Date(options.to) });
    if (options.sort || options.order) return this.listRunsSorted(qb, options, limit);
    if (options.cursor) {
      const cursor = decodeCursor(options.cursor);
      qb.andWhere('(r.startedAt, r.id) < (:cursorAt, :cursorId)', { cursorAt: new Date(cursor.startedAt), cursorId: cursor.id });
    }
    const rows = await qb
      .orderBy('r.startedAt', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    return this.runPage(rows, limit, options, (last) => encodeCursor({ startedAt: last.startedAt.toISOString(), id: last.id }));
  }

  /** The runs list under an explicit `sort`/`order` (run-sort.ts: keyset over (sort value, id)). */
  private async listRunsSorted(qb: SelectQueryBuilder<RunRow>, options: RunListOptions, limit: number): Promise<Page<RunSummary>> {
    const sort = options.sort ?? 'started';
    const order = options.order ?? 'desc';
    const key = SORT_KEYS[sort];
    const cursor = options.cursor ? decodeSortCursor(options.cursor, sort, order) : null;
    const asOf = new Date(cursor?.asOf ?? Date.now());
    if (sort === 'duration') qb.setParameter('asOf', asOf.toISOString());
    if (cursor) {
      qb.andWhere(`(${key.sql}, "r"."id") ${order === 'desc' ? '<' : '>'} (CAST(:sortValue AS ${key.cast}), :sortId)`, { sortValue: cursor.value, sortId: cursor.id });
    }
    const direction = order === 'desc' ? 'DESC' : 'ASC';
    const rows = await qb
      .orderBy(key.sql, direction)
      .addOrderBy('r.id', direction)
      .limit(limit + 1)
      .getMany();
    return this.runPage(rows, limit, options, (last) =>
      encodeSortCursor({ sort, order, value: key.value(last, asOf), id: last.id, asOf: sort === 'duration' ? asOf.toISOString() : null }),
    );
  }

  private async runPage(rows: RunRow[], limit: number, options: RunListOptions, cursorOf: (last: RunRow) => string): Promise<Page<RunSummary>> {
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const archived = options.archived === 'all' ? await this.archivedAmong(items.map((r) => r.id)) : new Set<string>(options.archived === 'true' ? items.map((r) => r.id) : []);
    const loops = await loopProgress(this.ds, items.map((r) => r.id));
    return {
      items: items.map((r) => ({ ...toRunSummary(r, archived.has(r.id)), loop: loops.get(r.id) ?? null })),
      nextCursor: rows.length > limit && last ? cursorOf(last) : null,
    };
  }

  private async archivedAmong(runIds: string[]): Promise<Set<string>> {
    if (runIds.length === 0) return new Set();
    const rows = await this.ds.getRepository(RunArchiveRow).find({ where: { runId: In(runIds) }, select: { runId: true } });
    return new Set(rows.map((r) => r.runId));
  }

  /** A run's events after `sinceSequence`, ascending. */
  async timeline(runId: string, sinceSequence = 0, limit = 1000): Promise<TimelineEntry[]> {
    const rows = await this.ds
      .getRepository(TimelineEventRow)
      .createQueryBuilder('t')
      .where('t.runId = :runId AND t.sequence > :since', { runId, since: sinceSequence })
      .orderBy('t.sequence', 'ASC')
      .limit(Math.max(1, Math.trunc(limit)))
      .getMany();
    return rows.map(toTimelineEntry);
  }

  /** Templates that are not archived, by name. */
  async listTemplates(): Promise<TemplateSummary[]> {
    const rows = await this.ds.getRepository(TemplateRow).find({ where: { archived: false }, order: { name: 'ASC', id: 'ASC' } });
    return rows.map(toTemplateSummary);
  }

  /**
   * One version of a template (the latest by default), archived or not; null when either the
   * template or that version does not exist. `version`, `name` and `description` describe the
   * returned version; `versions` lists them all.
   */
  async getTemplate(id: string, version?: number): Promise<TemplateView | null> {
    return this.ds.transaction('REPEATABLE READ', async (m) => {
      const row = await m.findOne(TemplateRow, { where: { id } });
      if (!row) return null;
      const wanted = version ?? row.latestVersion;
      const stored = await m.findOne(TemplateVersionRow, { where: { templateId: id, version: wanted } });
      if (!stored) return null;
      const versions = await m.find(TemplateVersionRow, { where: { templateId: id }, select: { version: true }, order: { version: 'ASC' } });
      const template = stored.template as Template;
      return {
        ...toTemplateSummary(row),
        version: wanted,
        name: template.name,
        description: template.description,
        template,
        versions: versions.map((v) => v.version),
      };
    });
  }

  async listArtifacts(runId: string): Promise<ArtifactView[]> {
    const rows = await this.ds.getRepository(ArtifactRow).find({ where: { runId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(toArtifactView);
  }

  async getArtifact(runId: string, artifactId: string): Promise<ArtifactView | null> {
    const row = await this.ds.getRepository(ArtifactRow).findOne({ where: { runId, id: artifactId } });
    return row ? toArtifactView(row) : null;
  }

  /** Every candidate of a run (all attempts, or one), in template order, then attempt, round and slot. */
  async listCandidates(runId: string, phaseId?: string, attempt?: number): Promise<CandidateListItem[]> {
    const qb = this.ds
      .getRepository(CandidateRow)
      .createQueryBuilder('c')
      .innerJoin(RunPhaseRow, 'p', 'p.runId = c.runId AND p.phaseId = c.phaseId')
      .where('c.runId = :runId', { runId });
    if (phaseId !== undefined) qb.andWhere('c.phaseId = :phaseId', { phaseId });
    if (attempt !== undefined) qb.andWhere('c.attempt = :attempt', { attempt });
    const rows = await qb.orderBy('p.position', 'ASC').addOrderBy('c.attempt', 'ASC').addOrderBy('c.round', 'ASC').addOrderBy('c.slot', 'ASC').getMany();
    return rows.map((row) => ({ ...toCandidateView(row), phaseId: row.phaseId, attempt: row.attempt, round: row.round }));
  }

  /** Every judge call of a run (all attempts, or one), in template order, then attempt, round and the order they were recorded. */
  async listVerdicts(runId: string, phaseId?: string, attempt?: number): Promise<VerdictListItem[]> {
    const qb = this.ds
      .getRepository(VerdictRow)
      .createQueryBuilder('v')
      .innerJoin(RunPhaseRow, 'p', 'p.runId = v.runId AND p.phaseId = v.phaseId')
      .where('v.runId = :runId', { runId });
    if (phaseId !== undefined) qb.andWhere('v.phaseId = :phaseId', { phaseId });
    if (attempt !== undefined) qb.andWhere('v.attempt = :attempt', { attempt });
    const rows = await qb.orderBy('p.position', 'ASC').addOrderBy('v.attempt', 'ASC').addOrderBy('v.round', 'ASC').addOrderBy('v.sequence', 'ASC').getMany();
    return rows.map(toVerdictListItem);
  }

  /**
   * A run's spend by provider and model over every attempt: candidates (what their calls were
   * billed, failed tries included) and judges apart. The items sum to the run's cost and tokens.
   */
  async runUsage(runId: string): Promise<RunUsageItem[]> {
    const rows: { role: 'candidate' | 'judge'; provider: string; model: string; calls: string; input: string; output: string; cost: number }[] = await this.ds.query(
      `SELECT 'candidate' AS role, provider, model, count(*) AS calls, sum(tokens_input) AS input, sum(tokens_output) AS output, sum(cost_usd) AS cost
         FROM candidates WHERE run_id = $1 GROUP BY provider, model
       UNION ALL
       SELECT 'judge' AS role, provider, model, count(*) AS calls, sum(tokens_input) AS input, sum(tokens_output) AS output, sum(cost_usd) AS cost
         FROM verdicts WHERE run_id = $1 GROUP BY provider, model
       ORDER BY cost DESC, role, provider, model`,
      [runId],
    );
    return rows.map((r) => ({
      role: r.role,
      provider: r.provider,
      model: r.model,
      calls: Number(r.calls),
      tokens: { input: Number(r.input), output: Number(r.output) },
      costUsd: Number(r.cost),
    }));
  }

  /** One candidate of a run (any attempt), or null. */
  async getCandidate(runId: string, candidateId: string): Promise<CandidateView | null> {
    const row = await this.ds.getRepository(CandidateRow).findOne({ where: { runId, id: candidateId } });
    return row ? toCandidateView(row) : null;
  }

  /** A run's checkpoints, oldest first (a rollback leaves later ones in place: they are history). */
  async listCheckpoints(runId: string): Promise<CheckpointView[]> {
    const rows = await this.ds.getRepository(CheckpointRow).find({ where: { runId }, order: { sequence: 'ASC', id: 'ASC' } });
    return rows.map(toCheckpointView);
  }

  /** A run's audited tool calls, in the order they were recorded (candidate by candidate, call by call). */
  async listToolCalls(runId: string): Promise<ToolCallView[]> {
    const rows = await this.ds.getRepository(ToolCallRow).find({ where: { runId }, order: { sequence: 'ASC', candidateId: 'ASC', index: 'ASC' } });
    return rows.map(toToolCallView);
  }

  /** The last stream sequence a projection applied (0 before its first batch). */
  async appliedSequence(name = MAIN_CHECKPOINT): Promise<number> {
    const rows: { sequence: string }[] = await this.ds.query('SELECT sequence FROM projection_checkpoints WHERE name = $1', [name]);
    return rows.length > 0 ? Number(rows[0]!.sequence) : 0;
  }

  /**
   * Read-your-writes for `?min_sequence=`: true as soon as the main projection (or the named
   * one, e.g. DEAD_LETTERS_CHECKPOINT) has applied `sequence`, false when `timeoutMs` passes first (polls every ~20 ms).
   */
  async waitForSequence(sequence: number, timeoutMs: number, checkpointName = MAIN_CHECKPOINT): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.appliedSequence(checkpointName)) >= sequence) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
    }
  }

  async runExists(id: string): Promise<boolean> {
    return this.ds.getRepository(RunRow).existsBy({ id });
  }

  async templateExists(id: string): Promise<boolean> {
    return this.ds.getRepository(TemplateRow).existsBy({ id });
  }

  /** Dead letters, newest first (dead-letters.ts); an invalid cursor is a ConclaveError('bad_request'). */
  listDeadLetters(query: DeadLetterListQuery): Promise<Page<DeadLetterView>> {
    return listDeadLetters(this.ds, query);
  }

  /** One dead letter by id (its DEAD_LETTERS sequence), or null. */
  getDeadLetter(id: string): Promise<DeadLetterView | null> {
    return getDeadLetter(this.ds, id);
  }

  /** Operator alerts, newest first. */
  async listAlerts(limit = 100): Promise<AlertView[]> {
    const rows = await this.ds.getRepository(AlertRow).find({ order: { createdAt: 'DESC', id: 'DESC' }, take: Math.max(1, Math.trunc(limit)) });
    return rows.map(toAlertView);
  }
}
