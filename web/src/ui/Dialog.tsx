import * as DialogPrimitive from '@radix-ui/react-dialog';
import { useState, type ComponentPropsWithoutRef, type ReactNode } from 'react';
import { Button, type ButtonProps } from './Button';
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

/** A button that asks before acting (a Radix alert-style dialog instead of window.confirm). */
export function ConfirmButton({
  label,
  title,
  description,
  confirmLabel,
  onConfirm,
  variant,
  size,
  disabled,
}: {
  label: ReactNode;
  title: ReactNode;
  description: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  variant?: ButtonProps['variant'];
  size?: ButtonProps['size'];
  disabled?: boolean;
}) {
  const [open, setOpen] = useState(false);
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant={variant} size={size} disabled={disabled}>
          {label}
        </Button>
      </DialogTrigger>
      <DialogContent title={title} description={description}>
        <div className="actions">
          <Button
            variant={variant === 'danger' ? 'danger' : 'primary'}
            onClick={() => {
              setOpen(false);
              onConfirm();
            }}
          >
            {confirmLabel}
          </Button>
          <DialogClose asChild>
            <Button>Cancel</Button>
          </DialogClose>
        </div>
      </DialogContent>
    </Dialog>
  );
}
