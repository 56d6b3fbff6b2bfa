import { Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CostsExportQuery, ExportQuery, RunExportQuery } from '@conclave/contracts';
import { ReadModelQueries, RunArchiveRow, type DataSource } from '@conclave/read-models';
import { CostsService } from '../costs/costs.service';
import { existingIdOr404, notFound } from '../http/ids';
import { parseRangedQuery } from '../http/date-range';
import { parseOr400 } from '../http/parse';
import { DATA_SOURCE } from '../tokens';
import { toCsv } from './csv';
import { parseRunListQuery } from '../runs/run-list-query';

const TIMELINE_PAGE = 5000;

/**
 * Exports (CSV or JSON attachments) and run archiving. Registered before RunsController so that
 * `/runs/export` is not taken for a run id.
 */
@Controller()
export class ExportsController {
  constructor(
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(CostsService) private readonly costs: CostsService,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
  ) {}

  /** The runs list with the same filters, sort and order as GET /runs (every page). */
  @Get('runs/export')
  async runs(@Query() query: unknown, @Res({ passthrough: true }) res: Response) {
    const { format, ...filters } = parseRunListQuery(RunExportQuery, query);
    const items = [];
    let cursor: string | undefined;
    do {
      const page = await this.queries.listRuns({ ...filters, cursor, limit: 500 });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const header = ['id', 'name', 'templateId', 'templateVersion', 'templateName', 'status', 'costUsd', 'phasesDone', 'phasesTotal', 'startedAt', 'completedAt', 'sequence'];
    return send(res, format, 'runs', items, header, (r) => [r.id, r.name, r.templateId, r.templateVersion, r.templateName, r.status, r.costUsd, r.phasesDone, r.phasesTotal, r.startedAt, r.completedAt, r.sequence]);
  }

  @Get('costs/export')
  async costsExport(@Query() query: unknown, @Res({ passthrough: true }) res: Response) {
    const { format, groupBy, from, to } = parseRangedQuery(CostsExportQuery, query);
    const items = await this.costs.costs(groupBy, from, to);
    return send(res, format, `costs-by-${groupBy}`, items, ['key', 'costUsd', 'inputTokens', 'outputTokens', 'calls'], (c) => [c.key, c.costUsd, c.tokens.input, c.tokens.output, c.calls]);
  }

  @Get('runs/:id/timeline/export')
  async timeline(@Param('id') id: string, @Query() query: unknown, @Res({ passthrough: true }) res: Response) {
    const { format } = parseOr400(ExportQuery, query, 'query');
    await this.mustExist(id);
    const items = [];
    for (let since = 0; ; ) {
      const page = await this.queries.timeline(id, since, TIMELINE_PAGE);
      items.push(...page);
      if (page.length < TIMELINE_PAGE) break;
      since = page[page.length - 1]!.sequence;
    }
    const header = ['sequence', 'type', 'occurredAt', 'phaseId', 'actorKind', 'actorId', 'data'];
    return send(res, format, `run-${id}-timeline`, items, header, (e) => [e.sequence, e.type, e.occurredAt, e.phaseId, e.actor.kind, e.actor.id, JSON.stringify(e.data)]);
  }

  /** Idempotent: archiving an archived run keeps its first archive time. */
  @Post('runs/:id/archive')
  @HttpCode(200)
  async archive(@Param('id') id: string) {
    await this.mustExist(id);
    await this.db.query('INSERT INTO run_archive (run_id, archived_at) VALUES ($1, now()) ON CONFLICT (run_id) DO NOTHING', [id]);
    return { id, archived: true };
  }

  @Post('runs/:id/unarchive')
  @HttpCode(200)
  async unarchive(@Param('id') id: string) {
    await this.mustExist(id);
    await this.db.getRepository(RunArchiveRow).delete({ runId: id });
    return { id, archived: false };
  }

  private async mustExist(id: string): Promise<void> {
    if (!(await this.queries.runExists(existingIdOr404(id, 'run')))) throw notFound('run', id);
  }
}

function send<T>(res: Response, format: 'csv' | 'json', name: string, items: T[], header: string[], row: (item: T) => (string | number | boolean | null)[]) {
  const safeName = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  res.setHeader('content-disposition', `attachment; filename="${safeName}.${format}"`);
  if (format === 'json') return items;
  res.setHeader('content-type', 'text/csv; charset=utf-8');
  return toCsv(header, items.map(row));
}
