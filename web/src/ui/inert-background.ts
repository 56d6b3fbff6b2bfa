import { useCallback, useEffect, useRef } from 'react';

/**
 * While a Radix select or menu is open, the app behind it (#root; the popup is portaled outside)
 * is `inert`. Radix traps focus in the popup and marks the rest `aria-hidden`, but leaves it in
 * the tab order, which assistive tech and axe (aria-hidden-focus) see as focusable content that is
 * hidden; `inert` takes it out of both. Dialogs need none of this (role=dialog + aria-modal).
 */
let holders = 0;

function hold(): () => void {
  const root = document.getElementById('root');
  holders++;
  if (root) root.inert = true;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders--;
    if (holders === 0 && root) root.inert = false;
  };
}

/** An `onOpenChange` for Radix roots: the background is inert exactly while the popup is open. */
export function useInertWhileOpen(onOpenChange?: (open: boolean) => void): (open: boolean) => void {
  const release = useRef<(() => void) | null>(null);
  useEffect(() => () => release.current?.(), []);
  return useCallback(
    (open: boolean) => {
      // released before Radix moves focus back to the trigger (which lives in the background)
      if (open && !release.current) release.current = hold();
      if (!open && release.current) {
        release.current();
        release.current = null;
      }
      onOpenChange?.(open);
    },
    [onOpenChange],
  );
}
