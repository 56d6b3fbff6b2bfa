import { createTestEnv, type TestEnv } from '@conclave/testing';
import { createDataSource, type DataSource } from '@conclave/read-models';
import { binaryCopyRows, type CopyColumnType } from './binary-copy';
import { jsonbSafeText } from './json';
import { copyIn } from './prepared';

/**
 * The binary COPY of insert-only rows must store what the jsonb-array insert stored before it
 * (replay --verify compares tables written either way, and a chunk with an odd value still
 * goes through that insert): the same rows, value for value, including the awkward ones.
 */
describe('binary COPY rows against Postgres', () => {
  let env: TestEnv;
  let ds: DataSource;

  const columns = ['t', 'j', 'b', 'i', 'd', 'f', 'ts'];
  const types: CopyColumnType[] = ['text', 'jsonb', 'bigint', 'integer', 'double precision', 'boolean', 'timestamptz'];
  const table = (name: string) => `CREATE TABLE ${name} (n serial, t text, j jsonb, b bigint, i integer, d double precision, f boolean, ts timestamptz)`;
  // what insertRows sends when it cannot copy: each row an array of its values, read and cast column by column
  const JSON_INSERT = `INSERT INTO via_json (t, j, b, i, d, f, ts)
    SELECT r->>0, NULLIF(r->1, 'null'::jsonb), (r->>2)::bigint, (r->>3)::integer, (r->>4)::double precision, (r->>5)::boolean, (r->>6)::timestamptz
      FROM jsonb_array_elements($1::jsonb) AS r`;

  const rows: Record<string, unknown>[] = [
    { t: 'plain', j: { a: 1, nested: { list: [1, 'two', null, true] } }, b: 1, i: 1, d: 0.1, f: true, ts: new Date('2026-12-05T15:00:00.123Z') },
    { t: 'a\u0000b', j: { 'k\u0000ey': 'v\u0000al', text: 'é 😀 \\u0000 "quoted"' }, b: -(2 ** 53 - 1), i: -(2 ** 31), d: -1e-300, f: false, ts: new Date('1999-12-31T23:59:59.999Z') },
    { t: '', j: 'just a string', b: 2 ** 53 - 1, i: 2 ** 31 - 1, d: 5e-324, f: true, ts: new Date('2200-01-01T00:00:00.001Z') },
    { t: null, j: null, b: null, i: null, d: null, f: null, ts: null },
    { t: '😀 surrogate pairs are fine', j: [0.1, 1e21, -0, 123456789.125], b: -1, i: 0, d: -0, f: false, ts: new Date(0) },
    { t: 'undefined is NULL', j: undefined, b: 2 ** 40 + 7, i: 7, d: 1.7976931348623157e308, f: true, ts: new Date('2000-01-01T00:00:00.000Z') },
  ];

  beforeAll(async () => {
    env = await createTestEnv('bincopy', { database: true });
    ds = await createDataSource(env.databaseUrl).initialize();
    await ds.query(table('via_copy'));
    await ds.query(table('via_json'));
  });

  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  it('stores exactly what the jsonb-array insert stores', async () => {
    const data = binaryCopyRows(rows, columns, types);
    expect(data).not.toBeNull();
    await ds.transaction((m) => copyIn(m, 'COPY via_copy (t, j, b, i, d, f, ts) FROM STDIN (FORMAT binary)', data!));
    await ds.query(JSON_INSERT, [jsonbSafeText(JSON.stringify(rows.map((r) => columns.map((c) => r[c]))))]);
    // row by row, every column compared as text (so -0 against 0, or a jsonb key order, would show)
    const read = (name: string) => ds.query(`SELECT n, t, j::text AS j, b::text AS b, i, d::text AS d, f, ts FROM ${name} ORDER BY n`);
    const [copied, inserted] = [await read('via_copy'), await read('via_json')];
    expect(copied).toHaveLength(rows.length);
    expect(copied).toEqual(inserted);
    // and what a reader sees: NUL as U+FFFD, bigints and dates as written
    expect(copied[1]).toMatchObject({ t: 'a\uFFFDb', b: String(-(2 ** 53 - 1)), i: -(2 ** 31), ts: new Date('1999-12-31T23:59:59.999Z') });
    expect(JSON.parse(copied[1].j)).toEqual({ 'k\uFFFDey': 'v\uFFFDal', text: 'é 😀 \\u0000 "quoted"' });
    expect(copied[3]).toMatchObject({ t: null, j: null, b: null, i: null, d: null, f: null, ts: null });
    expect(copied[5]).toMatchObject({ j: null, b: String(2 ** 40 + 7) });
  });

  it('refuses a row Postgres refuses, with its SQLSTATE, and stores none of the COPY', async () => {
    await ds.query('CREATE TABLE unique_copy (id text PRIMARY KEY, j jsonb)');
    const dup = binaryCopyRows([{ id: 'a', j: 1 }, { id: 'a', j: 2 }], ['id', 'j'], ['text', 'jsonb'])!;
    await expect(ds.transaction((m) => copyIn(m, 'COPY unique_copy (id, j) FROM STDIN (FORMAT binary)', dup))).rejects.toMatchObject({ code: '23505' });
    const unpaired = binaryCopyRows([{ id: 'b', j: { text: 'x\ud800y' } }], ['id', 'j'], ['text', 'jsonb'])!;
    await expect(ds.transaction((m) => copyIn(m, 'COPY unique_copy (id, j) FROM STDIN (FORMAT binary)', unpaired))).rejects.toMatchObject({ code: expect.stringMatching(/^22/) });
    expect(await ds.query('SELECT count(*)::int AS n FROM unique_copy')).toEqual([{ n: 0 }]);
  });
});

describe('binaryCopyRows', () => {
  const one = (type: CopyColumnType, value: unknown) => binaryCopyRows([{ v: value }], ['v'], [type]);

  it.each<[CopyColumnType, unknown]>([
    ['text', 42],
    ['text', 'x\ud800'],
    ['integer', 1.5],
    ['integer', 2 ** 31],
    ['bigint', 2 ** 53],
    ['bigint', '12'],
    ['double precision', NaN],
    ['double precision', Infinity],
    ['boolean', 'true'],
    ['timestamptz', '2026-12-05T00:00:00Z'],
    ['timestamptz', new Date(NaN)],
  ])('leaves %s %p to the jsonb-array insert (null)', (type, value) => {
    expect(one(type, value)).toBeNull();
  });

  it('frames rows as Postgres reads them: signature, header, field count, lengths, trailer', () => {
    const data = binaryCopyRows([{ a: 'hé', b: 7 }], ['a', 'b'], ['text', 'integer'])!;
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
    const row = Buffer.from([0, 2, 0, 0, 0, 3, 0x68, 0xc3, 0xa9, 0, 0, 0, 4, 0, 0, 0, 7]);
    expect(data).toEqual(Buffer.concat([header, row, Buffer.from([0xff, 0xff])]));
  });

  it('refuses a row without one of the columns', () => {
    expect(() => binaryCopyRows([{ a: 1 }], ['a', 'b'], ['integer', 'integer'])).toThrow(/row without column b/);
  });
});
