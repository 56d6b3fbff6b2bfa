import { toCsv } from './csv';

describe('toCsv', () => {
  it('quotes separators, quotes and newlines, and defuses formulas', () => {
    const csv = toCsv(['a', 'b', 'c'], [
      ['plain', 'with,comma', 'say "hi"'],
      ['line\nbreak', '=SUM(A1)', -1.5],
      [null, undefined, true],
      ['@cmd', '+1', '-x'],
    ]);
    expect(csv).toBe('a,b,c\r\nplain,"with,comma","say ""hi"""\r\n"line\nbreak",\'=SUM(A1),-1.5\r\n,,true\r\n\'@cmd,\'+1,\'-x\r\n');
  });
});
