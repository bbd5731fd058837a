/**
 * The attack detectors: volumetric attacks and SYN floods per destination, scans per source.
 *
 * `ingest(records)` adds decoded flow records to the current window; `evaluate(now)` closes the
 * window (its length is the time since the previous evaluation: windows follow arrival time, never
 * the exporters' flow timestamps) and returns what crossed a limit. The service calls `evaluate`
 * every tick (5 s by default).
 *
 * Memory is fixed at construction whatever the traffic:
 * - destinations: a Space-Saving table of `destinations` slots keyed by address and weighted by
 *   upscaled packets, each slot with eight counters and a HyperLogLog of source addresses; every
 *   destination receiving more than 1/`destinations` of the window's packets is guaranteed a slot,
 *   and its counters hold what it received since it took the slot (at most N/k below the truth);
 * - sources: a Space-Saving table of `sources` slots keyed by address and weighted by probe flows
 *   (TCP flows without ACK), each with HyperLogLogs of destination hosts, ports and host:port pairs;
 *   it is emptied every scan window, so slow scans accumulate over `scanWindowMs`;
 * - baselines: at most `baselineHosts` per-destination moving averages, the least recently updated
 *   forgotten first.
 * Worst case in bytes: see `memoryBytes()` and docs/detection.md.
 */

import { ipv6ToBigInt, type Prefix, prefixHolds } from '../../common/cidr.js';
import { formatIPv6Words } from '../decode/addr.js';
import type { DecodedRecord, FlowRecord } from '../decode/flow.js';
import { SpaceSaving } from '../rollup/space-saving.js';
import { HllBank, hash2, hash32, hashText, hashWords } from './hyperloglog.js';

/** Static limits of a host group, per destination host; undefined: not checked. */
export interface Thresholds {
  /** Packets per second, all protocols. */
  readonly pps?: number | undefined;
  /** Megabits per second, all protocols. */
  readonly mbps?: number | undefined;
  /** Flow records per second. */
  readonly flows?: number | undefined;
  /** Packets per second of TCP flows with SYN and without ACK. */
  readonly synPps?: number | undefined;
  readonly udpPps?: number | undefined;
  readonly icmpPps?: number | undefined;
  /** Packets per second of non-initial fragments (TCP/UDP records with both ports 0). */
  readonly fragmentPps?: number | undefined;
  /** Packets per second of UDP from amplification source ports (53, 123, 161, ...). */
  readonly amplificationPps?: number | undefined;
}

export interface HostGroup {
  readonly name: string;
  readonly networks: readonly Prefix[];
  readonly thresholds: Thresholds;
}

/** The group an address belongs to: a host group, or `default` with the default thresholds. */
export interface GroupOf {
  readonly name: string;
  readonly thresholds: Thresholds;
}

export interface DetectorOptions {
  /** Host groups; an address belongs to the group with its longest matching prefix. */
  readonly groups: readonly HostGroup[];
  /** Limits for destinations in no group (group name `default`). */
  readonly defaultThresholds: Thresholds;
  readonly baseline: {
    /** A destination above factor × its own average is reported (0 turns baselines off). */
    readonly factor: number;
    /** ... but only above this many packets per second. */
    readonly minPps: number;
    /** Seconds of history a destination needs before its baseline is used. */
    readonly warmupMs: number;
    /** Half-life of the moving average (ms). */
    readonly halfLifeMs: number;
  };
  readonly scan: {
    /** Distinct host:port pairs probed by one source within the scan window. */
    readonly minPairs: number;
    /** At most this many hosts: a vertical scan (many ports of one host). */
    readonly verticalMaxHosts: number;
    /** At most this many ports: a horizontal sweep (one port across many hosts). */
    readonly horizontalMaxPorts: number;
    readonly windowMs: number;
  };
  /** Slots of the destination table. */
  readonly destinations: number;
  /** Slots of the source (scan) table. */
  readonly sources: number;
  /** Destinations whose baseline is kept. */
  readonly baselineHosts: number;
  /** UDP source ports counted as amplification. */
  readonly amplificationPorts: readonly number[];
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  groups: [],
  // FastNetMon's defaults for hosts in its networks_list.
  defaultThresholds: { pps: 20_000, mbps: 1000, flows: 3500 },
  baseline: { factor: 10, minPps: 1000, warmupMs: 10 * 60_000, halfLifeMs: 10 * 60_000 },
  scan: { minPairs: 200, verticalMaxHosts: 2, horizontalMaxPorts: 2, windowMs: 60_000 },
  destinations: 4096,
  sources: 4096,
  baselineHosts: 65_536,
  amplificationPorts: [19, 53, 123, 161, 389, 1900, 3702, 11211],
};

