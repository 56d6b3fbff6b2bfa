import type { JsonSchema } from '@conclave/contracts';
import type { Rng } from './seed';
import {
  capitalize,
  hex,
  humanize,
  isoInstant,
  paragraph,
  sampleWords,
  sentence,
  singular,
  slug,
  titleCase,
  uuid,
} from './words';

/**
 * Schema-driven sample generator of the simulated provider: a JSON value that satisfies a JSON
 * Schema, deterministic for a given Rng seed, with readable text built from property names and
 * the prompt's keywords.
 *
 * Supported: objects (properties, required, additionalProperties, propertyNames.enum,
 * min/maxProperties), arrays (items, prefixItems / tuple items, additionalItems, min/maxItems,
 * uniqueItems, contains), strings (minLength, maxLength, enum, const, common formats), numbers and
 * integers (minimum, maximum, exclusive bounds in both drafts' forms, multipleOf), booleans, null,
 * anyOf / oneOf, allOf (merged), type arrays, `nullable`, local `$ref` (`#/$defs/…`,
 * `#/definitions/…`, `#`), recursion (bounded by depth).
 * Caveats: `pattern`, `not`, `if/then/else`, `patternProperties` and `dependentSchemas` are not
 * steered; anyOf/oneOf are exact only when a `check` is supplied (the generator then tries the
 * branches in a seeded order until the value fits, which makes oneOf exclusivity hold too).
 * Callers validate the final value anyway.
 */
export interface SampleOptions {
  rng: Rng;
  /** prompt keywords (see `keywords()`) */
  words: string[];
  /** validates a value against a (sub)schema; makes anyOf / oneOf choices exact */
  check?: (schema: JsonSchema | boolean, value: unknown) => boolean;
  /** nesting beyond which optional properties are left out and arrays take their minimum (default 6) */
  maxDepth?: number;
}

type Schema = JsonSchema | boolean;
type Obj = Record<string, unknown> & JsonSchema;

interface Ctx {
  root: Schema;
  rng: Rng;
  words: string[];
  check?: SampleOptions['check'];
  maxDepth: number;
  depth: number;
  /** the nearest property name */
  name: string;
  /** the nearest enclosing array's property name and this value's index in it */
  arrayName: string | null;
  index: number | null;
  /** the array enclosing that array, if any (`tasks` for `tasks[i].dependsOn[j]`) */
  outerArray: string | null;
  /** what the prompt is about: its first keywords ("recipe sharing app") */
  subject: string;
}

const HARD_DEPTH = 64;

export function sampleFromSchema(schema: Schema, options: SampleOptions): unknown {
  const words = options.words.length > 0 ? options.words : ['system'];
  return sample(schema, {
    root: schema,
    rng: options.rng,
    words,
    subject: words.slice(0, 3).join(' '),
    check: options.check,
    maxDepth: options.maxDepth ?? 6,
    depth: 0,
    name: '',
    arrayName: null,
    index: null,
    outerArray: null,
  });
}

/* ------------------------------------------------------------------ dispatch */

function sample(input: Schema | undefined, c: Ctx): unknown {
  if (c.depth > HARD_DEPTH) return null;
  if (input === undefined || input === true) return sampleString({}, c);
  if (input === false) return null;
  const s = normalize(input, c.root);
  if ('const' in s) return jsonClone(s.const);
  if (Array.isArray(s.enum) && s.enum.length > 0) return jsonClone(c.rng.pick(s.enum));
  if (Array.isArray(s.oneOf) && s.oneOf.length > 0) return sampleBranches(s, 'oneOf', c);
  if (Array.isArray(s.anyOf) && s.anyOf.length > 0) return sampleBranches(s, 'anyOf', c);
  switch (chooseType(s, c.rng)) {
    case 'object':
      return sampleObject(s, c);
    case 'array':
      return sampleArray(s, c);
    case 'integer':
      return sampleNumber(s, c, true);
    case 'number':
      return sampleNumber(s, c, false);
    case 'boolean':
      return c.rng.chance(0.5);
    case 'null':
      return null;
    default:
      return sampleString(s, c);
  }
}

