/**
 * NetFlow v1, v5 and v7: fixed header and record layouts (Cisco's NetFlow export datagram
 * formats). Times are uptime-relative and converted with the header's sysUptime and Unix time.
 */
import { type DecodedRecord, FlowRecord } from '../flow.js';
import { readU16, readU32 } from '../read.js';
import type { ExporterState, FlowState } from '../state.js';

interface Layout {
  readonly headerLength: number;
  readonly recordLength: number;
  /** Offsets within a record of the fields whose place differs between versions. */
  readonly tcpFlags: number;
  readonly protocol: number;
  readonly tos: number;
  /** v5/v7 carry AS numbers and prefix lengths at 40..45; v1 does not. */
  readonly hasAs: boolean;
  readonly hasSequence: boolean;
}

const LAYOUTS: Readonly<Record<1 | 5 | 7, Layout>> = {
  1: {
    headerLength: 16,
    recordLength: 48,
    tcpFlags: 40,
    protocol: 38,
    tos: 39,
    hasAs: false,
    hasSequence: false,
  },
  5: {
    headerLength: 24,
    recordLength: 48,
    tcpFlags: 37,
    protocol: 38,
    tos: 39,
    hasAs: true,
    hasSequence: true,
  },
  7: {
    headerLength: 24,
    recordLength: 52,
    tcpFlags: 37,
    protocol: 38,
    tos: 39,
    hasAs: true,
    hasSequence: true,
  },
};

/**
 * Decodes a v1, v5 or v7 datagram; the caller has checked the version and counted the packet.
 * Records that the header counts but the datagram does not hold are counted as `bad_length`.
 */
export function decodeV5(
  state: FlowState,
  e: ExporterState,
  version: 1 | 5 | 7,
  b: Uint8Array,
  out: DecodedRecord[],
): number {
  const layout = LAYOUTS[version];
  if (b.length < layout.headerLength) {
    e.counters.error('short_header');
    return 0;
  }
  const count = readU16(b, 2);
  const sysUptime = readU32(b, 4);
  const exportMs = readU32(b, 8) * 1000 + readU32(b, 12) / 1e6;
  // v5: engine type and id identify the flow-switching engine; v7 has none (reserved bytes).
  const engineType = version === 5 ? b[20]! : 0;
  const engineId = version === 5 ? b[21]! : 0;
  const domainId = (engineType << 8) | engineId;
  const domain = state.domain(e, `${version}/${domainId}`, domainId, version);
  if (domain === undefined) return 0;

  const fits = Math.floor((b.length - layout.headerLength) / layout.recordLength);
  const n = Math.min(count, fits);
  if (n < count) e.counters.error('bad_length');
  if (layout.hasSequence) {
    domain.observeUptime(sysUptime);
    domain.sequence.observe(readU32(b, 16), count);
  }

  // v5: the top two bits of the header's sampling field are the mode, the low fourteen the interval.
  const interval = version === 5 ? readU16(b, 22) & 0x3fff : 0;
  const rate = e.rate(interval > 1 ? interval : undefined);

  for (let i = 0, o = layout.headerLength; i < n; i++, o += layout.recordLength) {
    const rec = new FlowRecord(e.address, version, domainId);
    rec.srcAddr4 = readU32(b, o);
    rec.dstAddr4 = readU32(b, o + 4);
    rec.nextHop4 = readU32(b, o + 8);
    rec.inIf = readU16(b, o + 12);
    rec.outIf = readU16(b, o + 14);
    rec.packets = readU32(b, o + 16);
    rec.bytes = readU32(b, o + 20);
    // Signed 32-bit difference: robust to uptime wrap-around.
    rec.start = exportMs - ((sysUptime - readU32(b, o + 24)) | 0);
    rec.end = exportMs - ((sysUptime - readU32(b, o + 28)) | 0);
    rec.srcPort = readU16(b, o + 32);
    rec.dstPort = readU16(b, o + 34);
    rec.tcpFlags = b[o + layout.tcpFlags]!;
    rec.protocol = b[o + layout.protocol]!;
    rec.tos = b[o + layout.tos]!;
    if (layout.hasAs) {
      rec.srcAs = readU16(b, o + 40);
      rec.dstAs = readU16(b, o + 42);
      rec.fields =
        version === 5
          ? {
              sourceIPv4PrefixLength: b[o + 44]!,
              destinationIPv4PrefixLength: b[o + 45]!,
              engineType,
              engineId,
            }
          : { sourceIPv4PrefixLength: b[o + 44]!, destinationIPv4PrefixLength: b[o + 45]! };
    }
    rec.samplingRate = rate;
    out.push(rec);
  }
  return n;
}
