/**
 * The embedded store's tables, derived from the schema of docs/schema.md (storage/schema.ts): one
 * table per measurement with `time` (BIGINT, Unix ms), one VARCHAR column per tag, one typed column
 * per field (integer → BIGINT, float → DOUBLE, string → VARCHAR, boolean → BOOLEAN), and `extra`
 * (VARCHAR, JSON) for tags and fields outside the schema, so that nothing a writer sends is lost.
 *
 * Points are checked against the columns before they reach DuckDB, with InfluxDB's rules: integers
 * are 64-bit signed, floats finite, each value of its field's type. A point that does not fit is
 * refused (and counted by the store), never half-written.
 */
import type { DuckDBAppender } from '@duckdb/node-api';
import { cleanTagValue } from '../line-protocol.js';
import { type FieldType, type MeasurementName, SCHEMA } from '../schema.js';
import type { Point, Row } from '../store.js';

/** A column and how its values are stored. */
export interface Column {
  readonly name: string;
  readonly kind: 'time' | 'tag' | FieldType | 'extra';
}

export interface Table {
  readonly name: MeasurementName;
  /** `time`, the tags, the fields, `extra`: the order of the CREATE TABLE and of the appender. */
  readonly columns: readonly Column[];
  readonly byName: ReadonlyMap<string, number>;
}

/** One row ready for the appender, in column order. */
export type Encoded = (bigint | number | string | boolean | null)[];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const SQL_TYPES: Readonly<Record<Column['kind'], string>> = {
  time: 'BIGINT NOT NULL',
  tag: 'VARCHAR',
  integer: 'BIGINT',
  float: 'DOUBLE',
  string: 'VARCHAR',
  boolean: 'BOOLEAN',
  extra: 'VARCHAR',
};

/** A schema name as a quoted SQL identifier (names come from the schema, never from points). */
export function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return `"${name}"`;
}

function makeTable(name: MeasurementName): Table {
  const schema = SCHEMA[name];
  const columns: Column[] = [
    { name: 'time', kind: 'time' },
    ...schema.tags.map((tag): Column => ({ name: tag, kind: 'tag' })),
    ...Object.entries(schema.fields).map(([field, kind]): Column => ({ name: field, kind })),
    { name: 'extra', kind: 'extra' },
  ];
  return { name, columns, byName: new Map(columns.map((c, i) => [c.name, i])) };
}

/** Every table, by measurement name. */
export const TABLES: ReadonlyMap<string, Table> = new Map(
  (Object.keys(SCHEMA) as MeasurementName[]).map((name) => [name, makeTable(name)]),
);

/** The table a batch is appended to before it replaces rows of the same series and time. */
export function stagingName(table: Table): string {
  return `flowcast_staging_${table.name}`;
}

/**
 * Statements that move the staged rows into the table with InfluxDB's semantics: a point replaces
 * the stored one with the same series (tags) and time, and of several in one batch the last wins.
 * So a window written again (after a restart, or a spool segment replayed twice) is not counted
 * twice, and both stores hold the same data.
 */
export function upsert(table: Table, from: number, to: number): string[] {
  const t = ident(table.name);
  const staging = ident(stagingName(table));
  const keys = table.columns.filter((c) => c.kind === 'time' || c.kind === 'tag').map((c) => ident(c.name));
  const same = keys.map((k) => `s.${k} IS NOT DISTINCT FROM ${t}.${k}`).join(' AND ');
  // The batch's time range, as literals (integers computed here), lets DuckDB skip the row groups
  // outside it instead of scanning the whole table for every batch.
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to))
    throw new RangeError('upsert: bad time range');
  return [
    `DELETE FROM ${t} WHERE ${t}.time BETWEEN ${from} AND ${to} AND EXISTS (SELECT 1 FROM ${staging} s WHERE ${same})`,
    `INSERT INTO ${t} SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY rowid DESC) AS rn FROM ${staging}) WHERE rn = 1`,
    `DELETE FROM ${staging}`,
  ];
}

