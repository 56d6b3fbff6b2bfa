import type { PhaseView, RunView, SocketEvent } from '@conclave/contracts';
import { phaseIdOf } from '../timeline';

/** Playback speeds: event time is scaled by these. */
export const SPEEDS = [1, 2, 5, 10, 20] as const;
export type Speed = (typeof SPEEDS)[number];

/** The longest pause between two events during playback, whatever the recorded gap (a gate open for an hour). */
export const MAX_GAP_MS = 1500;

/** How long playback waits before showing `next` after `current`: their recorded gap / speed, capped. */
export function playDelay(current: SocketEvent | undefined, next: SocketEvent, speed: Speed): number {
  if (!current) return 0;
  const gap = Date.parse(next.occurredAt) - Date.parse(current.occurredAt);
  if (!Number.isFinite(gap) || gap <= 0) return 0;
  return Math.min(gap / speed, MAX_GAP_MS);
}

/** Events after which the next phases are decided: the run's start, and a phase finishing. */
const BOUNDARY_TYPES = new Set(['RunStarted', 'PhaseCompleted', 'PhaseSkipped']);

export function isPhaseBoundary(event: SocketEvent | undefined): boolean {
  return !!event && BOUNDARY_TYPES.has(event.type);
}

/**
 * The phases a fork can start from at this point of the run: not finished yet, every dependency
 * completed (a fork reuses the recorded outputs upstream of its phase and runs the rest).
 */
export function forkTargets(view: RunView): PhaseView[] {
  const byId = new Map(view.phases.map((p) => [p.id, p]));
  return view.phases.filter((p) => p.status !== 'completed' && p.status !== 'skipped' && p.dependsOn.every((d) => byId.get(d)?.status === 'completed'));
}

/** The index of the boundary before (`-1`) or after (`+1`) `index`; undefined when there is none. */
export function nearestBoundary(events: readonly SocketEvent[], index: number, direction: -1 | 1): number | undefined {
  for (let i = index + direction; i >= 0 && i < events.length; i += direction) if (isPhaseBoundary(events[i])) return i;
  return undefined;
}

/** `?at=` as a sequence: a non-negative integer, else none (the live view). */
export function parseAt(value: string | null): number | undefined {
  if (value === null || !/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** What the slider says about an event: "12 of 57 · PhaseCompleted · discovery". */
export function describeEvent(event: SocketEvent | undefined, index: number, total: number): string {
  if (!event) return `before the first of ${total} events`;
  const phaseId = phaseIdOf(event.data);
  return `event ${index + 1} of ${total} · ${event.type}${phaseId !== null ? ` · ${phaseId}` : ''}`;
}
