import { Inject } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer, type OnGatewayInit } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import {
  LiveMessage,
  SocketEvent,
  SubscribeAck,
  SubscribeMessage as SubscribeMessageSchema,
  type SocketRefusal,
  type ClientToServerEvents,
  type Room,
  type ServerToClientEvents,
} from '@conclave/contracts';
import type { Logger } from '@conclave/service-kit';
import { apiTokens, type GatewayConfig } from '../config';
import { bearerToken, tokenAuthenticator } from '../http/auth';
import { socketOriginCheck } from '../security/hardening';
import { HOST_REFUSED_MESSAGE, hostAllowList } from '../security/host-check';
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
    // engine.io answers handshakes (polling and websocket upgrades) before express: the Host
    // allow-list (DNS rebinding, on loopback) and the Origin check both apply here too
    const originCheck = socketOriginCheck(this.config.CORS_ORIGINS);
    const hostAllowed = hostAllowList(this.config);
    type Handshake = Parameters<typeof originCheck>[0];
    (server.engine as unknown as { opts: { allowRequest?: unknown } }).opts.allowRequest = (req: Handshake, callback: Parameters<typeof originCheck>[1]) => {
      const host = req.headers.host;
      if (hostAllowed !== null && !hostAllowed(typeof host === 'string' ? host : undefined)) return callback(HOST_REFUSED_MESSAGE, false);
      originCheck(req, callback);
    };
    const tokens = apiTokens(this.config);
    if (tokens.length > 0) {
      const authenticate = tokenAuthenticator(tokens);
      server.use((socket, next) => {
        const auth = socket.handshake.auth as { token?: unknown } | undefined;
        const presented = typeof auth?.token === 'string' ? auth.token : bearerToken(socket.handshake.headers.authorization);
        if (authenticate(presented) !== null) return next();
        const refusal = Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized', message: 'missing or invalid token (auth.token or Authorization: Bearer)' } });
        next(refusal);
      });
    }
    server.use((socket, next) => {
      this.limitMessages(socket);
      next();
    });
  }

  /**
   * A token bucket per socket (SOCKET_MESSAGES_PER_SECOND, SOCKET_MESSAGE_BURST). A message over
   * the rate is dropped unhandled: its ack (or, without one, a `refused` event) says `rate_limited`.
   * A client that keeps sending while refused (twice the burst in a row) is disconnected.
   */
  private limitMessages(socket: LiveSocket): void {
    const rate = this.config.SOCKET_MESSAGES_PER_SECOND;
    const burst = this.config.SOCKET_MESSAGE_BURST;
    let tokens = burst;
    let refilledAt = performance.now();
    let refusedInARow = 0;
    socket.use((packet, next) => {
      const now = performance.now();
      tokens = Math.min(burst, tokens + ((now - refilledAt) / 1000) * rate);
      refilledAt = now;
      if (tokens >= 1) {
        tokens -= 1;
        refusedInARow = 0;
        return next();
      }
      refusedInARow += 1;
      const event = typeof packet[0] === 'string' ? packet[0].slice(0, 64) : undefined;
      const refusal: SocketRefusal = { code: 'rate_limited', message: `too many messages: at most ${rate} per second (bursts of ${burst}) per socket`, ...(event ? { event } : {}) };
      const ack = packet[packet.length - 1];
      if (typeof ack === 'function') (ack as (reply: SubscribeAck) => void)({ ok: false, error: { code: refusal.code, message: refusal.message } });
      else socket.emit('refused', refusal);
      if (refusedInARow > 2 * burst) {
        this.logger.warn({ socket: socket.id, address: socket.handshake.address, refusedInARow }, 'disconnected a socket that kept sending over its message rate');
        socket.disconnect(true);
      }
    });
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: LiveSocket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    const parsed = SubscribeMessageSchema.safeParse(body);
    if (!parsed.success) return invalid(parsed.error.issues[0]?.message);
    const max = this.config.SOCKET_MAX_ROOMS;
    // socket.rooms holds the socket's own id room besides the ones it joined
    if (!socket.rooms.has(parsed.data.room) && socket.rooms.size - 1 >= max) {
      return { ok: false, error: { code: 'too_many_rooms', message: `a socket may be in at most ${max} rooms: unsubscribe from one first` } };
    }
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
  return { ok: false, error: { code: 'bad_request', message: `${message} (rooms: runs, run:<id>, fleet, costs, alerts, studies, study:<id>)` } };
}
