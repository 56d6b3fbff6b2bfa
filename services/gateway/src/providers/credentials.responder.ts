import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { CredentialsReply, CredentialsRequest } from '@conclave/contracts';
import { EventLog } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import { LOGGER } from '../tokens';
import { ProvidersService } from './providers.service';

/**
 * Serves provider keys to workers: core NATS request/reply on `subjects.credentials`, queue group
 * "gateway" (one replica answers). Trust boundary (docs/adr/005): anyone who can publish on this
 * NATS account can ask, so NATS must not be reachable by untrusted clients. Keys are never logged;
 * a failure answers `{ ok: false }` without details of the secret.
 */
@Injectable()
export class CredentialsResponder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscription: Subscription | null = null;

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(ProvidersService) private readonly providers: ProvidersService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    const { subjects, queues } = this.log.names;
    this.subscription = this.log.nc.subscribe(subjects.credentials, {
      queue: queues.gateway,
      callback: (err, msg) => {
        if (err) return void this.logger.warn({ err: err.message }, 'credentials subscription error');
        void this.answer(msg);
      },
    });
  }

  beforeApplicationShutdown() {
    if (this.subscription && !this.subscription.isClosed()) this.subscription.unsubscribe();
  }

  private async answer(msg: Msg): Promise<void> {
    let reply: CredentialsReply;
    try {
      const request = CredentialsRequest.safeParse(safeJson(msg));
      if (!request.success) {
        reply = { ok: false, error: { code: 'bad_request', message: 'expected { provider }' } };
      } else {
        const credentials = await this.providers.credentials(request.data.provider);
        reply = credentials
          ? { ok: true, ...credentials }
          : { ok: false, error: { code: 'not_found', message: `provider "${request.data.provider}" is not configured` } };
      }
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : 'error' }, 'credentials request failed');
      reply = { ok: false, error: { code: 'unavailable', message: 'credentials are unavailable' } };
    }
    if (msg.reply) msg.respond(JSON.stringify(CredentialsReply.parse(reply)));
  }
}

function safeJson(msg: Msg): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}
