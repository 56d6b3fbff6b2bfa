import { Body, Controller, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import {
  AcceptBody,
  AnswerBody,
  BudgetBody,
  CancelBody,
  EmptyBody,
  ForkBody,
  GateDecisionBody,
  RetryBody,
  RollbackBody,
} from '@conclave/contracts';
import { parseOr400, RequestId } from '../http/parse';
import { RunCommandsService } from './run-commands.service';
import { Idempotent } from '../http/idempotency.interceptor';

/**
 * `POST /runs/:id/...` controls. Bodies are strict (an unknown field is a 400 and nothing is
 * sent); a command without fields may come without a body. 202 `{ sequence }` is the stream
 * sequence of the last event the command appended (use it as `?min_sequence=` to read it back);
 * fork and rerun answer 201 `{ id, sequence }` with the new run.
 */
@Controller('runs/:id')
export class RunCommandsController {
  constructor(@Inject(RunCommandsService) private readonly commands: RunCommandsService) {}

  @Post('pause')
  @HttpCode(202)
  pause(@Param('id') runId: string, @Body() body: unknown, @RequestId() requestId: string) {
    parseOr400(EmptyBody, body ?? {}, 'body');
    return this.commands.send({ type: 'PauseRun', runId }, requestId);
  }

  @Post('resume')
  @HttpCode(202)
  resume(@Param('id') runId: string, @Body() body: unknown, @RequestId() requestId: string) {
    parseOr400(EmptyBody, body ?? {}, 'body');
    return this.commands.send({ type: 'ResumeRun', runId }, requestId);
  }

  @Post('cancel')
  @HttpCode(202)
  cancel(@Param('id') runId: string, @Body() body: unknown, @RequestId() requestId: string) {
    const { reason } = parseOr400(CancelBody, body ?? {}, 'body');
    return this.commands.send({ type: 'CancelRun', runId, ...(reason === undefined ? {} : { reason }) }, requestId);
  }

  @Post('continue')
  @HttpCode(202)
  continue(@Param('id') runId: string, @Body() body: unknown, @RequestId() requestId: string) {
    parseOr400(EmptyBody, body ?? {}, 'body');
    return this.commands.send({ type: 'ContinueRun', runId }, requestId);
  }

  @Post('phases/:phaseId/retry')
  @HttpCode(202)
  retry(@Param('id') runId: string, @Param('phaseId') phaseId: string, @Body() body: unknown, @RequestId() requestId: string) {
    const choice = parseOr400(RetryBody, body ?? {}, 'body');
    return this.commands.send({ type: 'RetryPhase', runId, phaseId, ...choice }, requestId);
  }

  @Post('phases/:phaseId/skip')
  @HttpCode(202)
  skip(@Param('id') runId: string, @Param('phaseId') phaseId: string, @Body() body: unknown, @RequestId() requestId: string) {
    parseOr400(EmptyBody, body ?? {}, 'body');
    return this.commands.send({ type: 'SkipPhase', runId, phaseId }, requestId);
  }

  @Post('phases/:phaseId/approve')
  @HttpCode(202)
  approve(@Param('id') runId: string, @Param('phaseId') phaseId: string, @Body() body: unknown, @RequestId() requestId: string) {
    const { comment } = parseOr400(GateDecisionBody, body ?? {}, 'body');
    return this.commands.send({ type: 'ApproveGate', runId, phaseId, ...(comment === undefined ? {} : { comment }) }, requestId);
  }

  @Post('phases/:phaseId/reject')
  @HttpCode(202)
  reject(@Param('id') runId: string, @Param('phaseId') phaseId: string, @Body() body: unknown, @RequestId() requestId: string) {
    const { comment } = parseOr400(GateDecisionBody, body ?? {}, 'body');
    return this.commands.send({ type: 'RejectGate', runId, phaseId, ...(comment === undefined ? {} : { comment }) }, requestId);
  }

  @Post('phases/:phaseId/answer')
  @HttpCode(202)
  answer(@Param('id') runId: string, @Param('phaseId') phaseId: string, @Body() body: unknown, @RequestId() requestId: string) {
    const { answers } = parseOr400(AnswerBody, body ?? {}, 'body');
    return this.commands.send({ type: 'SubmitAnswers', runId, phaseId, answers }, requestId);
  }

  @Post('phases/:phaseId/accept')
  @HttpCode(202)
  accept(@Param('id') runId: string, @Param('phaseId') phaseId: string, @Body() body: unknown, @RequestId() requestId: string) {
    const { output } = parseOr400(AcceptBody, body ?? {}, 'body');
    return this.commands.send({ type: 'AcceptOutput', runId, phaseId, ...(output === undefined ? {} : { output }) }, requestId);
  }

  @Post('rollback')
  @HttpCode(202)
  rollback(@Param('id') runId: string, @Body() body: unknown, @RequestId() requestId: string) {
    const { checkpointId } = parseOr400(RollbackBody, body ?? {}, 'body');
    return this.commands.send({ type: 'RollbackRun', runId, checkpointId }, requestId);
  }

  @Put('budget')
  @HttpCode(202)
  budget(@Param('id') runId: string, @Body() body: unknown, @RequestId() requestId: string) {
    const { budgetUsd } = parseOr400(BudgetBody, body ?? {}, 'body');
    return this.commands.send({ type: 'RaiseBudget', runId, budgetUsd }, requestId);
  }

  @Post('fork')
  @Idempotent()
  @HttpCode(201)
  fork(@Param('id') runId: string, @Body() body: unknown, @RequestId() requestId: string) {
    const { fromPhaseId } = parseOr400(ForkBody, body ?? {}, 'body');
    return this.commands.create({ type: 'ForkRun', runId, fromPhaseId }, requestId);
  }

  @Post('rerun')
  @Idempotent()
  @HttpCode(201)
  rerun(@Param('id') runId: string, @Body() body: unknown, @RequestId() requestId: string) {
    parseOr400(EmptyBody, body ?? {}, 'body');
    return this.commands.create({ type: 'RerunRun', runId }, requestId);
  }
}
