import { useConnectionStatus, type ConnectionStatus } from '../live/connection-status';

const LABEL: Record<ConnectionStatus, string> = {
  idle: 'Live: off',
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** The live socket's state; announced politely to screen readers when it changes. */
export function ConnectionIndicator() {
  const status = useConnectionStatus();
  return (
    <span className={`connection connection--${status}`} role="status" aria-live="polite" title="Live updates (socket.io)">
      <span className="connection__dot" aria-hidden="true" />
      {LABEL[status]}
    </span>
  );
}
