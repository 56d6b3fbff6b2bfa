import { SocketEvent, SubscribeAck, SubscribeMessage, type ClientToServerEvents, type Room, type ServerToClientEvents } from '@conclave/contracts';
import { io, type Socket } from 'socket.io-client';
import type { Connection } from './client';

export interface LiveHandlers {
  onEvent(event: SocketEvent): void;
  /**
   * After every (re)connection, once each room is joined again. The socket does not replay: this is
   * where a client fetches what it missed (REST), so it runs after the first join too.
   */
  onSubscribed(reconnected: boolean): void;
  /** a refusal the client cannot get past by retrying (a bad token, a refused room) */
  onFatal(error: Error): void;
  /** connection trouble socket.io is retrying (for a note on stderr) */
  onTrouble?(message: string): void;
}

export interface Live {
  close(): void;
}

const ACK_TIMEOUT_MS = 10_000;

/**
 * The gateway's socket.io (path /socket.io) joined to `rooms`, the token in the handshake
 * (`auth.token`, as the dashboard sends it). Messages are validated with the contracts' schemas;
 * an invalid one is dropped. Delivery is at-least-once and may repeat across rooms and
 * reconnections: handlers must be idempotent by sequence.
 */
export function connectLive(connection: Connection, rooms: readonly Room[], handlers: LiveHandlers): Live {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(connection.url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    auth: connection.token ? { token: connection.token } : {},
  });
  let connections = 0;
  let closed = false;

  const joinAll = async () => {
    for (const room of rooms) {
      const reply: unknown = await (socket.timeout(ACK_TIMEOUT_MS) as unknown as { emitWithAck(ev: 'subscribe', m: SubscribeMessage): Promise<unknown> }).emitWithAck(
        'subscribe',
        SubscribeMessage.parse({ room }),
      );
      const ack = SubscribeAck.safeParse(reply);
      if (!ack.success) throw new Error(`invalid subscribe acknowledgement for ${room}`);
      if (!ack.data.ok) throw Object.assign(new Error(`subscribe ${room}: ${ack.data.error.message}`), { fatal: true });
    }
  };

  socket.on('connect', () => {
    connections += 1;
    const reconnected = connections > 1;
    joinAll().then(
      () => !closed && handlers.onSubscribed(reconnected),
      (err: Error & { fatal?: boolean }) => {
        if (closed) return;
        if (err.fatal) return handlers.onFatal(err);
        // no acknowledgement in time: a new connection joins again
        handlers.onTrouble?.(`${err.message}; reconnecting`);
        socket.disconnect().connect();
      },
    );
  });
  socket.on('disconnect', (reason) => {
    if (closed) return;
    handlers.onTrouble?.(`live connection lost (${reason}); reconnecting`);
    // the server closing a socket on purpose (a restart) is not retried by socket.io itself
    if (reason === 'io server disconnect') setTimeout(() => !closed && socket.connect(), 1000);
  });
  socket.on('connect_error', (err) => {
    if (closed) return;
    if (err.message === 'unauthorized') {
      socket.disconnect();
      return handlers.onFatal(new Error('the gateway refused the live connection: missing or invalid token (CONCLAVE_API_TOKEN or --token)'));
    }
    if (!socket.active) return handlers.onFatal(new Error(`the gateway refused the live connection: ${err.message}`));
    handlers.onTrouble?.(`live connection to ${connection.url} failed (${err.message}); retrying`);
  });
  socket.on('event', (raw: unknown) => {
    const parsed = SocketEvent.safeParse(raw);
    if (parsed.success) handlers.onEvent(parsed.data);
  });

  return {
    close() {
      closed = true;
      socket.disconnect();
    },
  };
}
