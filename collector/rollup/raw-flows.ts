/**
 * Optional raw-flow storage (the `flows` measurement): one flow record in every N, written with
 * addresses and ports as fields, never tags, so series cardinality stays bounded by exporters and
 * protocols. Off by default. Byte and packet counts are as exported, with the record's sampling
 * rate beside them, so a reader can upscale (and upscale again by N for this 1-in-N selection).
 */
import type { Point, StoredValue } from '../../storage/store.js';
import type { DecodedRecord, FlowRecord } from '../decode/flow.js';
import { PROTOCOL_NAMES, protocolId } from './services.js';

const NUMERIC_FIELDS = [
  'srcPort',
  'dstPort',
  'tcpFlags',
  'tos',
  'srcAs',
  'dstAs',
  'inIf',
  'outIf',
  'vlan',
] as const;
const TEXT_FIELDS = ['srcAddr', 'dstAddr', 'nextHop', 'srcMac', 'dstMac'] as const;

export class RawFlowSampler {
  /** Flow records seen and written. */
  seen = 0;
  written = 0;

  constructor(
    /** Keep one record in this many (1 keeps every record). */
    private readonly oneIn: number,
    private readonly sink: (points: Point[]) => void,
  ) {}

  /** Last time written per series (exporter and protocol). */
  private readonly lastTime = new Map<string, number>();

  ingest(records: readonly DecodedRecord[], now: number): void {
    const points: Point[] = [];
    for (const r of records) {
      if (r.kind !== 'flow') continue;
      if (this.seen++ % this.oneIn !== 0) continue;
      const point = toPoint(r, now);
      // A point is identified by its series and time: two flows of one series ending in the same
      // millisecond would overwrite each other in InfluxDB. The later one moves a millisecond on.
      const series = `${point.tags['exporter']}|${point.tags['protocol']}`;
      const last = this.lastTime.get(series);
      const time =
        last !== undefined && point.time <= last && last - point.time < 1000 ? last + 1 : point.time;
      this.lastTime.set(series, time);
      points.push(time === point.time ? point : { ...point, time });
    }
    this.written += points.length;
    if (points.length > 0) this.sink(points);
  }
}

function toPoint(r: FlowRecord, now: number): Point {
  const fields: Record<string, StoredValue> = {
    bytes: r.bytes ?? 0,
    packets: r.packets ?? 0,
    samplingRate: Math.round(r.samplingRate),
  };
  for (const k of NUMERIC_FIELDS) {
    const v = r[k];
    if (v !== undefined) fields[k] = v;
  }
  for (const k of TEXT_FIELDS) {
    const v = r[k];
    if (v !== undefined) fields[k] = v;
  }
  return {
    measurement: 'flows',
    tags: { exporter: r.exporter, protocol: PROTOCOL_NAMES[protocolId(r.protocol)] ?? 'other' },
    fields,
    time: Math.floor(r.end ?? r.start ?? now),
  };
}
