import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { eventually } from '@conclave/testing';
import { wsCorkPatched } from './ws-cork-patch';

/** the TCP socket under a socket.io connection on the websocket transport (internal: its write count is what the patch changes) */
type WithRawSocket = { conn: { transport: { socket: { _socket: NetSocket } } } };

describe('the ws cork patch (one socket write per event-loop turn for each client, issue 12)', () => {
  let http: HttpServer;
  let server: Server;
  let client: ClientSocket;
  let raw: NetSocket;

  beforeAll(async () => {
    http = createServer();
    server = new Server(http, { serveClient: false });
    const connected = new Promise<NetSocket>((resolve) => server.on('connection', (s) => resolve((s as unknown as WithRawSocket).conn.transport.socket._socket)));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
    raw = await connected;
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('sends the frames of one turn in one write, every frame intact and in order', async () => {
    expect(wsCorkPatched).toBe(true);
    const received: number[] = [];
    client.on('n' as never, (n: number) => received.push(n));
    let writes = 0;
    const socket = raw as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    for (const method of ['_write', '_writev'] as const) {
      const original = socket[method].bind(raw);
      socket[method] = (...args: unknown[]) => {
        writes += 1;
        return original(...args);
      };
    }
    for (let n = 0; n < 20; n++) server.emit('n', n);
    await eventually(async () => received.length === 20, 'the 20 messages');
    expect(received).toEqual([...Array(20).keys()]);
    // 20 frames, each a header and a payload; without the patch each frame is its own write
    expect(writes).toBeLessThanOrEqual(2);
  });
});
