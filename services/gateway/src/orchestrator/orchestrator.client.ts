import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import {
  ConclaveError,
  ErrorBody,
  natsNames,
  OrchestratorReply,
  OrchestratorRequest,
  type OrchestratorCommandInput,
} from '@conclave/contracts';
import { natsConnectionOptions, type Logger } from '@conclave/service-kit';
import type { GatewayConfig } from '../config';
import { ANONYMOUS, actorOf } from '../http/auth';
import { CONFIG, LOGGER } from '../tokens';

export type Accepted = Extract<OrchestratorReply, { ok: true }>;
export type Actor = OrchestratorRequest['actor'];

/**
 * The orchestrator's command endpoint: NATS request/reply through Nest's NATS transport (the
 * orchestrator serves it with @MessagePattern in queue group "orchestrator"). A reply `ok: false`
 * becomes the ConclaveError it carries; no answer within ORCHESTRATOR_TIMEOUT_MS, or nobody
 * listening, is `unavailable`. A timed-out command may still have been applied: clients retry
 * with the same intent and the orchestrator's idempotency decides.
 */
/** transport failures Nest's NATS client reports as text: the orchestrator cannot be reached */
export const TRANSPORT_TROUBLE = /connection lost|reconnect|disconnect|connection closed|no responders|timed? ?out/i;

@Injectable()
export class OrchestratorClient implements OnModuleInit, OnApplicationShutdown {
  private readonly client: ClientProxy;
  private readonly subject: string;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.subject = natsNames(config.CONCLAVE_PREFIX).subjects.orchestrator;
    this.client = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { ...natsConnectionOptions(config), name: `gateway-${config.INSTANCE_ID}-orchestrator`, maxReconnectAttempts: -1, noAsyncTraces: true },
    });
  }

  async onModuleInit() {
    await this.client.connect();
  }

  async onApplicationShutdown() {
    await this.client.close();
  }

  /** The log records the request's actor (its token's name; `anonymous` without tokens) as the command's author. */
  async send(command: OrchestratorCommandInput, requestId: string): Promise<Accepted> {
    const actor: Actor = actorOf(requestId) ?? ANONYMOUS;
    const request = OrchestratorRequest.parse({ command, actor, requestId });
    let raw: unknown;
    try {
      raw = await firstValueFrom(this.client.send<unknown, OrchestratorRequest>(this.subject, request).pipe(timeout(this.config.ORCHESTRATOR_TIMEOUT_MS)));
    } catch (err) {
      throw this.failure(err, request);
    }
    const reply = OrchestratorReply.safeParse(raw);
    if (!reply.success) {
      this.logger.error({ requestId, command: request.command.type, issues: reply.error.issues }, 'orchestrator sent an invalid reply');
      throw new ConclaveError('internal', 'the orchestrator sent an invalid reply');
    }
    if (!reply.data.ok) throw new ConclaveError(reply.data.error.code, reply.data.error.message, reply.data.error.details);
    return reply.data;
  }

  private failure(err: unknown, request: OrchestratorRequest): ConclaveError {
    const context = { requestId: request.requestId, command: request.command.type };
    if (err instanceof TimeoutError) {
      this.logger.warn(context, 'orchestrator request timed out');
      return new ConclaveError('unavailable', `the orchestrator did not answer within ${this.config.ORCHESTRATOR_TIMEOUT_MS} ms`);
    }
    // a handler that threw on the other side: Nest sends its error object as `err`
    const remote = ErrorBody.safeParse(err);
    if (remote.success) return new ConclaveError(remote.data.code, remote.data.message, remote.data.details);
    if (err instanceof Error) {
      // no responders, connection lost or closed: the orchestrator cannot be reached
      this.logger.warn({ ...context, err: err.message }, 'orchestrator request failed');
      return new ConclaveError('unavailable', 'the orchestrator is not reachable');
    }
    // Nest's NATS client reports a lost connection as a bare string ("Error: Connection lost. Trying
    // to reconnect..."), not an Error: NATS restarting is a 503, not the orchestrator failing
    const text = typeof err === 'string' ? err : typeof (err as { message?: unknown })?.message === 'string' ? String((err as { message: string }).message) : '';
    if (TRANSPORT_TROUBLE.test(text)) {
      this.logger.warn({ ...context, err: text }, 'orchestrator request failed');
      return new ConclaveError('unavailable', 'the orchestrator is not reachable');
    }
    this.logger.error({ ...context, remote: err }, 'orchestrator failed to handle the command');
    return new ConclaveError('internal', 'the orchestrator failed to handle the command');
  }
}
