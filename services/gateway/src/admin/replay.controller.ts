import { Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ReplayBody, type ReplayStatus } from '@conclave/contracts';
import { parseOr400 } from '../http/parse';
import { ReplayService } from './replay.service';

/** Rebuild the read models from the log (`{ verify: true }` compares without swapping). */
@Controller('admin/replay')
export class ReplayController {
  constructor(@Inject(ReplayService) private readonly replays: ReplayService) {}

  @Post()
  @HttpCode(202)
  start(@Body() body: unknown): ReplayStatus {
    const { verify } = parseOr400(ReplayBody, body ?? {}, 'body');
    return this.replays.start(verify);
  }

  @Get()
  status(): ReplayStatus {
    return this.replays.current();
  }
}
