import { ProtocolHandler } from '@nats-io/nats-core/internal';

/**
 * nats.js (3.x) writes its outbound buffer to the socket at the end of the microtask queue that
 * filled it: with many small publishes, requests and acks spread over the callbacks of one
 * event-loop turn, that is one `write` system call per callback. On loopback the kernel runs the
 * receiving side of TCP inside each write, so these writes were about a sixth of the stack's CPU in
 * `npm run bench` (issue 12). Here the first command after a flush schedules the flush with
 * `setImmediate` instead: everything the turn's callbacks send leaves in one write, right after the
 * turn's I/O (no timer, no added wait beyond the turn). A full buffer still flushes inline, and
 * `flush()`/PING and the connect handshake are untouched. Applied once per process, and only to the
 * code it was written against (`natsFlushPatched` says whether it was).
 */
const PATCHED = Symbol('conclave.flushPatched');
const SCHEDULED = Symbol('conclave.flushScheduled');

interface PatchableHandler {
  [SCHEDULED]?: boolean;
  outbound: { length(): number; size(): number; fill(buf: Uint8Array, ...payloads: Uint8Array[]): void };
  pendingLimit: number;
  flushPending(): void;
}
type Proto = { sendCommand(this: PatchableHandler, cmd: string | Uint8Array, ...payloads: Uint8Array[]): void; [PATCHED]?: true };

const encoder = new TextEncoder();

function patch(): boolean {
  const proto = ProtocolHandler.prototype as unknown as Proto;
  if (proto[PATCHED]) return true;
  const original = proto.sendCommand;
  const source = typeof original === 'function' ? original.toString() : '';
  // the 3.x body: encode, fill, flush in a microtask when the buffer was empty, inline when full
  if (!/queueMicrotask\(\(\) => \{\s*this\.flushPending\(\);\s*\}\)/.test(source) || !/this\.pendingLimit/.test(source)) return false;
  proto.sendCommand = function (this: PatchableHandler, cmd, ...payloads) {
    this.outbound.fill(typeof cmd === 'string' ? encoder.encode(cmd) : cmd, ...payloads);
    if (this.outbound.size() >= this.pendingLimit) {
      this.flushPending();
      return;
    }
    if (this[SCHEDULED]) return;
    this[SCHEDULED] = true;
    setImmediate(() => {
      this[SCHEDULED] = false;
      this.flushPending();
    });
  };
  proto[PATCHED] = true;
  return true;
}

export const natsFlushPatched = patch();
