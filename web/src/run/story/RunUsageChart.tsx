import type { RunUsageItem } from '@conclave/contracts';
import { useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { AXIS, GRID, TOOLTIP_STYLE } from '../../ui/chart-style';
import { formatTokens, formatUsd } from '../../lib/format';
import { Table, type Column } from '../../ui/DataTable';
import { ErrorNotice } from '../../ui/ErrorNotice';
import { Loading } from '../../ui/Loading';
import { Tabs, TabsContent, TabsList, TabsTrigger } from '../../ui/Tabs';
import { useRunUsage } from './api';
import { usageBars } from './usage';

type UsageBar = ReturnType<typeof usageBars>['bars'][number];
const USAGE_COLUMNS: Column<UsageBar>[] = [
  { id: 'model', header: 'Provider / model', className: 'mono', cell: (b) => b.label.replace(' (judge)', '') },
  { id: 'role', header: 'Role', cell: (b) => b.kind },
  { id: 'calls', header: 'Calls', numeric: true, cell: (b) => b.calls },
  { id: 'input', header: 'Input', numeric: true, cell: (b) => formatTokens(b.input) },
  { id: 'output', header: 'Output', numeric: true, cell: (b) => formatTokens(b.output) },
  { id: 'cost', header: 'Cost', numeric: true, cell: (b) => formatUsd(b.costUsd) },
];

/** At most one usage read per this many ms while a run's view moves. */
const REFRESH_MS = 3000;

/** The view's sequence, moving at most every REFRESH_MS (the last value always lands). */
function useThrottledSequence(sequence: number): number {
  const [shown, setShown] = useState(sequence);
  useEffect(() => {
    if (sequence === shown) return;
    const timer = setTimeout(() => setShown(sequence), REFRESH_MS);
    return () => clearTimeout(timer);
  }, [sequence, shown]);
  return shown;
}

/** A run's tokens and cost by provider and model (candidates and judges, every attempt): a chart and its table. Lazy: recharts loads with it. */
export default function RunUsageChart({ runId, sequence }: { runId: string; sequence: number }) {
  const usage = useRunUsage(runId, useThrottledSequence(sequence));
  if (usage.isPending) return <Loading label="Loading spend…" />;
  if (usage.isError) return <ErrorNotice error={usage.error} title="Could not load the spend breakdown" onRetry={() => void usage.refetch()} />;
  return <UsageBreakdown items={usage.data.items} />;
}

/** The chart and its table for given items: from REST, or folded from the run's events up to one (the run page's time travel). */
export function UsageBreakdown({ items }: { items: readonly RunUsageItem[] }) {
  const { bars, total } = usageBars(items);
  if (bars.length === 0) return <p className="muted">Nothing spent yet.</p>;
  const height = Math.max(120, 44 * bars.length + 40);
  return (
    <div className="run-usage">
      {/* nothing billed (the simulated provider is free): the tokens say more */}
      <Tabs defaultValue={total.costUsd > 0 ? 'cost' : 'tokens'}>
        <TabsList aria-label="Measure">
          <TabsTrigger value="cost">Cost</TabsTrigger>
          <TabsTrigger value="tokens">Tokens</TabsTrigger>
        </TabsList>
        <TabsContent value="cost">
          <div className="run-usage__chart" role="img" aria-label={`Cost by provider and model: ${bars.map((b) => `${b.label} ${formatUsd(b.costUsd)}`).join(', ')}`}>
            <ResponsiveContainer width="100%" height={height}>
              <BarChart data={bars} layout="vertical" margin={{ left: 8, right: 16 }}>
                <CartesianGrid {...GRID} />
                <XAxis type="number" {...AXIS} tickFormatter={(v: number) => formatUsd(v)} />
                <YAxis type="category" dataKey="label" width={200} {...AXIS} />
                <Tooltip formatter={(v) => formatUsd(Number(v))} contentStyle={TOOLTIP_STYLE} />
                <Bar dataKey="costUsd" name="Cost" fill="var(--accent)" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        </TabsContent>
        <TabsContent value="tokens">
          <div className="run-usage__chart" role="img" aria-label={`Tokens by provider and model: ${bars.map((b) => `${b.label} ${b.input} in, ${b.output} out`).join(', ')}`}>
            <ResponsiveContainer width="100%" height={height}>
              <BarChart data={bars} layout="vertical" margin={{ left: 8, right: 16 }}>
                <CartesianGrid {...GRID} />
                <XAxis type="number" {...AXIS} tickFormatter={(v: number) => formatTokens(v)} />
                <YAxis type="category" dataKey="label" width={200} {...AXIS} />
                <Tooltip formatter={(v) => formatTokens(Number(v))} contentStyle={TOOLTIP_STYLE} />
                <Legend />
                <Bar dataKey="input" name="Input tokens" stackId="t" fill="var(--st-running)" isAnimationActive={false} />
                <Bar dataKey="output" name="Output tokens" stackId="t" fill="var(--st-completed)" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        </TabsContent>
      </Tabs>
      <Table
        caption="Spend by provider and model"
        columns={USAGE_COLUMNS}
        rows={bars}
        rowKey={(b) => b.key}
        compact
        data-testid="run-usage-table"
        foot={
          <tr>
            <th scope="row" colSpan={2}>
              Total
            </th>
            <td className="num">{total.calls}</td>
            <td className="num">{formatTokens(total.input)}</td>
            <td className="num">{formatTokens(total.output)}</td>
            <td className="num">{formatUsd(total.costUsd)}</td>
          </tr>
        }
      />
    </div>
  );
}
