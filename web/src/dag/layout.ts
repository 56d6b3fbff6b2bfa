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

/** Above this many nodes dagre's crossing minimisation costs too much (~700 ms for 200); see layeredLayout. */
export const DAGRE_MAX_NODES = 60;

/**
 * Left → right layered layout: dagre for small graphs, `layeredLayout` above DAGRE_MAX_NODES. Returns each node's top-left corner (React Flow's origin).
 * Dependencies on ids that are not in the graph are ignored (a template being edited may have them).
 */
export function layoutGraph(nodes: readonly GraphShape[], options: { rankSep?: number; nodeSep?: number } = {}): Map<string, Point> {
  if (nodes.length > DAGRE_MAX_NODES) return layeredLayout(nodes, options);
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

/**
 * A cheap layered layout for large graphs, O(V + E) per sweep: x = execution level (longest path
 * from a root), y = order within the level after a few barycenter sweeps (down then up). Cycles
 * and unknown dependencies are ignored (nodes on a cycle go to level 0).
 */
export function layeredLayout(nodes: readonly GraphShape[], options: { rankSep?: number; nodeSep?: number } = {}): Map<string, Point> {
  const rankSep = options.rankSep ?? 70;
  const nodeSep = options.nodeSep ?? 28;
  const index = new Map<string, number>();
  nodes.forEach((n, i) => index.set(n.id, i));
  const parents: number[][] = nodes.map(() => []);
  const children: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const dep of new Set(n.dependsOn)) {
      const j = index.get(dep);
      if (j === undefined || j === i) continue;
      parents[i]!.push(j);
      children[j]!.push(i);
    }
  });
  // Levels: Kahn's topological order, level = 1 + max(parent levels).
  const level = new Array<number>(nodes.length).fill(0);
  const indegree = parents.map((p) => p.length);
  const queue: number[] = [];
  indegree.forEach((d, i) => d === 0 && queue.push(i));
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head]!;
    for (const c of children[i]!) {
      level[c] = Math.max(level[c]!, level[i]! + 1);
      if (--indegree[c]! === 0) queue.push(c);
    }
  }
  const layers: number[][] = [];
  nodes.forEach((_, i) => (layers[level[i]!] ??= []).push(i));
  for (let l = 0; l < layers.length; l++) layers[l] ??= [];
  const order = new Array<number>(nodes.length).fill(0);
  const renumber = (layer: number[]) => layer.forEach((n, k) => (order[n] = k));
  layers.forEach(renumber);
  const sweep = (layer: number[], neighbours: number[][]) => {
    const bary = new Map<number, number>();
    for (const n of layer) {
      const ns = neighbours[n]!;
      bary.set(n, ns.length ? ns.reduce((s, m) => s + order[m]!, 0) / ns.length : order[n]!);
    }
    layer.sort((a, b) => bary.get(a)! - bary.get(b)! || order[a]! - order[b]!);
    renumber(layer);
  };
  for (let pass = 0; pass < 4; pass++) {
    for (let l = 1; l < layers.length; l++) sweep(layers[l]!, parents);
    for (let l = layers.length - 2; l >= 0; l--) sweep(layers[l]!, children);
  }
  const tallest = Math.max(...layers.map((l) => l.length));
  const step = NODE_HEIGHT + nodeSep;
  const out = new Map<string, Point>();
  layers.forEach((layer, l) => {
    const offset = ((tallest - layer.length) * step) / 2;
    layer.forEach((n, k) => out.set(nodes[n]!.id, { x: 8 + l * (NODE_WIDTH + rankSep), y: 8 + offset + k * step }));
  });
  return out;
}
