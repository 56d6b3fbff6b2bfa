import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { formatUsd } from '../lib/format';
import type { PhaseNode } from './types';

/**
 * One phase. The root element's data attributes are a stable test contract (the e2e suite reads
 * them): data-testid="phase-node", data-phase-id, data-status.
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
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="phase-node__head">
        <span className="phase-node__title">{title}</span>
        <span className="phase-node__kind">{phase.kind}</span>
      </div>
      <div className="phase-node__meta">
        <span className="phase-node__status">{phase.status}</span>
        {phase.attempt > 1 && <span>attempt {phase.attempt}</span>}
        {phase.costUsd > 0 && <span>{formatUsd(phase.costUsd)}</span>}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

export const PhaseNodeView = memo(PhaseNodeComponent);
