import {
  ALERT_ROOM_EVENTS,
  LiveMessage,
  SocketEvent,
  SubscribeAck,
  SubscribeMessage,
  type ClientToServerEvents,
  type Room,
  type ServerToClientEvents,
} from '@conclave/contracts';
import { io, type Socket } from 'socket.io-client';
import { authenticationRequired, getAuth, subscribeAuth } from '../auth/session';
import { setConnectionStatus } from './connection-status';

/**
 * One socket.io connection for the whole app (same origin, path /socket.io), shared by every page
 * through reference-counted room subscriptions.
 *
 * Guarantees and caveats:
 * - every message is validated with the contracts' schemas in both directions; an invalid one is
 *   dropped (and logged), never handed to a page;
 * - after every (re)connection each room in use is joined again and its subscribers get
 *   `onSubscribed`: that is where they fetch what they missed (the socket does not replay);
 * - delivery to a page is at-least-once (a socket in `runs` and `run:<id>` sees an event twice),
 *   so handlers must be idempotent by sequence;
 * - the handshake carries the tab's API token (`auth.token`, read at every (re)connection); a new
 *   token reconnects, signing out disconnects, and a handshake refused as `unauthorized` sends the
 *   app to its sign-in screen.
 */
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface RoomHandlers {
  onEvent?: (event: SocketEvent) => void;
  onLive?: (message: LiveMessage) => void;
  /** after each successful (re)join of the room */
  onSubscribed?: () => void;
  onError?: (error: { code: string; message: string }) => void;
}

interface Subscription {
  room: Room;
  handlers: RoomHandlers;
}

const ACK_TIMEOUT_MS = 10_000;
const subscriptions = new Set<Subscription>();
const roomCounts = new Map<Room, number>();
const joinedRooms = new Set<Room>();
let socket: ClientSocket | null = null;

function ensureSocket(): ClientSocket {
  if (socket) return socket;
  const s: ClientSocket = io({
    path: '/socket.io',
    autoConnect: false,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    auth: (cb) => cb(getAuth().token ? { token: getAuth().token } : {}),
  });

  s.on('connect', () => {
    setConnectionStatus('connected');
    joinedRooms.clear();
    for (const room of roomCounts.keys()) join(s, room);
  });
  s.on('disconnect', (reason) => {
    joinedRooms.clear();
    if (reason === 'io server disconnect') {
      // The server closed this socket on purpose (e.g. a restart draining clients); socket.io
      // does not retry that by itself. Come back after a pause while a page still needs a room.
      setConnectionStatus('reconnecting');
      setTimeout(() => !s.connected && roomCounts.size > 0 && s.connect(), 2000);
      return;
    }
    // `active` is false only when the client gave up or was told to disconnect for good.
    setConnectionStatus(s.active ? 'reconnecting' : 'offline');
  });
  s.on('connect_error', (err) => {
    if (err.message === 'unauthorized') {
      // a refused token: no point retrying with it; the sign-in screen brings a new one
      s.disconnect();
      setConnectionStatus('offline');
      authenticationRequired();
      return;
    }
    setConnectionStatus(s.active ? 'reconnecting' : 'offline');
    if (!s.active) console.warn('socket.io connection refused:', err.message);
  });
  s.on('refused', (refusal) => console.warn('the gateway dropped a socket message:', refusal));

  s.on('event', (raw: unknown) => {
    const parsed = SocketEvent.safeParse(raw);
    if (!parsed.success) return void console.warn('dropped an invalid socket event', parsed.error.issues, raw);
    const event = parsed.data;
    for (const sub of [...subscriptions]) if (roomWantsEvent(sub.room, event)) sub.handlers.onEvent?.(event);
  });
  s.on('live', (raw: unknown) => {
    const parsed = LiveMessage.safeParse(raw);
    if (!parsed.success) return void console.warn('dropped an invalid live message', parsed.error.issues, raw);
    const message = parsed.data;
    for (const sub of [...subscriptions]) if (roomWantsLive(sub.room, message)) sub.handlers.onLive?.(message);
  });

  socket = s;
  let token = getAuth().token;
  subscribeAuth(() => {
    const next = getAuth();
    if (next.token === token) return;
    token = next.token;
    if (s.connected || s.active) s.disconnect();
    if (next.token !== null || !next.required) {
      setConnectionStatus('connecting');
      s.connect();
    }
  });
  setConnectionStatus('connecting');
  s.connect();
  return s;
}

function roomWantsEvent(room: Room, event: SocketEvent): boolean {
  if (room === 'runs') return event.runId !== null;
  if (room.startsWith('run:')) return event.runId === room.slice(4);
  if (room === 'alerts') return ALERT_ROOM_EVENTS.includes(event.type);
  // re-judging studies (ADR 023): every study's events, or one study's
  if (room === 'studies') return event.studyId !== undefined;
  if (room.startsWith('study:')) return event.studyId === room.slice(6);
  return room === 'costs';
}

function roomWantsLive(room: Room, message: LiveMessage): boolean {
  if (message.kind === 'heartbeat') return room === 'fleet';
  return room === `run:${message.runId}`;
}

function join(s: ClientSocket, room: Room): void {
  const message = SubscribeMessage.parse({ room });
  // The contract types the ack as optional, which socket.io's timeout() typing cannot express.
  const withTimeout = s.timeout(ACK_TIMEOUT_MS) as unknown as {
    emit(ev: 'subscribe', message: SubscribeMessage, ack: (err: Error | null, reply: unknown) => void): void;
  };
  withTimeout.emit('subscribe', message, (err, reply) => {
    if (!roomCounts.has(room) || !s.connected) return; // left meanwhile, or a reconnect will rejoin
    if (err) {
      console.warn(`subscribe ${room}: no acknowledgement, retrying`);
      setTimeout(() => roomCounts.has(room) && s.connected && !joinedRooms.has(room) && join(s, room), 2000);
      return;
    }
    const ack = SubscribeAck.safeParse(reply);
    if (!ack.success || !ack.data.ok) {
      const error = ack.success && !ack.data.ok ? ack.data.error : { code: 'bad_ack', message: `invalid subscribe acknowledgement for ${room}` };
      for (const sub of subscriptionsOf(room)) sub.handlers.onError?.(error);
      return;
    }
    joinedRooms.add(room);
    for (const sub of subscriptionsOf(room)) sub.handlers.onSubscribed?.();
  });
}

function subscriptionsOf(room: Room): Subscription[] {
  return [...subscriptions].filter((s) => s.room === room);
}

/** Join `room` (shared, reference-counted); returns the function that leaves it. */
export function subscribeRoom(room: Room, handlers: RoomHandlers): () => void {
  const s = ensureSocket();
  const sub: Subscription = { room, handlers };
  subscriptions.add(sub);
  const count = (roomCounts.get(room) ?? 0) + 1;
  roomCounts.set(room, count);
  if (count === 1) {
    if (s.connected) join(s, room);
  } else if (joinedRooms.has(room)) {
    queueMicrotask(() => subscriptions.has(sub) && handlers.onSubscribed?.());
  }

  return () => {
    if (!subscriptions.delete(sub)) return;
    const left = (roomCounts.get(room) ?? 1) - 1;
    if (left > 0) return void roomCounts.set(room, left);
    roomCounts.delete(room);
    joinedRooms.delete(room);
    if (s.connected) s.emit('unsubscribe', SubscribeMessage.parse({ room }));
  };
}
