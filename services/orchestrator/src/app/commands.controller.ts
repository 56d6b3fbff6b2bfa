import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { natsNames, type OrchestratorReply } from '@conclave/contracts';
import type { CommandDeps } from './command-handler';
import { handleOrchestratorRequest } from './command-handler';

export const COMMAND_DEPS = Symbol('COMMAND_DEPS');

/**
 * The subject is fixed when this module loads (decorators are static); it derives from the same
 * CONCLAVE_PREFIX the config schema validates, so an invalid prefix fails here, loudly, at boot.
 */
export const ORCHESTRATOR_SUBJECT = natsNames(process.env.CONCLAVE_PREFIX ?? '').subjects.orchestrator;

@Controller()
export class CommandsController {
  constructor(@Inject(COMMAND_DEPS) private readonly deps: CommandDeps) {}

  @MessagePattern(ORCHESTRATOR_SUBJECT)
  handle(@Payload() payload: unknown): Promise<OrchestratorReply> {
    return handleOrchestratorRequest(this.deps, payload);
  }
}
