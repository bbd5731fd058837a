/**
 * The decoder entry point: one datagram in, records out. Pure and synchronous: the only state is
 * the FlowState passed in. The version field decides the decoder, whatever port the datagram came
 * to. Never throws on any input; every refusal is counted on the exporter by reason.
 */
import type { DecodedRecord } from './flow.js';
import { decodeIpfix } from './ipfix/decode.js';
import { decodeV5 } from './netflow5/decode.js';
import { decodeV9 } from './netflow9/decode.js';
import { readU16 } from './read.js';
import type { ExporterState, FlowState } from './state.js';

const SUPPORTED_VERSIONS: ReadonlySet<number> = new Set([1, 5, 7, 9, 10]);

/** The key a datagram's version is counted under: unsupported values share 0, so junk adds no series. */
export function versionKey(version: number): number {
  return SUPPORTED_VERSIONS.has(version) ? version : 0;
}

export interface DatagramSource {
  /** Exporter address as text (IPv4 dotted, IPv6 RFC 5952). */
  readonly address: string;
  readonly port: number;
}

export interface DecodeOutcome {
  /** The version field, 0 when the datagram is too short to hold one. */
  readonly version: number;
  /** Records appended to `out`: this datagram's, and buffered data its templates unlocked. */
  readonly records: number;
  /** The exporter's state; undefined when the exporter table is full. */
  readonly exporter: ExporterState | undefined;
}

/** A datagram's version field; 0 when it is too short to have one (for counting drops by version). */
export function datagramVersion(b: Uint8Array): number {
  return b.length >= 2 ? readU16(b, 0) : 0;
}

/**
 * Decodes one datagram, appending records to `out`. `now` is the receive time in Unix
 * milliseconds (template lifetimes and buffered data age by it).
 */
export function decodeDatagram(
  state: FlowState,
  b: Uint8Array,
  source: DatagramSource,
  now: number,
  out: DecodedRecord[],
): DecodeOutcome {
  const e = state.exporter(source.address);
  if (e === undefined) return { version: 0, records: 0, exporter: undefined };
  e.lastSeen = now;
  e.counters.packets++;
  if (e.pending.length > 0) state.expirePending(e, now);
  if (b.length < 2) {
    e.counters.error('short_header');
    const v = e.counters.version(0);
    v.packets++;
    v.decodeErrors++;
    return { version: 0, records: 0, exporter: e };
  }
  const version = readU16(b, 0);
  const before = out.length;
  const c = e.counters;
  const errorsBefore = c.decodeErrors;
  const missingBefore = c.missingTemplates;
  try {
    switch (version) {
      case 1:
      case 5:
      case 7:
        decodeV5(state, e, version, b, out);
        break;
      case 9:
        decodeV9(state, e, b, now, out);
        break;
      case 10:
        decodeIpfix(state, e, source.port, b, now, out);
        break;
      default:
        e.counters.error('unsupported_version');
        break;
    }
  } catch (err) {
    // Unreachable by design (every length is checked); kept so that a decoder bug costs one
    // datagram, counted, never the process.
    e.counters.error('internal');
    void err;
  }
  const records = out.length - before;
  const options = countOptions(out, before);
  c.records += records - options;
  c.optionsRecords += options;
  if (records > options) state.proven(e);
  const v = c.version(versionKey(version));
  v.packets++;
  v.records += records - options;
  v.decodeErrors += c.decodeErrors - errorsBefore;
  v.missingTemplates += c.missingTemplates - missingBefore;
  return { version, records, exporter: e };
}

function countOptions(out: DecodedRecord[], from: number): number {
  let n = 0;
  for (let i = from; i < out.length; i++) if (out[i]!.kind === 'options') n++;
  return n;
}
