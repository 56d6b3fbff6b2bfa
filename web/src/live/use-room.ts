import type { Room } from '@conclave/contracts';
import { useEffect, useRef } from 'react';
import { subscribeRoom, type RoomHandlers } from './socket';

/**
 * Keep `room` joined while the component is mounted (null: none). Handlers may change on every
 * render; the latest ones are called, without re-joining the room.
 */
export function useRoom(room: Room | null, handlers: RoomHandlers): void {
  const latest = useRef(handlers);
  useEffect(() => {
    latest.current = handlers;
  });
  useEffect(() => {
    if (!room) return;
    return subscribeRoom(room, {
      onEvent: (e) => latest.current.onEvent?.(e),
      onLive: (m) => latest.current.onLive?.(m),
      onSubscribed: () => latest.current.onSubscribed?.(),
      onError: (err) => latest.current.onError?.(err),
    });
  }, [room]);
}
