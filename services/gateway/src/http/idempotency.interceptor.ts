import { createHash } from 'node:crypto';
import { Inject, Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { catchError, from, of, switchMap, throwError, type Observable } from 'rxjs';
import { ConclaveError } from '@conclave/contracts';
import { IdempotencyKeyRow, type DataSource } from '@conclave/read-models';
import { DATA_SOURCE } from '../tokens';

const IDEMPOTENT = 'conclave:idempotent';

/** A creating request that honours `Idempotency-Key` (runs, fork, rerun, templates, providers). */
export const Idempotent = () => SetMetadata(IDEMPOTENT, true);

/** Printable ASCII, like the keys clients generate (UUIDs, ULIDs, hashes). */
const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` on the creating requests: the first request with a key is handled and its
 * response (status and body) kept in Postgres, so a client that retries after a timeout — even
 * after a gateway restart — gets the same answer instead of starting a second run and paying
 * twice. The same key with another body is a 422; while the first is still being handled, a 409.
 * A request that fails keeps nothing: its retry is handled afresh. A key is scoped to its method
 * and path.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http' || !this.reflector.getAllAndOverride<boolean>(IDEMPOTENT, [context.getHandler(), context.getClass()])) return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const header = req.headers['idempotency-key'];
    if (header === undefined) return next.handle();
    if (typeof header !== 'string' || !KEY.test(header)) {
      throw new ConclaveError('bad_request', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
    }
    const scope = `${req.method} ${req.path}`;
    const bodyHash = createHash('sha256').update(JSON.stringify(req.body ?? null)).digest('hex');
    return from(this.claim(scope, header, bodyHash)).pipe(
      switchMap((stored) => {
        if (stored) {
          res.status(stored.status);
          res.setHeader('Idempotent-Replayed', 'true');
          return of(stored.response);
        }
        // the status Nest will send (its @HttpCode, else 201 for POST): res.statusCode is not set yet here
        const status = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ?? (req.method === 'POST' ? 201 : 200);
        return next.handle().pipe(
          switchMap((body) => from(this.keep(scope, header, status, body)).pipe(switchMap(() => of(body)))),
          catchError((err: unknown) => from(this.release(scope, header)).pipe(switchMap(() => throwError(() => err)))),
        );
      }),
    );
  }

  /** null: this request owns the key now; else the first request's kept response. */
  private async claim(scope: string, key: string, bodyHash: string): Promise<{ status: number; response: unknown } | null> {
    const inserted: unknown[] = await this.db.query(
      'INSERT INTO idempotency_keys (scope, key, body_hash, status, response, created_at) VALUES ($1, $2, $3, NULL, NULL, now()) ON CONFLICT DO NOTHING RETURNING key',
      [scope, key, bodyHash],
    );
    if (inserted.length > 0) return null;
    const row = await this.db.getRepository(IdempotencyKeyRow).findOneBy({ scope, key });
    if (!row) return this.claim(scope, key, bodyHash); // released meanwhile by a failed first request
    if (row.bodyHash !== bodyHash) {
      throw new ConclaveError('validation', 'this Idempotency-Key was already used with a different request body', { idempotencyKey: key });
    }
    if (row.status === null) throw new ConclaveError('illegal_state', 'a request with this Idempotency-Key is still being handled: retry in a moment', { idempotencyKey: key });
    return { status: row.status, response: row.response };
  }

  private async keep(scope: string, key: string, status: number, response: unknown): Promise<void> {
    await this.db.query('UPDATE idempotency_keys SET status = $3, response = $4 WHERE scope = $1 AND key = $2', [scope, key, status, JSON.stringify(response ?? null)]);
  }

  private async release(scope: string, key: string): Promise<void> {
    await this.db.query('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL', [scope, key]);
  }
}
