import { toast } from 'sonner';
import { describeCommandError } from './feature-errors';

/**
 * The outcome of a command as a toast (sonner; the <Toaster/> is mounted once in the app shell).
 * Every command sent from the dashboard reports here: what was done, or that it was refused with
 * the API's reason (a 409 / 422 message and its code).
 */
export function notifyDone(title: string, description?: string): void {
  toast.success(title, description ? { description } : undefined);
}

export function notifyRefused(title: string, error: unknown): void {
  toast.error(title, { description: describeCommandError(error) });
}

/** What to say about a command, given its arguments: `[done, refused]`. */
export type CommandLabels<TArgs> = (args: TArgs) => readonly [done: string, refused: string];

/**
 * onSuccess / onError handlers for a TanStack mutation that toast its outcome; the mutation's own
 * handlers (navigation, refetching) still run beside them.
 */
export function toastOutcome<TResult, TArgs>(labels: CommandLabels<TArgs>, describe?: (result: TResult, args: TArgs) => string | undefined) {
  return {
    onSuccess: (result: TResult, args: TArgs) => notifyDone(labels(args)[0], describe?.(result, args)),
    onError: (error: unknown, args: TArgs) => notifyRefused(labels(args)[1], error),
  };
}
