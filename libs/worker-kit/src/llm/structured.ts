import { ProviderError } from './errors';
import { jsonRoot, unwrapJson } from './json-root';
import { addUsage, emptyUsage, type ChatClient, type ChatContext, type ChatMessage, type ChatRequest, type ChatUsage } from './types';

export type SchemaCheck = (schema: Record<string, unknown> | boolean, value: unknown) => { valid: true } | { valid: false; errors: string[] };

export interface StructuredResult {
  output: unknown;
  text: string;
  usage: ChatUsage;
  /** every assistant turn, in order (for transcripts) */
  turns: { request: ChatMessage[]; text: string; thinking?: string }[];
}

/** The raw output carried by an output_invalid failure is cut to this many characters. */
export const RAW_OUTPUT_CAP = 8_000;

/**
 * Ask for JSON in `schema` with the provider's native JSON mode, parse and validate it; on a
 * parse or validation failure send the errors back ONCE and ask again; then fail with
 * `output_invalid` (not retryable) carrying the raw text (truncated) in `extra.raw`.
 * The usage of both calls is summed in the error's message-free `usage` too (see `usageOf`).
 */
export async function chatStructured(
  client: ChatClient,
  request: Omit<ChatRequest, 'json' | 'tools'> & { schemaName: string; schema: Record<string, unknown> | boolean },
  check: SchemaCheck,
  ctx: ChatContext,
): Promise<StructuredResult> {
  const { wrapped } = jsonRoot(request.schema);
  const messages: ChatMessage[] = [...request.messages];
  const base: ChatRequest = {
    model: request.model,
    system: request.system,
    maxTokens: request.maxTokens,
    temperature: request.temperature,
    stream: request.stream,
    json: { name: request.schemaName, schema: request.schema },
    messages,
  };
  let usage = emptyUsage();
  const turns: StructuredResult['turns'] = [];
  let lastText = '';
  let lastErrors: string[] = [];
  for (let round = 0; round < 2; round += 1) {
    const response = await client.chat({ ...base, messages: [...messages] }, ctx);
    usage = addUsage(usage, response.usage);
    turns.push({ request: [...messages], text: response.text, ...(response.thinking ? { thinking: response.thinking } : {}) });
    lastText = response.text;
    const parsed = parseJsonText(response.text);
    if (parsed.ok) {
      const value = unwrapJson(parsed.value, wrapped);
      const result = check(request.schema, value);
      if (result.valid) return { output: value, text: response.text, usage, turns };
      lastErrors = result.errors;
    } else {
      lastErrors = [parsed.error];
    }
    messages.push({ role: 'assistant', content: response.text || '(empty)' });
    messages.push({
      role: 'user',
      content: `Your answer is not valid against the required JSON schema:\n- ${lastErrors.slice(0, 20).join('\n- ')}\nAnswer again with only the corrected JSON.`,
    });
  }
  throw new OutputInvalid(`the output does not match the schema after one repair: ${lastErrors.slice(0, 10).join('; ')}`.slice(0, 2_000), lastText, usage, turns);
}

export class OutputInvalid extends ProviderError {
  constructor(
    message: string,
    raw: string,
    readonly usage: ChatUsage,
    readonly turns: StructuredResult['turns'],
  ) {
    super('output_invalid', message, false, { raw: raw.slice(0, RAW_OUTPUT_CAP) });
  }
}

/** JSON text, tolerating a ```json fence and prose around one top-level object or array. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(trimmed);
  const candidates = [fenced ? fenced[1] : trimmed];
  const start = trimmed.search(/[[{]/);
  const end = Math.max(trimmed.lastIndexOf('}'), trimmed.lastIndexOf(']'));
  if (start >= 0 && end > start) candidates.push(trimmed.slice(start, end + 1));
  for (const c of candidates) {
    try {
      return { ok: true, value: JSON.parse(c) };
    } catch {
      // next candidate
    }
  }
  return { ok: false, error: trimmed ? '(root): the answer is not JSON' : '(root): the answer is empty' };
}
