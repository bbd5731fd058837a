/**
 * The rollup engine: turns decoded flow records into the per-interval points of docs/schema.md
 * (`traffic`, `traffic_protocol`, `top_talkers`, `collector`), so the store receives a few points
 * per interface and interval, never one per flow or address.
 *
 * Time placement. Windows are aligned on multiples of the interval since the Unix epoch and a
 * point's time is its window's start. A flow is placed whole in the window that holds its end
 * time (its start time when it has no end, `now` when it has neither, counted as `untimed`). It
 * is never spread over the windows it spans: each flow is counted exactly once, no fraction of
 * a flow is invented, and a record's window is known as soon as it arrives. A flow that lasted several
 * intervals therefore shows up in the interval in which it ended, so exporters should use an
 * active timeout no longer than the rollup interval.
 *
 * Late and early records. A window stays open for a grace period (one interval by default) after
 * its end and is emitted by the first `flush(now)` at or after `start + interval + grace`. A record
 * whose window is already due or emitted is added to the current window (the one holding `now`)
 * and counted as `late`; a record more than one interval ahead of `now` (an exporter clock far
 * ahead) is added to the current window too and counted as `early`. Nothing is dropped, nothing is
 * counted twice, and at most a few windows are ever open.
 *
 * Sums. Bytes and packets are upscaled by each record's sampling rate before they are summed;
 * `flows` counts records as exported. Sums are exact: a plain number while below 2^53, spilling
 * into a bigint beyond; a point's integer fields are numbers while safe and bigints beyond, clamped
 * to 2^63 − 1 (InfluxDB's integer range, counted as `saturated`). A rate that is not an integer
 * (sampling stated as a probability) makes fractional products, rounded once at emission.
 *
 * Points. `traffic` counts a record `in` on its inIf and `out` on its outIf (a record without one
 * is counted in `withoutInIf`/`withoutOutIf`); `ifName` is the exporter's name for the interface,
 * else the ifIndex as text (an empty tag value is not valid line protocol, and a legend of numbers
 * beats a blank one). `traffic_protocol` uses the bounded names of services.ts. `top_talkers`
 * writes ranks 1..topN per exporter and side with the guaranteed part of each Space-Saving counter
 * (see `pushTop`). `collector` writes, per exporter and version, how much each cumulative counter
 * grew since the previous snapshot, taken by the first `flush` of each interval and stamped with
 * the interval of the previous one; a counter that went down restarted, an exporter whose
 * counters did not move gets no point (so its `lastSeen` stays true).
 *
 * Hot path (`ingest`): no string is built per record. Accumulators live in nested maps keyed by
 * the exporter address (compared by identity first, as a batch comes from one exporter's
 * datagrams), then by the ifIndex or a protocol/service id number, and talkers by the IPv4 integer
 * or the IPv6 words the decoder read (the address text is only made for the ranks written); the only
 * allocations are new map entries. Top talkers per exporter and side come from Space-Saving (space-saving.ts).
 * bench/rollup.bench.ts: about 3.6 M records/s through `ingest` on one core, 3.2 M with flushes
 * (20 exporters × 10 interfaces, ~1 000 distinct addresses per exporter and minute).
 */
import { cleanTagValue } from '../../storage/line-protocol.js';
import type { Point, StoredValue } from '../../storage/store.js';
import { formatIPv4Number } from '../decode/addr.js';
import type { Counter, DecodedRecord, FlowRecord } from '../decode/flow.js';
import { isValidTime } from '../decode/read.js';
import { MAX_SAMPLING_RATE } from '../decode/state.js';
import { PROTOCOL_NAMES, protocolId, SERVICE_NAMES, serviceId } from './services.js';
import { type HeavyHitter, SpaceSaving } from './space-saving.js';

export interface RollupConfig {
  /** Window width in milliseconds (FLOWCAST_ROLLUP_INTERVAL × 1000). */
  intervalMs: number;
  /** How long a window stays open after its end for records that arrive late (ms); default one interval. */
  graceMs?: number;
  /** Ranks written to `top_talkers` per exporter, side and interval. */
  topN: number;
  /** Space-Saving counters per exporter and side; default 10 × topN, at most 1000. */
  topCapacity?: number;
  /**
   * Interface and protocol series per interval, and exporters per interval, before the rest is
   * folded (default MAX_SERIES_PER_WINDOW and MAX_EXPORTERS_PER_WINDOW). Each of N decode workers
   * gets 1/N, so the bound holds for the process whatever N.
   */
  maxSeriesPerWindow?: number;
  maxExportersPerWindow?: number;
}

