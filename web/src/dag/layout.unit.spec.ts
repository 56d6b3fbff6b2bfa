import { layeredLayout, layoutGraph, shapeKey } from './layout';

describe('DAG layout', () => {
  const nodes = [
    { id: 'a', dependsOn: [] },
    { id: 'b', dependsOn: ['a'] },
    { id: 'c', dependsOn: ['a'] },
    { id: 'd', dependsOn: ['b', 'c', 'ghost'] },
  ];

  it('lays dependencies out left to right', () => {
    const pos = layoutGraph(nodes);
    expect(pos.get('b')!.x).toBeGreaterThan(pos.get('a')!.x);
    expect(pos.get('d')!.x).toBeGreaterThan(pos.get('b')!.x);
    expect(pos.get('b')!.x).toBe(pos.get('c')!.x);
    expect(pos.get('b')!.y).not.toBe(pos.get('c')!.y);
  });

  it('changes its key only with the structure', () => {
    expect(shapeKey(nodes)).toBe(shapeKey(nodes.map((n) => ({ ...n }))));
    expect(shapeKey(nodes)).not.toBe(shapeKey([...nodes.slice(0, 3), { id: 'd', dependsOn: ['b'] }]));
  });

  it('lays a large graph out in layers, fast, with every node placed once', () => {
    const big = Array.from({ length: 200 }, (_, i) => ({ id: `p${i}`, dependsOn: i === 0 ? [] : [`p${Math.floor((i - 1) / 2)}`, ...(i > 3 && i % 3 === 0 ? [`p${i - 3}`] : [])] }));
    const t0 = performance.now();
    const pos = layoutGraph(big);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(pos.size).toBe(200);
    for (const n of big) for (const d of n.dependsOn) expect(pos.get(n.id)!.x).toBeGreaterThan(pos.get(d)!.x);
    const seen = new Set([...pos.values()].map((p) => `${p.x},${p.y}`));
    expect(seen.size).toBe(200);
  });

  it('layeredLayout keeps siblings in one column and ignores unknown ids and cycles', () => {
    const pos = layeredLayout([...nodes, { id: 'x', dependsOn: ['y'] }, { id: 'y', dependsOn: ['x'] }]);
    expect(pos.get('b')!.x).toBe(pos.get('c')!.x);
    expect(pos.get('d')!.x).toBeGreaterThan(pos.get('b')!.x);
    expect(pos.size).toBe(6);
  });
});