/** Resolve `$ref` and fold `allOf` into one schema (bounded, for recursive references). */
function normalize(schema: Obj, root: Schema): Obj {
  let s: Obj = schema;
  for (let guard = 0; guard < 16; guard++) {
    if (typeof s.$ref === 'string') {
      const { $ref, ...rest } = s;
      const target = resolveRef(root, $ref as string);
      s = merge(typeof target === 'object' ? target : {}, rest as Obj);
      continue;
    }
    if (Array.isArray(s.allOf)) {
      const { allOf, ...rest } = s;
      s = (allOf as Schema[]).reduce<Obj>((acc, sub) => merge(acc, typeof sub === 'object' ? normalize(sub as Obj, root) : {}), rest as Obj);
      continue;
    }
    break;
  }
  return s;
}

function resolveRef(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#')) return true; // remote references are not followed
  const pointer = ref.slice(1);
  if (pointer === '' || pointer === '/') return root;
  let node: unknown = root;
  for (const raw of pointer.replace(/^\//, '').split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return true;
    node = (node as Record<string, unknown>)[key];
  }
  return node === undefined ? true : (node as Schema);
}

const MIN_KEYS = ['minimum', 'minLength', 'minItems', 'minProperties'];
const MAX_KEYS = ['maximum', 'maxLength', 'maxItems', 'maxProperties'];

/** Conjunction of two schemas, good enough to generate from (b refines a). */
function merge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const prev = out[key];
    if (prev === undefined) {
      out[key] = value;
    } else if (key === 'properties') {
      const props: Record<string, Schema> = { ...(prev as Record<string, Schema>) };
      for (const [name, sub] of Object.entries(value as Record<string, Schema>)) {
        props[name] = props[name] === undefined ? sub : ({ allOf: [props[name], sub] } as Obj);
      }
      out.properties = props as Record<string, JsonSchema>;
    } else if (key === 'required') {
      out.required = [...new Set([...(prev as string[]), ...(value as string[])])];
    } else if (MIN_KEYS.includes(key) && typeof prev === 'number' && typeof value === 'number') {
      out[key] = Math.max(prev, value);
    } else if (MAX_KEYS.includes(key) && typeof prev === 'number' && typeof value === 'number') {
      out[key] = Math.min(prev, value);
    } else if (key === 'type') {
      const left = ([] as unknown[]).concat(prev);
      const both = ([] as unknown[]).concat(value).filter((t) => left.includes(t) || (t === 'integer' && left.includes('number')));
      out.type = (both.length > 0 ? both : value) as Obj['type'];
    } else if (key === 'enum' && Array.isArray(prev) && Array.isArray(value)) {
      const both = value.filter((v) => prev.some((p) => JSON.stringify(p) === JSON.stringify(v)));
      out.enum = both.length > 0 ? both : value;
    } else if ((key === 'anyOf' || key === 'oneOf') && Array.isArray(prev)) {
      // two alternatives lists: keep the first, require the second through allOf-free nesting
      out.allOf = [...((out.allOf as Schema[] | undefined) ?? []), { [key]: value }];
    } else {
      out[key] = value;
    }
  }
  return out;
}

function chooseType(s: Obj, rng: Rng): string {
  const t = s.type;
  if (Array.isArray(t)) {
    const concrete = t.filter((x) => x !== 'null');
    return concrete.length > 0 ? rng.pick(concrete) : 'null';
  }
  if (typeof t === 'string') return t;
  const has = (...keys: string[]) => keys.some((k) => k in s);
  if (has('properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties', 'propertyNames')) return 'object';
  if (has('items', 'prefixItems', 'minItems', 'maxItems', 'contains', 'uniqueItems')) return 'array';
  if (has('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf')) return 'number';
  return 'string';
}

/** Try the branches in a seeded order; with a `check`, return the first value valid for the whole schema. */
function sampleBranches(s: Obj, key: 'anyOf' | 'oneOf', c: Ctx): unknown {
  const { [key]: branches, ...base } = s;
  const list = branches as Schema[];
  const order = list.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = c.rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let first: unknown;
  for (let attempt = 0; attempt < Math.min(order.length * 2, 12); attempt++) {
    const index = order[attempt % order.length]!;
    const branch = list[index]!;
    const combined = branch === false ? false : merge(base as Obj, branch === true ? {} : normalize(branch as Obj, c.root));
    const value = sample(combined, { ...c, rng: c.rng.fork(`${key}:${index}:${attempt}`) });
    if (attempt === 0) first = value;
    if (!c.check || c.check(withDefinitions(s, c.root), value)) return value;
  }
  return first;
}

