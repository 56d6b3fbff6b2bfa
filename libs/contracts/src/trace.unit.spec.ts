import { TraceContext, traceUrl } from './trace';

describe('trace contexts', () => {
  const ids = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };

  it('takes W3C ids and refuses others', () => {
    expect(TraceContext.parse(ids)).toEqual(ids);
    for (const bad of [{ ...ids, traceId: '0'.repeat(32) }, { ...ids, spanId: '0'.repeat(16) }, { ...ids, traceId: ids.traceId.toUpperCase() }, { ...ids, spanId: 'b7ad6b71' }]) {
      expect(TraceContext.safeParse(bad).success).toBe(false);
    }
  });

  it('fills a trace viewer URL template (no template: no link)', () => {
    expect(traceUrl('http://localhost:16686/trace/{traceId}?uiFind={spanId}', ids)).toBe(`http://localhost:16686/trace/${ids.traceId}?uiFind=${ids.spanId}`);
    expect(traceUrl('http://localhost:16686/trace/{traceId}?uiFind={spanId}', { traceId: ids.traceId })).toBe(`http://localhost:16686/trace/${ids.traceId}?uiFind=`);
    expect(traceUrl('https://tempo.example/explore?left={"query":"{traceId}"}', { traceId: ids.traceId })).toBe(`https://tempo.example/explore?left={"query":"${ids.traceId}"}`);
    expect(traceUrl(null, ids)).toBeNull();
  });
});
