import type { LiveMessage } from '@conclave/contracts';
import type { WorkerView } from '@conclave/contracts';

type Heartbeat = Extract<LiveMessage, { kind: 'heartbeat' }>;

/** A worker is stalled when its last heartbeat is older than this (the server marks it too). */
export const STALL_AFTER_MS = 30_000;

/** Merge a live heartbeat into the fleet (pure): newer heartbeats win, unknown workers are added. */
export function applyHeartbeat(workers: readonly WorkerView[], hb: Heartbeat): WorkerView[] {
  const index = workers.findIndex((w) => w.id === hb.workerId);
  const prev = index >= 0 ? workers[index] : undefined;
  if (prev?.lastHeartbeatAt && Date.parse(prev.lastHeartbeatAt) > Date.parse(hb.at)) return workers as WorkerView[];
  const next: WorkerView = {
    ...prev,
    id: hb.workerId,
    role: hb.role,
    host: hb.host,
    status: hb.status,
    inFlight: hb.inFlight,
    done: hb.done,
    failed: hb.failed,
    lastHeartbeatAt: hb.at,
  };
  if (index < 0) return [...workers, next];
  const out = workers.slice();
  out[index] = next;
  return out;
}

/** The status to show: the server's, or `stalled` once heartbeats stopped for STALL_AFTER_MS (draining workers stop on purpose). */
export function effectiveStatus(w: WorkerView, now: number): WorkerView['status'] {
  if (w.status === 'stalled' || w.status === 'stopped' || !w.lastHeartbeatAt) return w.status;
  if (now - Date.parse(w.lastHeartbeatAt) <= STALL_AFTER_MS) return w.status;
  return w.status === 'draining' ? 'stopped' : 'stalled';
}