export type AnomalyKind = 'ddos' | 'syn_flood' | 'scan';

/** One limit crossed in one window. */
export interface Detection {
  readonly kind: AnomalyKind;
  /** The attacked destination (ddos, syn_flood) or the scanning source (scan). */
  readonly subject: string;
  /** The exporter that reported the subject's first flow of the window. */
  readonly exporter: string;
  /** Host group of the destination (for scans: of a destination probed). */
  readonly group: string;
  /** What crossed the limit: pps, mbps, flows, syn_pps, udp_pps, ..., or the scan shape. */
  readonly metric: string;
  readonly value: number;
  /** Normal level: the destination's baseline when known, else the static threshold. */
  readonly expected: number;
  /** The limit crossed: the threshold, or factor × baseline. */
  readonly limit: number;
  /** value / limit (≥ 1). */
  readonly score: number;
  /** Distinct sources towards the destination (ddos, syn_flood), or hosts probed (scan). */
  readonly sources?: number;
  readonly message: string;
}

// Counter vector of a destination slot.
const PACKETS = 0;
const BYTES = 1;
const FLOWS = 2;
const SYN = 3;
const UDP = 4;
const ICMP = 5;
const FRAGMENT = 6;
const AMPLIFICATION = 7;
const COUNTERS = 8;

const METRICS: ReadonlyArray<{
  key: keyof Thresholds;
  metric: string;
  of: (c: Float64Array, i: number) => number;
}> = [
  { key: 'pps', metric: 'pps', of: (c, i) => c[i + PACKETS]! },
  { key: 'mbps', metric: 'mbps', of: (c, i) => (c[i + BYTES]! * 8) / 1e6 },
  { key: 'flows', metric: 'flows', of: (c, i) => c[i + FLOWS]! },
  { key: 'synPps', metric: 'syn_pps', of: (c, i) => c[i + SYN]! },
  { key: 'udpPps', metric: 'udp_pps', of: (c, i) => c[i + UDP]! },
  { key: 'icmpPps', metric: 'icmp_pps', of: (c, i) => c[i + ICMP]! },
  { key: 'fragmentPps', metric: 'fragment_pps', of: (c, i) => c[i + FRAGMENT]! },
  { key: 'amplificationPps', metric: 'amplification_pps', of: (c, i) => c[i + AMPLIFICATION]! },
];

const ACK = 0x10;
const SYN_FLAG = 0x02;
/** Bytes per baseline entry (Map entry, key, object with four numbers), measured roughly. */
const BASELINE_ENTRY_BYTES = 160;

interface Baseline {
  pps: number;
  synPps: number;
  firstSeen: number;
  lastUpdate: number;
}

function toNumber(v: number | bigint | undefined, fallback: number): number {
  return v === undefined ? fallback : typeof v === 'number' ? v : Number(v);
}

/** How a scan sample's host is kept: an IPv4 integer, IPv6 words or text. */
const SAMPLE_NUMBER = 0;
const SAMPLE_WORDS = 1;
const SAMPLE_TEXT = 2;

function addressText(key: string | number): string {
  if (typeof key === 'string') return key;
  return `${key >>> 24}.${(key >>> 16) & 255}.${(key >>> 8) & 255}.${key & 255}`;
}

export class Detector {
  private readonly dst: SpaceSaving;
  private readonly dstCounters: Float64Array;
  private readonly dstExporter: (string | undefined)[];
  private readonly dstSources: HllBank;
  /** A destination slot's host group, found at its first check after it took the slot. */
  private readonly dstGroup: (GroupOf | undefined)[];
  private readonly defaultGroup: GroupOf;
  private readonly src: SpaceSaving;
  private readonly srcHosts: HllBank;
  private readonly srcPorts: HllBank;
  private readonly srcPairs: HllBank;
  private readonly srcExporter: (string | undefined)[];
  /** Per source slot: the last host probed (an IPv4 integer) and port, at 2 × slot. */
  private readonly srcSample: Float64Array;
  /** ... or that host's IPv6 words at 4 × slot, or its text: SAMPLE_NUMBER, _WORDS or _TEXT. */
  private readonly srcSampleKind: Uint8Array;
  private readonly srcSampleWords: Int32Array;
  private readonly srcSampleText: (string | undefined)[];
  private readonly baselines = new Map<string | number, Baseline>();
  private readonly amplification: Uint8Array;
  private windowStart: number | undefined;
  private scanWindowStart: number | undefined;
  /** Records ingested since construction. */
  records = 0;
  /** Baseline entries forgotten to stay within `baselineHosts`. */
  baselinesEvicted = 0;

