import { readFileSync } from 'node:fs';

/** A command-line value the CLI refuses before any request (exit code 1, nothing sent). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The JSON type an inputs schema gives a property (`type`, or the first non-null of a type list). */
function declaredType(schema: unknown, key: string): string | undefined {
  const property = (schema as { properties?: Record<string, { type?: unknown }> } | null)?.properties?.[key];
  const type = property?.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === 'string' && t !== 'null');
  return undefined;
}

/**
 * One `--input key=value`, typed by the template's inputs schema: numbers, integers and booleans
 * are converted, objects and arrays are read as JSON, anything else stays text. The gateway checks
 * the result against the schema itself (a 422 names the field): this only spares the quoting.
 */
export function coerceInput(key: string, raw: string, inputsSchema: unknown): unknown {
  const type = declaredType(inputsSchema, key);
  switch (type) {
    case 'number':
    case 'integer': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--input ${key}: "${raw}" is not a number (the template's inputs schema says ${type})`);
      return n;
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new UsageError(`--input ${key}: "${raw}" is not true or false (the template's inputs schema says boolean)`);
    case 'object':
    case 'array':
      try {
        return JSON.parse(raw);
      } catch (err) {
        throw new UsageError(`--input ${key}: the template's inputs schema says ${type}, and "${raw}" is not JSON (${(err as Error).message})`);
      }
    default:
      return raw;
  }
}

/** `key=value` → [key, value]; the value may hold more `=`. */
export function splitPair(pair: string): [string, string] {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new UsageError(`--input "${pair}": expected key=value`);
  return [pair.slice(0, eq), pair.slice(eq + 1)];
}

/** The inputs of `runs start`: the file's (a JSON object) first, then each `--input` over it. */
export function buildInputs(pairs: readonly string[], inputsFile: string | undefined, inputsSchema: unknown, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): Record<string, unknown> {
  let inputs: Record<string, unknown> = {};
  if (inputsFile !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFile(inputsFile));
    } catch (err) {
      throw new UsageError(`--inputs-file ${inputsFile}: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--inputs-file ${inputsFile}: expected a JSON object of inputs`);
    inputs = { ...(parsed as Record<string, unknown>) };
  }
  for (const pair of pairs) {
    const [key, raw] = splitPair(pair);
    inputs[key] = coerceInput(key, raw, inputsSchema);
  }
  return inputs;
}

/** A template file: JSON, the format `POST /templates` takes (DESIGN.md's import/export format). */
export function readTemplateFile(path: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): unknown {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not JSON (${(err as Error).message}); templates are JSON documents, as POST /api/v1/templates takes them`);
  }
}

/** `--answer 2=text`: the answer to the 2nd question (1-based). */
export function parseAnswerPairs(pairs: readonly string[], questionCount: number): Map<number, string> {
  const answers = new Map<number, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const n = eq > 0 ? Number(pair.slice(0, eq)) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > questionCount) throw new UsageError(`--answer "${pair}": expected N=text with N a question number from 1 to ${questionCount}`);
    answers.set(n, pair.slice(eq + 1));
  }
  return answers;
}
