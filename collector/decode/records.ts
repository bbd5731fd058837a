/**
 * Reading data sets against a compiled template (shared by NetFlow v9 and IPFIX), and turning
 * options data into exporter state: sampler rates, interface names, system init time.
 */
import { type DecodedRecord, type FieldValue, FlowRecord, type OptionsRecord } from './flow.js';
import type { ElementRegistry } from './ie/registry.js';
import type { AbstractType } from './ie/types.js';
import { isValidTime, readCounter, readU32, readUintNumber, readUintSmall, readValue } from './read.js';
import { type DomainState, type ExporterState, type FlowState, isSamplingRate } from './state.js';
import {
  type CompiledTemplate,
  type ExportHeader,
  type Op,
  type PLAN_STRIDE,
  RecordScratch,
  readVariableLength,
  resolveScratch,
  resolveUptimes,
  VARIABLE_LENGTH,
} from './template.js';

/** Everything a data set is decoded against. */
export interface SetContext {
  readonly state: FlowState;
  readonly exporter: ExporterState;
  readonly domain: DomainState;
  readonly header: ExportHeader;
  readonly registry: ElementRegistry;
  readonly out: DecodedRecord[];
  /** Set when a record overran its set: the records before it are kept, the count is uncertain. */
  overran: boolean;
}

/** One scratch serves every record: decoding is synchronous and single-threaded. */
const scratch = new RecordScratch();

/** The rate for records that state none: the domain's rate from options data without a sampler id. */
function baseRate(e: ExporterState, d: DomainState): number {
  return e.rate(d.samplerRates.get(-1));
}

/**
 * Decodes the records of one data set, `b[start..end)`, and returns how many it decoded. A record
 * that overruns the set is counted and sets `ctx.overran`; the records before it are kept.
 *
 * Fixed-length records: one switch over the fields' ops, the unsigned fields of up to 4 bytes
 * read at one place before it. Read in each of their cases (fifteen calls of readUintSmall in one
 * large function, past what V8 inlines), decoding softflowd's IPFIX ran at 1.43-1.84 M records per
 * CPU second, read once 2.11-2.75 M (x1.37 to x1.57 over 4 interleaved runs of a fixed 3.7 M
 * records, shared 2-core VM at load 4-5; the same number of scavenges, so nothing more allocated).
 */
