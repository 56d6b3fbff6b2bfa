import { useEffect, useRef } from 'react';
import { useNavigate } from 'react-router-dom';
import { currentTheme, setTheme } from '../lib/theme';
import { isTypingTarget, matchShortcut, SHORTCUTS } from './shortcuts';

/** Global shortcuts and their `?` sheet (a native modal <dialog>: focus trap and Esc for free). */
export function ShortcutsHelp() {
  const dialog = useRef<HTMLDialogElement>(null);
  const navigate = useNavigate();
  const pending = useRef<string[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
      if (dialog.current?.open) return;
      const { action, pending: next } = matchShortcut(pending.current, e.key);
      pending.current = next;
      if (timer.current) clearTimeout(timer.current);
      if (next.length) timer.current = setTimeout(() => (pending.current = []), 1500);
      if (!action) return;
      e.preventDefault();
      if (action === 'help') dialog.current?.showModal();
      else if (action === 'theme') setTheme(currentTheme() === 'dark' ? 'light' : 'dark');
      else if (action === 'search') document.querySelector<HTMLElement>('[role="search"] input, input[type="search"]')?.focus();
      else navigate(action.slice(3));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  return (
    <>
      <button type="button" className="btn btn--ghost btn--small" onClick={() => dialog.current?.showModal()} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
        ?
      </button>
      <dialog ref={dialog} className="dialog" aria-labelledby="shortcuts-title" onClick={(e) => e.target === dialog.current && dialog.current?.close()}>
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <table className="table table--compact">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.action}>
                <td>
                  {s.keys.map((k, i) => (
                    <span key={i}>
                      {i > 0 && ' then '}
                      <kbd>{k}</kbd>
                    </span>
                  ))}
                </td>
                <td>{s.label}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <form method="dialog" className="actions">
          <button type="submit" className="btn btn--small" autoFocus>
            Close
          </button>
        </form>
      </dialog>
    </>
  );
}
