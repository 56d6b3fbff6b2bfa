/**
 * The dashboard's chart styling (recharts), in one place: grid, axes and tooltip take the theme's
 * CSS variables, so every chart follows the light and dark themes alike.
 */
export const GRID = { strokeDasharray: '3 3', stroke: 'var(--border)' } as const;
export const AXIS = { stroke: 'var(--text-muted)' } as const;
export const TOOLTIP_STYLE = { background: 'var(--bg-elev)', border: '1px solid var(--border)' } as const;
/** A dollar axis tick (the tooltip uses formatUsd). */
export const usdTick = (v: number) => `$${v}`;
