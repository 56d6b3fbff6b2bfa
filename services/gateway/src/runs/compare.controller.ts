import { Controller, Get, Inject, Query } from '@nestjs/common';
import { COMPARE_MAX_RUNS, COMPARE_MIN_RUNS, ConclaveError, RunCompareQuery, type RunComparison } from '@conclave/contracts';
import { ReadModelQueries } from '@conclave/read-models';
import { parseOr400 } from '../http/parse';
import { existingIdOr404, notFound } from '../http/ids';
import { compareRuns } from './compare';

/**
 * `GET /runs/compare?runs=a,b[,c,d]`. Registered before RunsController, so that `/runs/compare`
 * is not taken for a run id. 2–4 distinct ids (422 otherwise); an unknown id is a 404 naming it.
 */
@Controller('runs')
export class CompareController {
  constructor(@Inject(ReadModelQueries) private readonly queries: ReadModelQueries) {}

  @Get('compare')
  async compare(@Query() query: unknown): Promise<RunComparison> {
    const ids = parseRunIds(parseOr400(RunCompareQuery, query, 'query').runs);
    const runs = [];
    for (const id of ids) {
      const run = await this.queries.getRun(existingIdOr404(id, 'run'));
      if (!run) throw notFound('run', id);
      runs.push(run);
    }
    const artifacts = new Map(await Promise.all(ids.map(async (id) => [id, await this.queries.listArtifacts(id)] as const)));
    return compareRuns(runs, artifacts);
  }
}

export function parseRunIds(raw: string): string[] {
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length < COMPARE_MIN_RUNS || ids.length > COMPARE_MAX_RUNS) {
    throw new ConclaveError('validation', `compare takes ${COMPARE_MIN_RUNS} to ${COMPARE_MAX_RUNS} run ids (runs=a,b), got ${ids.length}`, { count: ids.length });
  }
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new ConclaveError('validation', `run "${duplicate}" is named twice`, { duplicate });
  return ids;
}
