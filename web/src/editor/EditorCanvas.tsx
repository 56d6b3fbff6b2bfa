import {
  Background,
  Controls,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  applyNodeChanges,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
  type NodeProps,
  type NodeTypes,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { memo, useCallback, useMemo } from 'react';
import { useTheme } from '../lib/theme';
import type { DraftPhase, LocatedError, Point } from './editor-model';

export type EditorNodeData = { phase: DraftPhase; errors: LocatedError[] };
export type EditorNode = Node<EditorNodeData, 'editorPhase'>;

function EditorPhaseNode({ data, selected }: NodeProps<EditorNode>) {
  const { phase, errors } = data;
  const name = typeof phase.name === 'string' && phase.name ? phase.name : phase.id;
  return (
    <div
      className={`phase-node editor-node${selected ? ' is-selected' : ''}${errors.length ? ' has-errors' : ''}`}
      data-testid="editor-node"
      data-phase-id={phase.id}
      data-errors={errors.length}
      title={errors.map((e) => `${e.field || phase.id}: ${e.message}`).join('\n') || `${name} (${phase.kind})`}
    >
      <Handle type="target" position={Position.Left} />
      <div className="phase-node__head">
        <span className="phase-node__title">{name}</span>
        <span className="phase-node__kind">{phase.kind}</span>
      </div>
      <div className="phase-node__meta">
        {errors.length > 0 ? (
          <span className="editor-node__errors">
            ⚠ {errors.length} error{errors.length > 1 ? 's' : ''}: {errors[0]!.message}
          </span>
        ) : (
          <span className="muted">{phase.id}</span>
        )}
      </div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes: NodeTypes = { editorPhase: memo(EditorPhaseNode) };

interface Props {
  phases: readonly DraftPhase[];
  positions: Record<string, Point>;
  errors: Record<string, LocatedError[]>;
  selectedId: string | null;
  onSelect: (id: string | null) => void;
  onMove: (positions: Record<string, Point>) => void;
  onConnect: (source: string, target: string) => void;
  onDisconnect: (source: string, target: string) => void;
  onRemove: (id: string) => void;
}

const NO_ERRORS: LocatedError[] = [];

/**
 * The editor's canvas: drag to move, drag from a node's right handle to another's left handle to
 * add a dependency, select an edge or node and press Delete/Backspace to remove it.
 */
export default function EditorCanvas({ phases, positions, errors, selectedId, onSelect, onMove, onConnect, onDisconnect, onRemove }: Props) {
  const theme = useTheme();
  const nodes = useMemo<EditorNode[]>(
    () =>
      phases.map((phase) => ({
        id: phase.id,
        type: 'editorPhase',
        position: positions[phase.id] ?? { x: 0, y: 0 },
        data: { phase, errors: errors[phase.id] ?? NO_ERRORS },
        selected: phase.id === selectedId,
        ariaLabel: `${phase.id} (${phase.kind})${errors[phase.id]?.length ? `, ${errors[phase.id]!.length} errors` : ''}`,
      })),
    [phases, positions, errors, selectedId],
  );
  const edges = useMemo<Edge[]>(() => {
    const ids = new Set(phases.map((p) => p.id));
    return phases.flatMap((p) =>
      (p.dependsOn ?? [])
        .filter((d) => ids.has(d))
        .map((d) => ({ id: `${d}->${p.id}`, source: d, target: p.id, markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 }, deletable: true })),
    );
  }, [phases]);

  const onNodesChange = useCallback(
    (changes: NodeChange<EditorNode>[]) => {
      for (const c of changes) if (c.type === 'remove') onRemove(c.id);
      const moves = changes.filter((c) => c.type === 'position' && c.position);
      if (moves.length > 0) {
        const next = applyNodeChanges(moves, nodes);
        onMove(Object.fromEntries(next.map((n) => [n.id, n.position])));
      }
      const select = changes.find((c) => c.type === 'select' && c.selected);
      if (select && select.type === 'select') onSelect(select.id);
    },
    [nodes, onMove, onRemove, onSelect],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      for (const c of changes) {
        if (c.type !== 'remove') continue;
        const [source, target] = c.id.split('->');
        if (source && target) onDisconnect(source, target);
      }
    },
    [onDisconnect],
  );
  const handleConnect = useCallback((c: Connection) => c.source && c.target && onConnect(c.source, c.target), [onConnect]);

  return (
    <div className="graph graph--editor" role="region" aria-label="Template canvas">
      <ReactFlow<EditorNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={handleConnect}
        onPaneClick={() => onSelect(null)}
        colorMode={theme}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1.1 }}
        minZoom={0.2}
        maxZoom={2}
        deleteKeyCode={['Delete', 'Backspace']}
      >
        <Background gap={20} size={1} />
        <Controls />
      </ReactFlow>
    </div>
  );
}
