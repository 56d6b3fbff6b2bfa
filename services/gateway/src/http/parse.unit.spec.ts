import { hostileJson, MAX_BODY_DEPTH } from './parse';

const nested = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`) as unknown;

describe('hostileJson (the request guard on parsed bodies)', () => {
  it(`takes nesting up to ${MAX_BODY_DEPTH} levels and refuses one more, without recursion`, () => {
    expect(hostileJson(nested(MAX_BODY_DEPTH), MAX_BODY_DEPTH)).toBeNull();
    expect(hostileJson(nested(MAX_BODY_DEPTH + 1), MAX_BODY_DEPTH)).toBe(`the request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    expect(hostileJson(JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`), MAX_BODY_DEPTH)).toMatch(/nested deeper/);
  });

  it('refuses a __proto__ key and a constructor.prototype anywhere, as JSON.parse makes them (own properties)', () => {
    expect(hostileJson(JSON.parse('{"__proto__":{"polluted":1}}'), MAX_BODY_DEPTH)).toMatch(/__proto__/);
    expect(hostileJson(JSON.parse('{"inputs":[{"x":{"__proto__":null}}]}'), MAX_BODY_DEPTH)).toMatch(/__proto__/);
    expect(hostileJson(JSON.parse('{"a":{"constructor":{"prototype":{}}}}'), MAX_BODY_DEPTH)).toMatch(/constructor\.prototype/);
  });

  it('lets names that are only names through: constructor and prototype as plain fields, strings that say __proto__', () => {
    expect(hostileJson(JSON.parse('{"constructor":"x","prototype":{"a":1},"inputs":{"constructor":{"name":"y"}},"text":"__proto__"}'), MAX_BODY_DEPTH)).toBeNull();
    expect(hostileJson([1, 'a', null, true, { b: [] }], MAX_BODY_DEPTH)).toBeNull();
  });
});
