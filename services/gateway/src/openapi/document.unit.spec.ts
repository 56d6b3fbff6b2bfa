import { API_ROUTES, openApiDocument, openApiHtml } from './document';

describe('the OpenAPI document', () => {
  const doc = openApiDocument() as {
    openapi: string;
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown; responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, unknown> };
  };

  it('describes every route of API_ROUTES with its path parameters, bodies and the error envelope', () => {
    expect(doc.openapi).toBe('3.0.3');
    for (const [path, methods] of Object.entries(API_ROUTES)) {
      for (const method of Object.keys(methods)) {
        const op = doc.paths[path]?.[method];
        expect({ path, method, present: op !== undefined }).toEqual({ path, method, present: true });
        const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect((op!.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)).toEqual(pathParams);
        expect(op!.responses['400']).toBeDefined();
        if (method === 'post' || method === 'put' || method === 'patch') {
          if (API_ROUTES[path]![method as 'post']!.body) expect(op!.requestBody).toBeDefined();
        }
      }
    }
  });

  it('names the recursive and repeated schemas as components (the document stays small)', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['JsonSchema', 'ErrorEnvelope', 'Template', 'RunView', 'ProviderView']));
    expect(JSON.stringify(doc).length).toBeLessThan(300_000);
  });

  it('offers every GET the min_sequence query parameter, except the probes', () => {
    expect(doc.paths['/runs']!.get!.parameters!.map((p) => p.name)).toContain('min_sequence');
    expect((doc.paths['/health']!.get!.parameters ?? []).map((p) => p.name)).not.toContain('min_sequence');
  });

  it("documents /ready's durability: NATS mode, detail, server version and replicas; Postgres fsync and synchronous_commit", () => {
    const ok = JSON.stringify(doc.paths['/ready']!.get!.responses['200']);
    for (const word of ['durability', 'fsync-per-message', 'interval', 'unknown', 'serverVersion', 'replicas', 'synchronous_commit']) expect(ok).toContain(`"${word}"`);
  });

  it('renders an HTML listing without scripts', () => {
    const html = openApiHtml();
    expect(html).toContain('<code>/api/v1/providers/{id}/test</code>');
    expect(html).not.toContain('<script');
  });
});
