import { createRequire } from 'node:module';

/**
 * socket.io sends each packet as its own WebSocket frame, and `ws` writes each frame to the TCP
 * socket at once: a client in the `runs` room gets one `write` system call per event, and on
 * loopback the kernel runs the receiving side inside each write (issue 12: about 4 % of the single
 * process's CPU at 32 runs in flight). Here the first frame a socket sends in an event-loop turn
 * corks the socket and a `setImmediate` uncorks it, so every frame of the turn leaves in one
 * write, right after the turn's I/O. Frames, their order and their callbacks are unchanged (a
 * frame's callback fires once its bytes are written, as before). Applied once per process, only to
 * the `ws` that engine.io uses and only to the `sendFrame` it was written against
 * (`wsCorkPatched` says whether it was).
 */
const PATCHED = Symbol('conclave.corkPatched');
const CORKED = Symbol('conclave.corked');

interface CorkableSocket {
  [CORKED]?: boolean;
  destroyed: boolean;
  cork(): void;
  uncork(): void;
}
type SenderProto = { sendFrame(this: { _socket: CorkableSocket }, list: unknown[], cb?: unknown): void; [PATCHED]?: true };

function patch(): boolean {
  let Sender: { prototype: SenderProto } | undefined;
  try {
    const local = createRequire(__filename);
    // resolved from engine.io's own entry: its nested `ws` when it has one
    const fromEngine = createRequire(local.resolve('engine.io'));
    Sender = (fromEngine(fromEngine.resolve('ws')) as { Sender?: { prototype: SenderProto } }).Sender;
  } catch {
    return false;
  }
  const proto = Sender?.prototype;
  if (!proto || typeof proto.sendFrame !== 'function') return false;
  if (proto[PATCHED]) return true;
  const original = proto.sendFrame;
  // the 8.x body: cork/write/write/uncork for a header and payload, or one write
  if (!/this\._socket\.write\(list\[0\]/.test(original.toString())) return false;
  proto.sendFrame = function (list, cb) {
    const socket = this._socket;
    if (!socket[CORKED] && !socket.destroyed) {
      socket[CORKED] = true;
      socket.cork();
      setImmediate(() => {
        socket[CORKED] = false;
        socket.uncork();
      });
    }
    original.call(this, list, cb);
  };
  proto[PATCHED] = true;
  return true;
}

export const wsCorkPatched = patch();