export const DEFAULT_ROLLUP_CONFIG: RollupConfig = { intervalMs: 60_000, topN: 10 };

/** Cumulative decoder counters for one exporter and NetFlow/IPFIX version. */
export interface CollectorCounters {
  readonly exporter: string;
  readonly version: number;
  readonly packets: number;
  readonly records: number;
  readonly decodeErrors: number;
  readonly missingTemplates: number;
  readonly sequenceGaps: number;
  readonly dropped: number;
}

export interface RollupDeps {
  /** Receives each emitted window's points (and the `collector` points); must not throw. */
  sink: (points: Point[]) => void;
  /** The exporter's name for an interface (from options data); undefined when unknown. */
  interfaceName: (exporter: string, ifIndex: number) => string | undefined;
  /** The current cumulative counters; the rollup writes their per-interval deltas. */
  collectorCounters: () => Iterable<CollectorCounters>;
}

/** Everything the rollup counts (exported on /metrics). */
export interface RollupStats {
  /** Flow records ingested. */
  records: number;
  /** Options records passed in and skipped. */
  optionsSkipped: number;
  /** Records whose window was already due, added to the current window. */
  late: number;
  /** Records more than one interval ahead of now, added to the current window. */
  early: number;
  /** Records with neither end nor start time, placed at `now`. */
  untimed: number;
  /** Records with no input interface: no `in` traffic for them. */
  withoutInIf: number;
  /** Records with no output interface: no `out` traffic for them. */
  withoutOutIf: number;
  /** Field values clamped to 2^63 − 1. */
  saturated: number;
  /** Records whose interface was counted under ifIndex "overflow" (over MAX_INTERFACES, or the window's series budget). */
  interfacesFolded: number;
  /** Records counted under protocol and service `other` because the window's series budget was spent. */
  protocolsFolded: number;
  /** Records counted under exporter "overflow": over MAX_EXPORTERS_PER_WINDOW exporters in one interval. */
  exportersFolded: number;
  windowsEmitted: number;
  pointsEmitted: number;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Interfaces per exporter and interval before the rest are folded into OVERFLOW_IF. */
export const MAX_INTERFACES = 4096;
/** The ifIndex traffic beyond MAX_INTERFACES is kept under (not a valid 32-bit ifIndex). */
export const OVERFLOW_IF = -1;
/**
 * Interface and protocol series in one interval over all exporters. With MAX_INTERFACES alone,
 * 10,000 exporters sending random ifIndex values could hold 40 million series (gigabytes); beyond
 * this budget (about 13 MB of accumulators) new interfaces fold into `overflow` and new protocol
 * and service pairs into `other`, counted.
 */
export const MAX_SERIES_PER_WINDOW = 65_536;
/**
 * Exporters in one interval. Each costs two Space-Saving tables (about 40 KB at the default 10
 * ranks, filter cells included); beyond this, records of further exporters are summed under
 * exporter "overflow", counted.
 */
export const MAX_EXPORTERS_PER_WINDOW = 1000;
/** The exporter tag of traffic beyond MAX_EXPORTERS_PER_WINDOW. */
export const OVERFLOW_EXPORTER = 'overflow';
const INT64_MAX = 2n ** 63n - 1n;
/** Protocol/service accumulators are keyed by protocolId × 256 + serviceId (fewer than 256 services). */
const SERVICE_BITS = 8;

/** Sums of one traffic series in one window. */
class Totals {
  bytes = 0;
  packets = 0;
  flows = 0;
  /** The part of the sums beyond 2^53, exact. */
  bigBytes = 0n;
  bigPackets = 0n;

  add(bytes: number, packets: number): void {
    this.flows++;
    const b = this.bytes + bytes;
    if (b <= MAX_SAFE) this.bytes = b;
    else {
      this.bigBytes = min64(this.bigBytes + BigInt(Math.round(this.bytes)) + BigInt(Math.round(bytes)));
      this.bytes = 0;
    }
    const p = this.packets + packets;
    if (p <= MAX_SAFE) this.packets = p;
    else {
      this.bigPackets = min64(
        this.bigPackets + BigInt(Math.round(this.packets)) + BigInt(Math.round(packets)),
      );
      this.packets = 0;
    }
  }

