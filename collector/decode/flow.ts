/**
 * The decoded flow record: what every decoder produces and every later stage consumes.
 *
 * The shape is fixed (a class with every normalised key initialised, or an accessor for the rare
 * ones) so that the hot path sees one hidden class; keys the exporter did not send stay `undefined`
 * and are left out of the JSON form (docs/schema.md).
 */
import { formatIPv4Number, formatIPv6Words } from './addr.js';

/** A 64-bit counter: a plain number while it is a safe integer, a bigint above 2^53. */
export type Counter = number | bigint;

/** The value of an information element that has no normalised key. */
export type FieldValue = number | bigint | string | boolean | null;

/**
 * What a record rarely carries (MAC addresses, text set in place of an address) or makes only
 * when read (address text, `fields` by name): kept off FlowRecord's own fields, made on first use.
 */
class RareValues {
  srcText: string | undefined = undefined;
  dstText: string | undefined = undefined;
  nextHopText: string | undefined = undefined;
  srcMac: string | undefined = undefined;
  dstMac: string | undefined = undefined;
  fields: Record<string, FieldValue> | undefined = undefined;
}

/**
 * Every record is allocated and initialised field by field, so its size is a cost of the decode
 * loop: eight more fields (64 bytes on 360) cut decode throughput by about 8 %. Hence `kind` lives
 * on the prototype and the rarely used values in `RareValues`: 312 bytes a record instead of 360,
 * and bench/pipeline.bench.ts `decode` went from a median of 3.15 M to 3.31 M records per CPU
 * second (x1.05, x0.97 to x1.18 over 5 interleaved pairs at load 3.0-4.0), `worker` from 1.36 M
 * to 1.40 M (x1.05, x0.94 to x1.09 over 4 pairs at load 4.2-4.9).
 */
export class FlowRecord {
  get kind(): 'flow' {
    return 'flow';
  }
  exporter: string;
  version: number;
  observationDomainId: number;
  templateId: number | undefined = undefined;
  /** Flow start, milliseconds since the Unix epoch (may carry a fraction from micro/nano times). */
  start: number | undefined = undefined;
  /** Flow end, milliseconds since the Unix epoch. */
  end: number | undefined = undefined;
  /**
   * IPv4 addresses as unsigned 32-bit integers (-1 when absent or IPv6), turned into text only
   * when `srcAddr`/`dstAddr`/`nextHop` are read: formatting every address while decoding cost a
   * third of decode throughput (bench/decode.bench.ts), and rollups key on the integer.
   */
  srcAddr4 = -1;
  dstAddr4 = -1;
  nextHop4 = -1;
  /**
   * IPv6 source and destination as four 32-bit words each, most significant first (signed, so they
   * stay small integers), when `srcIPv6`/`dstIPv6` is set; turned into text only when
   * `srcAddr`/`dstAddr` is read, and rollups key on the words. Formatting them per record (RFC 5952
   * text, then hashing it for top talkers) was a fifth of decode + rollup time on softflowd's
   * stream, a quarter of whose flows are IPv6 (bench/pipeline.bench.ts; the figures are in
   * collector/decode/template.ts `addressReader`).
   */
  srcIPv6 = false;
  src6a = 0;
  src6b = 0;
  src6c = 0;
  src6d = 0;
  dstIPv6 = false;
  dst6a = 0;
  dst6b = 0;
  dst6c = 0;
  dst6d = 0;
  srcPort: number | undefined = undefined;
  dstPort: number | undefined = undefined;
  protocol: number | undefined = undefined;
  tcpFlags: number | undefined = undefined;
  tos: number | undefined = undefined;
  /** Bytes as exported, not upscaled by the sampling rate. */
  bytes: Counter | undefined = undefined;
  /** Packets as exported, not upscaled by the sampling rate. */
  packets: Counter | undefined = undefined;
  /** 1 when unsampled. */
  samplingRate = 1;
  inIf: number | undefined = undefined;
  outIf: number | undefined = undefined;
  srcAs: number | undefined = undefined;
  dstAs: number | undefined = undefined;
  /** 0 ingress, 1 egress (IANA flowDirection). */
  direction: number | undefined = undefined;
  vlan: number | undefined = undefined;
  /**
   * Values of elements with no normalised key, in template order, named by `extraNames`. The
   * decoder fills this array rather than an object keyed by name: building `fields` per record
   * cost a fifth of decode throughput (bench/decode.bench.ts), and most consumers never read it.
   */
  extras: FieldValue[] | undefined = undefined;
  extraNames: readonly string[] | undefined = undefined;
  private rare: RareValues | undefined = undefined;

