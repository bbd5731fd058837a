/**
 * The decoded flow record: what every decoder produces and every later stage consumes.
 *
 * The shape is fixed (a class with every normalised key initialised) so that the hot path sees one
 * hidden class; keys the exporter did not send stay `undefined` and are left out of the JSON form
 * (design section 3).
 */

/** A 64-bit counter: a plain number while it is a safe integer, a bigint above 2^53. */
export type Counter = number | bigint;

/** The value of an information element that has no normalised key. */
export type FieldValue = number | bigint | string | boolean | null;

export class FlowRecord {
  readonly kind = 'flow' as const;
  exporter: string;
  version: number;
  observationDomainId: number;
  templateId: number | undefined = undefined;
  /** Flow start, milliseconds since the Unix epoch (may carry a fraction from micro/nano times). */
  start: number | undefined = undefined;
  /** Flow end, milliseconds since the Unix epoch. */
  end: number | undefined = undefined;
  srcAddr: string | undefined = undefined;
  dstAddr: string | undefined = undefined;
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
  nextHop: string | undefined = undefined;
  /** 0 ingress, 1 egress (IANA flowDirection). */
  direction: number | undefined = undefined;
  vlan: number | undefined = undefined;
  srcMac: string | undefined = undefined;
  dstMac: string | undefined = undefined;
  /** Elements with no normalised key, by IANA name (`enterprise:<PEN>:<id>` when unknown). */
  fields: Record<string, FieldValue> | undefined = undefined;

  constructor(exporter: string, version: number, observationDomainId: number) {
    this.exporter = exporter;
    this.version = version;
    this.observationDomainId = observationDomainId;
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