  constructor(readonly options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS) {
    this.dst = new SpaceSaving(options.destinations);
    this.dstCounters = new Float64Array(options.destinations * COUNTERS);
    this.dstExporter = new Array<string | undefined>(options.destinations).fill(undefined);
    this.dstSources = new HllBank(options.destinations, 8);
    this.dstGroup = new Array<GroupOf | undefined>(options.destinations).fill(undefined);
    this.defaultGroup = { name: 'default', thresholds: options.defaultThresholds };
    this.src = new SpaceSaving(options.sources);
    this.srcHosts = new HllBank(options.sources, 8);
    this.srcPorts = new HllBank(options.sources, 8);
    this.srcPairs = new HllBank(options.sources, 8);
    this.srcExporter = new Array<string | undefined>(options.sources).fill(undefined);
    this.srcSample = new Float64Array(options.sources * 2);
    this.srcSampleKind = new Uint8Array(options.sources);
    this.srcSampleWords = new Int32Array(options.sources * 4);
    this.srcSampleText = new Array<string | undefined>(options.sources).fill(undefined);
    this.amplification = new Uint8Array(65536);
    for (const p of options.amplificationPorts) this.amplification[p] = 1;
  }

  /** Destinations with a baseline (≤ `baselineHosts`). */
  get baselineCount(): number {
    return this.baselines.size;
  }

  /** Upper bound of the bytes this detector holds, whatever the traffic. */
  memoryBytes(): number {
    const o = this.options;
    // SpaceSaving: 7 typed arrays of k (8 bytes or 4), a 4k..8k Int32 table, a key array.
    const table = (k: number) => k * (8 * 4 + 4 * 3 + 8) + 8 * k * 4 + k * 64;
    return (
      table(o.destinations) +
      o.destinations * (COUNTERS * 8 + 8 + 8) +
      this.dstSources.bytes +
      table(o.sources) +
      3 * this.srcHosts.bytes +
      o.sources * (2 * 8 + 1 + 4 * 4 + 8 + 64) +
      65536 +
      o.baselineHosts * BASELINE_ENTRY_BYTES
    );
  }

  /**
   * Adds records to the current window. Options records are skipped.
   *
   * Addresses are keyed and hashed as the decoder read them (IPv4 integers, IPv6 words), text only
   * for an address that has nothing else: reading `dstAddr`/`srcAddr` made the RFC 5952 text of
   * every IPv6 address twice per record, and hashing that text cost more than the rest of this
   * loop (hexGroups, hashText and the getters: 9 % of a decode worker's time on softflowd's IPFIX,
   * a quarter of its flows IPv6). With that and the checks below, bench/pipeline.bench.ts `worker`
   * went from 0.58 M to 0.75 M records per CPU second (medians of 6 interleaved pairs, x1.04 to
   * x1.60 per pair, on the shared 2-core VM at load 3.3-4.8); detection's share of the worker's
   * profile from about 18 % to 7 %.
   */
  ingest(records: readonly DecodedRecord[], now: number): void {
    this.windowStart ??= now;
    this.scanWindowStart ??= now;
    const counters = this.dstCounters;
    for (let n = 0; n < records.length; n++) {
      const r = records[n]!;
      if (r.kind !== 'flow') continue;
      this.records++;
      const rate = r.samplingRate > 0 ? r.samplingRate : 1;
      const packets = toNumber(r.packets, 1) * rate;
      const bytes = toNumber(r.bytes, 0) * rate;
      const protocol = r.protocol ?? 0;
      const flags = r.tcpFlags ?? 0;
      let slot: number;
      if (r.dstAddr4 >= 0) slot = this.dst.addSlot(r.dstAddr4, packets);
      else if (r.dstIPv6) slot = this.dst.addSlotWords(r.dst6a, r.dst6b, r.dst6c, r.dst6d, packets);
      else {
        const text = r.dstAddr;
        if (text === undefined) continue;
        slot = this.dst.addSlot(text, packets);
      }
      const base = slot * COUNTERS;
      if (this.dst.admitted) {
        counters.fill(0, base, base + COUNTERS);
        this.dstSources.clear(slot);
        this.dstExporter[slot] = r.exporter;
        this.dstGroup[slot] = undefined;
      }
      counters[base + PACKETS]! += packets;
      counters[base + BYTES]! += bytes;
      counters[base + FLOWS]! += 1;
      const probe = protocol === 6 && (flags & ACK) === 0;
      if (protocol === 6) {
        if ((flags & SYN_FLAG) !== 0 && (flags & ACK) === 0) counters[base + SYN]! += packets;
      } else if (protocol === 17) {
        counters[base + UDP]! += packets;
        if (this.amplification[r.srcPort ?? 0] === 1) counters[base + AMPLIFICATION]! += packets;
      } else if (protocol === 1 || protocol === 58) {
        counters[base + ICMP]! += packets;
      }
      if ((protocol === 6 || protocol === 17) && r.srcPort === 0 && r.dstPort === 0)
        counters[base + FRAGMENT]! += packets;
      let srcHash: number;
      if (r.srcAddr4 >= 0) srcHash = hash32(r.srcAddr4);
      else if (r.srcIPv6) srcHash = hashWords(r.src6a, r.src6b, r.src6c, r.src6d);
      else {
        const text = r.srcAddr;
        if (text === undefined) continue;
        srcHash = hashText(text);
      }
      this.dstSources.add(slot, srcHash);
      if (probe) this.addProbe(r);
    }
  }

