import { cva, type VariantProps } from 'class-variance-authority';
import type { ButtonHTMLAttributes } from 'react';
import { cn } from './cn';

/**
 * shadcn-style button: variants over the stylesheet's `.btn` (so old and new pages look the same
 * while the migration to Tailwind utilities is progressive); extra utilities merge in via `className`.
 */
export const buttonVariants = cva('btn', {
  variants: {
    variant: { default: '', primary: 'btn--primary', ghost: 'btn--ghost', danger: 'btn--danger' },
    size: { default: '', small: 'btn--small' },
  },
  defaultVariants: { variant: 'default', size: 'default' },
});

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement>, VariantProps<typeof buttonVariants> {}

export function Button({ className, variant, size, type = 'button', ...props }: ButtonProps) {
  return <button type={type} className={cn(buttonVariants({ variant, size }), className)} {...props} />;
}
