/**
 * Cases found in review of the decoder against the RFCs and real exporters' habits. Each was a
 * bug or an unbounded cost before its fix; the expected values are the ones written into the
 * datagrams.
 */
import { describe, expect, it } from 'vitest';
import { encodeV5, type FieldSpec, ipfixMessage, v9Datagram } from '../../test/support/encoder.js';
import { type DatagramSource, decodeDatagram } from './decode.js';
import type { DecodedRecord, FlowRecord } from './flow.js';
import { ElementRegistry } from './ie/registry.js';
import { recordToJson } from './json.js';
import { FlowState, type StateOptions } from './state.js';
import { MAX_TEMPLATE_FIELDS } from './template.js';

const SOURCE: DatagramSource = { address: '192.0.2.7', port: 4739 };
const NOW = 1_700_000_000_000;

function setup(options: Partial<StateOptions> = {}) {
  const state = new FlowState(new ElementRegistry(), options);
  const decode = (b: Uint8Array, source = SOURCE, now = NOW): FlowRecord[] => {
    const out: DecodedRecord[] = [];
    decodeDatagram(state, b, source, now, out);
    return out.filter((r): r is FlowRecord => r.kind === 'flow');
  };
  return { state, decode };
}

function ipfix(fields: FieldSpec[], records: (number | bigint | string)[][], id = 256): Uint8Array {
  return ipfixMessage({
    exportTime: NOW / 1000,
    sets: [
      { kind: 'template', templates: [{ id, fields }] },
      { kind: 'data', id, fields, records },
    ],
  });
}

