import * as DialogPrimitive from '@radix-ui/react-dialog';
import type { ComponentPropsWithoutRef, ReactNode } from 'react';
import { cn } from './cn';

/**
 * shadcn-style modal dialog on Radix: focus trapped and restored to the trigger, Esc and a click
 * outside close it, the title labels it and the description (when given) describes it.
 */
export const Dialog = DialogPrimitive.Root;
export const DialogTrigger = DialogPrimitive.Trigger;
export const DialogClose = DialogPrimitive.Close;

export interface DialogContentProps extends Omit<ComponentPropsWithoutRef<typeof DialogPrimitive.Content>, 'title'> {
  title: ReactNode;
  description?: ReactNode;
  wide?: boolean;
}

export function DialogContent({ title, description, wide, className, children, ...props }: DialogContentProps) {
  return (
    <DialogPrimitive.Portal>
      <DialogPrimitive.Overlay className="fixed inset-0 z-40 bg-black/45" />
      <DialogPrimitive.Content
        // no description: say so, or Radix warns that aria-describedby is missing
        {...(description === undefined ? { 'aria-describedby': undefined } : {})}
        className={cn(
          'dialog fixed left-1/2 top-1/2 z-50 max-h-[85vh] -translate-x-1/2 -translate-y-1/2 overflow-auto',
          wide ? 'w-[min(760px,94vw)]' : 'w-[min(480px,92vw)]',
          className,
        )}
        {...props}
      >
        <div className="mb-3 flex items-start justify-between gap-4">
          <DialogPrimitive.Title className="m-0 text-lg">{title}</DialogPrimitive.Title>
          <DialogPrimitive.Close className="btn btn--ghost btn--small" aria-label="Close">
            ✕
          </DialogPrimitive.Close>
        </div>
        {description !== undefined && <DialogPrimitive.Description className="muted mt-0">{description}</DialogPrimitive.Description>}
        {children}
      </DialogPrimitive.Content>
    </DialogPrimitive.Portal>
  );
}