  /** Counts a probe flow (TCP without ACK) of a record whose source and destination are known. */
  private addProbe(r: FlowRecord): void {
    let slot: number;
    if (r.srcAddr4 >= 0) slot = this.src.addSlot(r.srcAddr4, 1);
    else if (r.srcIPv6) slot = this.src.addSlotWords(r.src6a, r.src6b, r.src6c, r.src6d, 1);
    else slot = this.src.addSlot(r.srcAddr!, 1);
    if (this.src.admitted) {
      this.srcHosts.clear(slot);
      this.srcPorts.clear(slot);
      this.srcPairs.clear(slot);
      this.srcExporter[slot] = r.exporter;
    }
    const port = r.dstPort ?? 0;
    let hostHash: number;
    if (r.dstAddr4 >= 0) {
      hostHash = hash32(r.dstAddr4);
      this.srcSampleKind[slot] = SAMPLE_NUMBER;
      this.srcSample[slot * 2] = r.dstAddr4;
    } else if (r.dstIPv6) {
      hostHash = hashWords(r.dst6a, r.dst6b, r.dst6c, r.dst6d);
      this.srcSampleKind[slot] = SAMPLE_WORDS;
      const w = this.srcSampleWords;
      w[slot * 4] = r.dst6a;
      w[slot * 4 + 1] = r.dst6b;
      w[slot * 4 + 2] = r.dst6c;
      w[slot * 4 + 3] = r.dst6d;
    } else {
      const text = r.dstAddr!;
      hostHash = hashText(text);
      this.srcSampleKind[slot] = SAMPLE_TEXT;
      this.srcSampleText[slot] = text;
    }
    this.srcHosts.add(slot, hostHash);
    this.srcPorts.add(slot, hash32(port + 0x1_0000));
    this.srcPairs.add(slot, hash2(hostHash, port));
    this.srcSample[slot * 2 + 1] = port;
  }

  /**
   * Closes the window at `now` and returns what crossed a limit in it, then starts the next
   * window. Its length is `windowMs` (by default since the previous close, or the first record). Baselines learn from every destination that crossed nothing.
   */
  evaluate(now: number, windowMs = now - (this.windowStart ?? now)): Detection[] {
    const detections: Detection[] = [];
    // A window shorter than a second (a stop right after a tick) would inflate rates.
    const seconds = Math.max(1, windowMs / 1000);
    this.evaluateDestinations(now, seconds, detections);
    this.evaluateSources(detections);
    this.dst.clear();
    this.windowStart = now;
    if (now - (this.scanWindowStart ?? now) >= this.options.scan.windowMs) {
      this.src.clear();
      this.scanWindowStart = now;
    }
    return detections;
  }

