import type { RunUsageItem } from '@conclave/contracts';

/** One bar of the run's spend chart: a provider/model in one role (candidate or judge). */
export interface UsageBar {
  key: string;
  label: string;
  /** candidate or judge (not `role`: recharts puts a bar's data on its SVG element, where `role` is ARIA's) */
  kind: RunUsageItem['role'];
  calls: number;
  input: number;
  output: number;
  costUsd: number;
}

/** The chart's bars, costliest first, and the totals (they equal the run's cost and tokens). Pure. */
export function usageBars(items: readonly RunUsageItem[]): { bars: UsageBar[]; total: { costUsd: number; input: number; output: number; calls: number } } {
  const bars = items
    .map((i) => ({
      key: `${i.role}:${i.provider}/${i.model}`,
      label: `${i.provider}/${i.model}${i.role === 'judge' ? ' (judge)' : ''}`,
      kind: i.role,
      calls: i.calls,
      input: i.tokens.input,
      output: i.tokens.output,
      costUsd: i.costUsd,
    }))
    .sort((a, b) => b.costUsd - a.costUsd || b.input + b.output - (a.input + a.output) || a.key.localeCompare(b.key));
  const total = bars.reduce((t, b) => ({ costUsd: t.costUsd + b.costUsd, input: t.input + b.input, output: t.output + b.output, calls: t.calls + b.calls }), { costUsd: 0, input: 0, output: 0, calls: 0 });
  return { bars, total };
}
