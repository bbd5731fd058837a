import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.js';

describe('toCsv', () => {
  it('writes RFC 4180: header, CRLF, quoting of commas, quotes and line breaks', () => {
    expect(
      toCsv(
        ['a', 'b', 'c'],
        [
          { a: 'x', b: 1.5, c: true },
          { a: 'has,comma', b: null, c: 'say "hi"' },
          { a: 'two\nlines', b: Number.NaN },
        ],
      ),
    ).toBe('a,b,c\r\nx,1.5,true\r\n"has,comma",,"say ""hi"""\r\n"two\nlines",,\r\n');
  });

  it('keeps spreadsheets from running text cells as formulas, but not negative numbers', () => {
    expect(toCsv(['m', 'n'], [{ m: '=HYPERLINK("http://x")', n: -3 }])).toBe(
      'm,n\r\n"\'=HYPERLINK(""http://x"")",-3\r\n',
    );
    expect(toCsv(['m'], [{ m: '+1' }, { m: '-1' }, { m: '@SUM(A1)' }])).toBe(
      "m\r\n'+1\r\n'-1\r\n'@SUM(A1)\r\n",
    );
  });
});
