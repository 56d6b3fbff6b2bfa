import * as SelectPrimitive from '@radix-ui/react-select';
import { Check, ChevronDown } from 'lucide-react';
import { useId, type ReactNode } from 'react';
import { cn } from './cn';
import { useInertWhileOpen } from './inert-background';

/**
 * shadcn-style select on Radix (a listbox with typeahead and arrow keys). Radix reserves the empty
 * string, so "no choice" options use NONE and `Select` maps it back to ''.
 */
export const NONE = '__none__';

export interface SelectOption {
  value: string;
  label: string;
}

export interface SelectProps {
  value: string;
  onValueChange: (value: string) => void;
  options: readonly SelectOption[];
  /** the accessible name (or use `aria-labelledby` / wrap in a <label> with `id`) */
  'aria-label'?: string;
  'aria-labelledby'?: string;
  id?: string;
  placeholder?: string;
  disabled?: boolean;
  className?: string;
}

export function Select({ value, onValueChange, options, placeholder, disabled, className, id, 'aria-label': ariaLabel, 'aria-labelledby': labelledBy }: SelectProps) {
  const onOpenChange = useInertWhileOpen();
  return (
    <SelectPrimitive.Root value={value === '' ? NONE : value} onValueChange={(v) => onValueChange(v === NONE ? '' : v)} disabled={disabled} onOpenChange={onOpenChange}>
      <SelectPrimitive.Trigger id={id} aria-label={ariaLabel} aria-labelledby={labelledBy} className={cn('select-trigger inline-flex items-center justify-between gap-2', className)}>
        <SelectPrimitive.Value placeholder={placeholder} />
        <SelectPrimitive.Icon>
          <ChevronDown size={14} aria-hidden="true" />
        </SelectPrimitive.Icon>
      </SelectPrimitive.Trigger>
      <SelectPrimitive.Portal>
        <SelectPrimitive.Content position="popper" sideOffset={4} className="select-content z-50 max-h-[min(320px,var(--radix-select-content-available-height))] min-w-[var(--radix-select-trigger-width)] overflow-auto">
          <SelectPrimitive.Viewport className="p-1">
            {options.map((o) => (
              <SelectPrimitive.Item key={o.value || NONE} value={o.value || NONE} className="select-item relative flex items-center gap-2">
                <SelectPrimitive.ItemIndicator className="absolute left-1.5 inline-flex">
                  <Check size={12} aria-hidden="true" />
                </SelectPrimitive.ItemIndicator>
                <SelectPrimitive.ItemText>{o.label}</SelectPrimitive.ItemText>
              </SelectPrimitive.Item>
            ))}
          </SelectPrimitive.Viewport>
        </SelectPrimitive.Content>
      </SelectPrimitive.Portal>
    </SelectPrimitive.Root>
  );
}

/** A labelled select in the forms' `.field` layout (the visible label names the listbox trigger). */
export function SelectField({ label, fieldClassName, ...props }: Omit<SelectProps, 'aria-labelledby' | 'aria-label'> & { label: ReactNode; fieldClassName?: string }) {
  const id = useId();
  return (
    <div className={cn('field', fieldClassName)}>
      <span id={id}>{label}</span>
      <Select aria-labelledby={id} {...props} />
    </div>
  );
}