  /**
   * Checks the window open now without closing it, with rates over the window's full length
   * `windowMs`: what arrived so far divided by the whole window is never above the rate the window
   * will end with, so an attack reported here would be reported when the window closes, only
   * sooner; nothing is reported here that the close would not. Baselines do not learn.
   */
  peek(now: number, windowMs: number): Detection[] {
    const detections: Detection[] = [];
    this.evaluateDestinations(now, Math.max(1, windowMs / 1000), detections, false);
    this.evaluateSources(detections);
    return detections;
  }

  /**
   * Judges every destination slot. A slot's address (its text, for IPv6) is looked at only when
   * it is needed: to find a baseline that could matter (above `minPps`), to learn, or to report.
   * Each check (four a second by default) used to format every IPv6 destination's text and parse
   * it back for its host group, even with no host groups configured.
   */
  private evaluateDestinations(now: number, seconds: number, out: Detection[], learn = true): void {
    const counters = this.dstCounters;
    const rates = new Float64Array(COUNTERS);
    const b = this.options.baseline;
    const baselines = b.factor > 0;
    const alphaPerMs = Math.LN2 / b.halfLifeMs;
    const alpha = 1 - Math.exp(-alphaPerMs * seconds * 1000);
    for (let slot = 0; slot < this.dst.size; slot++) {
      const base = slot * COUNTERS;
      for (let i = 0; i < COUNTERS; i++) rates[i] = counters[base + i]! / seconds;
      const group = this.slotGroup(slot);
      let best: { metric: string; value: number; limit: number; expected: number; syn: boolean } | undefined;
      for (const m of METRICS) {
        const limit = group.thresholds[m.key];
        if (limit === undefined) continue;
        const value = m.of(rates, 0);
        if (value > limit && (best === undefined || value / limit > best.value / best.limit))
          best = { metric: m.metric, value, limit, expected: limit, syn: m.key === 'synPps' };
      }
      const pps = rates[PACKETS]!;
      const synPps = rates[SYN]!;
      // A baseline limit is at least minPps, and SYN packets are some of the packets: at or below
      // minPps no baseline can be crossed, so a check need not look it up.
      let key: string | number | undefined;
      let known: Baseline | undefined;
      if (baselines && (learn || pps > b.minPps)) {
        key = this.dst.keyAt(slot);
        known = this.baselines.get(key);
      }
      if (known !== undefined && now - known.firstSeen >= b.warmupMs) {
        // Quiet windows since the last update count as zero traffic.
        const decay = Math.exp(-alphaPerMs * Math.max(0, now - known.lastUpdate - seconds * 1000));
        const basePps = known.pps * decay;
        const baseSyn = known.synPps * decay;
        const ppsLimit = Math.max(b.minPps, b.factor * basePps);
        const synLimit = Math.max(b.minPps, b.factor * baseSyn);
        if (synPps > synLimit && (best === undefined || synPps / synLimit > best.value / best.limit))
          best = { metric: 'syn_pps_baseline', value: synPps, limit: synLimit, expected: baseSyn, syn: true };
        if (pps > ppsLimit && (best === undefined || pps / ppsLimit > best.value / best.limit))
          best = { metric: 'pps_baseline', value: pps, limit: ppsLimit, expected: basePps, syn: false };
      }
      if (best === undefined) {
        if (learn && key !== undefined) this.learn(key, known, pps, synPps, now, alpha, alphaPerMs, seconds);
        continue;
      }
      // A flood made mostly of SYN-only TCP is a SYN flood whichever limit it crossed first.
      const kind: AnomalyKind = best.syn || synPps >= 0.5 * pps ? 'syn_flood' : 'ddos';
      const sources = Math.round(this.dstSources.estimate(slot));
      const subject = addressText(key ?? this.dst.keyAt(slot));
      const unit = best.metric.startsWith('mbps')
        ? 'Mbit/s'
        : best.metric.startsWith('flows')
          ? 'flows/s'
          : 'packets/s';
      const against = best.metric.endsWith('_baseline')
        ? `${this.options.baseline.factor} x its baseline ${best.expected.toFixed(0)}`
        : `threshold ${best.limit}`;
      out.push({
        kind,
        subject,
        exporter: this.dstExporter[slot] ?? '',
        group: group.name,
        metric: best.metric,
        value: best.value,
        expected: best.expected,
        limit: best.limit,
        score: best.value / best.limit,
        sources,
        message: `${kind === 'syn_flood' ? 'SYN flood' : 'volumetric attack'} on ${subject} (${group.name}): ${best.metric.replace('_baseline', '')} ${best.value.toFixed(0)} ${unit} over ${against}, ${sources === 1 ? 'one source' : `about ${sources} sources`}`,
      });
    }
  }

