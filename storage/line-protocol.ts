/**
 * Store points as InfluxDB line protocol at millisecond precision, through the client library's
 * `Point` (its escaping of measurements, tags and strings). Field types come from the schema, so a
 * field is written with the same type whatever its value; integers get the `i` suffix, never `u`.
 */
import { Point as LinePoint, type PointSettings } from '@influxdata/influxdb-client';
import { fieldType } from './schema.js';
import type { Point, StoredValue } from './store.js';

/** The timestamp precision of every line this module writes. */
export const PRECISION = 'ms';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A point that cannot be written as a line (a value that does not fit its field's type). */
export class LineProtocolError extends Error {
  readonly code = 'FLOWCAST_LINE_PROTOCOL';
  constructor(
    message: string,
    readonly measurement: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'LineProtocolError';
  }
}

// Timestamps are already Unix milliseconds; the library's default would turn them into nanoseconds.
const settings: Partial<PointSettings> = {
  convertTime: (time) => (time === undefined ? undefined : String(time)),
};

function integerText(measurement: string, field: string, value: StoredValue): string {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
  else
    throw new LineProtocolError(
      `field ${field} must be an integer, got ${String(value)}`,
      measurement,
      field,
    );
  if (n < INT64_MIN || n > INT64_MAX) {
    throw new LineProtocolError(`field ${field} is out of the int64 range: ${n}`, measurement, field);
  }
  return `${n}i`;
}

function addField(line: LinePoint, measurement: string, field: string, value: StoredValue): void {
  switch (fieldType(measurement, field, value)) {
    case 'integer':
      // The library's intField goes through a double and so rounds integers above 2^53; `fields`
      // is its public map of already-formatted values, so the exact text goes there instead.
      line.fields[field] = integerText(measurement, field, value);
      return;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new LineProtocolError(
          `field ${field} must be a finite number, got ${String(value)}`,
          measurement,
          field,
        );
      }
      line.floatField(field, value);
      return;
    case 'string':
      if (typeof value !== 'string') {
        throw new LineProtocolError(
          `field ${field} must be a string, got ${String(value)}`,
          measurement,
          field,
        );
      }
      line.stringField(field, value);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') {
        throw new LineProtocolError(
          `field ${field} must be a boolean, got ${String(value)}`,
          measurement,
          field,
        );
      }
      line.booleanField(field, value);
      return;
  }
}

/**
 * A tag value line protocol can carry: control characters become spaces and backslashes become
 * slashes. InfluxDB cannot store a backslash before a space, comma or equals sign in a tag (the
 * client does not escape it, and an escaped one is refused), and a newline ends the line. Tag
 * values from exporters (interface names) can hold either.
 */
export function cleanTagValue(value: string): string {
  let needed = false;
  for (let i = 0; i < value.length && !needed; i++) needed = isUnsafe(value.charCodeAt(i));
  if (!needed) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    out += c === BACKSLASH ? '/' : isUnsafe(c) ? ' ' : value[i];
  }
  return out;
}

const BACKSLASH = 0x5c;
/** Control characters (C0 and DEL) and the backslash. */
function isUnsafe(code: number): boolean {
  return code < 0x20 || code === 0x7f || code === BACKSLASH;
}

/**
 * One point as a line of line protocol (no trailing newline). Tags with an empty value are left
 * out, as InfluxDB cannot store them. Throws a {@link LineProtocolError} when a value does not fit
 * its field's type, the point has no field, or its time is not an integer.
 */
export function toLine(point: Point): string {
  const { measurement } = point;
  if (!Number.isSafeInteger(point.time)) {
    throw new LineProtocolError(`time must be integer milliseconds, got ${point.time}`, measurement);
  }
  const line = new LinePoint(measurement);
  for (const [key, value] of Object.entries(point.tags)) line.tag(key, cleanTagValue(value));
  for (const [key, value] of Object.entries(point.fields)) addField(line, measurement, key, value);
  line.timestamp(point.time);
  const text = line.toLineProtocol(settings);
  if (text === undefined) throw new LineProtocolError('a point needs a measurement and a field', measurement);
  return text;
}
