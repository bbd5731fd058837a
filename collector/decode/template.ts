/**
 * Templates (NetFlow v9 and IPFIX) and their compilation into field readers.
 *
 * A template is compiled once, when it arrives, into one reader closure per field plus the field
 * offsets; decoding a data record is then a loop over those closures with no lookups, no slicing
 * and no per-field allocation. Elements with a normalised key (docs/schema.md) write straight
 * into the FlowRecord; times and sampling inputs go to a per-record scratch and are resolved once
 * the whole record is read, since they depend on each other and on the export header.
 */
import { formatIPv6, formatMac } from './addr.js';
import type { FieldValue, FlowRecord } from './flow.js';
import type { ElementRegistry } from './ie/registry.js';
import type { AbstractType } from './ie/types.js';
import {
  readCounter,
  readDateTimeMs,
  readI32,
  readU16,
  readU32,
  readUintNumber,
  readUintSmall,
  readValue,
} from './read.js';

/** The length that marks an IPFIX variable-length element (RFC 7011 section 7). */
export const VARIABLE_LENGTH = 65535;

/** One template field as it appears on the wire. `pen` is 0 for IANA (and every v9) element. */
export interface FieldSpec {
  readonly id: number;
  readonly length: number;
  readonly pen: number;
}

/** A template as received: what is persisted across restarts. */
export interface TemplateSpec {
  readonly templateId: number;
  readonly fields: readonly FieldSpec[];
  /** Number of leading scope fields; 0 for a data template. */
  readonly scopeCount: number;
  /** Options template (v9 flowset 1 / IPFIX set 3). */
  readonly options: boolean;
}

/** Header values a record's times and counters are relative to. */
export interface ExportHeader {
  readonly version: number;
  /** Export time in Unix milliseconds (v5 includes the nanoseconds; v9 and IPFIX are whole seconds). */
  readonly exportMs: number;
  /** v5/v9 sysUptime in milliseconds; -1 for IPFIX. */
  readonly sysUptime: number;
}

/** Values a record carries that are resolved after all of its fields are read. */
export class RecordScratch {
  startUptime = -1;
  endUptime = -1;
  startDeltaUs = -1;
  endDeltaUs = -1;
  durationMs = -1;
  systemInitMs = -1;
  samplerId = -1;
  samplingInterval = 0;
  samplingSpace = -1;
  samplingProbability = 0;
  samplingSize = 0;
  samplingPopulation = 0;

  reset(): void {
    this.startUptime = -1;
    this.endUptime = -1;
    this.startDeltaUs = -1;
    this.endDeltaUs = -1;
    this.durationMs = -1;
    this.systemInitMs = -1;
    this.samplerId = -1;
    this.samplingInterval = 0;
    this.samplingSpace = -1;
    this.samplingProbability = 0;
    this.samplingSize = 0;
    this.samplingPopulation = 0;
  }

  /** The sampling rate the record states itself, or 0 when it states none. */
  ownRate(): number {
    if (this.samplingInterval > 0) {
      // PSAMP count-based selection: select `interval` packets out of every `interval + space`.
      return this.samplingSpace >= 0
        ? (this.samplingInterval + this.samplingSpace) / this.samplingInterval
        : this.samplingInterval;
    }
    if (this.samplingSize > 0 && this.samplingPopulation > 0)
      return this.samplingPopulation / this.samplingSize;
    if (this.samplingProbability > 0 && this.samplingProbability <= 1) return 1 / this.samplingProbability;
    return 0;
  }
}

/**
 * Reads one field of a data record. `o` is the field's offset, `len` its length; both are already
 * checked against the record bounds.
 */
export type FieldReader = (b: Uint8Array, o: number, len: number, rec: FlowRecord, s: RecordScratch) => void;

/**
 * Inline operations for the commonest fields at their common lengths. Reading every field
 * through its closure ran at 2.9 M records/s (bench/decode.bench.ts: v9, 25 records x 20 fields,
 * 2-core VM); switching on these in the decode loop and calling the closure only for `CALL` lifts
 * that to the figure in docs/internals.md. The closures stay the single definition of what a field
 * means: every op has a closure doing the same, used for variable-length templates.
 */
