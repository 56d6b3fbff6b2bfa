import * as MenuPrimitive from '@radix-ui/react-dropdown-menu';
import { Check, ChevronDown } from 'lucide-react';
import type { ReactNode } from 'react';
import { cn } from './cn';
import { useInertWhileOpen } from './inert-background';

/** shadcn-style menu button on Radix (role=menu, arrow keys, typeahead, Esc returns focus). */
export interface MenuItem {
  label: ReactNode;
  /** a link (e.g. a download) … */
  href?: string;
  download?: boolean;
  /** … or an action */
  onSelect?: () => void;
}

function MenuShell({ label, className, align, contentClassName, children }: { label: ReactNode; className?: string; align: 'start' | 'end'; contentClassName: string; children: ReactNode }) {
  const onOpenChange = useInertWhileOpen();
  return (
    <MenuPrimitive.Root onOpenChange={onOpenChange}>
      <MenuPrimitive.Trigger className={cn('btn btn--small', className)}>
        {label} <ChevronDown size={12} aria-hidden="true" />
      </MenuPrimitive.Trigger>
      <MenuPrimitive.Portal>
        <MenuPrimitive.Content align={align} sideOffset={4} className={cn('menu-content z-50 p-1', contentClassName)}>
          {children}
        </MenuPrimitive.Content>
      </MenuPrimitive.Portal>
    </MenuPrimitive.Root>
  );
}

export function DropdownMenu({ label, items, className }: { label: ReactNode; items: readonly MenuItem[]; className?: string }) {
  return (
    <MenuShell label={label} className={className} align="end" contentClassName="min-w-36">
      {items.map((item, i) =>
        item.href ? (
          <MenuPrimitive.Item key={i} asChild className="menu-item">
            <a href={item.href} download={item.download}>
              {item.label}
            </a>
          </MenuPrimitive.Item>
        ) : (
          <MenuPrimitive.Item key={i} className="menu-item" onSelect={item.onSelect}>
            {item.label}
          </MenuPrimitive.Item>
        ),
      )}
    </MenuShell>
  );
}

/** A menu of checkboxes (multi-select filter): stays open while items are toggled. */
export function CheckboxMenu({
  label,
  options,
  selected,
  onChange,
  className,
}: {
  label: ReactNode;
  options: readonly string[];
  selected: readonly string[];
  onChange: (selected: string[]) => void;
  className?: string;
}) {
  const chosen = new Set(selected);
  return (
    <MenuShell label={label} className={className} align="start" contentClassName="max-h-[min(420px,var(--radix-dropdown-menu-content-available-height))] min-w-56 overflow-auto">
      {selected.length > 0 && (
        <MenuPrimitive.Item className="menu-item" onSelect={() => onChange([])}>
          Clear ({selected.length})
        </MenuPrimitive.Item>
      )}
      {options.map((option) => (
        <MenuPrimitive.CheckboxItem
          key={option}
          className="menu-item menu-item--check relative"
          checked={chosen.has(option)}
          onSelect={(e) => e.preventDefault()}
          onCheckedChange={(on) => onChange(on ? [...selected, option] : selected.filter((s) => s !== option))}
        >
          <MenuPrimitive.ItemIndicator className="absolute left-1.5 inline-flex">
            <Check size={12} aria-hidden="true" />
          </MenuPrimitive.ItemIndicator>
          {option}
        </MenuPrimitive.CheckboxItem>
      ))}
    </MenuShell>
  );
}