export function decodeDataSet(
  ctx: SetContext,
  t: CompiledTemplate,
  b: Uint8Array,
  start: number,
  end: number,
): number {
  if (t.options) return decodeOptionsSet(ctx, t, b, start, end);
  const { exporter: e, domain: d, header, out } = ctx;
  const rate = baseRate(e, d);
  const readers = t.readers;
  const n = readers.length;
  let count = 0;
  let off = start;
  if (t.recordLength > 0) {
    const len = t.recordLength;
    const plan = t.plan;
    // Templates whose only scratch values are the two uptimes (v9 and softflowd's IPFIX) reset
    // and resolve those alone, with no call to the general resolveScratch. Skipping every
    // scratch step showed finish() at about a sixth of decode time; this path took
    // bench/pipeline.bench.ts `decode` from a median of 2.78 M to 3.05 M records per CPU second
    // (x1.10, x1.04 to x2.15 over 5 interleaved pairs at load 2.8-4.5).
    const uptimesOnly = t.uptimesOnly;
    // Anything shorter than a record at the end of the set is padding (RFC 3954 5.3, RFC 7011 3.3.1).
    for (; off + len <= end; off += len) {
      const rec = newRecord(ctx, t);
      if (uptimesOnly) {
        scratch.startUptime = -1;
        scratch.endUptime = -1;
      } else if (t.needsScratch) {
        scratch.reset();
      }
      // Per field: one array (`plan`) rather than three, indexed with the stride and compared
      // with the Op range written out, each checked by `satisfies`: V8 does not fold an imported
      // constant, and indexed by `i * PLAN_STRIDE` the loop ran slower than with three arrays
      // (x0.92 to x1.00 best of 25 runs of decode alone, 7 pairs), by `i * 4` faster (x1.06 to
      // x1.13, 3 pairs). With the literal range too: bench/pipeline.bench.ts `decode` from a
      // median of 2.94 M to 3.77 M records per CPU second (x1.30, x0.97 to x2.01 over 6
      // interleaved pairs at load 1.8-2.6, noisy), `worker` x1.14 by pairs (x0.77 to x1.31, 4
      // pairs at load 1.5-1.7); best of 25 runs of decode alone x1.05 to x1.13 over 4 pairs.
      for (let i = 0; i < n; i++) {
        const at = i * (4 satisfies typeof PLAN_STRIDE);
        const o = off + plan[at]!;
        const l = plan[at + 1]!;
        const op = plan[at + 2]!;
        if (op >= (4 satisfies typeof Op.SRC_PORT) && op <= (19 satisfies typeof Op.END_UPTIME) && l <= 4) {
          // Every unsigned field of up to 4 bytes (ports, counters, interfaces, uptimes, extras)
          // is read here, at one place (see the doc comment).
          const v = l === 1 ? b[o]! : l === 2 ? (b[o]! << 8) | b[o + 1]! : readUintSmall(b, o, l);
          // Case labels are the Op values written out (`satisfies` has the compiler check them):
          // V8 makes a jump table only of literal labels, and `case Op.SRC_PORT` compiled to a
          // chain of up to sixteen compares per field. Literal labels took bench/pipeline.bench.ts
          // `decode` from a median of 2.56 M to 3.50 M records per CPU second (x1.25, x0.84 to
          // x1.68 over 6 interleaved pairs at load 3.5-4.7, very noisy; best-of-25 runs of decode
          // alone, x1.02 to x1.12 over 9 pairs), `worker` from 1.23 M to 1.43 M (x1.08, x0.66 to
          // x1.23 over 4 pairs at load 3.4-4.2).
          switch (op) {
            case 4 satisfies typeof Op.SRC_PORT:
              rec.srcPort = v;
              break;
            case 5 satisfies typeof Op.DST_PORT:
              rec.dstPort = v;
              break;
            case 6 satisfies typeof Op.PROTOCOL:
              rec.protocol = v;
              break;
            case 7 satisfies typeof Op.TOS:
              rec.tos = v;
              break;
            case 8 satisfies typeof Op.TCP_FLAGS:
              rec.tcpFlags = v;
              break;
            case 9 satisfies typeof Op.BYTES:
              rec.bytes = v;
              break;
            case 10 satisfies typeof Op.PACKETS:
              rec.packets = v;
              break;
            case 11 satisfies typeof Op.IN_IF:
              rec.inIf = v;
              break;
            case 12 satisfies typeof Op.OUT_IF:
              rec.outIf = v;
              break;
            case 13 satisfies typeof Op.SRC_AS:
              rec.srcAs = v;
              break;
            case 14 satisfies typeof Op.DST_AS:
              rec.dstAs = v;
              break;
            case 15 satisfies typeof Op.DIRECTION:
              rec.direction = v;
              break;
            case 16 satisfies typeof Op.VLAN:
              rec.vlan = v;
              break;
            case 17 satisfies typeof Op.EXTRA_UINT:
              rec.extras![plan[at + 3]!] = v;
              break;
            case 18 satisfies typeof Op.START_UPTIME:
              scratch.startUptime = v;
              break;
            default:
              scratch.endUptime = v;
          }
          continue;
        }
        // Literal case labels, as above.
        switch (op) {
          case 1 satisfies typeof Op.SRC_ADDR4:
            rec.srcAddr4 = readU32(b, o);
            break;
          case 2 satisfies typeof Op.DST_ADDR4:
            rec.dstAddr4 = readU32(b, o);
            break;
          case 3 satisfies typeof Op.NEXT_HOP4:
            rec.nextHop4 = readU32(b, o);
            break;
          case 9 satisfies typeof Op.BYTES:
            rec.bytes = readCounter(b, o, l);
            break;
          case 10 satisfies typeof Op.PACKETS:
            rec.packets = readCounter(b, o, l);
            break;
          case 20 satisfies typeof Op.START_MS:
            rec.start = readUintNumber(b, o, 8);
            break;
          case 21 satisfies typeof Op.END_MS:
            rec.end = readUintNumber(b, o, 8);
            break;
          default:
            readers[i]!(b, o, l, rec, scratch);
        }
      }
      if (uptimesOnly) {
        resolveUptimes(rec, scratch.startUptime, scratch.endUptime, header, d.systemInitMs);
        rec.samplingRate = rate;
        checkTimes(rec, e);
      } else {
        finish(rec, t, header, e, d, rate);
      }
      out.push(rec);
      count++;
    }
    return count;
  }
  while (end - off >= t.minRecordLength) {
    const rec = newRecord(ctx, t);
    if (t.needsScratch) scratch.reset();
    let p = off;
    for (let i = 0; i < n; i++) {
      let len = t.lengths[i]!;
      if (len === VARIABLE_LENGTH) {
        const v = readVariableLength(b, p, end);
        if (v === -1) return overrun(ctx, count);
        len = v.len;
        p = v.at;
      }
      if (p + len > end) return overrun(ctx, count);
      readers[i]!(b, p, len, rec, scratch);
      p += len;
    }
    finish(rec, t, header, e, d, rate);
    out.push(rec);
    count++;
    off = p;
  }
  return count;
}

