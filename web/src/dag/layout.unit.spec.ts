import { layoutGraph, shapeKey } from './layout';

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
});
