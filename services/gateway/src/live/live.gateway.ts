import { Inject } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer, type OnGatewayInit } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import {
  LiveMessage,
  SocketEvent,
  SubscribeAck,
  SubscribeMessage as SubscribeMessageSchema,
  type ClientToServerEvents,
  type Room,
  type ServerToClientEvents,
} from '@conclave/contracts';
import type { Logger } from '@conclave/service-kit';
import type { GatewayConfig } from '../config';
import { bearerToken, tokenMatches } from '../http/auth';
import { socketOriginCheck } from '../security/hardening';
import { CONFIG, LOGGER } from '../tokens';

export type LiveServer = Server<ClientToServerEvents, ServerToClientEvents>;
type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/**
 * socket.io on the HTTP server (path /socket.io). Clients join rooms (`runs`, `run:<id>`, `fleet`,
 * `costs`) with `subscribe`; the relay emits `event` and `live` to them. Messages are validated
 * both ways with the contracts' schemas. The socket does not replay: a client that reconnects
 * fills its gap from the timeline endpoint (every event carries its sequence).
 */
@WebSocketGateway({ path: '/socket.io', serveClient: false })
export class LiveGateway implements OnGatewayInit {
  @WebSocketServer() server!: LiveServer;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  afterInit(server: LiveServer) {
    (server.engine as unknown as { opts: { allowRequest?: unknown } }).opts.allowRequest = socketOriginCheck(this.config.CORS_ORIGINS);
    const token = this.config.CONCLAVE_API_TOKEN;
    if (!token) return;
    server.use((socket, next) => {
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      const presented = typeof auth?.token === 'string' ? auth.token : bearerToken(socket.handshake.headers.authorization);
      if (tokenMatches(token, presented)) return next();
      const refusal = Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized', message: 'missing or invalid token (auth.token or Authorization: Bearer)' } });
      next(refusal);
    });
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: LiveSocket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    const parsed = SubscribeMessageSchema.safeParse(body);
    if (!parsed.success) return invalid(parsed.error.issues[0]?.message);
    await socket.join(parsed.data.room);
    return SubscribeAck.parse({ ok: true, room: parsed.data.room });
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(@ConnectedSocket() socket: LiveSocket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    const parsed = SubscribeMessageSchema.safeParse(body);
    if (!parsed.success) return invalid(parsed.error.issues[0]?.message);
    await socket.leave(parsed.data.room);
    return SubscribeAck.parse({ ok: true, room: parsed.data.room });
  }

  /** A log event to its rooms; an event that does not fit the contract is dropped (and logged). */
  emitEvent(rooms: Room[], event: SocketEvent): void {
    const parsed = SocketEvent.safeParse(event);
    if (!parsed.success) return void this.logger.warn({ sequence: event.sequence, type: event.type, issues: parsed.error.issues }, 'dropped an invalid socket event');
    if (rooms.length > 0) this.server.to(rooms).emit('event', parsed.data);
  }

  emitLive(room: Room, message: unknown): void {
    const parsed = LiveMessage.safeParse(message);
    if (!parsed.success) return void this.logger.warn({ room, issues: parsed.error.issues }, 'dropped an invalid live message');
    this.server.to(room).emit('live', parsed.data);
  }
}

function invalid(message = 'invalid subscription'): SubscribeAck {
  return { ok: false, error: { code: 'bad_request', message: `${message} (rooms: runs, run:<id>, fleet, costs)` } };
}