export const Op = {
  CALL: 0,
  SRC_ADDR4: 1,
  DST_ADDR4: 2,
  NEXT_HOP4: 3,
  SRC_PORT: 4,
  DST_PORT: 5,
  PROTOCOL: 6,
  TOS: 7,
  TCP_FLAGS: 8,
  BYTES: 9,
  PACKETS: 10,
  IN_IF: 11,
  OUT_IF: 12,
  SRC_AS: 13,
  DST_AS: 14,
  DIRECTION: 15,
  VLAN: 16,
  EXTRA_UINT: 17,
  START_UPTIME: 18,
  END_UPTIME: 19,
  START_MS: 20,
  END_MS: 21,
} as const;

const NUMERIC_OPS: Readonly<Record<NumericKey, number>> = {
  srcPort: Op.SRC_PORT,
  dstPort: Op.DST_PORT,
  protocol: Op.PROTOCOL,
  tos: Op.TOS,
  tcpFlags: Op.TCP_FLAGS,
  inIf: Op.IN_IF,
  outIf: Op.OUT_IF,
  srcAs: Op.SRC_AS,
  dstAs: Op.DST_AS,
  direction: Op.DIRECTION,
  vlan: Op.VLAN,
};

export interface CompiledTemplate extends TemplateSpec {
  readonly readers: readonly FieldReader[];
  /** Fixed record length, or -1 when the template has variable-length fields. */
  readonly recordLength: number;
  /** Smallest possible record: fixed fields plus one length byte per variable-length field. */
  readonly minRecordLength: number;
  /** Whether records need the scratch resolved (times, sampling). */
  readonly needsScratch: boolean;
  /**
   * Whether the only scratch values the template's fixed-length ops set are the two uptimes
   * (Op.START_UPTIME, Op.END_UPTIME): records of such templates are resolved by `resolveUptimes`.
   */
  readonly uptimesOnly: boolean;
  /** Names of the elements stored in a record's `extras`, by slot. */
  readonly extraNames: readonly string[];
  /** Field lengths (65535 for variable length), parallel to `readers`. */
  readonly lengths: Int32Array;
  /**
   * Four entries per field, parallel to `readers`: the field's offset within a record (valid when
   * `recordLength > 0`), its length, its inline operation (Op) and its `extras` slot for
   * Op.EXTRA_UINT (else -1). One array rather than four: the fixed-length decode loop reads all
   * of them per field, and V8 checks and loads each typed array it reads again after every call
   * the loop makes (bench/pipeline.bench.ts figures in collector/decode/records.ts).
   */
  readonly plan: Int32Array;
  /** Unix milliseconds when the template was last received. */
  receivedAt: number;
}

/** Two templates are the same layout when every field matches. */
export function sameLayout(a: TemplateSpec, b: TemplateSpec): boolean {
  if (a.fields.length !== b.fields.length || a.scopeCount !== b.scopeCount || a.options !== b.options)
    return false;
  for (let i = 0; i < a.fields.length; i++) {
    const x = a.fields[i]!;
    const y = b.fields[i]!;
    if (x.id !== y.id || x.length !== y.length || x.pen !== y.pen) return false;
  }
  return true;
}

type NumericKey =
  | 'srcPort'
  | 'dstPort'
  | 'protocol'
  | 'tcpFlags'
  | 'tos'
  | 'inIf'
  | 'outIf'
  | 'srcAs'
  | 'dstAs'
  | 'direction'
  | 'vlan';
type AddressKey = 'srcAddr' | 'dstAddr' | 'nextHop';
type CounterKey = 'bytes' | 'packets';

/** Readers that assign one normalised numeric key. One closure per key keeps each store monomorphic. */
function numberReader(key: NumericKey, len: number): FieldReader {
  const read =
    len === 1
      ? (b: Uint8Array, o: number) => b[o]!
      : len === 2
        ? readU16
        : len === 4
          ? readU32
          : (b: Uint8Array, o: number) => readUintNumber(b, o, len);
  switch (key) {
    case 'srcPort':
      return (b, o, _l, r) => {
        r.srcPort = read(b, o);
      };
    case 'dstPort':
      return (b, o, _l, r) => {
        r.dstPort = read(b, o);
      };
    case 'protocol':
      return (b, o, _l, r) => {
        r.protocol = read(b, o);
      };
    case 'tcpFlags':
      return (b, o, _l, r) => {
        r.tcpFlags = read(b, o);
      };
    case 'tos':
      return (b, o, _l, r) => {
        r.tos = read(b, o);
      };
    case 'inIf':
      return (b, o, _l, r) => {
        r.inIf = read(b, o);
      };
    case 'outIf':
      return (b, o, _l, r) => {
        r.outIf = read(b, o);
      };
    case 'srcAs':
      return (b, o, _l, r) => {
        r.srcAs = read(b, o);
      };
    case 'dstAs':
      return (b, o, _l, r) => {
        r.dstAs = read(b, o);
      };
    case 'direction':
      return (b, o, _l, r) => {
        r.direction = read(b, o);
      };
    case 'vlan':
      return (b, o, _l, r) => {
        r.vlan = read(b, o);
      };
  }
}

