/**
 * Which series the jobs analyse, read through the store interface: `traffic` per exporter,
 * interface and direction, and per exporter in total, in bits per second, keyed
 * `traffic/<exporter>/<ifIndex>/<direction>` and `traffic/<exporter>/total/<direction>` (docs/analytics.md). The busiest `maxSeries` are kept. Buckets the store has no point for are filled by
 * carrying the last value forward (a short collector outage is not a traffic drop to forecast);
 * samples before the first point are left out, and the bucket still being filled (the newest) too.
 */
import { MAX_INTERFACE_ROWS, type Store, type TrafficQuery } from '../../storage/store.js';
import type { SeriesData } from './tasks.js';

export interface SeriesRef {
  readonly key: string;
  readonly exporter: string;
  /** Undefined for an exporter's total. */
  readonly ifIndex?: number;
  readonly ifName: string;
  readonly direction: 'in' | 'out';
}

export interface LoadedSeries extends SeriesRef, SeriesData {
  /** Bytes over the window (how busy it is). */
  readonly totalBytes: number;
}

export function seriesKey(exporter: string, ifIndex: number | undefined, direction: 'in' | 'out'): string {
  return `traffic/${exporter}/${ifIndex ?? 'total'}/${direction}`;
}

export interface LoadOptions {
  readonly now: number;
  readonly from: number;
  readonly stepSeconds: number;
  readonly maxSeries: number;
  /** Include per-exporter totals (forecasts) or interfaces only (capacity). */
  readonly totals: boolean;
  /** Aborted when the service stops: no further series is read. */
  readonly signal?: AbortSignal;
  /** Called after each series read: the job's rest (pace.ts). */
  readonly pace?: () => Promise<void>;
}

/** Rows (or candidates) gone through between two yields to the event loop. */
const STEP = 5000;
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The `max` busiest candidates, busiest first (ties by key). The store reads run on the thread that
 * receives: sorting every candidate with a comparator that looked both up in `busy` and compared
 * keys with localeCompare held it 75 ms at best (up to 300 on the shared VM) in one piece for
 * 60,000 candidates, a thousand exporters of 30 interfaces (the profile of bench/survive.ts showed
 * it as loadSeries' own time); the `max`-th value is found by a typed-array sort (no comparator) and
 * only what reaches it is sorted: 14 ms at best for the same.
 */
export async function busiest(
  candidates: readonly SeriesRef[],
  busy: ReadonlyMap<string, number>,
  max: number,
): Promise<SeriesRef[]> {
  if (max <= 0) return [];
  let scored: { ref: SeriesRef; bytes: number }[] = [];
  for (const [n, ref] of candidates.entries()) {
    if (n > 0 && n % STEP === 0) await breathe();
    const bytes = busy.get(ref.key) ?? 0;
    if (bytes > 0) scored.push({ ref, bytes });
  }
  if (scored.length > max) {
    const values = Float64Array.from(scored, (s) => s.bytes).sort();
    const threshold = values[values.length - max]!;
    scored = scored.filter((s) => s.bytes >= threshold);
  }
  return scored
    .sort((a, b) => b.bytes - a.bytes || a.ref.key.localeCompare(b.ref.key))
    .slice(0, max)
    .map((s) => s.ref);
}

/**
 * Reads the busiest `maxSeries` series. They are chosen first from one aggregate read (bytes per
 * interface and direction over the window), so a run reads at most `maxSeries` series whatever
 * the number of interfaces: reading every candidate once took minutes after a flood of spoofed
 * exporters with random interface numbers, and held a stop of the service for 100 s. That read and
 * the names are cut by the store, busiest first, to {@link MAX_INTERFACE_ROWS} rows (or `maxSeries`
 * when more): the candidates come from the totals, so the busiest series are always among them, and
 * only a name outside the store's cut is missing ('').
 *
 * The rows are gone through STEP at a time with a yield between, so that a run in the analytics
 * worker still answers its messages while it goes through a large answer.
 */
export async function loadSeries(store: Store, o: LoadOptions): Promise<LoadedSeries[]> {
  const stepMs = o.stepSeconds * 1000;
  // The newest complete bucket ends at or before now.
  const to = Math.floor(o.now / stepMs) * stepMs;
  const from = Math.ceil(o.from / stepMs) * stepMs;
  const limit = Math.max(MAX_INTERFACE_ROWS, o.maxSeries);
  const names = new Map<string, string>();
  for (const [n, i] of (await store.interfaces({ from, to, limit })).entries()) {
    if (n > 0 && n % STEP === 0) await breathe();
    names.set(`${i.exporter}\0${i.ifIndex}`, i.ifName);
  }
  const busy = new Map<string, number>();
  const candidates: SeriesRef[] = [];
  const add = (ref: SeriesRef, bytes: number) => {
    const seen = busy.get(ref.key);
    if (seen === undefined) candidates.push(ref);
    busy.set(ref.key, (seen ?? 0) + bytes);
  };
  for (const [n, t] of (await store.interfaceTotals({ from, to, limit })).entries()) {
    if (n > 0 && n % STEP === 0) await breathe();
    if (t.direction !== 'in' && t.direction !== 'out') continue;
    const { exporter, ifIndex, direction } = t;
    const ifName = names.get(`${exporter}\0${ifIndex}`) ?? '';
    add({ key: seriesKey(exporter, ifIndex, direction), exporter, ifIndex, ifName, direction }, t.bytes);
    if (o.totals)
      add({ key: seriesKey(exporter, undefined, direction), exporter, ifName: '', direction }, t.bytes);
  }
  const refs = await busiest(candidates, busy, o.maxSeries);
  const loaded: LoadedSeries[] = [];
  for (const ref of refs) {
    o.signal?.throwIfAborted();
    const q: TrafficQuery = {
      from,
      to,
      stepSeconds: o.stepSeconds,
      exporter: ref.exporter,
      direction: ref.direction,
      ...(ref.ifIndex !== undefined && { ifIndex: ref.ifIndex }),
    };
    const samples = await store.traffic(q);
    await o.pace?.();
    const first = samples[0];
    if (first === undefined) continue;
    const start = Math.max(from, first.time);
    const n = Math.floor((to - start) / stepMs);
    if (n < 2) continue;
    const values = new Float64Array(n).fill(Number.NaN);
    let totalBytes = 0;
    for (const s of samples) {
      const i = Math.floor((s.time - start) / stepMs);
      if (i < 0 || i >= n) continue;
      values[i] = (s.bytes * 8) / o.stepSeconds;
      totalBytes += s.bytes;
    }
    for (let i = 1; i < n; i++) if (Number.isNaN(values[i]!)) values[i] = values[i - 1]!;
    loaded.push({ ...ref, stepMs, start, values, totalBytes });
  }
  loaded.sort((a, b) => b.totalBytes - a.totalBytes || a.key.localeCompare(b.key));
  return loaded.slice(0, o.maxSeries);
}
