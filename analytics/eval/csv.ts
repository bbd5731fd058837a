/**
 * Reading evaluation series: a CSV of two columns, time and value; the first row may be a header;
 * values may be quoted. Times are ISO-8601 or `YYYY-MM-DD HH:MM:SS[.ffffff]` (taken as UTC, as NAB
 * writes them) or Unix seconds. A row that cannot be read stops the file with its line number:
 * an evaluation on silently dropped rows would measure something else.
 */
import { readFileSync } from 'node:fs';

export interface Series {
  readonly name: string;
  readonly times: number[];
  readonly values: Float64Array;
}

export class EvalInputError extends Error {
  readonly code = 'FLOWCAST_EVAL_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'EvalInputError';
  }
}

const unquote = (s: string) =>
  s
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();

/** Parses a NAB/ISO time as UTC milliseconds; NaN when it is not a time. */
export function parseTime(text: string): number {
  const s = unquote(text);
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    s,
  );
  if (m === null) return Number.NaN;
  if (m[8] !== undefined) return Date.parse(s.replace(' ', 'T'));
  const ms = m[7] === undefined ? 0 : Math.round(Number(`0.${m[7]}`) * 1000);
  return Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6] ?? 0),
    ms,
  );
}

/** Parses CSV text of (time, value) rows. */
export function parseSeries(name: string, text: string): Series {
  const lines = text.split(/\r?\n/);
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const comma = line.indexOf(',');
    if (comma < 0) throw new EvalInputError(`${name}:${i + 1}: expected two columns, time and value`);
    const t = parseTime(line.slice(0, comma));
    const v = Number(unquote(line.slice(comma + 1)));
    if (Number.isNaN(t) || !Number.isFinite(v) || unquote(line.slice(comma + 1)) === '') {
      if (times.length === 0 && values.length === 0 && i === lines.findIndex((l) => l.trim() !== ''))
        continue; // header
      throw new EvalInputError(`${name}:${i + 1}: cannot read "${line.slice(0, 80)}" as time,value`);
    }
    times.push(t);
    values.push(v);
  }
  if (times.length < 2) throw new EvalInputError(`${name}: fewer than two rows`);
  return { name, times, values: Float64Array.from(values) };
}

export function readSeries(path: string, name = path): Series {
  return parseSeries(name, readFileSync(path, 'utf8'));
}

/** The median step between samples, in milliseconds. */
export function medianStep(times: readonly number[]): number {
  const d: number[] = [];
  for (let i = 1; i < times.length; i++) d.push(times[i]! - times[i - 1]!);
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] ?? 0;
}
