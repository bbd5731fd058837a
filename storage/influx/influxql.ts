/**
 * Building InfluxQL safely: every identifier and string literal goes through these escapers, so no
 * caller-supplied text is ever spliced into a statement as is.
 */
import { cleanTagValue } from '../line-protocol.js';
import { InfluxStoreError } from './errors.js';

// InfluxQL's scanner ends a quoted token at an unescaped quote and refuses a raw newline in one.
const escapeIn = (value: string, quote: '"' | "'") =>
  value
    .replace(/\\/g, '\\\\')
    .replace(quote === '"' ? /"/g : /'/g, `\\${quote}`)
    .replace(/\n/g, '\\n');

/** A double-quoted identifier (measurement, tag or field key). */
export function ident(name: string): string {
  return `"${escapeIn(name, '"')}"`;
}

/**
 * A single-quoted string literal (a tag value to compare with). Tag values are stored cleaned (see
 * cleanTagValue), so the value is cleaned the same way: it matches what was stored, and control
 * characters, which InfluxQL refuses in a literal, never reach the query.
 */
export function str(value: string): string {
  return `'${escapeIn(cleanTagValue(value), "'")}'`;
}

/** A whole number of milliseconds, checked: InfluxQL refuses fractional `ms` literals. */
function millis(what: string, value: number): string {
  if (!Number.isSafeInteger(value)) {
    throw new InfluxStoreError(
      'FLOWCAST_INFLUX_ARGUMENT',
      `${what} must be integer milliseconds, got ${value}`,
    );
  }
  return `${value}ms`;
}

/** `time >= from AND time < to`, either bound optional. */
export function timeRange(range: { from?: number | undefined; to?: number | undefined }): string[] {
  const conditions: string[] = [];
  if (range.from !== undefined) conditions.push(`time >= ${millis('from', range.from)}`);
  if (range.to !== undefined) conditions.push(`time < ${millis('to', range.to)}`);
  return conditions;
}

/** `"key" = 'value'` for each defined value. */
export function tagEquals(tags: Readonly<Record<string, string | number | undefined>>): string[] {
  return Object.entries(tags)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${ident(key)} = ${str(String(value))}`);
}

/** A `WHERE` clause joining conditions with `AND`; empty when there are none. */
export function where(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
}