function counterReader(key: CounterKey, len: number): FieldReader {
  if (key === 'bytes') {
    return len === 4
      ? (b, o, _l, r) => {
          r.bytes = readU32(b, o);
        }
      : (b, o, _l, r) => {
          r.bytes = readCounter(b, o, len);
        };
  }
  return len === 4
    ? (b, o, _l, r) => {
        r.packets = readU32(b, o);
      }
    : (b, o, _l, r) => {
        r.packets = readCounter(b, o, len);
      };
}

function addressReader(key: AddressKey, len: number): FieldReader {
  if (len === 4) {
    switch (key) {
      case 'srcAddr':
        return (b, o, _l, r) => {
          r.srcAddr4 = readU32(b, o);
        };
      case 'dstAddr':
        return (b, o, _l, r) => {
          r.dstAddr4 = readU32(b, o);
        };
      case 'nextHop':
        return (b, o, _l, r) => {
          r.nextHop4 = readU32(b, o);
        };
    }
  }
  // IPv6 source and destination are kept as four words, text made only when read (FlowRecord
  // `srcIPv6`). Formatting RFC 5952 text per record showed as hexGroups 5.5 % and these readers
  // 3.2 % of decode + rollup time (bench/pipeline.bench.ts profile, softflowd's IPFIX, a quarter of
  // the flows IPv6); decode alone went from 1.60 M to 2.41 M records per CPU second (x1.50,
  // medians of 5 interleaved runs each; x1.23 to x1.59 in later series on this shared machine).
  switch (key) {
    case 'srcAddr':
      return (b, o, _l, r) => {
        r.setSrcIPv6(readI32(b, o), readI32(b, o + 4), readI32(b, o + 8), readI32(b, o + 12));
      };
    case 'dstAddr':
      return (b, o, _l, r) => {
        r.setDstIPv6(readI32(b, o), readI32(b, o + 4), readI32(b, o + 8), readI32(b, o + 12));
      };
    case 'nextHop':
      // Rarely sent and never keyed on: text, as read.
      return (b, o, _l, r) => {
        r.nextHop = formatIPv6(b, o);
      };
  }
}

/**
 * Address readers for templates that carry an address in both families (nProbe's default
 * template, some firewalls): the exporter zeroes the family it does not use, so an all-zero value
 * is skipped rather than allowed to overwrite the other. A genuine 0.0.0.0 or :: is lost there.
 */
