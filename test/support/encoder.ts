/**
 * Test-side encoder of NetFlow v1/v5/v7, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) datagrams.
 *
 * Decoder tests use it to build the packets that recordings lack: odd templates, enterprise fields,
 * variable-length values, withdrawals, padding, bad counts. It is the ground truth for those tests, so
 * it is deliberately plain: every layout is written field by field, in wire order, next to a comment
 * citing where the layout is defined. Everything returns a fresh `Uint8Array` the test may mutate.
 *
 * Conventions: every numeric field left out is 0 and every address left out is 0.0.0.0; numbers are
 * written big-endian (network byte order) and must fit the field, negative integers as two's
 * complement; a `count` or `length` given explicitly overrides the computed header value, so tests can
 * build inconsistent packets.
 */

// ---------------------------------------------------------------------------------------------------
// Byte helpers
// ---------------------------------------------------------------------------------------------------

/** Joins byte arrays into one new array. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A copy of `datagram` followed by `n` zero bytes, as some devices pad a valid packet. */
export function withTrailingZeros(datagram: Uint8Array, n: number): Uint8Array {
  return concat(datagram, new Uint8Array(n));
}

/**
 * `value` as a `length`-byte big-endian integer. Accepts the unsigned range and, as two's complement,
 * the signed range; numbers must be safe integers (use a bigint above 2^53).
 */
function bigEndian(value: number | bigint, length: number): Uint8Array {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`${value} is not a safe integer; pass a bigint`);
  }
  const bits = BigInt(length * 8);
  let v = BigInt(value);
  if (v >= 1n << bits || v < -(1n << bits) / 2n) {
    throw new RangeError(`${value} does not fit in ${length} byte(s)`);
  }
  if (v < 0n) v += 1n << bits;
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const u8 = (value: number): Uint8Array => bigEndian(value, 1);
const u16 = (value: number): Uint8Array => bigEndian(value, 2);
const u32 = (value: number): Uint8Array => bigEndian(value, 4);

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IPV6 = /^[0-9a-f:]+$/i;

/** Dotted-quad IPv4 text as 4 bytes, or undefined when `text` is not one. */
function ipv4Bytes(text: string): Uint8Array | undefined {
  const octets = IPV4.exec(text)?.slice(1).map(Number);
  if (octets === undefined || octets.some((o) => o > 255)) return undefined;
  return Uint8Array.from(octets);
}

/** IPv6 text (RFC 4291 section 2.2, including `::` and a trailing dotted quad) as 16 bytes, or undefined. */
function ipv6Bytes(text: string): Uint8Array | undefined {
  let hex = text;
  // Section 2.2 form 3: the low 32 bits as a dotted quad; rewrite them as two hex groups.
  const lastColon = text.lastIndexOf(':');
  const quad = ipv4Bytes(text.slice(lastColon + 1));
  if (quad !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = quad;
    hex = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  if (!IPV6.test(hex)) return undefined;
  const halves = hex.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): string[] => (half ? half.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 2 ? zeros < 1 : zeros !== 0) return undefined;
  const all = [...head, ...Array<string>(zeros).fill('0'), ...tail];
  if (all.some((g) => g.length < 1 || g.length > 4)) return undefined;
  return concat(...all.map((g) => u16(Number.parseInt(g, 16))));
}

/** The bytes of an address given as text: IPv4 dotted quad, MAC "aa:bb:cc:dd:ee:ff" or IPv6. */
function addressBytes(text: string): Uint8Array {
  const bytes =
    ipv4Bytes(text) ??
    (MAC.test(text) ? Uint8Array.from(text.split(':'), (h) => Number.parseInt(h, 16)) : ipv6Bytes(text));
  if (bytes === undefined) throw new Error(`not an IPv4, IPv6 or MAC address: ${JSON.stringify(text)}`);
  return bytes;
}