/**
 * The offset just past at most `n` whole records of `t` in `b[start..end)`, found without reading
 * them (only variable-length prefixes are read), or `end` when fewer remain: the cut that lets
 * buffered data be decoded a bounded number of records at a time.
 */
export function recordsEnd(
  t: CompiledTemplate,
  b: Uint8Array,
  start: number,
  end: number,
  n: number,
): number {
  if (t.recordLength > 0) {
    const cut = start + n * t.recordLength;
    return end - cut < t.recordLength ? end : cut;
  }
  let off = start;
  for (let k = 0; k < n; k++) {
    if (end - off < t.minRecordLength) return end;
    let p = off;
    for (let i = 0; i < t.lengths.length; i++) {
      let len = t.lengths[i]!;
      if (len === VARIABLE_LENGTH) {
        const v = readVariableLength(b, p, end);
        if (v === -1) return end;
        len = v.len;
        p = v.at;
      }
      if (p + len > end) return end;
      p += len;
    }
    off = p;
  }
  return end - off < t.minRecordLength ? end : off;
}

function newRecord(ctx: SetContext, t: CompiledTemplate): FlowRecord {
  const rec = new FlowRecord(ctx.exporter.address, ctx.header.version, ctx.domain.observationDomainId);
  rec.templateId = t.templateId;
  if (t.extraNames.length > 0) {
    rec.extras = new Array(t.extraNames.length);
    rec.extraNames = t.extraNames;
  }
  return rec;
}

function overrun(ctx: SetContext, decoded: number): number {
  ctx.exporter.counters.error('bad_variable_length');
  ctx.overran = true;
  return decoded;
}

function finish(
  rec: FlowRecord,
  t: CompiledTemplate,
  h: ExportHeader,
  e: ExporterState,
  d: DomainState,
  rate: number,
): void {
  if (t.needsScratch) {
    // The record's own rate, else its sampler's (from options data), else the domain's.
    const own = resolveScratch(rec, scratch, h, d.systemInitMs);
    const stated = own > 0 ? own : scratch.samplerId >= 0 ? d.samplerRates.get(scratch.samplerId) : undefined;
    rec.samplingRate = stated === undefined ? rate : e.rate(stated);
  } else {
    rec.samplingRate = rate;
  }
  checkTimes(rec, e);
}

/** A time no Date can hold (a 64-bit millisecond field, an uptime far off) is dropped, counted. */
function checkTimes(rec: FlowRecord, e: ExporterState): void {
  if (rec.start !== undefined && !isValidTime(rec.start)) {
    rec.start = undefined;
    e.counters.error('bad_value');
  }
  if (rec.end !== undefined && !isValidTime(rec.end)) {
    rec.end = undefined;
    e.counters.error('bad_value');
  }
}

/** NetFlow v9 options scope field types (RFC 3954 section 6.1). */
const V9_SCOPE_NAMES: Readonly<Record<number, string>> = {
  1: 'scopeSystem',
  2: 'scopeInterface',
  3: 'scopeLineCard',
  4: 'scopeCache',
  5: 'scopeTemplate',
};

/** Each options field's name and type, worked out once per template and version. */
interface OptionsLayout {
  readonly names: readonly string[];
  readonly types: readonly AbstractType[];
}

/**
 * Options layouts by template. Naming every field of every record through the registry cost
 * about 4 µs a record: a datagram of 9,000 options records (a hostile exporter's interface table)
 * took 35 to 70 ms; per template it is paid once.
 */
const optionsLayouts = new WeakMap<CompiledTemplate, OptionsLayout>();