  private learn(
    key: string | number,
    known: Baseline | undefined,
    pps: number,
    synPps: number,
    now: number,
    alpha: number,
    alphaPerMs: number,
    seconds: number,
  ): void {
    if (this.options.baseline.factor <= 0) return;
    if (known === undefined) {
      if (this.baselines.size >= this.options.baselineHosts) {
        const oldest = this.baselines.keys().next();
        if (!oldest.done) {
          this.baselines.delete(oldest.value);
          this.baselinesEvicted++;
        }
      }
      this.baselines.set(key, { pps, synPps, firstSeen: now, lastUpdate: now });
      return;
    }
    const decay = Math.exp(-alphaPerMs * Math.max(0, now - known.lastUpdate - seconds * 1000));
    known.pps = known.pps * decay * (1 - alpha) + alpha * pps;
    known.synPps = known.synPps * decay * (1 - alpha) + alpha * synPps;
    known.lastUpdate = now;
    // Most recently updated last: the first key in the map is the one to forget.
    this.baselines.delete(key);
    this.baselines.set(key, known);
  }

  private evaluateSources(out: Detection[]): void {
    const s = this.options.scan;
    for (let slot = 0; slot < this.src.size; slot++) {
      // Probe flows observed since the source took its slot: fewer than minPairs cannot make minPairs pairs.
      if (this.src.countAt(slot) - this.src.errorAt(slot) < s.minPairs) continue;
      const pairs = Math.round(this.srcPairs.estimate(slot));
      if (pairs < s.minPairs) continue;
      const hosts = Math.round(this.srcHosts.estimate(slot));
      const ports = Math.round(this.srcPorts.estimate(slot));
      const sampleHost = this.sampleHost(slot);
      const samplePort = this.srcSample[slot * 2 + 1]!;
      const shape =
        hosts <= s.verticalMaxHosts ? 'vertical' : ports <= s.horizontalMaxPorts ? 'horizontal' : 'block';
      const subject = addressText(this.src.keyAt(slot));
      const target =
        shape === 'vertical'
          ? `${ports} ports of ${addressText(sampleHost)}`
          : shape === 'horizontal'
            ? `port ${samplePort} on ${hosts} hosts`
            : `${hosts} hosts and ${ports} ports`;
      out.push({
        kind: 'scan',
        subject,
        exporter: this.srcExporter[slot] ?? '',
        group: this.groupOf(sampleHost).name,
        metric: shape,
        value: pairs,
        expected: s.minPairs,
        limit: s.minPairs,
        score: pairs / s.minPairs,
        sources: hosts,
        message: `${shape} scan from ${subject}: ${pairs} host:port pairs probed (${target}) within ${Math.round(s.windowMs / 1000)} s`,
      });
    }
  }

  /** The last host a source slot probed. */
  private sampleHost(slot: number): string | number {
    const kind = this.srcSampleKind[slot];
    if (kind === SAMPLE_NUMBER) return this.srcSample[slot * 2]!;
    if (kind === SAMPLE_TEXT) return this.srcSampleText[slot]!;
    const w = this.srcSampleWords;
    return formatIPv6Words(w[slot * 4]!, w[slot * 4 + 1]!, w[slot * 4 + 2]!, w[slot * 4 + 3]!);
  }

  /** A destination slot's host group: found once while its key holds the slot. */
  private slotGroup(slot: number): GroupOf {
    if (this.options.groups.length === 0) return this.defaultGroup;
    let group = this.dstGroup[slot];
    if (group === undefined) {
      group = this.groupOf(this.dst.keyAt(slot));
      this.dstGroup[slot] = group;
    }
    return group;
  }

  /** The host group of an address (longest prefix), or the default group. */
  groupOf(key: string | number): GroupOf {
    let v4: number | undefined;
    let v6: bigint | undefined;
    if (typeof key === 'number') v4 = key;
    else if (key.includes(':')) v6 = ipv6ToBigInt(key);
    let best: HostGroup | undefined;
    let bestBits = -1;
    for (const group of this.options.groups) {
      for (const prefix of group.networks) {
        if (prefix.bits > bestBits && prefixHolds(prefix, v4, v6)) {
          best = group;
          bestBits = prefix.bits;
        }
      }
    }
    return best ?? this.defaultGroup;
  }
}
