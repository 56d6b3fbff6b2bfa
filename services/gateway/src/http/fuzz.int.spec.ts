import fc from 'fast-check';
import { z } from 'zod';
import { ErrorEnvelope, MinSequenceQuery } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { API_ROUTES, openApiDocument } from '../openapi/document';
import { appendMeta, draftThenGate, fold, startFakeOrchestrator, startGateway, type FakeOrchestrator, type RunningGateway } from '../__tests__/harness';
import { deepJson, hugeString, invalidJsonText, jsonTypesOf, PROTO_KEYS, protoJsonText, prototypeSnapshot } from '../__tests__/fuzz';

/**
 * Issue 11 item 12, "fuzz the edges": property-based requests against every operation of the
 * OpenAPI document (so a new route is fuzzed without touching this file). Every generated request
 * is invalid — its body fails the route's own zod schema, or is not JSON, too big, too deep,
 * poisoned with `__proto__`, or of another content type; its query has values of the wrong type,
 * repeated or huge; its path names nothing — and must be refused with a typed 4xx envelope, never
 * a 5xx, with nothing appended to the log and no command sent to the orchestrator. Seeds are
 * fast-check's (printed on failure); FUZZ_SEED replays one, FUZZ_RUNS scales the runs.
 *
 * What a route's schema accepts is not generated (filtered with the same zod schema), with two
 * explicit exceptions: `validate` reports on an invalid template with a 200 (REPORTS_INVALID), and
 * free-text query filters may take a huge or odd value (then a page, or a 4xx). A well-formed
 * `min_sequence` the read models have not reached is not fuzzed: waiting and then a 503 with
 * Retry-After is its documented answer.
 */

const REFUSED = new Set([400, 401, 404, 409, 413, 415, 422, 429]);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * RUNS));
const seed = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };

type JsonSchema = { type?: string | string[]; nullable?: boolean; properties?: Record<string, JsonSchema>; $ref?: string; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; allOf?: JsonSchema[]; enum?: unknown[] };
interface OpenApiOperation {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; schema?: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}
interface OpenApiDoc {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface Operation {
  key: string;
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  /** the body's top-level fields and their JSON types, from the document */
  bodyFields?: Record<string, string[]>;
  /** the zod schemas the controller parses with (API_ROUTES): a value they accept is not a fuzz case */
  bodySchema?: z.ZodType;
  querySchema?: z.ZodType;
}

const doc = openApiDocument() as OpenApiDoc;

function resolve(schema: JsonSchema | undefined): JsonSchema | undefined {
  if (!schema?.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return resolve(doc.components?.schemas?.[name]);
}

/** The JSON types a schema admits ([] = anything). */
function typesOf(raw: JsonSchema | undefined): string[] {
  const schema = resolve(raw);
  if (!schema) return [];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const all = alternatives.map(typesOf);
    return all.some((t) => t.length === 0) ? [] : [...new Set(all.flat())];
  }
  if (schema.allOf) return typesOf(schema.allOf[0]);
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length > 0 && schema.nullable) types.push('null');
  if (types.includes('integer')) return types;
  return types.includes('number') ? [...types, 'integer'] : types;
}

const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]): Operation => {
    const route = API_ROUTES[path]?.[method as keyof (typeof API_ROUTES)[string]];
    const body = resolve(op.requestBody?.content['application/json']?.schema);
    const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    return {
      key: `${method} ${path}`,
      method: method.toUpperCase(),
      path,
      pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      queryParams,
      ...(body ? { bodyFields: Object.fromEntries(Object.entries(body.properties ?? {}).map(([name, s]) => [name, typesOf(s)])), bodySchema: route?.body } : {}),
      ...(method === 'get' ? { querySchema: route?.noMinSequence ? (route.query ?? z.object({})) : (route?.query ?? z.object({})).extend(MinSequenceQuery.shape) } : {}),
    };
  }),
);

type Category = 'path' | 'query-type' | 'query-repeat' | 'query-huge' | 'query-unknown' | 'body-json' | 'body-extra' | 'body-proto' | 'body-type' | 'body-nul' | 'body-huge' | 'body-deep' | 'body-syntax' | 'body-content-type';
const BODY_CATEGORIES: Category[] = ['body-json', 'body-extra', 'body-proto', 'body-type', 'body-nul', 'body-huge', 'body-deep', 'body-syntax', 'body-content-type'];
const QUERY_CATEGORIES: Category[] = ['query-type', 'query-repeat', 'query-huge', 'query-unknown'];
const covered = new Map<string, Set<Category>>();
const cover = (op: Operation, category: Category) => covered.set(op.key, (covered.get(op.key) ?? new Set()).add(category));

