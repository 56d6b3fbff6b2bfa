import { jsonbSafeText } from './json';

/** The column types the projection writes (TableShape), as the entities spell them. */
export type CopyColumnType = 'text' | 'jsonb' | 'bigint' | 'integer' | 'double precision' | 'boolean' | 'timestamptz';

/**
 * Rows as the body of `COPY … FROM STDIN (FORMAT binary)`: the signature and header, then per
 * row its field count and each field as a length and its binary value, then the trailer
 * (PostgreSQL docs, "COPY: Binary Format"). Postgres reads such a row straight into its columns:
 * no JSON array to parse, no element copied out per row, no text to cast, which is what made
 * the insert-only tables (the timeline above all) the dearest part of a batch's write.
 *
 * Returns null when a value is not what its column's binary input takes as the jsonb-array
 * insert would take it (a text column holding a number, a fraction in an integer column, a
 * date given as a string, an unpaired surrogate in a text…): the caller then writes those rows
 * with that insert instead, whose casts accept or refuse each value exactly as before. Values are
 * stored as the jsonb path stores them: NUL characters become U+FFFD (json.ts), JSON null and
 * undefined are SQL NULL.
 */
export function binaryCopyRows(rows: readonly Record<string, unknown>[], columns: readonly string[], types: readonly CopyColumnType[]): Buffer | null {
  const out = new ScratchBuffer();
  out.bytes(SIGNATURE);
  out.int32(0); // flags
  out.int32(0); // header extension length
  for (const row of rows) {
    out.int16(columns.length);
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      if (!(c in row)) throw new Error(`row without column ${c}`);
      if (!field(out, types[i]!, row[c])) return null;
    }
  }
  out.int16(-1); // trailer
  return out.result();
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** timestamptz's binary value counts microseconds from 2000-01-01 00:00 UTC */
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
/** jsonb's binary input format: a version byte (1), then the JSON text. */
export const JSONB_BINARY_VERSION = 1;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Write one field; false when the value is not one the binary form takes as the jsonb path would. */
function field(out: ScratchBuffer, type: CopyColumnType, value: unknown): boolean {
  if (value === null || value === undefined) {
    out.int32(-1);
    return true;
  }
  switch (type) {
    case 'text':
      if (typeof value !== 'string' || !isWellFormed(value)) return false;
      out.text(value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value);
      return true;
    case 'jsonb': {
      const json = JSON.stringify(value) as string | undefined;
      if (json === undefined || json === 'null') out.int32(-1);
      else out.jsonb(jsonbSafeText(json));
      return true;
    }
    case 'bigint':
      if (!Number.isSafeInteger(value)) return false;
      out.int32(8);
      out.int64(value as number);
      return true;
    case 'integer':
      if (!Number.isInteger(value) || (value as number) < INT32_MIN || (value as number) > INT32_MAX) return false;
      out.int32(4);
      out.int32(value as number);
      return true;
    case 'double precision':
      // NaN and ±Infinity are JSON null on the jsonb path (SQL NULL): that path decides
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      out.int32(8);
      out.double(value === 0 ? 0 : value); // -0 is 0 in JSON
      return true;
    case 'boolean':
      if (typeof value !== 'boolean') return false;
      out.int32(1);
      out.byte(value ? 1 : 0);
      return true;
    case 'timestamptz': {
      const ms = value instanceof Date ? value.getTime() : NaN;
      if (!Number.isFinite(ms)) return false;
      out.int32(8);
      out.int64((ms - PG_EPOCH_MS) * 1000);
      return true;
    }
  }
}

/** A string without unpaired surrogates (which Buffer would write as U+FFFD, and Postgres' JSON input refuses). */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * A growing buffer over the process's scratch, for serialising one statement's data (binaryCopyRows,
 * and the jsonb arrays of projection.ts): `result()` returns a copy, so the scratch is reused by
 * the next statement (a fresh 256 KiB buffer per statement was most of a small batch's garbage).
 */
export class ScratchBuffer {
  private buffer = scratch;
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + n));
    this.buffer.copy(bigger, 0, 0, this.at);
    this.buffer = bigger;
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    this.at += b.copy(this.buffer, this.at);
  }

  byte(v: number): void {
    this.room(1);
    this.buffer[this.at++] = v;
  }

  int16(v: number): void {
    this.room(2);
    this.at = this.buffer.writeInt16BE(v, this.at);
  }

  int32(v: number): void {
    this.room(4);
    this.at = this.buffer.writeInt32BE(v, this.at);
  }

  /** a safe integer as a signed 64-bit big-endian value (no BigInt per value) */
  int64(v: number): void {
    this.room(8);
    const high = Math.floor(v / 2 ** 32);
    this.buffer.writeInt32BE(high, this.at);
    this.buffer.writeUInt32BE(v - high * 2 ** 32, this.at + 4);
    this.at += 8;
  }

  double(v: number): void {
    this.room(8);
    this.at = this.buffer.writeDoubleBE(v, this.at);
  }

  /** UTF-8 text, as it is */
  utf8(s: string): void {
    this.room(s.length * 3); // UTF-8: at most 3 bytes per UTF-16 unit
    this.at += this.buffer.write(s, this.at);
  }

  /** a length-prefixed UTF-8 field */
  text(s: string): void {
    this.room(4 + s.length * 3); // UTF-8: at most 3 bytes per UTF-16 unit
    const n = this.buffer.write(s, this.at + 4);
    this.buffer.writeInt32BE(n, this.at);
    this.at += 4 + n;
  }

  /** a length-prefixed jsonb field: its version byte, then the JSON text */
  jsonb(json: string): void {
    this.room(5 + json.length * 3);
    this.buffer[this.at + 4] = JSONB_BINARY_VERSION;
    const n = this.buffer.write(json, this.at + 5);
    this.buffer.writeInt32BE(n + 1, this.at);
    this.at += 5 + n;
  }

  result(): Buffer {
    // keep a grown scratch for the next call, up to a bound (a replay's 2,000-row chunks fit)
    if (this.buffer.length <= MAX_SCRATCH) scratch = this.buffer;
    return Buffer.from(this.buffer.subarray(0, this.at));
  }
}

const MAX_SCRATCH = 64 * 1024 * 1024;
let scratch = Buffer.allocUnsafe(256 * 1024);