  addExact(bytes: bigint, packets: bigint): void {
    this.flows++;
    // Saturate rather than grow: anything past int64 is written as 2^63 − 1 anyway.
    this.bigBytes = min64(this.bigBytes + bytes);
    this.bigPackets = min64(this.bigPackets + packets);
  }
}

class InterfaceTotals {
  readonly inbound = new Totals();
  readonly outbound = new Totals();
}

/**
 * Filtered Space-Saving cells per top-talker counter (space-saving.ts `filtered`): the paper's
 * 6, 8 bytes each (4.8 KB a side for the default 100 counters, 48 KB at the most, 1,000).
 *
 * Unfiltered, nearly every record of softflowd's stream (almost all its addresses are new) took
 * over the smallest counter on both sides: Space-Saving was a fifth of a decode worker's profile.
 * Filtered: bench/pipeline.bench.ts `rollup` from 3.76-3.86 M to 6.35-6.77 M records per CPU
 * second (x1.67 to x1.75 over 3 interleaved pairs), `worker` from 0.78-1.34 M to 1.52-1.67 M
 * (median x1.50, x1.13 to x2.13 over 5 pairs; 2-core VM at load 1.1-1.8), Space-Saving from 19 %
 * to 8 % of the worker's profile.
 */
const TALKER_FILTER_CELLS = 6;

/** One exporter's accumulators in one window. */
class ExporterWindow {
  readonly interfaces = new Map<number, InterfaceTotals>();
  readonly protocols = new Map<number, Totals>();
  readonly src: SpaceSaving;
  readonly dst: SpaceSaving;

  constructor(
    topCapacity: number,
    private readonly window: Window,
  ) {
    this.src = new SpaceSaving(topCapacity, TALKER_FILTER_CELLS * topCapacity);
    this.dst = new SpaceSaving(topCapacity, TALKER_FILTER_CELLS * topCapacity);
  }

  /** Records whose interface was folded into OVERFLOW_IF (see `iface`). */
  overflowed = 0;
  /** Records whose protocol and service were folded into `other` (see `protocol`). */
  protocolsFolded = 0;

  /**
   * The totals of one interface. Beyond MAX_INTERFACES per exporter and interval (a real router has
   * far fewer; random ifIndex values from a broken or hostile exporter would each make a series)
   * the traffic is kept under the ifIndex OVERFLOW_IF, so sums stay whole and series bounded.
   */
  iface(ifIndex: number): InterfaceTotals {
    let t = this.interfaces.get(ifIndex);
    if (t === undefined) {
      if (
        ifIndex !== OVERFLOW_IF &&
        (this.interfaces.size >= MAX_INTERFACES || this.window.series >= this.window.maxSeries)
      ) {
        this.overflowed++;
        return this.iface(OVERFLOW_IF);
      }
      t = new InterfaceTotals();
      this.interfaces.set(ifIndex, t);
      this.window.series++;
    }
    return t;
  }

  protocol(r: FlowRecord): Totals {
    let key = (protocolId(r.protocol) << SERVICE_BITS) | serviceId(r.protocol, r.srcPort, r.dstPort);
    let t = this.protocols.get(key);
    if (t === undefined) {
      if (key !== 0 && this.window.series >= this.window.maxSeries) {
        this.protocolsFolded++;
        key = 0;
        t = this.protocols.get(key);
        if (t !== undefined) return t;
      }
      t = new Totals();
      this.protocols.set(key, t);
      this.window.series++;
    }
    return t;
  }
}

class Window {
  readonly exporters = new Map<string, ExporterWindow>();
  /** Interface and protocol series over all exporters (see MAX_SERIES_PER_WINDOW). */
  series = 0;
  /** Records counted under OVERFLOW_EXPORTER. */
  exportersFolded = 0;
  constructor(
    readonly start: number,
    readonly maxSeries: number,
  ) {}
}

const ON_TIME = 0;
const LATE = 1;
const EARLY = 2;

type CounterDelta = Omit<CollectorCounters, 'exporter' | 'version'>;
const COLLECTOR_FIELDS = [
  'packets',
  'records',
  'decodeErrors',
  'missingTemplates',
  'sequenceGaps',
  'dropped',
] as const satisfies readonly (keyof CounterDelta)[];

export class Rollup {
  readonly stats: RollupStats = {
    records: 0,
    optionsSkipped: 0,
    late: 0,
    early: 0,
    untimed: 0,
    withoutInIf: 0,
    withoutOutIf: 0,
    saturated: 0,
    interfacesFolded: 0,
    protocolsFolded: 0,
    exportersFolded: 0,
    windowsEmitted: 0,
    pointsEmitted: 0,
  };
  private readonly interval: number;
  private readonly grace: number;
  private readonly topN: number;
  private readonly topCapacity: number;
  private readonly maxSeries: number;
  private readonly maxExporters: number;
  private readonly windows = new Map<number, Window>();
  /** Every window that starts before this has been emitted. */
  private watermark = Number.NEGATIVE_INFINITY;
  /** How the last `place()` classified its window. */
  private placement = ON_TIME;
  /** Start of the interval the pending collector deltas are stamped with; undefined before the first flush. */
  private collectorMark: number | undefined = undefined;
  private readonly collectorLast = new Map<string, CounterDelta>();

