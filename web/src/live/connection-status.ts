import { useSyncExternalStore } from 'react';

/**
 * The live connection's state, kept apart from the socket module so the app shell can show it
 * without loading socket.io (which ships with the pages that need it).
 */
export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline';

let status: ConnectionStatus = 'idle';
const listeners = new Set<() => void>();

export function setConnectionStatus(next: ConnectionStatus): void {
  if (next === status) return;
  status = next;
  listeners.forEach((l) => l());
}

export function getConnectionStatus(): ConnectionStatus {
  return status;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useConnectionStatus(): ConnectionStatus {
  return useSyncExternalStore(subscribe, getConnectionStatus, () => 'idle');
}
