import type { Rng } from './seed';

/**
 * Readable filler text for the simulated provider: sentences built from the prompt's keywords and
 * the property being filled, so a demo's outputs look related to what was asked.
 */
const STOPWORDS = new Set(
  (
    'a an the and or but nor for with without to of in on at by from into onto over under about above after before ' +
    'is are was were be been being am do does did done have has had having it its this that these those there here ' +
    'you your yours we our ours they their them he she his her i me my mine us as if then than so such too very ' +
    'can could should would will shall may might must not no yes all any each every some many more most much other ' +
    'please write create make give use using used return returns output outputs json schema based following follow ' +
    'what which who whom whose how why when where while also just only like via per etc e g ie eg one two three ' +
    'you are assistant answer respond response task phase inputs input phases idea'
  ).split(/\s+/),
);

const FALLBACK = ['workflow', 'pipeline', 'service', 'feature', 'module', 'interface', 'review', 'design', 'storage', 'users'];

/** Distinct lower-case keywords of the prompt, in order of first appearance (at most 24). */
export function keywords(...texts: (string | undefined)[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    for (const raw of (text ?? '').toLowerCase().match(/[a-z][a-z0-9-]*/g) ?? []) {
      const word = raw.replace(/-+$/, '');
      if (word.length < 3 || STOPWORDS.has(word) || seen.has(word)) continue;
      seen.add(word);
      out.push(word);
      if (out.length >= 24) return out;
    }
  }
  return out.length > 0 ? out : [...FALLBACK];
}

export const capitalize = (s: string) => (s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1));
export const titleCase = (words: string[]) => words.map(capitalize).join(' ');

/** `acceptanceCriteria` → `acceptance criteria`, `estimate_hours` → `estimate hours`. */
export function humanize(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\-.]+/g, ' ')
    .trim()
    .toLowerCase();
}

/** `requirements` → `requirement`, `tasks` → `task`, `criteria` → `criterion`. */
export function singular(name: string): string {
  const n = humanize(name).split(' ').pop() ?? name;
  if (n.endsWith('criteria')) return n.replace(/criteria$/, 'criterion');
  if (n.endsWith('ies')) return `${n.slice(0, -3)}y`;
  if (n.endsWith('sses') || n.endsWith('xes')) return n.slice(0, -2);
  if (n.endsWith('s') && !n.endsWith('ss')) return n.slice(0, -1);
  return n;
}

/** Some distinct words of the vocabulary, in a seeded order. */
export function sampleWords(rng: Rng, vocabulary: string[], count: number): string[] {
  const pool = [...vocabulary];
  const out: string[] = [];
  while (out.length < count) {
    if (pool.length === 0) pool.push(...vocabulary);
    out.push(pool.splice(rng.int(0, pool.length - 1), 1)[0]!);
  }
  return out;
}

const VERBS = ['support', 'handle', 'validate', 'document', 'expose', 'track', 'cache', 'test', 'review', 'simplify'];
const ADJECTIVES = ['clear', 'robust', 'incremental', 'minimal', 'observable', 'consistent', 'secure', 'fast'];

/** "a" or "an" before a word (by its first letter: good enough for generated filler). */
export const article = (word: string) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);

const SENTENCES: ((w: string[], v: string, adj: string, topic: string) => string)[] = [
  (w, v, adj, topic) => `The ${topic} should ${v} ${w[0]} and ${w[1]} in ${article(adj)} way.`,
  (w, v, adj) => `Focus on ${w[0]} first, then ${v} ${w[1]} with ${adj} defaults.`,
  (w, v, adj, topic) => `${capitalize(article(adj))} approach to ${w[0]} keeps the ${topic} easy to ${v}.`,
  (w, v) => `Make sure ${w[0]} and ${w[1]} are easy to ${v}.`,
  (w, v, adj) => `We ${v} ${w[0]} so that ${w[1]} stays ${adj}.`,
];

/** One sentence about `topic` (the prompt's subject or a property name) using prompt keywords. */
export function sentence(rng: Rng, vocabulary: string[], topic: string): string {
  const words = sampleWords(rng, vocabulary, 2);
  return rng.pick(SENTENCES)(words, rng.pick(VERBS), rng.pick(ADJECTIVES), topic || 'solution');
}

export function paragraph(rng: Rng, vocabulary: string[], topic: string, sentences: number): string {
  return Array.from({ length: sentences }, () => sentence(rng, vocabulary, topic)).join(' ');
}

export function hex(rng: Rng, length: number): string {
  let out = '';
  while (out.length < length) out += rng.int(0, 15).toString(16);
  return out;
}

/** A deterministic instant in 2025 (the simulated world has a fixed calendar). */
export function isoInstant(rng: Rng): string {
  const base = Date.UTC(2025, 0, 1);
  return new Date(base + rng.int(0, 364) * 86_400_000 + rng.int(0, 86_399) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function uuid(rng: Rng): string {
  const h = hex(rng, 32).split('');
  h[12] = '4';
  h[16] = '89ab'[rng.int(0, 3)]!;
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

export function slug(words: string[]): string {
  return words.join('-').replace(/[^a-z0-9-]/g, '');
}
