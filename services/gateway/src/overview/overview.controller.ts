import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ConclaveError, OverviewQuery } from '@conclave/contracts';
import { OverviewService } from './overview.service';

@Controller('overview')
export class OverviewController {
  constructor(@Inject(OverviewService) private readonly overview: OverviewService) {}

  /** `?tz=<IANA zone>` (UTC by default): a zone that is not one is a 422 `validation`, not a silent UTC. */
  @Get()
  get(@Query() query: unknown) {
    const parsed = OverviewQuery.safeParse(query);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new ConclaveError('validation', `invalid tz: ${first?.message ?? 'not a time zone'}`, { issues: parsed.error.issues });
    }
    return this.overview.overview(parsed.data.tz);
  }
}