/** A subschema made self-contained for a standalone check: the root's definitions travel with it. */
function withDefinitions(s: Obj, root: Schema): Schema {
  if (typeof root !== 'object') return s;
  const extra: Record<string, unknown> = {};
  if (root.$defs !== undefined) extra.$defs = root.$defs;
  if (root.definitions !== undefined) extra.definitions = root.definitions;
  return { ...s, ...extra };
}

function child(c: Ctx, name: string, rngLabel: string): Ctx {
  return { ...c, rng: c.rng.fork(rngLabel), depth: c.depth + 1, name };
}

/* ------------------------------------------------------------------ objects */

const CRITERIA_NAMES = ['correctness', 'completeness', 'clarity', 'relevance', 'feasibility', 'style'];

function sampleObject(s: Obj, c: Ctx): Record<string, unknown> {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set((s.required ?? []) as string[]);
  const maxProps = typeof s.maxProperties === 'number' ? s.maxProperties : Number.POSITIVE_INFINITY;
  const minProps = typeof s.minProperties === 'number' ? s.minProperties : 0;
  const deep = c.depth >= c.maxDepth;
  const optionalChance = deep ? 0 : c.depth >= c.maxDepth - 2 ? 0.4 : 0.8;

  const include = new Set<string>();
  for (const name of required) include.add(name);
  for (const name of Object.keys(props)) {
    if (include.has(name) || include.size >= maxProps) continue;
    if (c.rng.fork(`optional:${name}`).chance(optionalChance)) include.add(name);
  }

  const addl = s.additionalProperties;
  const closed = addl === false || s.unevaluatedProperties === false;
  const addlSchema: Schema = typeof addl === 'object' && addl !== null ? (addl as Schema) : true;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(props)) {
    if (include.has(name)) out[name] = sample(props[name], child(c, name, `p:${name}`));
  }
  for (const name of required) {
    if (!(name in out)) out[name] = sample(addlSchema, child(c, name, `p:${name}`));
  }

  // Open maps (a record such as `criteria: { [name]: number }`) and minProperties get extra keys.
  let target = Object.keys(out).length;
  if (!closed && typeof addl === 'object' && Object.keys(props).length === 0 && !deep) target = Math.max(target, c.rng.int(2, 3));
  target = Math.min(Math.max(target, minProps), maxProps);
  if (!closed && target > Object.keys(out).length) {
    const names = propertyNamesFor(s, c);
    for (const name of names) {
      if (Object.keys(out).length >= target) break;
      if (name in out) continue;
      out[name] = sample(addlSchema, child(c, name, `p:${name}`));
    }
  }
  return out;
}

function propertyNamesFor(s: Obj, c: Ctx): string[] {
  const pn = s.propertyNames;
  if (pn && typeof pn === 'object' && Array.isArray((pn as Obj).enum)) return ((pn as Obj).enum as unknown[]).map(String);
  const base = /criteri|score|rating/i.test(c.name) ? CRITERIA_NAMES : c.words;
  const names = [...base];
  for (let i = 1; names.length < base.length + 16; i++) names.push(`${base[0] ?? 'key'}${i}`);
  return names.map((n) => n.replace(/[^A-Za-z0-9_-]/g, '')).filter((n) => n.length > 0);
}

/* ------------------------------------------------------------------ arrays */

