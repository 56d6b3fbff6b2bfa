import { Inject, Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { from, switchMap, type Observable } from 'rxjs';
import { ConclaveError, MinSequenceQuery } from '@conclave/contracts';
import { ReadModelQueries } from '@conclave/read-models';
import { CONFIG } from '../tokens';
import type { GatewayConfig } from '../config';
import { parseOr400 } from './parse';

const SKIP_MIN_SEQUENCE = 'conclave:skip-min-sequence';
/** Probes answer about the process itself and never wait on the read models. */
export const SkipMinSequence = () => SetMetadata(SKIP_MIN_SEQUENCE, true);

/**
 * `?min_sequence=N` on any GET: wait (bounded by MIN_SEQUENCE_WAIT_MS) until the projector has
 * applied sequence N, so a client reads its own writes; otherwise 503 `unavailable`.
 */
@Injectable()
export class MinSequenceInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    if (req.method !== 'GET' || this.reflector.getAllAndOverride<boolean>(SKIP_MIN_SEQUENCE, [context.getHandler(), context.getClass()])) {
      return next.handle();
    }
    const raw = req.query.min_sequence;
    if (raw === undefined) return next.handle();
    // zod's coercion would read "" as 0 and "1e3" as 1000: only plain digits are a sequence
    if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw)) {
      throw new ConclaveError('bad_request', 'min_sequence must be a non-negative integer', { min_sequence: raw });
    }
    const { min_sequence: minSequence } = parseOr400(MinSequenceQuery, { min_sequence: raw }, 'min_sequence');
    if (minSequence === undefined) return next.handle();
    return from(this.waitFor(minSequence)).pipe(switchMap(() => next.handle()));
  }

  private async waitFor(sequence: number): Promise<void> {
    if (await this.queries.waitForSequence(sequence, this.config.MIN_SEQUENCE_WAIT_MS)) return;
    throw new ConclaveError('unavailable', `read models have not caught up to sequence ${sequence}`, {
      minSequence: sequence,
      waitedMs: this.config.MIN_SEQUENCE_WAIT_MS,
    });
  }
}