  constructor(
    options: Partial<RollupConfig>,
    private readonly deps: RollupDeps,
  ) {
    const c = { ...DEFAULT_ROLLUP_CONFIG, ...options };
    if (!(Number.isInteger(c.intervalMs) && c.intervalMs > 0))
      throw new RangeError('intervalMs must be a positive integer');
    const grace = c.graceMs ?? c.intervalMs;
    if (!(grace >= 0)) throw new RangeError('graceMs must be ≥ 0');
    if (!(Number.isInteger(c.topN) && c.topN >= 1)) throw new RangeError('topN must be a positive integer');
    const capacity = c.topCapacity ?? Math.min(1000, 10 * c.topN);
    if (!(Number.isInteger(capacity) && capacity >= c.topN))
      throw new RangeError('topCapacity must be an integer ≥ topN');
    this.interval = c.intervalMs;
    this.grace = grace;
    this.maxSeries = c.maxSeriesPerWindow ?? MAX_SERIES_PER_WINDOW;
    this.maxExporters = c.maxExportersPerWindow ?? MAX_EXPORTERS_PER_WINDOW;
    if (
      !(
        Number.isInteger(this.maxSeries) &&
        this.maxSeries >= 1 &&
        Number.isInteger(this.maxExporters) &&
        this.maxExporters >= 1
      )
    )
      throw new RangeError('maxSeriesPerWindow and maxExportersPerWindow must be positive integers');
    this.topN = c.topN;
    this.topCapacity = capacity;
  }

  /** Windows not yet emitted. */
  get openWindows(): number {
    return this.windows.size;
  }

  /** Adds a batch of decoded records; `now` (Unix ms) decides which windows are late. */
  ingest(records: readonly DecodedRecord[], now: number): void {
    const stats = this.stats;
    const interval = this.interval;
    // The records' own window [windowStart, windowEnd) and where its records go.
    let windowStart = Number.NaN;
    let windowEnd = Number.NaN;
    let placement = ON_TIME;
    let window: Window | undefined;
    let exporter = '';
    let ew: ExporterWindow | undefined;
    /** Whether `exporter`'s records go to OVERFLOW_EXPORTER in this window. */
    let folded = false;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.kind !== 'flow') {
        stats.optionsSkipped++;
        continue;
      }
      stats.records++;
      let t = r.end ?? r.start;
      if (t === undefined || !isValidTime(t)) {
        t = now;
        stats.untimed++;
      }
      if (!(t >= windowStart && t < windowEnd) || window === undefined) {
        windowStart = Math.floor(t / interval) * interval;
        windowEnd = windowStart + interval;
        window = this.place(windowStart, now);
        placement = this.placement;
        ew = undefined;
      }
      if (placement !== ON_TIME) {
        if (placement === LATE) stats.late++;
        else stats.early++;
      }
      if (ew === undefined || r.exporter !== exporter) {
        exporter = r.exporter;
        ew = window.exporters.get(exporter);
        if (ew === undefined) {
          folded = window.exporters.size >= this.maxExporters;
          const key = folded ? OVERFLOW_EXPORTER : exporter;
          ew = window.exporters.get(key);
          if (ew === undefined) {
            ew = new ExporterWindow(this.topCapacity, window);
            window.exporters.set(key, ew);
          }
        } else {
          folded = false;
        }
      }
      if (folded) window.exportersFolded++;

