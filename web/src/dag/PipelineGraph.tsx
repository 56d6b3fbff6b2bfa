import type { PhaseView } from '@conclave/contracts';
import { Background, Controls, MarkerType, ReactFlow, type NodeMouseHandler, type NodeTypes } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useMemo, useRef } from 'react';
import { useTheme } from '../lib/theme';
import { layoutGraph, shapeKey, type Point } from './layout';
import { PhaseNodeView } from './PhaseNode';
import type { PhaseNode, PipelineEdge, PipelineNode } from './types';

/** Module scope: a new object per render would make React Flow remount every node. */
const nodeTypes: NodeTypes = { phase: PhaseNodeView };

export interface PipelineGraphProps {
  phases: readonly PhaseView[];
  selectedPhaseId?: string | null;
  onSelectPhase?: (phaseId: string) => void;
  /** accessible name of the graph region */
  label?: string;
  height?: number;
}

/**
 * The pipeline DAG, read-only, laid out left → right. Fed from a RunView (live) or from a
 * template's phases (all pending). Node objects are reused while their phase object is unchanged,
 * so a live event re-renders only the nodes it touched.
 */
export default function PipelineGraph({ phases, selectedPhaseId = null, onSelectPhase, label = 'Pipeline graph', height = 340 }: PipelineGraphProps) {
  const theme = useTheme();
  const key = shapeKey(phases);
  // Keyed on the structure only: a status change must not move nodes (phases is read through the key).
  const positions = useMemo(() => layoutGraph(phases), [key]);
  const cache = useRef(new Map<string, { phase: PhaseView; selected: boolean; position: Point; node: PhaseNode }>());

  const nodes = useMemo<PipelineNode[]>(() => {
    const next = new Map<string, { phase: PhaseView; selected: boolean; position: Point; node: PhaseNode }>();
    const out = phases.map((phase) => {
      const selected = phase.id === selectedPhaseId;
      const position = positions.get(phase.id) ?? { x: 0, y: 0 };
      const hit = cache.current.get(phase.id);
      const node: PhaseNode =
        hit && hit.phase === phase && hit.selected === selected && hit.position === position
          ? hit.node
          : { id: phase.id, type: 'phase', position, data: { phase }, selected, draggable: false, connectable: false, ariaLabel: `${phase.name ?? phase.id}: ${phase.status}` };
      next.set(phase.id, { phase, selected, position, node });
      return node;
    });
    cache.current = next;
    return out;
  }, [phases, positions, selectedPhaseId]);

  const edges = useMemo<PipelineEdge[]>(() => {
    const byId = new Map(phases.map((p) => [p.id, p]));
    return phases.flatMap((phase) =>
      phase.dependsOn
        .filter((dep) => byId.has(dep))
        .map((dep) => ({
          id: `${dep}->${phase.id}`,
          source: dep,
          target: phase.id,
          animated: phase.status === 'running',
          className: `edge edge--${byId.get(dep)!.status}`,
          markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
        })),
    );
  }, [phases]);

  const onNodeClick: NodeMouseHandler<PipelineNode> = (_, node) => onSelectPhase?.(node.id);

  return (
    <div className="graph" style={{ height }} role="region" aria-label={label}>
      <ReactFlow<PipelineNode, PipelineEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodeClick={onNodeClick}
        colorMode={theme}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
        minZoom={0.2}
        maxZoom={2}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        proOptions={{ hideAttribution: false }}
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
