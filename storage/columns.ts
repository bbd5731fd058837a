/**
 * Points as columns: a handful of typed arrays and one list of distinct strings, in place of the
 * three objects and half a dozen strings a {@link Point} takes. A decode worker hands a rollup
 * interval to the receiving thread in this form, and the embedded store keeps it so until it
 * appends, turning a slice of it back into points (`pointsOf`) only then, so the points die young.
 *
 * Why: a thousand exporters' interval is about 40,000 points. As objects they cost the receiving
 * thread a native deserialisation of every one (the profile's "(program)") and, since they wait in
 * the store's queue across several scavenges, a copy to the old generation and a major collection
 * later: 100-180 ms pauses at each interval (bench/survive.ts). As columns a part arrives as four
 * memcpys and one string list, and the heap holds a few dozen objects per part.
 */
import type { Point, StoredValue } from './store.js';

/** How a field's value is kept: its kind and where (`numbers`, `bigints` or `strings`). */
enum Kind {
  Number = 0,
  BigInt = 1,
  String = 2,
  True = 3,
  False = 4,
  /** A bigint outside int64, kept as its decimal text. */
  BigText = 5,
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Structured-cloneable (plain object, typed arrays, an array of strings): it crosses postMessage as is. */
export interface PointColumns {
  readonly columns: 1;
  readonly count: number;
  /** Distinct strings: measurements, tag keys and values, field names, string values. */
  readonly strings: string[];
  readonly times: Float64Array;
  /** Where each point's shape starts in `shape` (count + 1 entries). */
  readonly starts: Uint32Array;
  /**
   * Per point: measurement, tag count, (key, value) per tag, field count, (name, kind, ref) per
   * field; names and texts are indices in `strings`, numbers in `numbers`, bigints in `bigints`.
   */
  readonly shape: Uint32Array;
  readonly numbers: Float64Array;
  readonly bigints: BigInt64Array;
}

/** What a store accepts: points, or the same as columns. */
export type PointBatch = readonly Point[] | PointColumns;

export function isColumns(batch: PointBatch): batch is PointColumns {
  return (batch as PointColumns).columns === 1;
}

/** Points in a batch. */
export function batchLength(batch: PointBatch): number {
  return isColumns(batch) ? batch.count : batch.length;
}

/** Whether a batch holds a point of `measurement`. */
export function hasMeasurement(batch: PointBatch, measurement: string): boolean {
  if (!isColumns(batch)) return batch.some((p) => p.measurement === measurement);
  const at = batch.strings.indexOf(measurement);
  if (at < 0) return false;
  for (let i = 0; i < batch.count; i++) if (batch.shape[batch.starts[i]!] === at) return true;
  return false;
}

/** Points `start` to `end` (exclusive) of a batch, as objects. */
export function pointsOf(batch: PointBatch, start = 0, end = batchLength(batch)): Point[] {
  if (!isColumns(batch)) return batch.slice(start, end);
  const { strings, shape, numbers, bigints, times, starts } = batch;
  const out: Point[] = [];
  for (let i = start; i < end; i++) {
    let at = starts[i]!;
    const measurement = strings[shape[at++]!]!;
    const tags: Record<string, string> = {};
    for (let n = shape[at++]!; n > 0; n--) {
      const key = strings[shape[at++]!]!;
      tags[key] = strings[shape[at++]!]!;
    }
    const fields: Record<string, StoredValue> = {};
    for (let n = shape[at++]!; n > 0; n--) {
      const name = strings[shape[at++]!]!;
      const kind = shape[at++]! as Kind;
      const ref = shape[at++]!;
      fields[name] =
        kind === Kind.Number
          ? numbers[ref]!
          : kind === Kind.BigInt
            ? bigints[ref]!
            : kind === Kind.String
              ? strings[ref]!
              : kind === Kind.BigText
                ? BigInt(strings[ref]!)
                : kind === Kind.True;
    }
    out.push({ measurement, tags, fields, time: times[i]! });
  }
  return out;
}

/** Builds {@link PointColumns} a point at a time. */
export class ColumnsBuilder {
  private readonly index = new Map<string, number>();
  private strings: string[] = [];
  private times: number[] = [];
  private starts: number[] = [];
  private shape: number[] = [];
  private numbers: number[] = [];
  private bigints: bigint[] = [];

  get count(): number {
    return this.times.length;
  }

  add(p: Point): void {
    this.starts.push(this.shape.length);
    this.times.push(p.time);
    const shape = this.shape;
    shape.push(this.text(p.measurement));
    const tags = Object.keys(p.tags);
    shape.push(tags.length);
    for (const k of tags) shape.push(this.text(k), this.text(p.tags[k]!));
    const fields = Object.keys(p.fields);
    shape.push(fields.length);
    for (const k of fields) {
      const v = p.fields[k]!;
      shape.push(this.text(k));
      if (typeof v === 'number') shape.push(Kind.Number, this.numbers.push(v) - 1);
      else if (typeof v === 'bigint') {
        if (v >= INT64_MIN && v <= INT64_MAX) shape.push(Kind.BigInt, this.bigints.push(v) - 1);
        else shape.push(Kind.BigText, this.text(v.toString()));
      } else if (typeof v === 'string') shape.push(Kind.String, this.text(v));
      else shape.push(v ? Kind.True : Kind.False, 0);
    }
  }

  /** The columns of everything added since the last `take`, and a fresh start. */
  take(): PointColumns {
    this.starts.push(this.shape.length);
    const columns: PointColumns = {
      columns: 1,
      count: this.times.length,
      strings: this.strings,
      times: Float64Array.from(this.times),
      starts: Uint32Array.from(this.starts),
      shape: Uint32Array.from(this.shape),
      numbers: Float64Array.from(this.numbers),
      bigints: BigInt64Array.from(this.bigints),
    };
    this.index.clear();
    this.strings = [];
    this.times = [];
    this.starts = [];
    this.shape = [];
    this.numbers = [];
    this.bigints = [];
    return columns;
  }

  private text(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.push(s) - 1;
      this.index.set(s, i);
    }
    return i;
  }
}

/** Points as columns, in one go. */
export function toColumns(points: readonly Point[]): PointColumns {
  const b = new ColumnsBuilder();
  for (const p of points) b.add(p);
  return b.take();
}

/** The typed arrays' buffers, for postMessage's transfer list (each array owns its buffer). */
export function transferables(c: PointColumns): ArrayBuffer[] {
  return [c.times, c.starts, c.shape, c.numbers, c.bigints].map((a) => a.buffer as ArrayBuffer);
}