      // A rate below 1, beyond 2^32 or NaN says nothing usable (the decoder never emits one; the
      // rollup does not rely on it): count the record as unsampled. With the rate bounded, an
      // upscaled 64-bit counter is below 2^96: finite, so sums saturate and never overflow.
      const sr = r.samplingRate;
      const rate = sr >= 1 && sr <= MAX_SAMPLING_RATE ? sr : 1;
      const b = r.bytes;
      const p = r.packets;
      if (typeof b !== 'bigint' && typeof p !== 'bigint') {
        const bytes = (b ?? 0) * rate;
        const packets = (p ?? 0) * rate;
        if (bytes >= 0 && bytes <= MAX_SAFE && packets >= 0 && packets <= MAX_SAFE) {
          if (r.inIf !== undefined) ew.iface(r.inIf).inbound.add(bytes, packets);
          else stats.withoutInIf++;
          if (r.outIf !== undefined) ew.iface(r.outIf).outbound.add(bytes, packets);
          else stats.withoutOutIf++;
          ew.protocol(r).add(bytes, packets);
          addSrcTalker(ew.src, r, bytes, packets);
          addDstTalker(ew.dst, r, bytes, packets);
          continue;
        }
      }
      this.ingestExact(ew, r, rate);
    }
  }

  /** Emits every window that is due at `now`, oldest first, and the collector deltas of ended intervals. */
  flush(now: number): void {
    const due: Window[] = [];
    for (const w of this.windows.values()) {
      if (w.start + this.interval + this.grace <= now) due.push(w);
    }
    this.emitWindows(due);
    const current = Math.floor(now / this.interval) * this.interval;
    if (this.collectorMark === undefined) this.collectorMark = current;
    else if (current > this.collectorMark) this.emitCollector(current);
  }

  /**
   * Emits every open window and the collector deltas so far (at shutdown). The interval in progress
   * is written partly filled; see `resumeAt`.
   */
  close(now = Date.now()): void {
    this.emitWindows([...this.windows.values()]);
    const current = Math.floor(now / this.interval) * this.interval;
    this.collectorMark ??= current;
    this.emitCollector(current);
    this.watermark = Math.max(this.watermark, current + this.interval);
  }

  /**
   * After `close()`: the start of the first interval not written. A process that takes over (a
   * restart) must not write an earlier interval again, or its points would replace the ones
   * written at close (same series and time) and lose them.
   */
  get resumeAt(): number {
    return this.watermark;
  }

  /**
   * Continues after a process that wrote every interval before `time` (its `resumeAt`): records
   * for those intervals go to the first one not written, counted as late, and the collector deltas
   * are stamped from there on. Nothing is counted twice or overwritten; a restart inside an
   * interval shifts that interval's later records into the next one.
   */
  resumeAfter(time: number): void {
    if (!Number.isFinite(time)) return;
    this.watermark = Math.max(this.watermark, time);
    this.collectorMark = Math.max(this.collectorMark ?? time, time);
  }

  /** The window for records whose own window starts at `start`; sets `placement`. */
  private place(start: number, now: number): Window {
    const nowStart = Math.floor(now / this.interval) * this.interval;
    let target = start;
    if (start < this.watermark || start + this.interval + this.grace <= now) {
      this.placement = LATE;
      target = Math.max(nowStart, this.watermark);
    } else if (start > nowStart + this.interval) {
      this.placement = EARLY;
      target = Math.max(nowStart, this.watermark);
    } else {
      this.placement = ON_TIME;
    }
    let w = this.windows.get(target);
    if (w === undefined) {
      w = new Window(target, this.maxSeries);
      this.windows.set(target, w);
    }
    return w;
  }

  /** The slow path: a bigint counter, or an upscaled value beyond 2^53. */
  private ingestExact(ew: ExporterWindow, r: FlowRecord, rate: number): void {
    const bytes = upscale(r.bytes, rate);
    const packets = upscale(r.packets, rate);
    if (r.inIf !== undefined) ew.iface(r.inIf).inbound.addExact(bytes, packets);
    else this.stats.withoutInIf++;
    if (r.outIf !== undefined) ew.iface(r.outIf).outbound.addExact(bytes, packets);
    else this.stats.withoutOutIf++;
    ew.protocol(r).addExact(bytes, packets);
    // Top talkers are estimates: a double's 53 bits are plenty for ranking.
    const nb = Number(bytes);
    const np = Number(packets);
    addSrcTalker(ew.src, r, nb, np);
    addDstTalker(ew.dst, r, nb, np);
  }

  private emitWindows(windows: Window[]): void {
    windows.sort((a, b) => a.start - b.start);
    for (const w of windows) {
      this.windows.delete(w.start);
      this.watermark = Math.max(this.watermark, w.start + this.interval);
      const points = this.windowPoints(w);
      this.stats.windowsEmitted++;
      if (points.length === 0) continue;
      this.stats.pointsEmitted += points.length;
      this.deps.sink(points);
    }
  }

  private windowPoints(w: Window): Point[] {
    const points: Point[] = [];
    const time = w.start;
    this.stats.exportersFolded += w.exportersFolded;
    for (const [exporter, ew] of w.exporters) {
      this.stats.interfacesFolded += ew.overflowed;
      this.stats.protocolsFolded += ew.protocolsFolded;
      for (const [ifIndex, t] of ew.interfaces) {
        const index = ifIndex === OVERFLOW_IF ? 'overflow' : String(ifIndex);
        const name = this.deps.interfaceName(exporter, ifIndex);
        // An empty tag value is not valid line protocol; the ifIndex keeps the legend readable. The
        // name is the exporter's text: cleaned here so that every store keeps the same value.
        const ifName = name === undefined || name === '' ? index : cleanTagValue(name);
        if (t.inbound.flows > 0) {
          const tags = { exporter, ifIndex: index, ifName, direction: 'in' };
          points.push({ measurement: 'traffic', tags, fields: this.totalsFields(t.inbound), time });
        }
        if (t.outbound.flows > 0) {
          const tags = { exporter, ifIndex: index, ifName, direction: 'out' };
          points.push({ measurement: 'traffic', tags, fields: this.totalsFields(t.outbound), time });
        }
      }
      for (const [key, t] of ew.protocols) {
        const protocol = PROTOCOL_NAMES[key >> SERVICE_BITS] ?? 'other';
        const service = SERVICE_NAMES[key & ((1 << SERVICE_BITS) - 1)] ?? 'other';
        const tags = { exporter, protocol, service };
        points.push({ measurement: 'traffic_protocol', tags, fields: this.totalsFields(t), time });
      }
      this.pushTop(points, exporter, 'src', ew.src.top(this.topN), time);
      this.pushTop(points, exporter, 'dst', ew.dst.top(this.topN), time);
    }
    return points;
  }

  /**
   * Top talkers write the guaranteed part of each Space-Saving counter (`count − error`): the
   * bytes and packets seen from the address since it took its counter, exact unless it lost its
   * counter during the interval, never above the truth.
   */
  private pushTop(
    points: Point[],
    exporter: string,
    side: 'src' | 'dst',
    top: HeavyHitter[],
    time: number,
  ): void {
    top.forEach((h, i) => {
      points.push({
        measurement: 'top_talkers',
        tags: { exporter, side, rank: String(i + 1) },
        fields: {
          addr: typeof h.key === 'number' ? formatIPv4Number(h.key) : h.key,
          bytes: this.integer(h.count - h.error, 0n),
          packets: this.integer(h.secondary, 0n),
        },
        time,
      });
    });
  }

  private totalsFields(t: Totals): Record<string, StoredValue> {
    return {
      bytes: this.integer(t.bytes, t.bigBytes),
      packets: this.integer(t.packets, t.bigPackets),
      flows: t.flows,
    };
  }

  /**
   * `small + big` as an integer field: a number while safe, a bigint beyond, clamped to int64. A
   * value that is not a finite number (never expected) is clamped and counted too, never thrown on.
   */
  private integer(small: number, big: bigint): number | bigint {
    if (!Number.isFinite(small) || small < 0) {
      this.stats.saturated++;
      return small > 0
        ? INT64_MAX
        : big > INT64_MAX
          ? INT64_MAX
          : big <= BigInt(MAX_SAFE)
            ? Number(big)
            : big;
    }
    const rounded = Math.round(small);
    if (big === 0n && rounded <= MAX_SAFE) return rounded;
    const sum = big + BigInt(rounded);
    if (sum > INT64_MAX) {
      this.stats.saturated++;
      return INT64_MAX;
    }
    return sum <= BigInt(MAX_SAFE) ? Number(sum) : sum;
  }

  /** Writes the counter deltas since the last snapshot, stamped with the interval they began in. */
  private emitCollector(current: number): void {
    const time = this.collectorMark ?? current;
    const points: Point[] = [];
    const seen = new Set<string>();
    for (const c of this.deps.collectorCounters()) {
      const key = `${c.exporter}\u0000${c.version}`;
      seen.add(key);
      const last = this.collectorLast.get(key);
      const fields: Record<string, number> = {};
      let moved = false;
      for (const f of COLLECTOR_FIELDS) {
        const before = last?.[f] ?? 0;
        // A counter that went down was reset: all of its current value is new.
        const delta = c[f] >= before ? c[f] - before : c[f];
        fields[f] = delta;
        if (delta !== 0) moved = true;
      }
      this.collectorLast.set(key, {
        packets: c.packets,
        records: c.records,
        decodeErrors: c.decodeErrors,
        missingTemplates: c.missingTemplates,
        sequenceGaps: c.sequenceGaps,
        dropped: c.dropped,
      });
      if (moved) {
        points.push({
          measurement: 'collector',
          tags: { exporter: c.exporter, version: String(c.version) },
          fields,
          time,
        });
      }
    }
    // The decoder forgets exporters idle for long: forget their last values too, so that one coming
    // back (its counters from zero) is counted from zero, and so that the table stays bounded.
    for (const key of this.collectorLast.keys()) if (!seen.has(key)) this.collectorLast.delete(key);
    this.collectorMark = current;
    if (points.length === 0) return;
    this.stats.pointsEmitted += points.length;
    this.deps.sink(points);
  }
}

