import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { formatUsd } from '../lib/format';
import type { PhaseNode } from './types';

/**
 * One phase. The root element's data attributes are a stable test contract (the e2e suite reads
 * them): data-testid="phase-node", data-phase-id, data-status.
 * Its ports are plain marks, not React Flow <Handle>s (two store subscriptions each, 400 with 200
 * phases): the edges' ends come from the node's declared `handles` (PipelineGraph) until React Flow
 * measures the node, then from these marks, which it finds by their `source` / `target` class and
 * `data-handlepos` as it finds its own handles.
 */
function PhaseNodeComponent({ data, selected }: NodeProps<PhaseNode>) {
  const { phase } = data;
  const title = phase.name ?? phase.id;
  return (
    <div
      className={`phase-node status--${phase.status}${selected ? ' is-selected' : ''}`}
      data-testid="phase-node"
      data-phase-id={phase.id}
      data-status={phase.status}
      title={`${title} (${phase.kind}) — ${phase.status}`}
    >
      <span className="phase-node__port phase-node__port--in target" data-handlepos="left" aria-hidden="true" />
      <div className="phase-node__head">
        <span className="phase-node__title">{title}</span>
        <span className="phase-node__kind">{phase.kind}</span>
      </div>
      <div className="phase-node__meta">
        <span className="phase-node__status">{phase.status}</span>
        {phase.attempt > 1 && <span>attempt {phase.attempt}</span>}
        {phase.costUsd > 0 && <span>{formatUsd(phase.costUsd)}</span>}
      </div>
      <span className="phase-node__port phase-node__port--out source" data-handlepos="right" aria-hidden="true" />
    </div>
  );
}

export const PhaseNodeView = memo(PhaseNodeComponent);
