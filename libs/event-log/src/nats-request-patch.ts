import { RequestOne } from '@nats-io/nats-core/internal';

/**
 * nats.js (3.x) settles every request and then calls `cancel()`, which rejects the (already
 * settled, so unaffected) promise with a new RequestError — an Error with a captured stack trace,
 * for every JetStream publish and every request/reply: about 3 % of the stack's CPU in `npm run
 * bench` (issue 12). After a request has settled, this skips that allocation and does the rest of
 * `cancel()` unchanged; a real cancel (before an answer, or with a reason) runs the original.
 * Applied once per process, and only to the code it was written against: if a later nats.js
 * changes `cancel`, the patch is not applied (and `natsRequestPatched` says so).
 */
const SETTLED = Symbol('conclave.settled');
interface PatchableRequest {
  [SETTLED]?: boolean;
  timer?: { cancel(): void };
  mux: { cancel(request: unknown): void };
}
type Proto = {
  resolver(this: PatchableRequest, err: Error | null, msg: unknown): void;
  cancel(this: PatchableRequest, err?: Error): void;
};

function patch(): boolean {
  const proto = RequestOne.prototype as unknown as Proto;
  if ((proto as { [SETTLED]?: true })[SETTLED]) return true;
  const { resolver, cancel } = proto;
  if (typeof resolver !== 'function' || typeof cancel !== 'function' || !/new errors_1\.RequestError\("cancelled"\)/.test(cancel.toString())) return false;
  proto.resolver = function (this: PatchableRequest, err, msg) {
    this[SETTLED] = true;
    resolver.call(this, err, msg);
  };
  proto.cancel = function (this: PatchableRequest, err) {
    if (err || !this[SETTLED]) return cancel.call(this, err);
    this.timer?.cancel();
    this.mux.cancel(this);
  };
  (proto as { [SETTLED]?: true })[SETTLED] = true;
  return true;
}

export const natsRequestPatched = patch();
