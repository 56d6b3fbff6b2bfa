import { Inject, Injectable } from '@nestjs/common';
import { CommandAccepted, CreatedResponse, type RunCommand } from '@conclave/contracts';
import { ReadModelQueries } from '@conclave/read-models';
import { existingIdOr404, notFound } from '../http/ids';
import { OrchestratorClient } from '../orchestrator/orchestrator.client';

type Accepted = { sequence: number };
type Created = { id: string; sequence: number };
/** the commands that create a run (the reply's id is the new run) */
const CREATES_RUN: ReadonlySet<RunCommand['type']> = new Set(['ForkRun', 'RerunRun']);

/**
 * Run controls (DESIGN.md "run commands"): the run must exist in the read models (404), then the
 * orchestrator decides; its typed refusals (illegal_state → 409, validation → 422, not_found →
 * 404) pass through the one error mapping. Nothing is written here: the orchestrator appends.
 */
@Injectable()
export class RunCommandsService {
  constructor(
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(OrchestratorClient) private readonly orchestrator: OrchestratorClient,
  ) {}

  async send(command: RunCommand, requestId: string): Promise<Accepted> {
    if (CREATES_RUN.has(command.type)) throw new Error(`${command.type} creates a run: use create()`);
    await this.mustExist(command.runId);
    const reply = await this.orchestrator.send(command, requestId);
    return CommandAccepted.parse({ sequence: reply.sequence });
  }

  async create(command: Extract<RunCommand, { type: 'ForkRun' | 'RerunRun' }>, requestId: string): Promise<Created> {
    await this.mustExist(command.runId);
    const reply = await this.orchestrator.send(command, requestId);
    return CreatedResponse.parse({ id: reply.id, sequence: reply.sequence });
  }

  private async mustExist(id: string): Promise<void> {
    if (!(await this.queries.runExists(existingIdOr404(id, 'run')))) throw notFound('run', id);
  }
}