/** What the document says each operation must be fuzzed with (every GET: unknown parameters; declared ones: the rest). */
const required = (op: Operation): Category[] => [
  ...(op.pathParams.length > 0 ? ['path' as const] : []),
  ...(op.querySchema ? (op.queryParams.length > 0 ? QUERY_CATEGORIES : ['query-unknown' as const]) : []),
  ...(op.bodyFields ? BODY_CATEGORIES : []),
];

/**
 * Operations that answer a body their schema refuses with a 200 report rather than an error —
 * `validate` says what is wrong and stores nothing (the log and the orchestrator are still checked).
 */
const REPORTS_INVALID: Record<string, (body: unknown) => boolean> = {
  'post /templates/validate': (body) => (body as { valid?: unknown }).valid === false,
};

/** POSTs that store and send nothing (a computation): a body their schema accepts gets its 200 answer, NUL characters and all */
const ANSWERS_WELL_SHAPED = new Set(['post /templates/{id}/estimate']);

const accepts = (schema: z.ZodType | undefined, value: unknown) => schema !== undefined && schema.safeParse(value).success;

describe('fuzzing every REST operation of the OpenAPI document', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let fake: FakeOrchestrator;
  let lastSequence: number;
  const prototypeBefore = prototypeSnapshot();
  const runId = 'fuzz-run-1';
  const templateId = 'fuzz-template-1';
  /** well-formed values for the path parameters a case does not fuzz (an existing run and template) */
  const fine: Record<string, (path: string) => string> = {
    id: (path) => (path.startsWith('/runs') ? runId : path.startsWith('/templates') ? templateId : 'fuzzprovider'),
    phaseId: () => 'draft',
    candidateId: () => `${runId}.draft.1.c0`,
    artifactId: () => `${runId}.draft.1.artifact`,
  };

  beforeAll(async () => {
    env = await createTestEnv('gwfuzz');
    fake = await startFakeOrchestrator(env);
    fake.behave(() => ({ ok: false, error: { code: 'not_found', message: 'nothing by that id (fake orchestrator)' } }));
    gw = await startGateway(env);
    const template = draftThenGate('fuzzed');
    const created = await env.log.append('template', templateId, [{ type: 'TemplateCreated', data: { templateId, version: 1, template: template as never } }], 0, appendMeta());
    const started = await env.log.append(
      'run',
      runId,
      [
        { type: 'RunStarted', data: { runId, templateId, templateVersion: 1, template: template as never, name: 'fuzz', inputs: {}, autoMode: true, budgetUsd: null, origin: null } },
        { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
      ],
      0,
      appendMeta(),
    );
    await fold(env, [...created, ...started]);
    lastSequence = await env.log.lastSequence();
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await env?.dispose();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });
  afterEach(async () => {
    expect(await env.log.lastSequence()).toBe(lastSequence);
    expect(fake.requests.map((r) => r.command.type)).toEqual([]);
  });

  const urlOf = (op: Operation, params: Record<string, string> = {}, query = '') =>
    `${gw.url}/api/v1${op.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? encodeURIComponent(fine[name]?.(op.path) ?? 'fuzz-missing'))}${query}`;

  interface Sent {
    status: number;
    text: string;
    requestId: string | null;
    /** commands the orchestrator received while the request was handled */
    commands: string[];
  }
  const send = async (op: Operation, url: string, init: { body?: string; contentType?: string | null; headers?: Record<string, string> } = {}): Promise<Sent> => {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (init.body !== undefined && init.contentType !== null) headers['content-type'] = init.contentType ?? 'application/json';
    const before = fake.requests.length;
    const res = await fetch(url, { method: op.method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
    const text = await res.text();
    return { status: res.status, text, requestId: res.headers.get('x-request-id'), commands: fake.requests.slice(before).map((r) => r.command.type) };
  };

  /** Refused with a 4xx of the contract and the one error envelope. */
  const expectRefused = (op: Operation, what: string, res: Sent, statuses: ReadonlySet<number> = REFUSED, commandsAllowed = false) => {
    if (res.commands.length > 0 && !commandsAllowed) throw new Error(`${op.key} sent ${res.commands.join(', ')} to the orchestrator for ${what}`);
    if (!statuses.has(res.status)) throw new Error(`${op.key} answered ${res.status} to ${what}: ${res.text.slice(0, 300)}`);
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new Error(`${op.key} answered ${res.status} without a JSON body to ${what}: ${res.text.slice(0, 300)}`);
    }
    const envelope = ErrorEnvelope.safeParse(body);
    if (!envelope.success || Object.keys(envelope.data.error).sort().join() !== 'code,details,message,requestId' || envelope.data.error.requestId !== res.requestId) {
      throw new Error(`${op.key} answered ${res.status} to ${what} without the error envelope: ${res.text.slice(0, 300)}`);
    }
  };

  const property = <T>(arb: fc.Arbitrary<T>, numRuns: number, check: (value: T) => Promise<void>) => fc.assert(fc.asyncProperty(arb, check), { numRuns: runs(numRuns), ...seed });

  describe.each(operations.filter((op) => op.bodyFields).map((op) => [op.key, op] as const))('body of %s', (_key, op) => {
    const fields = Object.keys(op.bodyFields!);
    const invalid = (text: string) => {
      try {
        return !accepts(op.bodySchema, JSON.parse(text));
      } catch {
        return true;
      }
    };
    const reports = REPORTS_INVALID[op.key];
    /** `parsed`: a well-formed JSON object reaches the handler, which may report on it instead (see REPORTS_INVALID) */
    const expectBodyRefused = async (what: string, text: string, options: { statuses?: ReadonlySet<number>; contentType?: string | null; parsed?: boolean } = {}) => {
      const res = await send(op, urlOf(op), { body: text, ...(options.contentType === undefined ? {} : { contentType: options.contentType }) });
      if (options.parsed && reports && res.status === 200 && reports(JSON.parse(res.text))) return;
      expectRefused(op, `${what} (${text.length} chars: ${text.slice(0, 120)})`, res, options.statuses);
    };

    it('refuses arbitrary JSON that its schema does not accept', async () => {
      await property(
        fc.jsonValue().map((v) => JSON.stringify(v)).filter(invalid),
        10,
        (text) => expectBodyRefused('arbitrary JSON', text, { parsed: true }),
      );
      cover(op, 'body-json');
    });

    it('refuses its fields mixed with fields it does not know (strict bodies)', async () => {
      const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !fields.includes(k)), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 4 });
      const known = fields.length > 0 ? fc.dictionary(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 2 }), { maxKeys: fields.length }) : fc.constant({});
      await property(
        fc.tuple(known, extra).map(([k, e]) => JSON.stringify({ ...k, ...e })).filter(invalid),
        8,
        (text) => expectBodyRefused('unknown fields', text, { parsed: true }),
      );
      cover(op, 'body-extra');
    });

    it('refuses __proto__ / constructor.prototype keys sent as raw JSON, and Object.prototype stays clean', async () => {
      await property(protoJsonText(fields), 8, async (text) => {
        await expectBodyRefused('a prototype-poisoning body', text);
        expect(prototypeSnapshot()).toEqual(prototypeBefore);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });
      // plain `constructor` / `prototype` fields are only names: strict bodies refuse them as unknown
      for (const key of PROTO_KEYS.slice(1)) {
        const text = `{"${key}":{"polluted":"yes"}}`;
        if (invalid(text)) await expectBodyRefused(`a "${key}" field`, text, { parsed: true });
      }
      cover(op, 'body-proto');
    });

    it('refuses a wrong type in each field of the real schema', async () => {
      const typed = Object.entries(op.bodyFields!).filter(([, types]) => types.length > 0);
      if (typed.length === 0) {
        // no typed fields (an empty body, or free-form ones): a non-object is the wrong type
        await property(fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.jsonValue({ maxDepth: 1 }))).map((v) => JSON.stringify(v)).filter(invalid), 10, (text) => expectBodyRefused('a non-object body', text, { parsed: true }));
      } else {
        const wrongField = fc.constantFrom(...typed).chain(([name, types]) =>
          fc
            .jsonValue({ maxDepth: 2 })
            .filter((v) => !jsonTypesOf(v).some((t) => types.includes(t)))
            .map((v) => ({ [name]: v })),
        );
        await property(fc.array(wrongField, { minLength: 1, maxLength: 3 }).map((parts) => JSON.stringify(Object.assign({}, ...parts))).filter(invalid), 10, (text) =>
          expectBodyRefused('a wrong field type', text, { parsed: true }),
        );
      }
      cover(op, 'body-type');
    });

    it('never fails on a NUL character in a string or a key (well-shaped bodies may be sent on: the fake orchestrator refuses them)', async () => {
      const nulString = fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([a, b]) => `${a}\u0000${b}`);
      const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant('x');
      const value = fc.oneof(nulString, fc.array(nulString, { minLength: 1, maxLength: 2 }), nulString.map((v) => ({ templateId: v, monthlyUsd: 1 })), nulString.map((v) => [{ question: 'q', answer: v }]), nulString.map((k) => ({ [k]: 1 })));
      await property(fc.tuple(field, value), 8, async ([name, v]) => {
        const text = JSON.stringify({ [name]: v });
        const res = await send(op, urlOf(op), { body: text });
        if (reports && res.status === 200 && reports(JSON.parse(res.text))) return;
        if (ANSWERS_WELL_SHAPED.has(op.key) && res.status === 200 && !invalid(text)) return;
        expectRefused(op, `a NUL character (${text.slice(0, 120)})`, res, REFUSED, !invalid(text));
      });
      fake.requests.length = 0; // commands of well-shaped bodies, all refused by the fake (the log is still checked)
      cover(op, 'body-nul');
    });

    it('refuses a 1–2 MB string with 413', async () => {
      const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant('text');
      await property(fc.tuple(field, hugeString(1_048_576, 2_097_152)), 1, (parts) => expectBodyRefused('a huge string', JSON.stringify({ [parts[0]]: parts[1] }), { statuses: new Set([413]) }));
      cover(op, 'body-huge');
    });

    it('refuses nesting 1,000+ levels deep', async () => {
      const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant('x');
      await property(fc.tuple(field, deepJson, fc.boolean()), 4, ([name, deep, top]) => expectBodyRefused(`nesting ${deep.depth} deep`, top ? deep.text : `{${JSON.stringify(name)}:${deep.text}}`));
      cover(op, 'body-deep');
    });

    it('refuses text that is not JSON', async () => {
      await property(invalidJsonText, 10, (text) => expectBodyRefused('invalid JSON', text));
      cover(op, 'body-syntax');
    });

    it('refuses a body of another content type (even JSON-looking text)', async () => {
      const types = fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'application/json; charset=utf-16', 'application/jsonx', null);
      await property(fc.tuple(types, fc.oneof(fc.constant('{}'), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ minLength: 1 }))), 8, ([type, text]) =>
        expectBodyRefused(`content type ${String(type)}`, text, { contentType: type }),
      );
      // an encoding the parser does not have, or one the bytes are not in
      for (const encoding of ['br', 'compress', 'gzip', 'x-fuzz']) {
        expectRefused(op, `content-encoding ${encoding}`, await send(op, urlOf(op), { body: '{}', headers: { 'content-encoding': encoding } }));
      }
      cover(op, 'body-content-type');
    });
  });

  describe.each(operations.filter((op) => op.querySchema).map((op) => [op.key, op] as const))('query of %s', (_key, op) => {
    const encode = (pairs: [string, string][]) => `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
    /** what express hands the controller: a repeated parameter is an array */
    const parsed = (pairs: [string, string][]) => {
      const query: Record<string, string | string[]> = {};
      for (const [k, v] of pairs) query[k] = k in query ? ([] as string[]).concat(query[k]!, v) : v;
      return query;
    };
    const param = fc.constantFrom(...(op.queryParams.length > 0 ? op.queryParams : ['-']));
    const sendQuery = (pairs: [string, string][]) => send(op, urlOf(op, {}, encode(pairs)));
    // declared parameters (every GET but the probes has min_sequence); unknown ones: below, for all
    if (op.queryParams.length > 0) {
      it('refuses values of the wrong type', async () => {
        const value = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('-1', '0', '1.5', '1e3', 'NaN', 'Infinity', '0x10', 'true', 'null', '[]', '{}', ' 1', '9007199254740993', '-0', 'all,true'));
        const cases = fc.tuple(param, value).filter(([k, v]) => !accepts(op.querySchema, { [k]: v }));
        await property(cases, 10, async ([k, v]) => expectRefused(op, `?${k}=${v}`, await sendQuery([[k, v]])));
        cover(op, 'query-type');
      });

      it('refuses a repeated parameter', async () => {
        await property(fc.tuple(param, fc.array(fc.constantFrom('1', '2', 'true', 'all', 'csv', 'x'), { minLength: 2, maxLength: 4 })), 8, async ([k, values]) =>
          expectRefused(op, `${k} repeated`, await sendQuery(values.map((v) => [k, v]))),
        );
        cover(op, 'query-repeat');
      });

      it('never fails on huge or odd values (refused unless the schema takes any string)', async () => {
        // 2–10 KB once URL-encoded: the URL stays under node's 16 KB header limit (beyond it, see below)
        const huge = fc.oneof(
          fc.integer({ min: 17, max: 4000 }).map((n) => '9'.repeat(n)),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), // control characters, NUL, lone surrogates
          fc.record({ char: fc.constantFrom('x', 'é', '"', '\\', '\u0000', '💥', ' '), bytes: fc.integer({ min: 2_000, max: 10_000 }) }).map(({ char, bytes }) => char.repeat(Math.floor(bytes / encodeURIComponent(char).length))),
        );
        await property(fc.tuple(param, huge), 12, async ([k, v]) => {
          const res = await sendQuery([[k, v]]);
          if (!accepts(op.querySchema, parsed([[k, v]]))) return expectRefused(op, `a huge ${k}`, res);
          // a free-text filter may take it: then it is a page (or the path names nothing)
          if (!(res.status < 300 || REFUSED.has(res.status))) throw new Error(`${op.key} answered ${res.status} to a huge ${k}: ${res.text.slice(0, 300)}`);
        });
        cover(op, 'query-huge');
      });
    }

    it('ignores parameters it does not know, __proto__ included: the answer is the one without them (or a refusal)', async () => {
      const baseline = (await send(op, urlOf(op))).status;
      expect(baseline).toBeLessThan(500);
      const unknownKey = fc.oneof(fc.string({ minLength: 1, maxLength: 16 }), fc.constantFrom('__proto__', 'constructor', 'prototype', '__proto__[polluted]', 'constructor[prototype][polluted]', 'a[b][c]', 'toString', 'hasOwnProperty'));
      await property(
        fc.array(fc.tuple(unknownKey.filter((k) => !op.queryParams.includes(k) && !op.queryParams.some((p) => k.startsWith(`${p}[`))), fc.string({ maxLength: 20 })), { minLength: 1, maxLength: 4 }),
        4,
        async (pairs) => {
          const res = await sendQuery(pairs);
          if (res.status !== baseline && !REFUSED.has(res.status)) throw new Error(`${op.key} answered ${res.status} (without them ${baseline}) to unknown parameters ${encode(pairs)}: ${res.text.slice(0, 300)}`);
          expect(prototypeSnapshot()).toEqual(prototypeBefore);
        },
      );
      cover(op, 'query-unknown');
    });
  });

  describe.each(operations.filter((op) => op.pathParams.length > 0).map((op) => [op.key, op] as const))('path of %s', (_key, op) => {
    const malformed = fc
      .oneof(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        fc.constantFrom('a b', 'a/b', 'a\\b', '%', '\u0000', '💥', 'run:1', '<script>', "1' OR '1'='1", '$(id)', 'a.b', '...', 'ä'),
        fc.integer({ min: 129, max: 3000 }).map((n) => 'x'.repeat(n)),
      )
      // dot segments are resolved by the URL itself (another path), and well-formed ids name something
      .filter((id) => id !== '.' && id !== '..' && !/^[A-Za-z0-9_-]{1,128}$/.test(id));

    it('answers malformed ids with 404 (never a command)', async () => {
      await property(fc.tuple(fc.constantFrom(...op.pathParams), malformed), 8, async ([name, id]) => {
        const res = await send(op, urlOf(op, { [name]: encodeURIComponent(id) }), op.bodyFields ? { body: '{}' } : {});
        expectRefused(op, `${name} = ${JSON.stringify(id.slice(0, 80))}`, res);
      });
      cover(op, 'path');
    });

    it('answers ids named after Object.prototype members as missing, Object.prototype untouched', async () => {
      for (const name of op.pathParams) {
        for (const id of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf']) {
          const res = await send(op, urlOf(op, { [name]: id }), op.bodyFields ? { body: '{}' } : {});
          // these ids are well-formed: a command may reach the (fake) orchestrator, which knows none of them
          expectRefused(op, `${name} = ${id}`, res, REFUSED, true);
        }
      }
      fake.requests.length = 0;
      expect(prototypeSnapshot()).toEqual(prototypeBefore);
    });
  });

  it('refuses what the fuzzing found answered with a 5xx, a command or a replay before the guards', async () => {
    const deep = 4108;
    const cases: { what: string; method: string; path: string; body?: string; contentType?: string | null; status: number }[] = [
      { what: 'a text body on POST /admin/replay (it passed for "no body" and started a replay)', method: 'POST', path: '/admin/replay', body: '"z"', contentType: null, status: 400 },
      { what: 'one byte declared UTF-16 (it decoded to nothing, and CancelRun was sent)', method: 'POST', path: `/runs/${runId}/cancel`, body: ' ', contentType: 'application/json; charset=utf-16', status: 400 },
      { what: `an output ${deep} levels deep (503: it could not be sent)`, method: 'POST', path: `/runs/${runId}/phases/draft/accept`, body: `{"output":${'['.repeat(deep)}${']'.repeat(deep)}}`, status: 400 },
      { what: 'the same depth with an Idempotency-Key', method: 'POST', path: '/runs', body: `{"templateId":"t","inputs":{"a":${'['.repeat(deep)}${']'.repeat(deep)}}}`, status: 400 },
      { what: 'a __proto__ key inside free-form run inputs', method: 'POST', path: '/runs', body: '{"templateId":"t","inputs":{"__proto__":{"polluted":"yes"}}}', status: 400 },
      { what: 'NUL in a query filter (500 from Postgres)', method: 'GET', path: '/runs?status=%00', status: 400 },
      { what: 'NUL as an artifact id (500 from Postgres)', method: 'GET', path: `/runs/${runId}/artifacts/%00`, status: 404 },
      { what: 'NUL as a candidate id', method: 'GET', path: `/runs/${runId}/candidates/%00/transcript`, status: 404 },
      { what: 'a NUL in a budget\'s template id (written to Postgres as text)', method: 'PUT', path: '/budgets', body: '{"globalMonthlyUsd":null,"templates":[{"templateId":"a\\u0000b","monthlyUsd":1}]}', status: 400 },
      { what: 'a NUL in a run\'s workspace path (the workspace checks name it)', method: 'POST', path: '/runs', body: '{"templateId":"t","workspace":{"path":"repo\\u0000"}}', status: 422 },
      { what: 'a phase id no template can declare (RetryPhase was sent)', method: 'POST', path: `/runs/${runId}/phases/a%20b/retry`, body: '{}', status: 404 },
    ];
    for (const c of cases) {
      const op: Operation = { key: `${c.method.toLowerCase()} ${c.path.slice(0, 60)}`, method: c.method, path: c.path, pathParams: [], queryParams: [] };
      const headers = c.path === '/runs' ? { 'idempotency-key': `fuzz-${c.what.length}` } : undefined;
      const res = await send(op, `${gw.url}/api/v1${c.path}`, { ...(c.body === undefined ? {} : { body: c.body }), ...(c.contentType === undefined ? {} : { contentType: c.contentType }), ...(headers ? { headers } : {}) });
      expectRefused(op, c.what, res, new Set([c.status]));
    }
    // beyond node's 16 KB header limit the HTTP parser answers before express: 431, with the envelope all the same
    for (const op of operations.filter((o) => o.method === 'GET').slice(0, 5)) {
      expectRefused(op, 'a 20 KB URL', await send(op, urlOf(op, {}, `?q=${'x'.repeat(20_000)}`)), new Set([431]));
    }
    expect((await send(operations.find((o) => o.key === 'get /admin/replay')!, `${gw.url}/api/v1/admin/replay`)).text).toContain('"state":"idle"');
    expect(prototypeSnapshot()).toEqual(prototypeBefore);
  });

  it('fuzzed every operation of the OpenAPI document with every category it calls for', () => {
    const routes = Object.values(API_ROUTES).reduce((n, methods) => n + Object.keys(methods).length, 0);
    expect(operations).toHaveLength(routes);
    const missing = operations.flatMap((op) => required(op).filter((c) => !covered.get(op.key)?.has(c)).map((c) => `${op.key}: ${c}`));
    expect(missing).toEqual([]);
    // every operation is reachable by at least one category
    expect(operations.filter((op) => required(op).length === 0).map((op) => op.key)).toEqual([]);
    expect(prototypeSnapshot()).toEqual(prototypeBefore);
  });
});