describe('review findings', () => {
  it('templates with both address families: the zeroed family does not overwrite the used one', () => {
    const { decode } = setup();
    const v4first: FieldSpec[] = [
      { id: 8, length: 4 },
      { id: 12, length: 4 },
      { id: 27, length: 16 },
      { id: 28, length: 16 },
    ];
    const [a, b] = decode(
      ipfix(v4first, [
        ['10.0.0.1', '10.0.0.2', '::', '::'],
        ['0.0.0.0', '0.0.0.0', '2001:db8::1', '2001:db8::2'],
      ]),
    );
    expect([a!.srcAddr, a!.dstAddr, a!.srcAddr4]).toEqual(['10.0.0.1', '10.0.0.2', 0x0a000001]);
    expect([b!.srcAddr, b!.dstAddr, b!.srcAddr4]).toEqual(['2001:db8::1', '2001:db8::2', -1]);
    const v6first: FieldSpec[] = [v4first[2]!, v4first[3]!, v4first[0]!, v4first[1]!];
    const [c] = decode(ipfix(v6first, [['2001:db8::9', '2001:db8::8', '0.0.0.0', '0.0.0.0']], 257));
    expect([c!.srcAddr, c!.srcAddr4]).toEqual(['2001:db8::9', -1]);
  });

  it('counters from total, post-NAT and Cisco NSEL initiator elements feed bytes and packets', () => {
    const { decode } = setup();
    const nsel: FieldSpec[] = [
      { id: 231, length: 8 }, // initiatorOctets
      { id: 232, length: 8 }, // responderOctets
      { id: 298, length: 8 }, // initiatorPackets
      { id: 299, length: 8 }, // responderPackets
    ];
    const [n] = decode(ipfix(nsel, [[5000n, 90000n, 10n, 70n]]));
    expect([n!.bytes, n!.packets]).toEqual([5000, 10]);
    expect(n!.fields).toEqual({ responderOctets: 90000, responderPackets: 70 });
    // The delta count wins over the total count when both are there.
    const both: FieldSpec[] = [
      { id: 85, length: 8 },
      { id: 1, length: 4 },
    ];
    const [d] = decode(ipfix(both, [[123456n, 42]], 258));
    expect(d!.bytes).toBe(42);
    expect(d!.fields).toEqual({ octetTotalCount: 123456 });
    const post: FieldSpec[] = [
      { id: 23, length: 4 },
      { id: 24, length: 4 },
    ];
    const [p] = decode(ipfix(post, [[700, 7]], 259));
    expect([p!.bytes, p!.packets]).toEqual([700, 7]);
  });

  it('a datagram delayed past the reorder window is neither a restart nor a loss', () => {
    const { decode, state } = setup();
    const send = (sequence: number) =>
      decode(v9Datagram({ sysUptime: 1000 + sequence, unixSecs: NOW / 1000, sequence, flowsets: [] }));
    for (let s = 0; s < 400; s++) if (s !== 120) send(s);
    send(120); // 280 packets late: far beyond the v9 window of 64
    const e = state.exporters.get(SOURCE.address)!;
    const tracker = [...e.domains.values()][0]!.sequence;
    expect(tracker.restarts).toBe(0);
    expect(e.sequenceGaps).toBe(1); // 120 was already counted lost when the sequence moved on
    send(400);
    expect(e.sequenceGaps).toBe(1);
  });

  it('a restart is recognised when the sequence continues from its new position, or the uptime goes back', () => {
    const { decode, state } = setup();
    const send = (sequence: number) => decode(ipfixMessage({ exportTime: NOW / 1000, sequence, sets: [] }));
    for (let s = 0; s < 50; s++) send(1_000_000 + s);
    send(0);
    send(0); // an IPFIX message with no data records advances by 0: continuing from 0
    const tracker = [...state.exporters.get(SOURCE.address)!.domains.values()][0]!.sequence;
    expect(tracker.restarts).toBe(1);

    const v5 = setup();
    v5.decode(encodeV5({ sysUptime: 5_000_000, flowSequence: 900, records: [{}] }));
    v5.decode(encodeV5({ sysUptime: 10_000, flowSequence: 0, records: [{}] })); // rebooted
    v5.decode(encodeV5({ sysUptime: 11_000, flowSequence: 1, records: [{}] }));
    const e5 = v5.state.exporters.get(SOURCE.address)!;
    expect([...e5.domains.values()][0]!.sequence.restarts).toBe(1);
    expect(e5.sequenceGaps).toBe(0);
  });

  it('templates with more fields than any real one are refused, counted', () => {
    const { decode, state } = setup();
    const fields: FieldSpec[] = Array.from({ length: MAX_TEMPLATE_FIELDS + 1 }, () => ({
      id: 210,
      length: 1,
    }));
    decode(
      ipfixMessage({
        exportTime: NOW / 1000,
        sets: [{ kind: 'template', templates: [{ id: 256, fields }] }],
      }),
    );
    const e = state.exporters.get(SOURCE.address)!;
    expect(e.templateCount).toBe(0);
    expect(e.counters.errorsByReason.get('bad_template')).toBe(1);
  });

  it('state stays bounded: domains per exporter, one counter entry for junk versions, idle exporters forgotten', () => {
    const { decode, state } = setup({ maxDomainsPerExporter: 4, maxExporters: 2, exporterIdleMs: 60_000 });
    for (let port = 1; port <= 10; port++)
      decode(ipfixMessage({ exportTime: 1, sets: [] }), { address: SOURCE.address, port });
    const e = state.exporters.get(SOURCE.address)!;
    expect(e.domains.size).toBe(4);
    expect(e.counters.errorsByReason.get('domain_limit')).toBe(6);
    for (let v = 11; v < 500; v++) decode(Uint8Array.of(v >> 8, v & 255, 0, 0));
    expect([...e.counters.byVersion.keys()].sort()).toEqual([0, 10]);
    // Junk from a second source fills the table; a real exporter is not locked out: the oldest
    // source that never sent a flow record makes room for it at once.
    decode(Uint8Array.of(0, 99), { address: '198.51.100.66', port: 1 });
    expect(decode(encodeV5({ records: [{ bytes: 1 }] }), { address: '203.0.113.5', port: 1 })).toHaveLength(
      1,
    );
    expect([...state.exporters.keys()].sort()).toEqual(['198.51.100.66', '203.0.113.5']);
    expect(state.exportersEvicted).toBe(1);
    // Exporters silent for longer than exporterIdleMs are forgotten.
    state.sweep(NOW + 120_000);
    expect(state.exporters.size).toBe(0);
  });

  it('JSON leaves out an empty fields object', () => {
    const { decode } = setup();
    const fields: FieldSpec[] = [
      { id: 152, length: 8 },
      { id: 153, length: 8 },
      { id: 1, length: 4 },
    ];
    const [r] = decode(ipfix(fields, [[BigInt(NOW - 1000), BigInt(NOW), 5]]));
    expect(recordToJson(r!)).not.toContain('"fields"');
  });
});
