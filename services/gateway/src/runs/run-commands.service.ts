import { Inject, Injectable } from '@nestjs/common';
import { CommandAccepted, CreatedResponse, type RunCommand } from '@conclave/contracts';
import { existingIdOr404, existingPhaseIdOr404 } from '../http/ids';
import { OrchestratorClient } from '../orchestrator/orchestrator.client';

type Accepted = { sequence: number };
type Created = { id: string; sequence: number };
/** the commands that create a run (the reply's id is the new run) */
const CREATES_RUN: ReadonlySet<RunCommand['type']> = new Set(['ForkRun', 'RerunRun']);

/**
 * Run controls (DESIGN.md "run commands"): the orchestrator, which reads the log, decides; its
 * typed refusals (not_found → 404, illegal_state → 409, validation → 422) pass through the one
 * error mapping. The read models are not asked whether the run exists: they may not have caught
 * up with a run created a moment ago. Nothing is written here: the orchestrator appends.
 */
@Injectable()
export class RunCommandsService {
  constructor(@Inject(OrchestratorClient) private readonly orchestrator: OrchestratorClient) {}

  async send(command: RunCommand, requestId: string): Promise<Accepted> {
    if (CREATES_RUN.has(command.type)) throw new Error(`${command.type} creates a run: use create()`);
    existingIdOr404(command.runId, 'run');
    if ('phaseId' in command) existingPhaseIdOr404(command.runId, command.phaseId);
    const reply = await this.orchestrator.send(command, requestId);
    return CommandAccepted.parse({ sequence: reply.sequence });
  }

  async create(command: Extract<RunCommand, { type: 'ForkRun' | 'RerunRun' }>, requestId: string): Promise<Created> {
    existingIdOr404(command.runId, 'run');
    const reply = await this.orchestrator.send(command, requestId);
    return CreatedResponse.parse({ id: reply.id, sequence: reply.sequence });
  }
}
