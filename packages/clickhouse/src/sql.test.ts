import { describe, expect, it } from 'vitest';
import { SqlValueError, ident, inList, join, lit, quoteString, raw, sql } from './sql';

describe('lit', () => {
  it('quotes strings, escaping quote, backslash and every control byte', () => {
    expect(lit("it's")).toBe("'it\\'s'");
    expect(lit('a\\b')).toBe("'a\\\\b'");
    expect(lit('l1\nl2\tx\r\0\x7f')).toBe("'l1\\x0al2\\x09x\\x0d\\x00\\x7f'");
    expect(lit('终端 ✓ 😀')).toBe("'终端 ✓ 😀'");
    expect(lit("'; DROP TABLE alerts; --")).toBe("'\\'; DROP TABLE alerts; --'");
  });
  it('refuses strings that have no UTF-8 form', () => {
    expect(() => lit('a\ud800b')).toThrow(SqlValueError);
    expect(() => lit('\udc00')).toThrow(SqlValueError);
    expect(lit('\ud83d\ude00')).toBe("'😀'"); // a proper pair is fine
  });
  it('renders numbers, negatives in parentheses, and refuses NaN and Infinity', () => {
    expect(lit(42)).toBe('42');
    expect(lit(0.25)).toBe('0.25');
    expect(lit(1e-7)).toBe('1e-7');
    expect(lit(-3)).toBe('(-3)');
    expect(`1-${lit(-3)}`).toBe('1-(-3)'); // never "1--3", which would start a comment
    expect(lit(-0)).toBe('(0)');
    expect(() => lit(Number.NaN)).toThrow(SqlValueError);
    expect(() => lit(Number.POSITIVE_INFINITY)).toThrow(SqlValueError);
    expect(lit(2n ** 63n)).toBe('9223372036854775808');
    expect(lit(-5n)).toBe('(-5)');
  });
  it('renders booleans, null, dates as UTC epoch seconds, and nested arrays', () => {
    expect(lit(true)).toBe('1');
    expect(lit(null)).toBe('NULL');
    expect(lit(new Date(Date.UTC(2026, 0, 1, 0, 0, 1, 999)))).toBe("toDateTime(1767225601, 'UTC')");
    expect(() => lit(new Date(Number.NaN))).toThrow(SqlValueError);
    expect(lit(['a', 1, [null]])).toBe("['a', 1, [NULL]]");
  });
  it('refuses anything else', () => {
    expect(() => lit({} as never)).toThrow(SqlValueError);
    expect(() => lit(undefined as never)).toThrow(SqlValueError);
  });
});

describe('ident, sql``, inList', () => {
  it('only back-quotes safe identifiers', () => {
    expect(ident('events_raw').text).toBe('`events_raw`');
    for (const bad of ['a-b', '1x', 'a`b', 'a b', '', 'x;drop']) {
      expect(() => ident(bad)).toThrow(SqlValueError);
    }
  });
  it('interpolates values as literals and fragments as they are', () => {
    const key = "T'1";
    const q = sql`SELECT * FROM ${ident('t')} WHERE k = ${key} AND n > ${-1} AND ${raw('1')}`;
    expect(q.text).toBe("SELECT * FROM `t` WHERE k = 'T\\'1' AND n > (-1) AND 1");
    expect(join([sql`a = ${1}`, sql`b = ${'x'}`], ' AND ').text).toBe("a = 1 AND b = 'x'");
  });
  it('renders IN lists and refuses empty ones', () => {
    expect(inList(['05', '91']).text).toBe("('05', '91')");
    expect(() => inList([])).toThrow(SqlValueError);
  });
  it('quoteString is what lit uses for strings', () => {
    expect(quoteString('x')).toBe(lit('x'));
  });
});