/**
 * Counts a record for its source's top talkers: IPv4 by its integer, IPv6 by its four words (no text
 * is made per record), an address given only as text by that text. Keying IPv6 by text (made by the
 * decoder, hashed here) was the largest single cost of the rollup on softflowd's IPFIX with a
 * quarter of its flows IPv6; by words, decode + rollup went from 0.68 M to 1.06 M records per CPU
 * second (x1.57, bench/pipeline.bench.ts, medians of 5 interleaved runs; x1.24 to x1.48 in later
 * series on this shared machine; rollup alone, which replays records whose text is already made,
 * stayed at 2.6-2.8 M).
 */
function addSrcTalker(talkers: SpaceSaving, r: FlowRecord, bytes: number, packets: number): void {
  if (r.srcAddr4 >= 0) talkers.addNumber(r.srcAddr4, bytes, packets);
  else if (r.srcIPv6) talkers.addWords(r.src6a, r.src6b, r.src6c, r.src6d, bytes, packets);
  else {
    const text = r.srcAddr;
    if (text !== undefined) talkers.add(text, bytes, packets);
  }
}

/** `addSrcTalker` for the destination. */
function addDstTalker(talkers: SpaceSaving, r: FlowRecord, bytes: number, packets: number): void {
  if (r.dstAddr4 >= 0) talkers.addNumber(r.dstAddr4, bytes, packets);
  else if (r.dstIPv6) talkers.addWords(r.dst6a, r.dst6b, r.dst6c, r.dst6d, bytes, packets);
  else {
    const text = r.dstAddr;
    if (text !== undefined) talkers.add(text, bytes, packets);
  }
}

/** Clamps a sum to int64's maximum (the largest integer a point can carry). */
function min64(v: bigint): bigint {
  return v > INT64_MAX ? INT64_MAX : v;
}

/** An exported counter upscaled by the sampling rate, exactly (a fractional rate to 1e-6). */
function upscale(v: Counter | undefined, rate: number): bigint {
  if (v === undefined || (typeof v === 'number' && !(Number.isFinite(v) && v >= 0))) return 0n;
  if (typeof v === 'bigint' && v < 0n) return 0n;
  const value = typeof v === 'bigint' ? v : BigInt(Math.round(v));
  if (Number.isInteger(rate)) return value * BigInt(rate);
  return (value * BigInt(Math.round(rate * 1e6))) / 1_000_000n;
}