/** An IPv4 address field of the fixed NetFlow v1/v5/v7 layouts. */
function ipv4(text: string | undefined): Uint8Array {
  const bytes = ipv4Bytes(text ?? '0.0.0.0');
  if (bytes === undefined) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------------
// NetFlow v1, v5, v7: fixed layouts
// Cisco, "NetFlow Export Datagram Format" (NetFlow Services Solutions Guide), tables for v1, v5, v7.
// ---------------------------------------------------------------------------------------------------

/** A NetFlow v1 flow record (48 bytes). */
export interface V1Record {
  srcAddr?: string;
  dstAddr?: string;
  nextHop?: string;
  input?: number;
  output?: number;
  packets?: number;
  bytes?: number;
  /** SysUptime at the first packet of the flow, milliseconds. */
  first?: number;
  /** SysUptime at the last packet of the flow, milliseconds. */
  last?: number;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  protocol?: number;
  tos?: number;
}

/** A NetFlow v5 flow record (48 bytes). */
export interface V5Record extends V1Record {
  srcAs?: number;
  dstAs?: number;
  srcMask?: number;
  dstMask?: number;
}

/** A NetFlow v7 flow record (52 bytes): v5 plus the Catalyst validity flags and the bypassed router. */
export interface V7Record extends V5Record {
  /** The 1-byte flags field at offset 36 (where v5 has padding). */
  flags1?: number;
  /** The 2-byte flags field at offset 46 (where v5 has padding). */
  flags2?: number;
  /** `router_sc`: the router bypassed by the switch. */
  routerSc?: string;
}

/** Header fields common to NetFlow v1, v5 and v7. */
export interface V1HeaderInit {
  sysUptime?: number;
  unixSecs?: number;
  unixNsecs?: number;
  /** Overrides the header count (default: number of records). */
  count?: number;
}

/** Input of {@link encodeV1}. */
export interface V1DatagramInit extends V1HeaderInit {
  records: readonly V1Record[];
}

/** Input of {@link encodeV5}. */
export interface V5DatagramInit extends V1HeaderInit {
  flowSequence?: number;
  engineType?: number;
  engineId?: number;
  /** The whole 16-bit field: sampling mode in the top 2 bits, interval in the low 14. */
  samplingInterval?: number;
  records: readonly V5Record[];
}

/** Input of {@link encodeV7}. */
export interface V7DatagramInit extends V1HeaderInit {
  flowSequence?: number;
  records: readonly V7Record[];
}

/** The 16-byte header prefix shared by v1, v5 and v7: version, count, sysUptime, unix_secs, unix_nsecs. */
function fixedHeaderStart(version: number, init: V1HeaderInit, records: number): Uint8Array {
  return concat(
    u16(version),
    u16(init.count ?? records),
    u32(init.sysUptime ?? 0),
    u32(init.unixSecs ?? 0),
    u32(init.unixNsecs ?? 0),
  );
}

/** The first 36 bytes shared by v1, v5 and v7 records: addresses, interfaces, counters, times, ports. */
function fixedRecordStart(r: V1Record): Uint8Array {
  return concat(
    ipv4(r.srcAddr),
    ipv4(r.dstAddr),
    ipv4(r.nextHop),
    u16(r.input ?? 0),
    u16(r.output ?? 0),
    u32(r.packets ?? 0),
    u32(r.bytes ?? 0),
    u32(r.first ?? 0),
    u32(r.last ?? 0),
    u16(r.srcPort ?? 0),
    u16(r.dstPort ?? 0),
  );
}

/** A NetFlow v1 datagram: 16-byte header, 48-byte records. */
export function encodeV1(init: V1DatagramInit): Uint8Array {
  const records = init.records.map((r) =>
    concat(
      fixedRecordStart(r),
      u16(0), // pad1
      u8(r.protocol ?? 0),
      u8(r.tos ?? 0),
      u8(r.tcpFlags ?? 0),
      new Uint8Array(3), // pad2, pad3
      u32(0), // reserved
    ),
  );
  return concat(fixedHeaderStart(1, init, records.length), ...records);
}

/** A NetFlow v5 datagram: 24-byte header, 48-byte records. */
export function encodeV5(init: V5DatagramInit): Uint8Array {
  const header = concat(
    fixedHeaderStart(5, init, init.records.length),
    u32(init.flowSequence ?? 0),
    u8(init.engineType ?? 0),
    u8(init.engineId ?? 0),
    u16(init.samplingInterval ?? 0),
  );
  const records = init.records.map((r) =>
    concat(
      fixedRecordStart(r),
      u8(0), // pad1
      u8(r.tcpFlags ?? 0),
      u8(r.protocol ?? 0),
      u8(r.tos ?? 0),
      u16(r.srcAs ?? 0),
      u16(r.dstAs ?? 0),
      u8(r.srcMask ?? 0),
      u8(r.dstMask ?? 0),
      u16(0), // pad2
    ),
  );
  return concat(header, ...records);
}

/** A NetFlow v7 datagram: 24-byte header (the last 4 bytes reserved), 52-byte records. */
export function encodeV7(init: V7DatagramInit): Uint8Array {
  const header = concat(
    fixedHeaderStart(7, init, init.records.length),
    u32(init.flowSequence ?? 0),
    u32(0), // reserved
  );
  const records = init.records.map((r) =>
    concat(
      fixedRecordStart(r),
      u8(r.flags1 ?? 0),
      u8(r.tcpFlags ?? 0),
      u8(r.protocol ?? 0),
      u8(r.tos ?? 0),
      u16(r.srcAs ?? 0),
      u16(r.dstAs ?? 0),
      u8(r.srcMask ?? 0),
      u8(r.dstMask ?? 0),
      u16(r.flags2 ?? 0),
      ipv4(r.routerSc),
    ),
  );
  return concat(header, ...records);
}

// ---------------------------------------------------------------------------------------------------
// Fields and values, shared by NetFlow v9 and IPFIX
// ---------------------------------------------------------------------------------------------------

/** Field length announcing a variable-length field (RFC 7011 section 7; IPFIX only). */
export const VARIABLE_LENGTH = 65535;

/**
 * A field of a template: information element (or v9 field type) `id`, its length in bytes
 * ({@link VARIABLE_LENGTH} for variable length) and, for IPFIX enterprise-specific elements, the
 * Private Enterprise Number.
 */
export interface FieldSpec {
  id: number;
  length: number;
  enterprise?: number;
}

/**
 * The value of one field of a data record.
 *
 * - number | bigint: a big-endian integer of the field's length (a 64-bit counter may be given a
 *   4-byte field: reduced-size encoding, RFC 7011 section 6.2);
 * - string: in a fixed-length field, an IPv4, IPv6 or MAC ("aa:bb:cc:dd:ee:ff") address whose size
 *   must equal the field's length; in a variable-length field, UTF-8 text;
 * - Uint8Array: the raw bytes (exactly the field's length when fixed);
 * - {@link LongForm}: a variable-length value written with the 3-byte length prefix.
 */
export type FieldValue = number | bigint | string | Uint8Array | LongForm;

/**
 * A variable-length value written as 255 followed by a 16-bit length even when shorter than 255 bytes,
 * which RFC 7011 section 7 allows.
 */
export interface LongForm {
  longForm: string | Uint8Array;
}

const utf8 = (value: string | Uint8Array): Uint8Array =>
  typeof value === 'string' ? new TextEncoder().encode(value) : value;

/** One field of a data record: fixed (RFC 7011 section 6, RFC 3954 section 5.3) or variable (RFC 7011 section 7). */
function encodeValue(spec: FieldSpec, value: FieldValue): Uint8Array {
  if (spec.length === VARIABLE_LENGTH) {
    if (typeof value === 'number' || typeof value === 'bigint') {
      throw new TypeError(`variable-length field ${spec.id} needs a string or bytes, not a number`);
    }
    if (typeof value === 'object' && !(value instanceof Uint8Array)) {
      const bytes = utf8(value.longForm);
      return concat(u8(255), u16(bytes.length), bytes);
    }
    const bytes = utf8(value);
    return bytes.length < 255 ? concat(u8(bytes.length), bytes) : concat(u8(255), u16(bytes.length), bytes);
  }
  if (typeof value === 'number' || typeof value === 'bigint') return bigEndian(value, spec.length);
  if (!(typeof value === 'string' || value instanceof Uint8Array)) {
    throw new TypeError(`field ${spec.id} has fixed length ${spec.length}; long form is for variable length`);
  }
  const bytes = typeof value === 'string' ? addressBytes(value) : value;
  if (bytes.length !== spec.length) {
    throw new RangeError(
      `field ${spec.id} has length ${spec.length} but its value has ${bytes.length} bytes`,
    );
  }
  return Uint8Array.from(bytes);
}

/** A template: its id and its fields in record order. */
export interface Template {
  id: number;
  fields: readonly FieldSpec[];
}

/** An options template: scope fields first, then option fields. */
export interface OptionsTemplate {
  id: number;
  scopeFields: readonly FieldSpec[];
  fields: readonly FieldSpec[];
}

/**
 * Padding at the end of a set or flowset, counted in its length: `'align'` pads to a 4-byte boundary,
 * a number appends exactly that many zero bytes.
 */
export type Padding = 'align' | number;

/** A template set (IPFIX set id 2) or template flowset (v9 flowset id 0). */
export interface TemplateSet {
  kind: 'template';
  templates: readonly Template[];
  padding?: Padding;
}

/** An options template set (IPFIX set id 3) or options template flowset (v9 flowset id 1). */
export interface OptionsTemplateSet {
  kind: 'options';
  templates: readonly OptionsTemplate[];
  padding?: Padding;
}

/** A data set (id >= 256): records encoded with `fields`, normally those of template `id`. */
export interface DataSet {
  kind: 'data';
  id: number;
  fields: readonly FieldSpec[];
  /** One value per field, in field order. */
  records: readonly (readonly FieldValue[])[];
  padding?: Padding;
}

/**
 * An IPFIX template withdrawal (RFC 7011 section 8.1): one record per template id with field count 0,
 * in set 2 (templates, the default) or 3 (options templates). Template id 2 in set 2, or 3 in set 3,
 * withdraws all templates of that kind.
 */
export interface WithdrawalSet {
  kind: 'withdrawal';
  setId?: 2 | 3;
  templateIds: readonly number[];
  padding?: Padding;
}

/** A set with an arbitrary id and body, e.g. a reserved set id or a truncated record. */
export interface RawSet {
  kind: 'raw';
  id: number;
  body: Uint8Array;
  padding?: Padding;
}

/** A NetFlow v9 flowset. */
export type FlowSet = TemplateSet | OptionsTemplateSet | DataSet | RawSet;

/** An IPFIX set. */
export type IpfixSet = TemplateSet | OptionsTemplateSet | DataSet | WithdrawalSet | RawSet;

/**
 * Set or flowset header (id, length) + body + padding. RFC 7011 section 3.3.2 and RFC 3954 sections
 * 5.2-5.3 define the same 4-byte header; the length covers header, body and padding (RFC 7011
 * section 3.3.1, RFC 3954 section 5.3).
 */
function frame(id: number, body: Uint8Array, padding: Padding): Uint8Array {
  const padBytes = padding === 'align' ? (4 - ((4 + body.length) % 4)) % 4 : padding;
  return concat(u16(id), u16(4 + body.length + padBytes), body, new Uint8Array(padBytes));
}

/** The data records of a data set, one after the other (RFC 7011 section 3.4.3, RFC 3954 section 5.3). */
function dataRecords(set: DataSet): Uint8Array {
  return concat(
    ...set.records.map((record) => {
      if (record.length !== set.fields.length) {
        throw new Error(
          `data set ${set.id}: record has ${record.length} values for ${set.fields.length} fields`,
        );
      }
      return concat(...set.fields.map((spec, i) => encodeValue(spec, record[i]!)));
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// NetFlow v9 (RFC 3954)
// ---------------------------------------------------------------------------------------------------

/** Input of {@link v9Datagram}. */
export interface V9DatagramInit {
  sysUptime?: number;
  unixSecs?: number;
  sequence?: number;
  sourceId?: number;
  /** Overrides the header count (default: template, options template and data records in all flowsets). */
  count?: number;
  flowsets: readonly FlowSet[];
}

/** A v9 field specifier (RFC 3954 section 5.2): field type, field length. No enterprise numbers in v9. */
function v9Field(spec: FieldSpec): Uint8Array {
  if (spec.enterprise !== undefined)
    throw new Error(`NetFlow v9 has no enterprise fields (field ${spec.id})`);
  return concat(u16(spec.id), u16(spec.length));
}

/** One v9 flowset and the number of records it adds to the header count. */
function v9FlowSet(set: FlowSet): { bytes: Uint8Array; records: number } {
  const padding = set.padding ?? 'align';
  switch (set.kind) {
    case 'template': {
      // RFC 3954 section 5.2: flowset id 0; per template: template id, field count, fields.
      const body = set.templates.map((t) =>
        concat(u16(t.id), u16(t.fields.length), ...t.fields.map(v9Field)),
      );
      return { bytes: frame(0, concat(...body), padding), records: set.templates.length };
    }
    case 'options': {
      // RFC 3954 section 6.1: flowset id 1; per template: template id, option scope length and
      // option length (in bytes, 4 per field), scope fields, option fields.
      const body = set.templates.map((t) =>
        concat(
          u16(t.id),
          u16(4 * t.scopeFields.length),
          u16(4 * t.fields.length),
          ...t.scopeFields.map(v9Field),
          ...t.fields.map(v9Field),
        ),
      );
      return { bytes: frame(1, concat(...body), padding), records: set.templates.length };
    }
    case 'data': {
      // RFC 3954 section 5.3: flowset id = template id, then the records; variable length is IPFIX only.
      const variable = set.fields.find((f) => f.length === VARIABLE_LENGTH);
      if (variable !== undefined)
        throw new Error(`NetFlow v9 has no variable-length fields (field ${variable.id})`);
      return { bytes: frame(set.id, dataRecords(set), padding), records: set.records.length };
    }
    case 'raw':
      return { bytes: frame(set.id, set.body, padding), records: 0 };
  }
}

/**
 * A NetFlow v9 export packet (RFC 3954 section 5.1): 20-byte header (version 9, count, sysUptime,
 * UNIX secs, sequence number, source id) and the flowsets, each padded to 4 bytes unless its
 * `padding` says otherwise. The count is the total of template, options template and data records.
 */
export function v9Datagram(init: V9DatagramInit): Uint8Array {
  const flowsets = init.flowsets.map(v9FlowSet);
  const records = flowsets.reduce((sum, f) => sum + f.records, 0);
  const header = concat(
    u16(9),
    u16(init.count ?? records),
    u32(init.sysUptime ?? 0),
    u32(init.unixSecs ?? 0),
    u32(init.sequence ?? 0),
    u32(init.sourceId ?? 0),
  );
  return concat(header, ...flowsets.map((f) => f.bytes));
}

// ---------------------------------------------------------------------------------------------------
// IPFIX (RFC 7011)
// ---------------------------------------------------------------------------------------------------

/** Input of {@link ipfixMessage}. */
export interface IpfixMessageInit {
  /** Seconds since the Unix epoch. */
  exportTime?: number;
  sequence?: number;
  observationDomainId?: number;
  /** Overrides the header length (default: the message's total bytes). */
  length?: number;
  sets: readonly IpfixSet[];
}

/**
 * An IPFIX field specifier (RFC 7011 section 3.2): enterprise bit + information element id, field
 * length, then the 4-byte Private Enterprise Number when the enterprise bit is set.
 */
function ipfixField(spec: FieldSpec): Uint8Array {
  if (spec.enterprise === undefined) return concat(u16(spec.id), u16(spec.length));
  return concat(u16(spec.id | 0x8000), u16(spec.length), u32(spec.enterprise));
}

/** One IPFIX set. */
function ipfixSet(set: IpfixSet): Uint8Array {
  const padding = set.padding ?? 0;
  switch (set.kind) {
    case 'template': {
      // RFC 7011 section 3.4.1: set id 2; per template: template id, field count, field specifiers.
      const body = set.templates.map((t) =>
        concat(u16(t.id), u16(t.fields.length), ...t.fields.map(ipfixField)),
      );
      return frame(2, concat(...body), padding);
    }
    case 'options': {
      // RFC 7011 section 3.4.2.2: set id 3; per template: template id, field count (scope + option),
      // scope field count, scope field specifiers, option field specifiers.
      const body = set.templates.map((t) =>
        concat(
          u16(t.id),
          u16(t.scopeFields.length + t.fields.length),
          u16(t.scopeFields.length),
          ...t.scopeFields.map(ipfixField),
          ...t.fields.map(ipfixField),
        ),
      );
      return frame(3, concat(...body), padding);
    }
    case 'withdrawal': {
      // RFC 7011 section 8.1: per withdrawn template: template id, field count 0.
      const body = set.templateIds.map((id) => concat(u16(id), u16(0)));
      return frame(set.setId ?? 2, concat(...body), padding);
    }
    case 'data':
      // RFC 7011 section 3.4.3: set id = template id, then the records.
      return frame(set.id, dataRecords(set), padding);
    case 'raw':
      return frame(set.id, set.body, padding);
  }
}

/**
 * An IPFIX message (RFC 7011 section 3.1): 16-byte header (version 10, length, export time, sequence
 * number, observation domain id) and the sets, unpadded unless a set's `padding` says otherwise.
 */
export function ipfixMessage(init: IpfixMessageInit): Uint8Array {
  const sets = concat(...init.sets.map(ipfixSet));
  const header = concat(
    u16(10),
    u16(init.length ?? 16 + sets.length),
    u32(init.exportTime ?? 0),
    u32(init.sequence ?? 0),
    u32(init.observationDomainId ?? 0),
  );
  return concat(header, sets);
}