function optionsLayout(t: CompiledTemplate, version: number, registry: ElementRegistry): OptionsLayout {
  let layout = optionsLayouts.get(t);
  if (layout === undefined) {
    const names: string[] = [];
    const types: AbstractType[] = [];
    t.fields.forEach((f, i) => {
      // v9 scope values (system, interface, line card, ...) are identifiers: read them as integers.
      const v9Scope = i < t.scopeCount && version === 9;
      names.push(v9Scope ? (V9_SCOPE_NAMES[f.id] ?? `scope:${f.id}`) : registry.nameOf(f.pen, f.id));
      types.push(v9Scope ? 'unsigned64' : (registry.lookup(f.pen, f.id)?.type ?? 'octetArray'));
    });
    layout = { names, types };
    optionsLayouts.set(t, layout);
  }
  return layout;
}

function decodeOptionsSet(
  ctx: SetContext,
  t: CompiledTemplate,
  b: Uint8Array,
  start: number,
  end: number,
): number {
  const { exporter: e, domain: d, header, registry, out } = ctx;
  const { names, types } = optionsLayout(t, header.version, registry);
  let count = 0;
  let off = start;
  while (end - off >= t.minRecordLength) {
    const scope: Record<string, FieldValue> = {};
    const fields: Record<string, FieldValue> = {};
    let p = off;
    for (let i = 0; i < t.fields.length; i++) {
      let len = t.lengths[i]!;
      if (len === VARIABLE_LENGTH) {
        const v = readVariableLength(b, p, end);
        if (v === -1) return overrun(ctx, count);
        len = v.len;
        p = v.at;
      }
      if (p + len > end) return overrun(ctx, count);
      (i < t.scopeCount ? scope : fields)[names[i]!] = readValue(b, p, len, types[i]!);
      p += len;
    }
    const rec: OptionsRecord = {
      kind: 'options',
      exporter: e.address,
      version: header.version,
      observationDomainId: d.observationDomainId,
      templateId: t.templateId,
      scope,
      fields,
    };
    applyOptions(ctx.state, rec, e, d);
    out.push(rec);
    count++;
    off = p;
  }
  return count;
}

function num(v: FieldValue | undefined): number | undefined {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

/** Learns sampler rates, interface names and system init time from an options record. */
export function applyOptions(state: FlowState, rec: OptionsRecord, e: ExporterState, d: DomainState): void {
  // Fields first, then scope (a name in both: the field's value, as a merged object would give).
  const value = (name: string): FieldValue | undefined =>
    Object.hasOwn(rec.fields, name) ? rec.fields[name] : rec.scope[name];
  const at = (name: string) => num(value(name));

  const interval = at('samplingInterval') ?? at('samplerRandomInterval') ?? at('samplingPacketInterval');
  let rate: number | undefined;
  if (interval !== undefined && interval > 0) {
    const space = at('samplingPacketSpace');
    rate =
      space !== undefined && at('samplingPacketInterval') !== undefined
        ? (interval + space) / interval
        : interval;
  } else {
    const size = at('samplingSize');
    const population = at('samplingPopulation');
    const probability = at('samplingProbability');
    if (size !== undefined && population !== undefined && size > 0) rate = population / size;
    else if (probability !== undefined && probability > 0 && probability <= 1) rate = 1 / probability;
  }
  if (rate !== undefined) {
    const id = at('samplerId') ?? at('selectorId') ?? -1;
    if (isSamplingRate(rate) && Number.isSafeInteger(id)) state.learnSampler(e, d, id, rate);
    else e.counters.error('bad_value');
  }

  const ifIndex = at('ingressInterface') ?? at('egressInterface') ?? at('scopeInterface');
  const ifName = value('interfaceName');
  const ifDescription = value('interfaceDescription');
  if (ifIndex !== undefined && (typeof ifName === 'string' || typeof ifDescription === 'string')) {
    state.learnInterface(
      e,
      ifIndex,
      typeof ifName === 'string' ? ifName : undefined,
      typeof ifDescription === 'string' ? ifDescription : undefined,
    );
  }

  const init = value('systemInitTimeMilliseconds');
  if (typeof init === 'string') {
    const ms = Date.parse(init);
    if (Number.isFinite(ms) && ms >= 0) d.systemInitMs = ms;
  }
}
