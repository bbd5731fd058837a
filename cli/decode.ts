/**
 * `flowcast decode FILE...`: decodes pcap/pcapng captures (their UDP payloads, in order) or raw
 * datagram files, with one template cache across all files, and prints records as JSON lines.
 * Malformed datagrams are reported on stderr and the exit code stays 0; a file that cannot be read,
 * or that is neither a capture nor a NetFlow/IPFIX datagram, is an error (`unusable` files).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { decodeDatagram } from '../collector/decode/decode.js';
import type { DecodedRecord } from '../collector/decode/flow.js';
import { ElementRegistry } from '../collector/decode/ie/registry.js';
import type { EnterpriseElement } from '../collector/decode/ie/types.js';
import { recordToJson } from '../collector/decode/json.js';
import { releasePending } from '../collector/decode/sets.js';
import { FlowState } from '../collector/decode/state.js';
import { readUdpDatagrams } from '../common/pcap.js';

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]);

function isCapture(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
  return PCAP_MAGICS.has(magic);
}

export interface DecodeSummary {
  datagrams: number;
  records: number;
  errors: number;
  /** Files that could not be read or hold neither a capture nor a datagram. */
  unusable: number;
}

const VERSIONS = new Set([1, 5, 7, 9, 10]);

/** Whether a file that is not a capture can be one raw NetFlow/IPFIX datagram. */
function plausibleDatagram(bytes: Uint8Array): boolean {
  if (bytes.length < 4 || bytes.length > 65_535) return false;
  return VERSIONS.has((bytes[0]! << 8) | bytes[1]!);
}

/** Decodes files in order, writing JSON lines with `write` and problems with `warn`. */
export function decodeFiles(
  files: readonly string[],
  opts: { exporter: string; enterprise: readonly EnterpriseElement[] },
  write: (line: string) => void,
  warn: (line: string) => void,
): DecodeSummary {
  const state = new FlowState(new ElementRegistry(opts.enterprise), {
    templateLifetimeMs: Number.POSITIVE_INFINITY,
  });
  const out: DecodedRecord[] = [];
  const summary: DecodeSummary = { datagrams: 0, records: 0, errors: 0, unusable: 0 };
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      warn(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      summary.unusable++;
      continue;
    }
    const capture = isCapture(bytes);
    if (!capture && ['.pcap', '.pcapng', '.cap'].includes(extname(file).toLowerCase())) {
      warn(`${file}: not a pcap or pcapng capture (no capture header)`);
      summary.unusable++;
      continue;
    }
    if (!capture && !plausibleDatagram(bytes)) {
      warn(`${file}: neither a pcap/pcapng capture nor a NetFlow v1/v5/v7/v9 or IPFIX datagram`);
      summary.unusable++;
      continue;
    }
    const datagrams = capture
      ? readUdpDatagrams(bytes)
      : {
          datagrams: [{ payload: bytes, srcAddr: opts.exporter, srcPort: 0, timestamp: Date.now() }],
          errors: [],
        };
    for (const e of datagrams.errors) warn(`${file}: ${e}`);
    datagrams.datagrams.forEach((d, i) => {
      const exporter = state.exporter(d.srcAddr);
      const before = exporter?.counters.decodeErrors ?? 0;
      out.length = 0;
      const outcome = decodeDatagram(
        state,
        d.payload,
        { address: d.srcAddr, port: d.srcPort },
        d.timestamp,
        out,
      );
      // Data a template unlocked beyond what its datagram releases (no event loop to spare here).
      while (state.releasable.size > 0) releasePending(state, d.timestamp, out, 65_536);
      summary.datagrams++;
      summary.records += out.length;
      for (const r of out) write(recordToJson(r));
      const c = outcome.exporter?.counters;
      if (c !== undefined && c.decodeErrors > before) {
        summary.errors++;
        const reasons = [...c.errorsByReason.keys()].join(', ');
        warn(`${file}: datagram ${i + 1} from ${d.srcAddr}: malformed (${reasons}); decoded what was intact`);
      }
    });
  }
  for (const e of state.exporters.values()) {
    if (e.counters.pendingBuffered > e.counters.pendingDecoded) {
      warn(
        `${e.address}: ${e.counters.pendingBuffered - e.counters.pendingDecoded} data set(s) never matched a template`,
      );
    }
  }
  return summary;
}
