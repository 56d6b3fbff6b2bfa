import * as dagre from '@dagrejs/dagre';

/** Size of a phase node; the CSS (`.phase-node`) uses the same numbers. */
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 84;

export interface GraphShape {
  id: string;
  dependsOn: readonly string[];
}

export interface Point {
  x: number;
  y: number;
}

/**
 * Left → right layered layout (dagre). Returns each node's top-left corner (React Flow's origin).
 * Dependencies on ids that are not in the graph are ignored (a template being edited may have them).
 */
export function layoutGraph(nodes: readonly GraphShape[], options: { rankSep?: number; nodeSep?: number } = {}): Map<string, Point> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', ranksep: options.rankSep ?? 70, nodesep: options.nodeSep ?? 28, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const n of nodes) for (const dep of n.dependsOn) if (ids.has(dep) && dep !== n.id) g.setEdge(dep, n.id);
  dagre.layout(g);
  const out = new Map<string, Point>();
  for (const n of nodes) {
    const { x, y } = g.node(n.id);
    out.set(n.id, { x: x - NODE_WIDTH / 2, y: y - NODE_HEIGHT / 2 });
  }
  return out;
}

/** A key that changes only when the graph's structure does (so layout is not redone on status changes). */
export function shapeKey(nodes: readonly GraphShape[]): string {
  return nodes.map((n) => `${n.id}<${n.dependsOn.join(',')}`).join('|');
}
