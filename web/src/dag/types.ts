import type { Edge, Node } from '@xyflow/react';
import type { PhaseView } from '@conclave/contracts';

/**
 * The graph's node types: a union of `Node<Data, 'kind'>` (STYLE.md §11). One kind today; the
 * template editor will add its own.
 */
export type PhaseNodeData = { phase: PhaseView };
export type PhaseNode = Node<PhaseNodeData, 'phase'>;
export type PipelineNode = PhaseNode;
export type PipelineEdge = Edge;
