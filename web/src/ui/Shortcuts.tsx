import { useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { currentTheme, setTheme } from '../lib/theme';
import { Button } from './Button';
import { Dialog, DialogClose, DialogContent, DialogTrigger } from './Dialog';
import { isTypingTarget, matchShortcut, SHORTCUTS } from './shortcuts';
import { Tooltip } from './Tooltip';

/** Global shortcuts and their `?` sheet (a Radix dialog: focus trap, Esc, focus back on close). */
export function ShortcutsHelp() {
  const [open, setOpen] = useState(false);
  const isOpen = useRef(false);
  isOpen.current = open;
  const navigate = useNavigate();
  const pending = useRef<string[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
      if (isOpen.current) return;
      const { action, pending: next } = matchShortcut(pending.current, e.key);
      pending.current = next;
      if (timer.current) clearTimeout(timer.current);
      if (next.length) timer.current = setTimeout(() => (pending.current = []), 1500);
      if (!action) return;
      e.preventDefault();
      if (action === 'help') setOpen(true);
      else if (action === 'theme') setTheme(currentTheme() === 'dark' ? 'light' : 'dark');
      else if (action === 'search') document.querySelector<HTMLElement>('[role="search"] input, input[type="search"]')?.focus();
      else navigate(action.slice(3));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <Tooltip content="Keyboard shortcuts (?)" side="bottom">
        <DialogTrigger asChild>
          <Button variant="ghost" size="small" aria-label="Keyboard shortcuts">
            ?
          </Button>
        </DialogTrigger>
      </Tooltip>
      <DialogContent title="Keyboard shortcuts">
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
        <div className="actions">
          <DialogClose asChild>
            <Button size="small">Close</Button>
          </DialogClose>
        </div>
      </DialogContent>
    </Dialog>
  );
}