/** Statements that create a table, or add the columns a newer schema has to an existing one. */
export function ddl(table: Table): string[] {
  const columns = table.columns.map((c) => `${ident(c.name)} ${SQL_TYPES[c.kind]}`);
  return [
    `CREATE TABLE IF NOT EXISTS ${ident(table.name)} (${columns.join(', ')})`,
    `CREATE OR REPLACE TABLE ${ident(stagingName(table))} (${columns.join(', ')})`,
    ...table.columns
      .filter((c) => c.kind !== 'time')
      .map(
        (c) =>
          `ALTER TABLE ${ident(table.name)} ADD COLUMN IF NOT EXISTS ${ident(c.name)} ${SQL_TYPES[c.kind]}`,
      ),
  ];
}

function int64(value: unknown): bigint | undefined {
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isInteger(value)) v = BigInt(value);
  else return undefined;
  return v >= INT64_MIN && v <= INT64_MAX ? v : undefined;
}

/** A field value in its column's type, or undefined when it does not fit. */
function fieldValue(kind: FieldType, value: unknown): bigint | number | string | boolean | undefined {
  switch (kind) {
    case 'integer':
      return int64(value);
    case 'float':
      if (typeof value === 'bigint') return Number(value);
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
  }
}

/** A value outside the schema as JSON can hold it (bigints as numbers, as rows return them). */
function extraValue(value: unknown): number | string | boolean | undefined {
  if (typeof value === 'bigint') return int64(value) === undefined ? undefined : Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return typeof value === 'string' || typeof value === 'boolean' ? value : undefined;
}

/** The point as a row of its table, or undefined when it does not fit (unknown measurement, bad value). */
export function encode(table: Table, point: Point): Encoded | undefined {
  const time = int64(typeof point.time === 'number' ? Math.floor(point.time) : undefined);
  if (time === undefined) return undefined;
  const row: Encoded = new Array<null>(table.columns.length).fill(null);
  row[0] = time;
  const extra: Record<string, number | string | boolean> = {};
  let extras = 0;
  for (const [key, value] of Object.entries(point.tags)) {
    if (typeof value !== 'string') return undefined;
    const at = table.byName.get(key);
    // Cleaned as line protocol cleans them for InfluxDB, so that both stores hold the same value.
    if (at !== undefined && table.columns[at]!.kind === 'tag') row[at] = cleanTagValue(value);
    else {
      extra[key] = value;
      extras++;
    }
  }
  for (const [key, value] of Object.entries(point.fields)) {
    const at = table.byName.get(key);
    const kind = at === undefined ? undefined : table.columns[at]!.kind;
    if (
      at !== undefined &&
      (kind === 'integer' || kind === 'float' || kind === 'string' || kind === 'boolean')
    ) {
      const v = fieldValue(kind, value);
      if (v === undefined) return undefined;
      row[at] = v;
    } else {
      const v = extraValue(value);
      if (v === undefined) return undefined;
      extra[key] = v;
      extras++;
    }
  }
  if (extras > 0) row[table.columns.length - 1] = JSON.stringify(extra);
  return row;
}

/** Appends an encoded row (checked by `encode`) to its table's appender. */
export function append(appender: DuckDBAppender, row: Encoded): void {
  for (const value of row) {
    if (value === null) appender.appendNull();
    else if (typeof value === 'bigint') appender.appendBigInt(value);
    else if (typeof value === 'number') appender.appendDouble(value);
    else if (typeof value === 'boolean') appender.appendBoolean(value);
    else appender.appendVarchar(value);
  }
  appender.endRow();
}

/** A stored row as the Store returns it: tags as strings, numbers as numbers, empty cells left out. */
export function toRow(table: Table, cells: Readonly<Record<string, unknown>>): Row {
  const row: Record<string, string | number | boolean | null> = {};
  for (const column of table.columns) {
    const value = cells[column.name];
    if (value === null || value === undefined) continue;
    if (column.kind === 'extra') {
      if (typeof value === 'string') Object.assign(row, JSON.parse(value));
      continue;
    }
    row[column.name] = typeof value === 'bigint' ? Number(value) : (value as string | number | boolean);
  }
  return { ...row, time: Number(cells['time']) };
}
