import type { PhaseView } from '@conclave/contracts';
import { Background, Controls, MarkerType, Position, ReactFlow, type NodeHandle, type NodeMouseHandler, type NodeTypes } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useMemo, useRef } from 'react';
import { useTheme } from '../lib/theme';
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH, shapeKey, type Point } from './layout';
import { PhaseNodeView } from './PhaseNode';
import type { PhaseNode, PipelineEdge, PipelineNode } from './types';

/** Module scope: a new object per render would make React Flow remount every node. */
const nodeTypes: NodeTypes = { phase: PhaseNodeView };
const ARROW = { type: MarkerType.ArrowClosed, width: 16, height: 16 };
/**
 * Every node's two ports, declared instead of measured: with a node's size and handles given,
 * React Flow draws the edges on its first render, with no DOM handle to mount and measure per node
 * (with 200 phases those were a third of the run page's time to a usable graph).
 */
const HANDLES: NodeHandle[] = [
  { type: 'target', position: Position.Left, x: 0, y: NODE_HEIGHT / 2 - 0.5 },
  { type: 'source', position: Position.Right, x: NODE_WIDTH - 1, y: NODE_HEIGHT / 2 - 0.5 },
];

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
          : {
              id: phase.id,
              type: 'phase',
              position,
              data: { phase },
              selected,
              width: NODE_WIDTH,
              height: NODE_HEIGHT,
              handles: HANDLES,
              draggable: false,
              connectable: false,
              ariaLabel: `${phase.name ?? phase.id}: ${phase.status}`,
            };
      next.set(phase.id, { phase, selected, position, node });
      return node;
    });
    cache.current = next;
    return out;
  }, [phases, positions, selectedPhaseId]);

  // Edge objects are reused while their end statuses are unchanged (React Flow then skips them).
  const edgeCache = useRef(new Map<string, { key: string; edge: PipelineEdge }>());
  const edges = useMemo<PipelineEdge[]>(() => {
    const byId = new Map(phases.map((p) => [p.id, p]));
    const next = new Map<string, { key: string; edge: PipelineEdge }>();
    const out = phases.flatMap((phase) =>
      phase.dependsOn
        .filter((dep) => byId.has(dep))
        .map((dep) => {
          const id = `${dep}->${phase.id}`;
          const key = `${byId.get(dep)!.status}|${phase.status}`;
          const hit = edgeCache.current.get(id);
          const edge: PipelineEdge =
            hit && hit.key === key
              ? hit.edge
              : {
                  id,
                  source: dep,
                  target: phase.id,
                  // Highlighted, not `animated`: a dash animation repaints the whole edge layer every
                  // frame (the running node itself glows, on a composited layer).
                  className: phase.status === 'running' ? 'edge edge--running' : `edge edge--${byId.get(dep)!.status}`,
                  markerEnd: ARROW,
                  // read-only edges: no invisible wide path per edge to catch the pointer
                  interactionWidth: 0,
                };
          next.set(id, { key, edge });
          return edge;
        }),
    );
    edgeCache.current = next;
    return out;
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
