import { createHash } from 'node:crypto';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { WorkCommand, WorkResult } from '@conclave/contracts';
import { z } from 'zod';

/**
 * Header of a work command or result that its writer built and validated with the contracts of
 * this fingerprint (as CATALOG_HEADER does for events, ADR 008): a reader built on the same
 * contracts takes such a message with JSON.parse alone — validating it again could only give the
 * same answer. A message without the header, or with another build's fingerprint, is validated
 * in full, so anything published by other code is still refused as poison. The header is the
 * writer's promise, not a proof: set it only on a payload that is the output of the contract's
 * parse (defaults applied), never on a payload relayed from elsewhere.
 */
export const CONTRACTS_HEADER = 'Conclave-Contracts';

/**
 * The work contracts as text: the JSON Schema of every command workers take and every result they
 * return. Two builds with the same text validate commands and results alike.
 */
export function workContractsText(): string {
  return JSON.stringify({
    commands: z.toJSONSchema(WorkCommand, { unrepresentable: 'any' }),
    results: z.toJSONSchema(WorkResult, { unrepresentable: 'any' }),
  });
}

let fingerprint: string | null = null;
/** sha-256 of the work contracts this process validates with (computed once per process). */
export function contractsFingerprint(): string {
  return (fingerprint ??= createHash('sha256').update(workContractsText()).digest('base64url'));
}

/** Fresh headers carrying this process's contracts fingerprint (a MsgHdrs is mutable: one per message). */
export function contractsHeaders(): MsgHdrs {
  const h = headers();
  h.set(CONTRACTS_HEADER, contractsFingerprint());
  return h;
}

/** Whether a message's headers promise it was validated with this process's contracts. */
export function hasContractsFingerprint(h: MsgHdrs | undefined): boolean {
  return h?.get(CONTRACTS_HEADER) === contractsFingerprint();
}

/** A decoded command or result, or why it is poison: not JSON, or the contract's issues (`path: message; …`). */
export type Decoded<T> = { value: T } | { notJson: true } | { issues: string };

const decoder = new TextDecoder();

/**
 * A command or result off the wire: JSON.parse alone when its header carries this process's
 * fingerprint (the writer validated it with the same contracts), else JSON.parse and `schema`.
 * Not JSON, or not the contract: the caller refuses it for good (poison).
 */
export function decodeContract<T>(schema: z.ZodType<T>, data: Uint8Array, h: MsgHdrs | undefined): Decoded<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    return { notJson: true };
  }
  if (hasContractsFingerprint(h) && raw !== null && typeof raw === 'object' && !Array.isArray(raw)) return { value: raw as T };
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { value: parsed.data };
  return { issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}
