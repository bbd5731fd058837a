/**
 * One rollup interval from several decode workers, as the store must see it: one point per series
 * and time. Exporters are pinned to one worker each, so their series never meet; what can meet is
 * traffic folded under exporter "overflow" by more than one worker. Sums (`traffic`,
 * `traffic_protocol`, `collector`) are added, saturating at int64 as the rollup does; `top_talkers`
 * of one exporter and side are merged by address and ranked again. The guaranteed counts the
 * workers write are lower bounds of the truth, so their sums are too.
 */
import type { Point, StoredValue } from '../../storage/store.js';

const INT64_MAX = 2n ** 63n - 1n;
const SUMMED = new Set(['traffic', 'traffic_protocol', 'collector']);

function seriesKey(p: Point): string {
  let key = `${p.measurement}\u0000${p.time}`;
  for (const k of Object.keys(p.tags).sort()) key += `\u0000${k}=${p.tags[k]}`;
  return key;
}

function add(a: StoredValue | undefined, b: StoredValue): StoredValue {
  if (a === undefined) return b;
  if ((typeof a !== 'number' && typeof a !== 'bigint') || (typeof b !== 'number' && typeof b !== 'bigint'))
    return b;
  if (typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a + b)) return a + b;
  if (!Number.isInteger(Number(a)) || !Number.isInteger(Number(b))) return Number(a) + Number(b);
  const sum = BigInt(a) + BigInt(b);
  if (sum > INT64_MAX) return INT64_MAX;
  return sum <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sum) : sum;
}

/** Merges the points that several workers emitted for the same flush; one list passes through. */
export function mergeWindowPoints(lists: readonly Point[][]): Point[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? [];
  const merged = new Map<string, { point: Point; fields: Record<string, StoredValue> }>();
  const talkers = new Map<string, Point[][]>();
  const out: Point[] = [];
  for (const [worker, list] of nonEmpty.entries()) {
    for (const p of list) {
      if (p.measurement === 'top_talkers') {
        const key = `${p.time}\u0000${p.tags['exporter']}\u0000${p.tags['side']}`;
        let perWorker = talkers.get(key);
        if (perWorker === undefined) {
          perWorker = [];
          talkers.set(key, perWorker);
        }
        const mine = perWorker[worker] ?? [];
        perWorker[worker] = mine;
        mine.push(p);
        continue;
      }
      if (!SUMMED.has(p.measurement)) {
        out.push(p);
        continue;
      }
      const key = seriesKey(p);
      const seen = merged.get(key);
      if (seen === undefined) {
        const fields = { ...p.fields };
        merged.set(key, { point: { ...p, fields }, fields });
        continue;
      }
      for (const [f, v] of Object.entries(p.fields)) seen.fields[f] = add(seen.fields[f], v);
    }
  }
  for (const m of merged.values()) out.push(m.point);
  for (const perWorker of talkers.values()) {
    const lists = perWorker.filter((l) => l !== undefined);
    if (lists.length === 1) {
      out.push(...lists[0]!);
      continue;
    }
    out.push(...mergeTalkers(lists));
  }
  return out;
}

/** The top talkers of one exporter, side and interval from several workers, ranked again. */
function mergeTalkers(lists: Point[][]): Point[] {
  const first = lists[0]![0]!;
  let ranks = 0;
  const byAddr = new Map<string, { bytes: StoredValue; packets: StoredValue }>();
  for (const list of lists) {
    ranks = Math.max(ranks, list.length);
    for (const p of list) {
      const addr = String(p.fields['addr']);
      const seen = byAddr.get(addr);
      const bytes = p.fields['bytes'] ?? 0;
      const packets = p.fields['packets'] ?? 0;
      if (seen === undefined) byAddr.set(addr, { bytes, packets });
      else {
        seen.bytes = add(seen.bytes, bytes);
        seen.packets = add(seen.packets, packets);
      }
    }
  }
  return [...byAddr]
    .sort(([a, x], [b, y]) => {
      const bx = asBigInt(x.bytes);
      const by = asBigInt(y.bytes);
      return by > bx ? 1 : by < bx ? -1 : a.localeCompare(b);
    })
    .slice(0, ranks)
    .map(([addr, v], i) => ({
      measurement: 'top_talkers',
      tags: { ...first.tags, rank: String(i + 1) },
      fields: { addr, bytes: v.bytes, packets: v.packets },
      time: first.time,
    }));
}

function asBigInt(v: StoredValue): bigint {
  if (typeof v === 'bigint') return v;
  const n = Number(v);
  return Number.isFinite(n) ? BigInt(Math.round(n)) : 0n;
}
