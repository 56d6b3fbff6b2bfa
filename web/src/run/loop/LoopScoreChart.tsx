import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { AXIS, GRID } from '../../ui/chart-style';

/** A loop's score per round (0–1) with its pass threshold drawn as a dashed line. */
export default function LoopScoreChart({ data, threshold }: { data: { round: string; score: number | null }[]; threshold: number }) {
  return (
    <ResponsiveContainer width="100%" height={160}>
      <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: -16 }}>
        <CartesianGrid {...GRID} />
        <XAxis dataKey="round" {...AXIS} fontSize={12} />
        <YAxis domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} {...AXIS} fontSize={12} />
        <Tooltip formatter={(value) => (typeof value === 'number' ? value.toFixed(2) : String(value))} />
        <ReferenceLine
          y={threshold}
          stroke="var(--st-waiting)"
          strokeDasharray="6 4"
          label={{ value: `threshold ${threshold.toFixed(2)}`, position: 'insideTopRight', fill: 'var(--text-muted)', fontSize: 11 }}
        />
        <Line type="linear" dataKey="score" stroke="var(--accent)" strokeWidth={2} dot={{ r: 4 }} isAnimationActive={false} connectNulls />
      </LineChart>
    </ResponsiveContainer>
  );
}