function dualStackReader(key: AddressKey, len: number): FieldReader {
  const read = len === 4 ? undefined : formatIPv6;
  return (b, o, l, r) => {
    let zero = true;
    for (let i = 0; i < l; i++) {
      if (b[o + i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return;
    if (read === undefined) {
      const v = readU32(b, o);
      if (key === 'srcAddr') r.srcAddr4 = v;
      else if (key === 'dstAddr') r.dstAddr4 = v;
      else r.nextHop4 = v;
    } else if (key === 'srcAddr') {
      r.setSrcIPv6(readI32(b, o), readI32(b, o + 4), readI32(b, o + 8), readI32(b, o + 12));
    } else if (key === 'dstAddr') {
      r.setDstIPv6(readI32(b, o), readI32(b, o + 4), readI32(b, o + 8), readI32(b, o + 12));
    } else {
      r.nextHop = read(b, o);
    }
  };
}

/** IANA element ids with a normalised key, and the lengths at which they are read directly. */
const NUMERIC: ReadonlyMap<number, NumericKey> = new Map<number, NumericKey>([
  [4, 'protocol'],
  [5, 'tos'],
  [6, 'tcpFlags'],
  [7, 'srcPort'],
  [10, 'inIf'],
  [11, 'dstPort'],
  [14, 'outIf'],
  [16, 'srcAs'],
  [17, 'dstAs'],
  [58, 'vlan'],
  [61, 'direction'],
]);

/**
 * Normalised keys that several elements can feed, with the elements in order of preference: only
 * the first one a template has feeds the key, the others are reported under `fields`. Counters
 * follow what exporters send when they lack the delta counts: total counts, post-NAT counts, and
 * Cisco NSEL's initiator counts (its responder counts stay under `fields`).
 */
const SOURCES: ReadonlyArray<readonly number[]> = [
  [1, 85, 23, 231], // bytes: octetDeltaCount, octetTotalCount, postOctetDeltaCount, initiatorOctets
  [2, 86, 24, 298], // packets: packetDeltaCount, packetTotalCount, postPacketDeltaCount, initiatorPackets
  [15, 18], // next hop: ipNextHopIPv4Address, bgpNextHopIPv4Address
  [62, 63], // next hop: ipNextHopIPv6Address, bgpNextHopIPv6Address
  [58, 243], // vlanId, dot1qVlanId
];

/** Elements of SOURCES: they feed a normalised key only when chosen for it. */
const SOURCE_MEMBERS: ReadonlySet<number> = new Set(SOURCES.flat());

/** For each element that feeds a normalised key in this template, the key's canonical element. */
function aliases(present: ReadonlySet<number>): Map<number, number> {
  const alias = new Map<number, number>();
  for (const group of SOURCES) {
    const chosen = group.find((id) => present.has(id));
    if (chosen !== undefined) alias.set(chosen, group[0]!);
  }
  return alias;
}

/** IPv4 and IPv6 elements of the same address; templates with both send the unused one zeroed. */
const ADDRESS_PAIRS: ReadonlyArray<readonly [v4: number, v6: number]> = [
  [8, 27],
  [12, 28],
  [15, 62],
];

const scratchReaders: ReadonlyMap<number, FieldReader> = new Map<number, FieldReader>([
  // flowEndSysUpTime / flowStartSysUpTime (v9 LAST_SWITCHED / FIRST_SWITCHED)
  [
    21,
    (b, o, l, _r, s) => {
      s.endUptime = readUintNumber(b, o, l);
    },
  ],
  [
    22,
    (b, o, l, _r, s) => {
      s.startUptime = readUintNumber(b, o, l);
    },
  ],
  [
    158,
    (b, o, l, _r, s) => {
      s.startDeltaUs = readUintNumber(b, o, l);
    },
  ],
  [
    159,
    (b, o, l, _r, s) => {
      s.endDeltaUs = readUintNumber(b, o, l);
    },
  ],
  [
    160,
    (b, o, l, _r, s) => {
      s.systemInitMs = readUintNumber(b, o, l);
    },
  ],
  [
    161,
    (b, o, l, _r, s) => {
      s.durationMs = readUintNumber(b, o, l);
    },
  ],
  [
    162,
    (b, o, l, _r, s) => {
      s.durationMs = readUintNumber(b, o, l) / 1000;
    },
  ],
]);

/** Sampling inputs: kept in the scratch for the rate and also reported under `fields`. */
const samplingScratch: ReadonlyMap<number, (s: RecordScratch, v: number) => void> = new Map<
  number,
  (s: RecordScratch, v: number) => void
>([
  [
    34,
    (s, v) => {
      s.samplingInterval = v;
    },
  ], // samplingInterval
  [
    50,
    (s, v) => {
      s.samplingInterval = v;
    },
  ], // samplerRandomInterval
  [
    305,
    (s, v) => {
      s.samplingInterval = v;
    },
  ], // samplingPacketInterval
  [
    306,
    (s, v) => {
      s.samplingSpace = v;
    },
  ], // samplingPacketSpace
  [
    309,
    (s, v) => {
      s.samplingSize = v;
    },
  ], // samplingSize
  [
    310,
    (s, v) => {
      s.samplingPopulation = v;
    },
  ], // samplingPopulation
  [
    48,
    (s, v) => {
      s.samplerId = v;
    },
  ], // samplerId (v9 FLOW_SAMPLER_ID)
  [
    302,
    (s, v) => {
      s.samplerId = v;
    },
  ], // selectorId
]);

function isIntegerType(t: AbstractType): boolean {
  return t.startsWith('unsigned');
}

/** Reads one element's value; integer types at common lengths skip the type switch. */
function valueReader(type: AbstractType, len: number): (b: Uint8Array, o: number, l: number) => FieldValue {
  if (type.startsWith('unsigned')) {
    if (len === 1) return (b, o) => b[o]!;
    if (len === 2) return readU16;
    if (len === 4) return readU32;
  }
  return (b, o, l) => readValue(b, o, l, type);
}

/** A reader that stores the element in the record's `extras` at slot `k` (see FlowRecord.fields). */
function genericReader(k: number, type: AbstractType, len: number): FieldReader {
  const read = valueReader(type, len);
  return (b, o, l, r) => {
    r.extras![k] = read(b, o, l);
  };
}

const TIME_ELEMENTS = new Set([150, 151, 152, 153, 154, 155, 156, 157]);

/**
 * Picks the reader for one field. `present` holds the IANA ids in the template, so that fallback
 * elements (octetTotalCount for bytes, ...) are used only when the preferred one is missing.
 */
function readerFor(
  f: FieldSpec,
  alias: ReadonlyMap<number, number>,
  dualStack: ReadonlySet<number>,
  registry: ElementRegistry,
  extra: (name: string) => number,
): Compiled {
  const element = registry.lookup(f.pen, f.id);
  const name = registry.nameOf(f.pen, f.id);
  const type: AbstractType = element?.type ?? 'octetArray';
  const len = f.length;
  const fixed = len !== VARIABLE_LENGTH;
  // A zero-length field carries nothing (seen in the wild for flowStartSeconds); read nothing.
  if (len === 0) return { reader: () => {}, scratch: false };
  if (f.pen !== 0 || !fixed) return { reader: genericReader(extra(name), type, len), scratch: false };

  const id = alias.get(f.id) ?? (SOURCE_MEMBERS.has(f.id) ? -1 : f.id);
  if ((id === 1 || id === 2) && len >= 1 && len <= 8) {
    return {
      reader: counterReader(id === 1 ? 'bytes' : 'packets', len),
      scratch: false,
      op: id === 1 ? Op.BYTES : Op.PACKETS,
    };
  }
  const numericKey = NUMERIC.get(id);
  if (numericKey !== undefined && len >= 1 && len <= 8) {
    return {
      reader: numberReader(numericKey, len),
      scratch: false,
      op: len <= 4 ? NUMERIC_OPS[numericKey] : Op.CALL,
    };
  }
  if (dualStack.has(id) && (len === 4 || len === 16)) {
    return {
      reader: dualStackReader(
        id === 8 || id === 27 ? 'srcAddr' : id === 12 || id === 28 ? 'dstAddr' : 'nextHop',
        len,
      ),
      scratch: false,
    };
  }
  if ((id === 8 || id === 12 || id === 15) && len === 4) {
    return {
      reader: addressReader(id === 8 ? 'srcAddr' : id === 12 ? 'dstAddr' : 'nextHop', 4),
      scratch: false,
      op: id === 8 ? Op.SRC_ADDR4 : id === 12 ? Op.DST_ADDR4 : Op.NEXT_HOP4,
    };
  }
  if ((id === 27 || id === 28 || id === 62) && len === 16) {
    return {
      reader: addressReader(id === 27 ? 'srcAddr' : id === 28 ? 'dstAddr' : 'nextHop', 16),
      scratch: false,
    };
  }
  if (id === 56 && len === 6)
    return {
      reader: (b, o, _l, r) => {
        r.srcMac = formatMac(b, o);
      },
      scratch: false,
    };
  if (id === 80 && len === 6)
    return {
      reader: (b, o, _l, r) => {
        r.dstMac = formatMac(b, o);
      },
      scratch: false,
    };
  if (TIME_ELEMENTS.has(id)) {
    const isStart = id % 2 === 0;
    const k = extra(name);
    return {
      op: (id === 152 || id === 153) && len === 8 ? (isStart ? Op.START_MS : Op.END_MS) : Op.CALL,
      reader: (b, o, l, r) => {
        const ms = readDateTimeMs(b, o, l, type);
        if (ms === undefined) r.extras![k] = readValue(b, o, l, 'octetArray');
        else if (isStart) r.start = ms;
        else r.end = ms;
      },
      scratch: false,
    };
  }
  const scratchReader = scratchReaders.get(id);
  if (scratchReader !== undefined && len >= 1 && len <= 8) {
    const op = len <= 4 && id === 22 ? Op.START_UPTIME : len <= 4 && id === 21 ? Op.END_UPTIME : Op.CALL;
    return { reader: scratchReader, scratch: true, op };
  }
  const sampling = samplingScratch.get(id);
  if (sampling !== undefined && len >= 1 && len <= 8 && isIntegerType(type)) {
    const k = extra(name);
    return {
      reader: (b, o, l, r, s) => {
        const v = readUintNumber(b, o, l);
        sampling(s, v);
        r.extras![k] = v;
      },
      scratch: true,
    };
  }
  if (id === 311 && (len === 4 || len === 8)) {
    // samplingProbability (float64, may be reduced to float32)
    const k = extra(name);
    return {
      reader: (b, o, l, r, s) => {
        const v = readValue(b, o, l, 'float64');
        if (typeof v === 'number') s.samplingProbability = v;
        r.extras![k] = v;
      },
      scratch: true,
    };
  }
  const slot = extra(name);
  const op = isIntegerType(type) && len >= 1 && len <= 4 ? Op.EXTRA_UINT : Op.CALL;
  return { reader: genericReader(slot, type, len), scratch: false, op, slot };
}

interface Compiled {
  reader: FieldReader;
  scratch: boolean;
  op?: number;
  slot?: number;
}

/** Entries per field in CompiledTemplate `plan`: offset, length, op, slot. */
export const PLAN_STRIDE = 4;

/**
 * The most fields a template may have. Real templates have well under a hundred; without a cap one
 * 64 KiB template costs about 5 MB compiled, and an exporter may hold thousands.
 */
export const MAX_TEMPLATE_FIELDS = 512;

/**
 * Compiles a template into readers. Returns undefined for a template no record can be read with
 * (no fields, too many, or a zero-length record), which the caller counts as malformed.
 */
export function compileTemplate(
  spec: TemplateSpec,
  registry: ElementRegistry,
  receivedAt: number,
): CompiledTemplate | undefined {
  if (spec.fields.length === 0 || spec.fields.length > MAX_TEMPLATE_FIELDS) return undefined;
  const present = new Set<number>();
  for (const f of spec.fields) if (f.pen === 0) present.add(f.id);
  const alias = aliases(present);
  // Canonical ids (after aliasing) of addresses the template carries in both families.
  const canonical = new Set([...present].map((id) => alias.get(id) ?? id));
  const dualStack = new Set<number>();
  for (const [v4, v6] of ADDRESS_PAIRS) {
    if (canonical.has(v4) && canonical.has(v6)) {
      dualStack.add(v4);
      dualStack.add(v6);
    }
  }

  const readers: FieldReader[] = [];
  const lengths = new Int32Array(spec.fields.length);
  const plan = new Int32Array(spec.fields.length * PLAN_STRIDE);
  const extraNames: string[] = [];
  const extra = (name: string): number => extraNames.push(name) - 1;
  let fixedLength = 0;
  let variable = false;
  let minRecordLength = 0;
  let needsScratch = false;
  let uptimesOnly = true;
  for (let i = 0; i < spec.fields.length; i++) {
    const f = spec.fields[i]!;
    // A counter or other integer this collector normalises, longer than 8 bytes, has no meaning
    // (RFC 7011 6.2 allows reduced-size encoding, never a longer one): without this check such a
    // template gave records with no `bytes` at all. The template is refused and counted instead.
    if (f.pen === 0 && f.length !== VARIABLE_LENGTH && f.length > 8) {
      const id = alias.get(f.id) ?? f.id;
      if (id === 1 || id === 2 || NUMERIC.has(id)) return undefined;
    }
    plan[i * PLAN_STRIDE] = fixedLength;
    plan[i * PLAN_STRIDE + 1] = f.length;
    lengths[i] = f.length;
    if (f.length === VARIABLE_LENGTH) {
      variable = true;
      minRecordLength += 1;
    } else {
      fixedLength += f.length;
      minRecordLength += f.length;
    }
    const { reader, scratch, op, slot } = readerFor(f, alias, dualStack, registry, extra);
    readers.push(reader);
    plan[i * PLAN_STRIDE + 2] = op ?? Op.CALL;
    plan[i * PLAN_STRIDE + 3] = slot ?? -1;
    needsScratch ||= scratch;
    if (scratch && op !== Op.START_UPTIME && op !== Op.END_UPTIME) uptimesOnly = false;
  }
  if (minRecordLength === 0) return undefined;
  return {
    ...spec,
    readers,
    recordLength: variable ? -1 : fixedLength,
    minRecordLength,
    needsScratch,
    uptimesOnly: needsScratch && uptimesOnly,
    extraNames,
    lengths,
    plan,
    receivedAt,
  };
}

/**
 * Reads the length of a variable-length element at `o` (RFC 7011 section 7): one byte, or 255
 * followed by two bytes. Returns the length and the offset of the value, or -1 when the length
 * bytes do not fit before `end`.
 */
export function readVariableLength(b: Uint8Array, o: number, end: number): { len: number; at: number } | -1 {
  if (o >= end) return -1;
  const first = b[o]!;
  if (first < 255) return { len: first, at: o + 1 };
  if (o + 3 > end) return -1;
  return { len: readUintSmall(b, o + 1, 2), at: o + 3 };
}

/**
 * Resolves the scratch into record times and returns the record's own sampling rate (0 when it
 * states none). v9 uptimes are relative to the header's sysUptime; IPFIX uptimes to
 * systemInitTimeMilliseconds from the record or, failing that, from the domain's options data.
 */
export function resolveScratch(
  rec: FlowRecord,
  s: RecordScratch,
  hdr: ExportHeader,
  domainSystemInitMs: number,
): number {
  if (hdr.sysUptime >= 0) {
    // Signed 32-bit difference: tolerates uptime wrap-around and a first-switched a little ahead
    // of the header's uptime.
    if (s.startUptime >= 0) rec.start = hdr.exportMs - ((hdr.sysUptime - s.startUptime) | 0);
    if (s.endUptime >= 0) rec.end = hdr.exportMs - ((hdr.sysUptime - s.endUptime) | 0);
  } else {
    const init = s.systemInitMs >= 0 ? s.systemInitMs : domainSystemInitMs;
    if (init >= 0) {
      if (s.startUptime >= 0) rec.start = init + s.startUptime;
      if (s.endUptime >= 0) rec.end = init + s.endUptime;
    } else if (s.startUptime >= 0 || s.endUptime >= 0) {
      rawUptimes(rec, s.startUptime, s.endUptime);
    }
  }
  if (s.startDeltaUs >= 0) rec.start = hdr.exportMs - s.startDeltaUs / 1000;
  if (s.endDeltaUs >= 0) rec.end = hdr.exportMs - s.endDeltaUs / 1000;
  if (s.durationMs >= 0) {
    if (rec.start !== undefined && rec.end === undefined) rec.end = rec.start + s.durationMs;
    else if (rec.end !== undefined && rec.start === undefined) rec.start = rec.end - s.durationMs;
  }
  return s.ownRate();
}

/** No system init time known: the raw uptimes are reported rather than absolute times guessed. */
function rawUptimes(rec: FlowRecord, startUptime: number, endUptime: number): void {
  const fields = rec.fields ?? {};
  if (startUptime >= 0) fields['flowStartSysUpTime'] = startUptime;
  if (endUptime >= 0) fields['flowEndSysUpTime'] = endUptime;
  rec.fields = fields;
}

/**
 * `resolveScratch` for a record of an `uptimesOnly` template, given its two uptimes (-1 when
 * absent): every other scratch value is at its reset value, so only the uptimes are resolved and
 * the record states no rate of its own.
 */
export function resolveUptimes(
  rec: FlowRecord,
  startUptime: number,
  endUptime: number,
  hdr: ExportHeader,
  domainSystemInitMs: number,
): void {
  if (hdr.sysUptime >= 0) {
    if (startUptime >= 0) rec.start = hdr.exportMs - ((hdr.sysUptime - startUptime) | 0);
    if (endUptime >= 0) rec.end = hdr.exportMs - ((hdr.sysUptime - endUptime) | 0);
  } else if (domainSystemInitMs >= 0) {
    if (startUptime >= 0) rec.start = domainSystemInitMs + startUptime;
    if (endUptime >= 0) rec.end = domainSystemInitMs + endUptime;
  } else if (startUptime >= 0 || endUptime >= 0) {
    rawUptimes(rec, startUptime, endUptime);
  }
}