function sampleArray(s: Obj, c: Ctx): unknown[] {
  const min = typeof s.minItems === 'number' ? s.minItems : 0;
  const max = typeof s.maxItems === 'number' ? s.maxItems : Number.POSITIVE_INFINITY;
  const tuple = Array.isArray(s.prefixItems) ? (s.prefixItems as Schema[]) : Array.isArray(s.items) ? (s.items as Schema[]) : [];
  const rest: Schema | undefined = Array.isArray(s.items) ? (s.additionalItems as Schema | undefined) : (s.items as Schema | undefined);
  const deep = c.depth >= c.maxDepth;

  let lo = deep ? min : Math.max(min, Math.min(2, max));
  let hi = deep ? min : Math.max(lo, Math.min(max, Math.max(min, 4)));
  lo = Math.max(lo, Math.min(tuple.length, max));
  hi = Math.max(hi, lo);
  if (DEPENDENCY_LIST.test(humanize(c.name)) && c.index !== null) {
    // `tasks[i].dependsOn` names earlier items only (no self or forward references)
    hi = Math.max(min, Math.min(hi, c.index));
    lo = Math.min(lo, hi);
  }
  if (rest === false) {
    hi = Math.min(hi, tuple.length);
    lo = Math.min(lo, hi);
  }
  const count = c.rng.fork('count').int(lo, hi);
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (let i = 0; out.length < count && i < count + 24; i++) {
    const position = out.length;
    let itemSchema: Schema | undefined = position < tuple.length ? tuple[position] : rest;
    if (position === 0 && s.contains !== undefined && tuple.length === 0) {
      const contains = s.contains as Schema;
      itemSchema = typeof itemSchema === 'object' && typeof contains === 'object' ? merge(itemSchema as Obj, contains as Obj) : contains;
    }
    const value = sample(itemSchema, {
      ...c,
      rng: c.rng.fork(i === position ? `i:${position}` : `i:${position}#${i}`),
      depth: c.depth + 1,
      name: '',
      arrayName: c.name,
      index: position,
      outerArray: c.arrayName,
    });
    if (s.uniqueItems === true) {
      const key = JSON.stringify(value);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(value);
  }
  return out;
}

const DEPENDENCY_LIST = /^(depends on|dependencies|blocked by|prerequisites|after|requires)$/;

/* ------------------------------------------------------------------ numbers */

function sampleNumber(s: Obj, c: Ctx, integer: boolean): number {
  const name = humanize(c.name || c.arrayName || '');
  let [lo, hi] = defaultRange(name);
  const minimum = typeof s.minimum === 'number' ? s.minimum : undefined;
  const maximum = typeof s.maximum === 'number' ? s.maximum : undefined;
  // 2019+: numeric exclusive bounds; draft-04: booleans that make minimum/maximum exclusive
  const exMin = typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : s.exclusiveMinimum === true ? minimum : undefined;
  const exMax = typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : s.exclusiveMaximum === true ? maximum : undefined;
  const floor = Math.max(minimum ?? Number.NEGATIVE_INFINITY, exMin ?? Number.NEGATIVE_INFINITY);
  const ceil = Math.min(maximum ?? Number.POSITIVE_INFINITY, exMax ?? Number.POSITIVE_INFINITY);
  const width = hi - lo;
  if (Number.isFinite(floor) && Number.isFinite(ceil)) {
    [lo, hi] = Math.max(lo, floor) <= Math.min(hi, ceil) ? [Math.max(lo, floor), Math.min(hi, ceil)] : [floor, ceil];
  } else if (Number.isFinite(floor)) {
    if (lo < floor) [lo, hi] = [floor, floor + width];
  } else if (Number.isFinite(ceil)) {
    if (hi > ceil) [lo, hi] = [ceil - width, ceil];
  }
  const fits = (v: number) =>
    v >= floor && v <= ceil && (exMin === undefined || v > exMin) && (exMax === undefined || v < exMax) && (!integer || Number.isInteger(v));

  const step = typeof s.multipleOf === 'number' && s.multipleOf > 0 ? s.multipleOf : integer ? 1 : 0;
  if (step > 0) {
    const decimals = decimalsOf(step);
    const at = (k: number) => Number((k * step).toFixed(decimals));
    for (const [a, b] of [
      [lo, hi],
      [floor, ceil],
    ] as const) {
      const kLo = Math.ceil((Number.isFinite(a) ? a : -1e6) / step);
      const kHi = Math.floor((Number.isFinite(b) ? b : 1e6) / step);
      if (kLo > kHi) continue;
      const first = at(c.rng.int(kLo, kHi));
      if (fits(first) && (!integer || Number.isInteger(first))) return first;
      for (let k = kLo; k <= Math.min(kHi, kLo + 4); k++) if (fits(at(k))) return at(k);
    }
    return at(Math.ceil((Number.isFinite(floor) ? floor : 0) / step));
  }
  const raw = lo + c.rng.next() * (hi - lo);
  const rounded = Number(raw.toFixed(hi - lo <= 1 ? 3 : 2));
  if (fits(rounded)) return rounded;
  if (fits(raw)) return raw;
  return (floor + ceil) / 2;
}

function defaultRange(name: string): [number, number] {
  if (/percent/.test(name)) return [0, 100];
  if (/score|ratio|probability|confidence|weight|rate|similarity/.test(name)) return [0, 1];
  if (/hour|estimate|effort|days|points/.test(name)) return [1, 16];
  if (/count|number|qty|quantity|size|age|total|amount|priority|rank|order|position|index|step/.test(name)) return [1, 20];
  if (/year/.test(name)) return [2020, 2030];
  return [0, 100];
}

function decimalsOf(n: number): number {
  const text = String(n);
  if (text.includes('e-')) return Number(text.split('e-')[1]);
  return text.includes('.') ? text.split('.')[1]!.length : 0;
}

/* ------------------------------------------------------------------ strings */

function sampleString(s: Obj, c: Ctx): string {
  const format = typeof s.format === 'string' ? formatted(s.format, c) : null;
  let value = format ?? named(c);
  const minLength = typeof s.minLength === 'number' ? s.minLength : 0;
  const maxLength = typeof s.maxLength === 'number' ? s.maxLength : Number.POSITIVE_INFINITY;
  if (format === null) {
    for (let i = 0; value.length < minLength && i < 200; i++) value = `${value} ${sentence(c.rng, c.words, humanize(c.name))}`.trim();
    if (value.length > maxLength) {
      const cut = value.slice(0, maxLength);
      value = cut.trimEnd().length >= minLength ? cut.trimEnd() : cut;
    }
  }
  while (value.length < minLength) value += 'x';
  return value;
}

function formatted(format: string, c: Ctx): string | null {
  const w = sampleWords(c.rng, c.words, 2);
  switch (format) {
    case 'date-time':
      return isoInstant(c.rng);
    case 'date':
      return isoInstant(c.rng).slice(0, 10);
    case 'time':
      return `${isoInstant(c.rng).slice(11, 19)}Z`;
    case 'email':
    case 'idn-email':
      return `${slug([w[0]!])}@example.com`;
    case 'uri':
    case 'url':
    case 'iri':
    case 'uri-reference':
    case 'iri-reference':
      return `https://example.com/${slug(w)}`;
    case 'hostname':
    case 'idn-hostname':
      return `${slug([w[0]!])}.example.com`;
    case 'uuid':
      return uuid(c.rng);
    case 'ipv4':
      return `10.${c.rng.int(0, 255)}.${c.rng.int(0, 255)}.${c.rng.int(1, 254)}`;
    case 'ipv6':
      return `fd00::${hex(c.rng, 4)}`;
    case 'duration':
      return `PT${c.rng.int(1, 59)}M`;
    default:
      return null;
  }
}

/** Text shaped by the property name (and, inside an array, the array's name and position). */
function named(c: Ctx): string {
  const prop = humanize(c.name);
  const inArray = c.index !== null && c.arrayName !== null;
  const item = inArray ? singular(c.arrayName!) : '';
  const n = (c.index ?? 0) + 1;
  const { rng, words, subject } = c;
  const w = sampleWords(rng, words, 3);
  if (inArray) {
    // successive items lead with successive keywords, so a list reads as a list
    const lead = words[(n - 1) % words.length]!;
    const others = w.filter((x) => x !== lead);
    w.splice(0, w.length, lead, others[0] ?? lead, others[1] ?? lead);
  }
  const key = prop || item;

  if (/(^| )id$/.test(key) || /Id$/.test(c.name)) {
    return inArray ? `${slug([item.replace(/ /g, '-')])}-${n}` : `${slug([w[0]!])}-${hex(rng, 6)}`;
  }
  if (/(^| )(title|name|heading|subject|label|headline)$/.test(prop)) {
    if (inArray) return `${capitalize(rng.pick(['design', 'build', 'validate', 'document', 'review', 'ship']))} ${w[0]} ${w[1]}`;
    return `${titleCase(words.slice(0, rng.int(2, 3)))}${rng.pick(['', '', ': Overview', ': Proposal', ' v1'])}`;
  }
  if (/question/.test(key)) {
    return rng.pick([
      `How should the ${w[0]} handle ${w[1]}?`,
      `Which ${w[0]} matters most for ${w[1]}?`,
      `What happens to ${w[0]} when ${w[1]} fails?`,
      `Who owns ${w[0]} and ${w[1]}?`,
    ]);
  }
  if (/(^| )(path|file|filename)$/.test(key)) return `src/${slug([w[0]!])}/${slug([w[1]!])}.ts`;
  if (/(^| )(diff|patch)$/.test(key)) {
    const file = `src/${slug([w[0]!])}/${slug([w[1]!])}.ts`;
    return `--- a/${file}\n+++ b/${file}\n@@ -1,3 +1,4 @@\n export function ${w[0]!.replace(/-/g, '')}() {\n+  // ${sentence(rng, words, subject)}\n   return null;\n }\n`;
  }
  if (/(^| )(commit|sha|hash|revision)$/.test(key)) return hex(rng, 12);
  if (/(^| )(url|uri|link|href|website|homepage)$/.test(key)) return `https://example.com/${slug([w[0]!, w[1]!])}`;
  if (/(^| )e?mail$/.test(key)) return `${slug([w[0]!])}@example.com`;
  if (/(^| )(date|time|timestamp|created at|updated at|at)$/.test(key)) return isoInstant(rng);
  if (/(^| )version$/.test(key)) return `1.${rng.int(0, 9)}.${rng.int(0, 20)}`;
  if (/(^| )(priority|severity|level|impact|effort)$/.test(key)) return rng.pick(['low', 'medium', 'high']);
  if (/(^| )(status|state)$/.test(key)) return rng.pick(['proposed', 'planned', 'in progress', 'done']);
  if (/(^| )(decision|recommendation|conclusion|choice|verdict)$/.test(key)) {
    return `Adopt ${w[0]} ${rng.pick(['for', 'to handle', 'as the basis of'])} ${w[1]}, ${rng.pick(['starting small', 'behind a flag', 'with clear ownership'])}.`;
  }
  if (/(summary|description|rationale|feedback|text|content|body|details|explanation|reason|why|notes|comment|answer|message|overview|context|goal|problem)$/.test(key)) {
    const sentences = key === 'text' || key === 'body' || key === 'content' ? rng.int(3, 5) : rng.int(1, 3);
    return paragraph(rng, words, subject, sentences);
  }
  if (inArray && !prop) return itemText(item, n, w, c);
  return sentence(rng, words, subject);
}

/** A string item of a named array: `requirements` → "The system must …". */
function itemText(item: string, n: number, w: string[], c: Ctx): string {
  const [verb, past] = c.rng.pick([
    ['support', 'supported'],
    ['validate', 'validated'],
    ['record', 'recorded'],
    ['expose', 'exposed'],
    ['handle', 'handled'],
    ['report', 'reported'],
  ] as const);
  if (/requirement/.test(item)) return `The system must ${verb} ${w[0]} for ${w[1]}.`;
  if (/criterion|acceptance/.test(item)) return `Given ${w[0]}, when ${w[1]} changes, then it is ${past} correctly.`;
  if (/risk/.test(item)) return `${capitalize(w[0]!)} may ${c.rng.pick(['slow down', 'break', 'complicate'])} ${w[1]}.`;
  if (/alternative|option/.test(item)) return `Use ${w[0]} instead of ${w[1]}.`;
  if (/step|task|action/.test(item)) return `${capitalize(verb)} ${w[0]} ${w[1]}.`;
  if (/tag|keyword|label|topic/.test(item)) return w[0]!;
  if (/(^| )(on|dependency|prerequisite|blocker|by|after|require)$/.test(item)) return `${slug([singular(c.outerArray ?? 'task').replace(/ /g, '-')])}-${n}`;
  return `${capitalize(item || 'item')} ${n}: ${sentence(c.rng, c.words, c.subject)}`;
}

/** Schema values are JSON: a JSON round trip copies them (and keeps this realm's prototypes). */
function jsonClone(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