  constructor(exporter: string, version: number, observationDomainId: number) {
    this.exporter = exporter;
    this.version = version;
    this.observationDomainId = observationDomainId;
  }

  /** The record's RareValues, made on first use. */
  private rareValues(): RareValues {
    if (this.rare === undefined) this.rare = new RareValues();
    return this.rare;
  }

  // IPv6 words win over srcAddr4 in the text, as the text set for an IPv6 address did before the
  // words existed (a template with both families, both non-zero: see dualStackReader).
  get srcAddr(): string | undefined {
    let text = this.rare?.srcText;
    if (text !== undefined) return text;
    if (this.srcIPv6) text = formatIPv6Words(this.src6a, this.src6b, this.src6c, this.src6d);
    else if (this.srcAddr4 >= 0) text = formatIPv4Number(this.srcAddr4);
    if (text !== undefined) this.rareValues().srcText = text;
    return text;
  }
  set srcAddr(text: string | undefined) {
    if (text !== undefined || this.rare !== undefined) this.rareValues().srcText = text;
    this.srcAddr4 = -1;
    this.srcIPv6 = false;
  }

  get dstAddr(): string | undefined {
    let text = this.rare?.dstText;
    if (text !== undefined) return text;
    if (this.dstIPv6) text = formatIPv6Words(this.dst6a, this.dst6b, this.dst6c, this.dst6d);
    else if (this.dstAddr4 >= 0) text = formatIPv4Number(this.dstAddr4);
    if (text !== undefined) this.rareValues().dstText = text;
    return text;
  }
  set dstAddr(text: string | undefined) {
    if (text !== undefined || this.rare !== undefined) this.rareValues().dstText = text;
    this.dstAddr4 = -1;
    this.dstIPv6 = false;
  }

  /** Sets the source to an IPv6 address given as four words (see `srcIPv6`), as the setter would its text. */
  setSrcIPv6(a: number, b: number, c: number, d: number): void {
    if (this.rare !== undefined) this.rare.srcText = undefined;
    this.srcAddr4 = -1;
    this.srcIPv6 = true;
    this.src6a = a;
    this.src6b = b;
    this.src6c = c;
    this.src6d = d;
  }

  /** Sets the destination to an IPv6 address given as four words (see `dstIPv6`). */
  setDstIPv6(a: number, b: number, c: number, d: number): void {
    if (this.rare !== undefined) this.rare.dstText = undefined;
    this.dstAddr4 = -1;
    this.dstIPv6 = true;
    this.dst6a = a;
    this.dst6b = b;
    this.dst6c = c;
    this.dst6d = d;
  }

  get nextHop(): string | undefined {
    const text = this.rare?.nextHopText;
    if (text !== undefined || this.nextHop4 < 0) return text;
    const made = formatIPv4Number(this.nextHop4);
    this.rareValues().nextHopText = made;
    return made;
  }
  set nextHop(text: string | undefined) {
    if (text !== undefined || this.rare !== undefined) this.rareValues().nextHopText = text;
    this.nextHop4 = -1;
  }

  get srcMac(): string | undefined {
    return this.rare?.srcMac;
  }
  set srcMac(text: string | undefined) {
    if (text !== undefined || this.rare !== undefined) this.rareValues().srcMac = text;
  }

  get dstMac(): string | undefined {
    return this.rare?.dstMac;
  }
  set dstMac(text: string | undefined) {
    if (text !== undefined || this.rare !== undefined) this.rareValues().dstMac = text;
  }

  /** Elements with no normalised key, by IANA name (`enterprise:<PEN>:<id>` when unknown). */
  get fields(): Record<string, FieldValue> | undefined {
    const extras = this.extras;
    const names = this.extraNames;
    if (extras !== undefined && names !== undefined) {
      const rare = this.rareValues();
      const own: Record<string, FieldValue> = rare.fields ?? {};
      for (let i = 0; i < names.length; i++) {
        const v = extras[i];
        if (v !== undefined) own[names[i]!] = v;
      }
      rare.fields = own;
      this.extras = undefined;
    }
    return this.rare?.fields;
  }

  set fields(value: Record<string, FieldValue> | undefined) {
    this.extras = undefined;
    if (value !== undefined || this.rare !== undefined) this.rareValues().fields = value;
  }
}

/**
 * An options data record (interface names, sampler settings, ...): scope fields and option fields
 * by IANA name.
 */
export interface OptionsRecord {
  readonly kind: 'options';
  exporter: string;
  version: number;
  observationDomainId: number;
  templateId: number;
  scope: Record<string, FieldValue>;
  fields: Record<string, FieldValue>;
}

export type DecodedRecord = FlowRecord | OptionsRecord;
