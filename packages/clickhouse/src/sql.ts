/**
 * The one way values reach SQL text. ClickHouse 18.16 has no server-side query parameters
 * ({name:Type} came in 19.x), so every value is rendered as a literal here, after zod has
 * validated it, and nowhere else. Kept small on purpose: strings, numbers, bigints, booleans,
 * dates, null and arrays of those; identifiers through ident().
 */

export type SqlValue = string | number | bigint | boolean | Date | null | readonly SqlValue[];

/** A piece of SQL that is already safe: built by sql``, ident() or a constant of ours. */
export class SqlFragment {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export class SqlValueError extends Error {
  readonly code = 'TW_CH_SQL_VALUE';
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'SqlValueError';
  }
}

// With the u flag a valid pair is one code point, so this matches only unpaired halves:
// they have no UTF-8 form and would reach the server as U+FFFD, not what was validated.
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Escape a string for a single-quoted ClickHouse literal. Backslash and quote are escaped;
 * every control byte (NUL, newline, tab, DEL...) becomes \xHH, which both 18.16 and current
 * parsers read back as exactly that byte. Other characters pass as UTF-8 unchanged.
 */
export function quoteString(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new SqlValueError('string holds a lone UTF-16 surrogate');
  let out = "'";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x27) out += "\\'";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += s[i];
  }
  return out + "'";
}

/** One value as a SQL literal. */
export function lit(v: SqlValue): string {
  if (v === null) return 'NULL';
  switch (typeof v) {
    case 'string':
      return quoteString(v);
    case 'number':
      if (!Number.isFinite(v)) throw new SqlValueError(`not a finite number: ${v}`);
      // Negative numbers in parentheses: "x - -1" and "[-1]" are fine, but "a--1" would be a comment.
      return v < 0 || Object.is(v, -0) ? `(${String(v)})` : String(v);
    case 'bigint':
      return v < 0n ? `(${v.toString()})` : v.toString();
    case 'boolean':
      return v ? '1' : '0';
    case 'object':
      if (v instanceof Date) {
        const ms = v.getTime();
        if (!Number.isFinite(ms)) throw new SqlValueError('invalid Date');
        // Epoch seconds, not text: text would be read in the server's time zone.
        return `toDateTime(${Math.floor(ms / 1000)}, 'UTC')`;
      }
      if (Array.isArray(v)) return `[${v.map(lit).join(', ')}]`;
      break;
  }
  throw new SqlValueError(`cannot render ${Object.prototype.toString.call(v)} as SQL`);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A table, column or database name: letters, digits, underscore only, back-quoted. */
export function ident(name: string): SqlFragment {
  if (!IDENT.test(name)) throw new SqlValueError(`not a safe identifier: ${JSON.stringify(name)}`);
  return new SqlFragment(`\`${name}\``);
}

/** Trusted SQL text of our own (a constant, never input). */
export function raw(text: string): SqlFragment {
  return new SqlFragment(text);
}

/**
 * Tagged template: sql`SELECT * FROM ${ident(t)} WHERE key = ${key}` renders every
 * interpolation through lit(), fragments (ident, raw, nested sql) as they are.
 */
export function sql(
  strings: TemplateStringsArray,
  ...values: (SqlValue | SqlFragment)[]
): SqlFragment {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += v instanceof SqlFragment ? v.text : lit(v);
    out += strings[i + 1] ?? '';
  });
  return new SqlFragment(out);
}

/** Join fragments with a separator, e.g. WHERE conditions with ' AND '. */
export function join(parts: readonly SqlFragment[], sep: string): SqlFragment {
  return new SqlFragment(parts.map((p) => p.text).join(sep));
}

/**
 * The right side of IN: ('a', 'b'). An empty list matches nothing, so it renders as a
 * condition-free empty set would: callers should skip the filter instead; this throws.
 */
export function inList(values: readonly SqlValue[]): SqlFragment {
  if (!values.length) throw new SqlValueError('IN list must not be empty');
  return new SqlFragment(`(${values.map(lit).join(', ')})`);
}
