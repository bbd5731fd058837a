/**
 * Tests for the capture reader: classic pcap and pcapng containers, every supported link type, IPv4
 * and IPv6 corner cases, and bad input (which must be reported, never thrown). Captures are built
 * with the test writer and a small pcapng encoder below; tshark (and editcap, for pcapng written by
 * real tooling) checks that the reader sees the same datagrams as Wireshark does.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CaptureRecord,
  classicPcap,
  ethernetFrame,
  type IpPacketSpec,
  ipPacket,
  udpPcap,
} from '../test/support/pcap-writer.js';
import { requireTool } from '../test/support/tools.js';
import { parseRelativeTime, tsharkAvailable } from '../test/support/tshark.js';
import { readUdpDatagrams, type UdpDatagram } from './pcap.js';

const run = promisify(execFile);
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

function udp(src: string, dst: string, payload: number[], extra: Partial<IpPacketSpec> = {}): Uint8Array {
  return ipPacket({
    src,
    dst,
    transport: { kind: 'udp', srcPort: 40000, dstPort: 2055, payload: Uint8Array.from(payload) },
    ...extra,
  });
}

/** The datagram fields worth comparing, with the payload as a plain array. */
function summary(datagram: UdpDatagram): object {
  const { payload, ...rest } = datagram;
  return { ...rest, payload: [...payload] };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

// ---- a minimal pcapng encoder (test-only) ----

function block(type: number, body: Uint8Array, little: boolean): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const out = new Uint8Array(12 + padded);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, little);
  view.setUint32(4, out.length, little);
  out.set(body, 8);
  view.setUint32(out.length - 4, out.length, little);
  return out;
}

function sectionHeader(little: boolean): Uint8Array {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  view.setUint32(0, 0x1a2b3c4d, little);
  view.setUint16(4, 1, little);
  view.setBigInt64(8, -1n, little);
  return block(0x0a0d0d0a, body, little);
}

interface InterfaceOptions {
  tsresol?: number;
  tsoffset?: bigint;
  snapLength?: number;
}

function interfaceDescription(linkType: number, little: boolean, options: InterfaceOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(8);
  const view = new DataView(header.buffer);
  view.setUint16(0, linkType, little);
  view.setUint32(4, options.snapLength ?? 0, little);
  parts.push(header);
  const option = (code: number, value: Uint8Array): void => {
    const encoded = new Uint8Array(4 + ((value.length + 3) & ~3));
    const optionView = new DataView(encoded.buffer);
    optionView.setUint16(0, code, little);
    optionView.setUint16(2, value.length, little);
    encoded.set(value, 4);
    parts.push(encoded);
  };
  if (options.tsresol !== undefined) option(9, Uint8Array.of(options.tsresol));
  if (options.tsoffset !== undefined) {
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigInt64(0, options.tsoffset, little);
    option(14, value);
  }
  if (parts.length > 1) option(0, new Uint8Array(0));
  return block(1, concat(...parts), little);
}

/** EPB (type 6) or, with `obsolete`, the old Packet Block (type 2); `units` in the interface's resolution. */
function packetBlock(
  iface: number,
  units: bigint,
  data: Uint8Array,
  little: boolean,
  obsolete = false,
): Uint8Array {
  const header = new Uint8Array(20);
  const view = new DataView(header.buffer);
  if (obsolete) view.setUint16(0, iface, little);
  else view.setUint32(0, iface, little);
  view.setUint32(4, Number(units >> 32n), little);
  view.setUint32(8, Number(units & 0xffffffffn), little);
  view.setUint32(12, data.length, little);
  view.setUint32(16, data.length, little);
  return block(obsolete ? 2 : 6, concat(header, data), little);
}

function simplePacket(data: Uint8Array, little: boolean, originalLength = data.length): Uint8Array {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, originalLength, little);
  return block(3, concat(header, data), little);
}

// ---- link-layer framings ----

function nullFrame(ip: Uint8Array, family: number, little: boolean): Uint8Array {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, family, little);
  return concat(header, ip);
}

function sllFrame(ip: Uint8Array): Uint8Array {
  const header = new Uint8Array(16);
  const view = new DataView(header.buffer);
  view.setUint16(0, 0); // to us
  view.setUint16(2, 1); // ARPHRD_ETHER
  view.setUint16(4, 6);
  header.set([2, 0, 0, 0, 0, 1], 6);
  view.setUint16(14, ip[0]! >> 4 === 6 ? 0x86dd : 0x0800);
  return concat(header, ip);
}

function sll2Frame(ip: Uint8Array): Uint8Array {
  const header = new Uint8Array(20);
  const view = new DataView(header.buffer);
  view.setUint16(0, ip[0]! >> 4 === 6 ? 0x86dd : 0x0800);
  view.setUint32(4, 3); // interface index
  view.setUint16(8, 1); // ARPHRD_ETHER
  header[11] = 6;
  header.set([2, 0, 0, 0, 0, 1], 12);
  return concat(header, ip);
}

const V4 = udp('192.0.2.1', '198.51.100.2', [1, 2, 3]);
const V6 = udp('2001:db8::1', '2001:db8:0:0:1::2', [4, 5]);
const V4_SUMMARY = {
  srcAddr: '192.0.2.1',
  srcPort: 40000,
  dstAddr: '198.51.100.2',
  dstPort: 2055,
  payload: [1, 2, 3],
};
const V6_SUMMARY = {
  srcAddr: '2001:db8::1',
  srcPort: 40000,
  dstAddr: '2001:db8::1:0:0:2',
  dstPort: 2055,
  payload: [4, 5],
};

describe('readUdpDatagrams: classic pcap', () => {
  it.each([
    { littleEndian: false, nanosecond: false },
    { littleEndian: true, nanosecond: false },
    { littleEndian: false, nanosecond: true },
    { littleEndian: true, nanosecond: true },
  ])('reads IPv4 and IPv6 datagrams with %o', (options) => {
    const file = classicPcap(
      [
        { timestamp: T0 + 0.125, data: ethernetFrame(V4) },
        { timestamp: T0 + 1000.5, data: ethernetFrame(V6) },
      ],
      options,
    );
    const { datagrams, errors } = readUdpDatagrams(file);
    expect(errors).toEqual([]);
    expect(datagrams.map(summary)).toEqual([
      { timestamp: T0 + 0.125, ...V4_SUMMARY },
      { timestamp: T0 + 1000.5, ...V6_SUMMARY },
    ]);
  });

  it('keeps nanosecond fractions', () => {
    const file = classicPcap([{ timestamp: T0 + 0.000123, data: ethernetFrame(V4) }], { nanosecond: true });
    expect(readUdpDatagrams(file).datagrams[0]?.timestamp).toBeCloseTo(T0 + 0.000123, 6);
  });

  it('returns payloads as views of the file, without copying', () => {
    const file = udpPcap([{ payload: Uint8Array.of(9, 8, 7) }]);
    const [datagram] = readUdpDatagrams(file).datagrams;
    expect(datagram?.payload.buffer).toBe(file.buffer);
    expect([...datagram!.payload]).toEqual([9, 8, 7]);
  });

  it('reads a file that sits at an offset inside a larger buffer', () => {
    const file = udpPcap([{ payload: Uint8Array.of(1) }]);
    const host = new Uint8Array(file.length + 7);
    host.set(file, 5);
    const { datagrams, errors } = readUdpDatagrams(host.subarray(5, 5 + file.length));
    expect(errors).toEqual([]);
    expect(datagrams).toHaveLength(1);
  });

  it.each([
    ['null, IPv4 little-endian', 0, nullFrame(V4, 2, true), V4_SUMMARY],
    ['null, IPv6 as on macOS (30)', 0, nullFrame(V6, 30, true), V6_SUMMARY],
    ['null, IPv6 as on Linux (10), big-endian', 0, nullFrame(V6, 10, false), V6_SUMMARY],
    ['OpenBSD loopback', 108, nullFrame(V4, 2, false), V4_SUMMARY],
    ['raw IP (101)', 101, V6, V6_SUMMARY],
    ['raw IP (12)', 12, V4, V4_SUMMARY],
    ['raw IP (14)', 14, V6, V6_SUMMARY],
    ['IPv4 (228)', 228, V4, V4_SUMMARY],
    ['IPv6 (229)', 229, V6, V6_SUMMARY],
    ['Linux cooked (113)', 113, sllFrame(V4), V4_SUMMARY],
    ['Linux cooked v2 (276)', 276, sll2Frame(V6), V6_SUMMARY],
    ['Ethernet with 802.1Q', 1, ethernetFrame(V4, { vlanIds: [42] }), V4_SUMMARY],
    ['Ethernet with QinQ', 1, ethernetFrame(V6, { vlanIds: [10, 20, 30] }), V6_SUMMARY],
  ] as const)('link type: %s', (_name, linkType, frame, expected) => {
    const { datagrams, errors } = readUdpDatagrams(
      classicPcap([{ timestamp: T0, data: frame }], { linkType }),
    );
    expect(errors).toEqual([]);
    expect(datagrams.map(summary)).toEqual([{ timestamp: T0, ...expected }]);
  });

  it('rejects an unsupported link type as a whole', () => {
    const { datagrams, errors } = readUdpDatagrams(
      classicPcap([{ timestamp: T0, data: V4 }], { linkType: 105 }),
    );
    expect(datagrams).toEqual([]);
    expect(errors).toEqual(['unsupported link type 105']);
  });
});

describe('readUdpDatagrams: network layer', () => {
  function read(...ips: Uint8Array[]): { datagrams: object[]; errors: string[] } {
    const { datagrams, errors } = readUdpDatagrams(
      classicPcap(ips.map((ip, i) => ({ timestamp: T0 + i, data: ethernetFrame(ip) }))),
    );
    return { datagrams: datagrams.map(summary), errors };
  }

  it('cuts Ethernet padding and FCS off at the IP total length', () => {
    const frame = concat(ethernetFrame(udp('10.0.0.1', '10.0.0.2', [7])), new Uint8Array(20).fill(0xee));
    const { datagrams } = readUdpDatagrams(classicPcap([{ timestamp: T0, data: frame }]));
    expect([...datagrams[0]!.payload]).toEqual([7]);
  });

  it('skips IPv4 options', () => {
    const { datagrams } = read(
      udp('10.0.0.1', '10.0.0.2', [1, 2], { ipv4Options: Uint8Array.of(1, 1, 1, 0, 1, 1, 1, 0) }),
    );
    expect(datagrams).toMatchObject([{ srcAddr: '10.0.0.1', payload: [1, 2] }]);
  });

  it('skips non-first IPv4 fragments silently and reports unreassembled first fragments', () => {
    const first = udp('10.0.0.1', '10.0.0.2', [1, 2, 3], { moreFragments: true, id: 5 });
    const later = udp('10.0.0.1', '10.0.0.2', [4, 5, 6], { fragmentOffset: 185, id: 5 });
    const { datagrams, errors } = read(first, later, V4);
    expect(datagrams).toEqual([{ timestamp: T0 + 2, ...V4_SUMMARY }]);
    expect(errors).toEqual([
      'packet 1: first fragment of a fragmented IPv4 datagram; fragments are not reassembled',
    ]);
  });

  it('walks IPv6 hop-by-hop, routing, destination options and an atomic fragment header', () => {
    const ip = udp('2001:db8::1', '2001:db8::2', [9, 9], {
      ipv6ExtensionHeaders: [
        { type: 0, body: new Uint8Array(6) },
        { type: 43, body: Uint8Array.of(0, 0, 0, 0, 0, 0, ...new Uint8Array(16)) },
        { type: 44, body: Uint8Array.of(0, 0, 0, 0, 0, 1) },
        { type: 60, body: new Uint8Array(14) },
      ],
    });
    const { datagrams, errors } = read(ip);
    expect(errors).toEqual([]);
    expect(datagrams).toMatchObject([{ srcAddr: '2001:db8::1', dstAddr: '2001:db8::2', payload: [9, 9] }]);
  });

  it('skips later IPv6 fragments and reports first ones', () => {
    const fragment = (offsetAndFlags: number): Uint8Array =>
      udp('2001:db8::1', '2001:db8::2', [1], {
        ipv6ExtensionHeaders: [
          { type: 44, body: Uint8Array.of(offsetAndFlags >> 8, offsetAndFlags & 0xff, 0, 0, 0, 9) },
        ],
      });
    const { datagrams, errors } = read(fragment(0x0001), fragment(0x0010));
    expect(datagrams).toEqual([]);
    expect(errors).toEqual([
      'packet 1: first fragment of a fragmented IPv6 datagram; fragments are not reassembled',
    ]);
  });

  it('skips TCP, ICMP, ICMPv6 and non-IP frames without a message', () => {
    const tcp = ipPacket({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      transport: { kind: 'tcp', srcPort: 1, dstPort: 2, flags: 2 },
    });
    const icmp = ipPacket({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      transport: { kind: 'icmp', type: 8, code: 0 },
    });
    const icmp6 = ipPacket({ src: '::1', dst: '::2', transport: { kind: 'icmp', type: 128, code: 0 } });
    const arp = ethernetFrame(new Uint8Array(28));
    arp.set([0x08, 0x06], 12);
    const file = classicPcap(
      [tcp, icmp, icmp6]
        .map((ip) => ({ timestamp: T0, data: ethernetFrame(ip) }))
        .concat({ timestamp: T0, data: arp }),
    );
    expect(readUdpDatagrams(file)).toEqual({ datagrams: [], errors: [] });
  });

  it('reports packets cut by the snap length and bad UDP lengths, and goes on', () => {
    const cut = ethernetFrame(udp('10.0.0.1', '10.0.0.2', new Array(100).fill(1))).subarray(0, 60);
    const badLength = udp('10.0.0.1', '10.0.0.2', [1, 2, 3, 4]);
    badLength.set([0, 200], 24);
    const records: CaptureRecord[] = [
      { timestamp: T0, data: cut, originalLength: 142 },
      { timestamp: T0, data: ethernetFrame(badLength) },
      { timestamp: T0, data: ethernetFrame(V4) },
    ];
    const { datagrams, errors } = readUdpDatagrams(classicPcap(records));
    expect(datagrams.map(summary)).toEqual([{ timestamp: T0, ...V4_SUMMARY }]);
    expect(errors).toEqual([
      'packet 1: IPv4 packet truncated: 46 of 128 bytes captured',
      'packet 2: bad UDP length 200 (12 bytes after the IP header)',
    ]);
  });

  it('reports cut-off packets only when they are (or may be) UDP', () => {
    const tcp4 = ipPacket({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      transport: { kind: 'tcp', srcPort: 1, dstPort: 2, flags: 2 },
    });
    const tcp6 = ipPacket({
      src: '::1',
      dst: '::2',
      transport: { kind: 'tcp', srcPort: 1, dstPort: 2, flags: 2 },
    });
    const udp6 = udp('::1', '::2', new Array(40).fill(3), { ipv6ExtensionHeaders: [{ type: 0 }] });
    const records: CaptureRecord[] = [
      { timestamp: T0, data: tcp4.subarray(0, 15) },
      { timestamp: T0, data: tcp6.subarray(0, 30) },
      { timestamp: T0, data: tcp6.subarray(0, 50) },
      { timestamp: T0, data: V4.subarray(0, 15) },
      { timestamp: T0, data: V6.subarray(0, 30) },
      { timestamp: T0, data: udp6.subarray(0, 44) },
      { timestamp: T0, data: udp6.subarray(0, 60) },
    ];
    expect(readUdpDatagrams(classicPcap(records, { linkType: 101 })).errors).toEqual([
      'packet 4: truncated IPv4 header',
      'packet 5: truncated IPv6 header',
      'packet 6: IPv6 packet truncated: 44 of 96 bytes captured',
      'packet 7: IPv6 packet truncated: 60 of 96 bytes captured',
    ]);
  });

  it('lists at most 100 packet errors and counts the rest', () => {
    const cut = ethernetFrame(V4).subarray(0, 30);
    const file = classicPcap(Array.from({ length: 150 }, () => ({ timestamp: T0, data: cut })));
    const { errors } = readUdpDatagrams(file);
    expect(errors).toHaveLength(101);
    expect(errors[99]).toMatch(/^packet 100: /);
    expect(errors[100]).toBe('50 more packet errors not listed');
  });
});

describe('readUdpDatagrams: damaged files never throw', () => {
  const good = classicPcap([1, 2, 3].map((i) => ({ timestamp: T0 + i, data: ethernetFrame(V4) })));

  it('reports an empty or foreign file', () => {
    expect(readUdpDatagrams(new Uint8Array(0))).toEqual({
      datagrams: [],
      errors: ['not a capture file: 0 bytes'],
    });
    expect(readUdpDatagrams(new TextEncoder().encode('hello world')).errors).toEqual([
      'not a pcap or pcapng file: magic 0x68656c6c',
    ]);
  });

  it('returns what precedes a truncation and says where it stopped', () => {
    const recordLength = 16 + ethernetFrame(V4).length;
    const midRecord = readUdpDatagrams(good.subarray(0, 24 + recordLength + 20));
    expect(midRecord.datagrams).toHaveLength(1);
    expect(midRecord.errors).toEqual([
      `truncated packet 2 at offset ${24 + recordLength}: 4 of ${recordLength - 16} bytes present`,
    ]);

    const midHeader = readUdpDatagrams(good.subarray(0, 24 + 2 * recordLength + 10));
    expect(midHeader.datagrams).toHaveLength(2);
    expect(midHeader.errors).toEqual([
      `truncated record header of packet 3 at offset ${24 + 2 * recordLength}`,
    ]);

    expect(readUdpDatagrams(good.subarray(0, 10)).errors).toEqual([
      'truncated pcap file header: 10 of 24 bytes',
    ]);
  });

  it('survives every truncation and random corruption', () => {
    const ng = concat(
      sectionHeader(true),
      interfaceDescription(1, true, { tsresol: 9 }),
      packetBlock(0, 5n, ethernetFrame(V6), true),
    );
    for (const file of [good, ng]) {
      for (let length = 0; length <= file.length; length++) {
        expect(() => readUdpDatagrams(file.subarray(0, length))).not.toThrow();
      }
      let seed = 99;
      for (let n = 0; n < 2000; n++) {
        const copy = new Uint8Array(file);
        for (let k = 0; k < 4; k++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          copy[seed % copy.length] = seed >>> 24;
        }
        expect(() => readUdpDatagrams(copy)).not.toThrow();
      }
    }
  });
});

describe('readUdpDatagrams: pcapng', () => {
  it.each([true, false])('reads a section of either byte order (little-endian: %s)', (little) => {
    const file = concat(
      sectionHeader(little),
      interfaceDescription(1, little),
      packetBlock(0, BigInt(T0) * 1000n + 250n, ethernetFrame(V4), little),
      packetBlock(0, BigInt(T0) * 1000n + 1_000_500n, ethernetFrame(V6), little),
    );
    const { datagrams, errors } = readUdpDatagrams(file);
    expect(errors).toEqual([]);
    expect(datagrams.map(summary)).toEqual([
      { timestamp: T0 + 0.25, ...V4_SUMMARY },
      { timestamp: T0 + 1000.5, ...V6_SUMMARY },
    ]);
  });

  it('applies if_tsresol (decimal and binary) and if_tsoffset per interface', () => {
    const seconds = BigInt(T0 / 1000);
    const file = concat(
      sectionHeader(true),
      interfaceDescription(1, true, { tsresol: 9 }),
      interfaceDescription(101, true, { tsresol: 0x80 | 10 }),
      interfaceDescription(113, true, { tsresol: 3, tsoffset: seconds }),
      packetBlock(0, seconds * 1_000_000_000n + 123_456_789n, ethernetFrame(V4), true),
      packetBlock(1, seconds * 1024n + 512n, V6, true),
      packetBlock(2, 2_250n, sllFrame(V4), true),
    );
    const { datagrams, errors } = readUdpDatagrams(file);
    expect(errors).toEqual([]);
    expect(datagrams[0]!.timestamp).toBeCloseTo(T0 + 123.456789, 4);
    expect(datagrams[1]!.timestamp).toBe(T0 + 500);
    expect(datagrams[2]!.timestamp).toBe(T0 + 2250);
    expect(datagrams.map((d) => d.srcAddr)).toEqual(['192.0.2.1', '2001:db8::1', '192.0.2.1']);
  });

  it('reads simple and obsolete packet blocks; a simple packet takes the previous timestamp', () => {
    const file = concat(
      sectionHeader(false),
      interfaceDescription(1, false, { snapLength: 65535 }),
      simplePacket(ethernetFrame(V4), false),
      packetBlock(0, BigInt(T0) * 1000n, ethernetFrame(V6), false, true),
      simplePacket(ethernetFrame(V4), false),
    );
    const { datagrams, errors } = readUdpDatagrams(file);
    expect(errors).toEqual([]);
    expect(datagrams.map((d) => [d.timestamp, d.srcAddr])).toEqual([
      [0, '192.0.2.1'],
      [T0, '2001:db8::1'],
      [T0, '192.0.2.1'],
    ]);
  });

  it('cuts a simple packet to the snap length and reports the truncated datagram', () => {
    const file = concat(
      sectionHeader(true),
      interfaceDescription(1, true, { snapLength: 40 }),
      simplePacket(ethernetFrame(V4), true),
    );
    expect(readUdpDatagrams(file).errors).toEqual([
      'packet 1: IPv4 packet truncated: 26 of 31 bytes captured',
    ]);
  });

  it('skips unknown blocks and starts over at every section header', () => {
    const file = concat(
      sectionHeader(true),
      interfaceDescription(1, true),
      block(4, new Uint8Array(8), true), // name resolution
      block(0x40000bad, Uint8Array.of(1, 2, 3, 4, 5), true), // custom
      packetBlock(0, BigInt(T0) * 1000n, ethernetFrame(V4), true),
      block(5, new Uint8Array(12), true), // interface statistics
      sectionHeader(false),
      interfaceDescription(276, false),
      packetBlock(0, BigInt(T0) * 1000n, sll2Frame(V6), false),
    );
    const { datagrams, errors } = readUdpDatagrams(file);
    expect(errors).toEqual([]);
    expect(datagrams.map((d) => d.srcAddr)).toEqual(['192.0.2.1', '2001:db8::1']);
  });

  it('reports an unsupported interface once and reads the others', () => {
    const undeclared = packetBlock(7, 4n, V4, true);
    const file = concat(
      sectionHeader(true),
      interfaceDescription(147, true),
      interfaceDescription(1, true),
      packetBlock(0, 1n, V4, true),
      packetBlock(1, 2n, ethernetFrame(V4), true),
      packetBlock(0, 3n, V4, true),
      undeclared,
    );
    const { datagrams, errors } = readUdpDatagrams(file);
    expect(datagrams).toHaveLength(1);
    expect(errors).toEqual([
      'packet 1: interface 0 has unsupported link type 147',
      `packet 4: block at offset ${file.length - undeclared.length}: packet for undeclared interface 7`,
    ]);
  });

  it('stops at a corrupt block and keeps what came before', () => {
    const good = concat(
      sectionHeader(true),
      interfaceDescription(1, true),
      packetBlock(0, 1n, ethernetFrame(V4), true),
    );
    const badTrailer = packetBlock(0, 2n, ethernetFrame(V4), true);
    new DataView(badTrailer.buffer).setUint32(badTrailer.length - 4, badTrailer.length + 4, true);
    const result = readUdpDatagrams(concat(good, badTrailer));
    expect(result.datagrams).toHaveLength(1);
    expect(result.errors).toEqual([
      `block at offset ${good.length}: trailing length does not match ${badTrailer.length}`,
    ]);

    const badLength = concat(good, Uint8Array.of(6, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    expect(readUdpDatagrams(badLength).errors).toEqual([`bad block length 13 at offset ${good.length}`]);
    expect(readUdpDatagrams(good.subarray(0, good.length - 8)).errors[0]).toMatch(
      /^truncated block at offset \d+: /,
    );
  });
});

const hasTshark = requireTool('tshark', tsharkAvailable());
const hasEditcap = requireTool('editcap');

describe.skipIf(!hasTshark)('readUdpDatagrams agrees with tshark', () => {
  let workDir = '';
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'flowcast-pcap-'));
  });
  afterAll(async () => {
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
  });

  /** tshark's view of the UDP datagrams of a file, in the reader's terms. */
  async function tsharkDatagrams(path: string): Promise<object[]> {
    const fields = [
      'frame.time_epoch',
      'ip.src',
      'ipv6.src',
      'udp.srcport',
      'ip.dst',
      'ipv6.dst',
      'udp.dstport',
      'udp.payload',
    ];
    const args = [
      '-r',
      path,
      '-n',
      '-Y',
      'udp',
      '-T',
      'fields',
      '-E',
      'occurrence=f',
      ...fields.flatMap((f) => ['-e', f]),
    ];
    const { stdout } = await run('tshark', args);
    return stdout
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [time, src4, src6, srcPort, dst4, dst6, dstPort, payload] = line.split('\t');
        return {
          timestamp: parseRelativeTime(time!),
          srcAddr: src4 || src6,
          srcPort: Number(srcPort),
          dstAddr: dst4 || dst6,
          dstPort: Number(dstPort),
          payload: (payload ?? '').match(/../g)?.map((hex) => Number.parseInt(hex, 16)) ?? [],
        };
      });
  }

  function withRoundedTime(datagram: object & { timestamp?: unknown }): object {
    return { ...datagram, timestamp: Math.round(Number(datagram.timestamp) * 1000) / 1000 };
  }

  it('on a pcapng zoo: two sections, both byte orders, five link types, four resolutions', async () => {
    const seconds = BigInt(T0 / 1000);
    const ipv6 = (n: number): Uint8Array =>
      udp(`2001:db8::${n}`, '2001:db8:0:0:1:0:0:1', [n, n + 1], {
        ipv6ExtensionHeaders: n % 2 === 0 ? [{ type: 0 }, { type: 60 }] : [],
      });
    const ipv4 = (n: number): Uint8Array => udp(`10.0.0.${n}`, '10.255.0.1', new Array(n * 3).fill(n));
    const tcp = ipPacket({
      src: '10.0.0.9',
      dst: '10.0.0.8',
      transport: { kind: 'tcp', srcPort: 1, dstPort: 2, flags: 2 },
    });
    const file = concat(
      sectionHeader(true),
      interfaceDescription(1, true, { tsresol: 9 }),
      interfaceDescription(276, true),
      interfaceDescription(101, true, { tsresol: 0x80 | 20 }),
      interfaceDescription(0, true, { tsresol: 3 }),
      block(4, new Uint8Array(8), true),
      packetBlock(0, seconds * 1_000_000_000n + 1n, ethernetFrame(ipv4(1), { vlanIds: [7] }), true),
      packetBlock(1, seconds * 1_000_000n + 2_000_001n, sll2Frame(ipv6(2)), true),
      packetBlock(2, seconds * 1_048_576n + 3_145_728n, ipv6(3), true),
      packetBlock(3, seconds * 1000n + 4_000n, nullFrame(ipv4(4), 2, true), true),
      packetBlock(0, seconds * 1_000_000_000n + 5_000_000_000n, ethernetFrame(tcp), true),
      sectionHeader(false),
      interfaceDescription(113, false),
      interfaceDescription(1, false, { tsresol: 6 }),
      packetBlock(0, seconds * 1_000_000n + 6_000_000n, sllFrame(ipv4(6)), false),
      packetBlock(
        1,
        seconds * 1_000_000n + 7_654_321n,
        ethernetFrame(ipv6(7), { vlanIds: [1, 2] }),
        false,
        true,
      ),
    );
    const path = join(workDir, 'zoo.pcapng');
    await writeFile(path, file);
    const { datagrams, errors } = readUdpDatagrams(file);
    expect(errors).toEqual([]);
    expect(datagrams).toHaveLength(6);
    expect(datagrams.map(summary).map(withRoundedTime)).toEqual(
      (await tsharkDatagrams(path)).map(withRoundedTime),
    );
  });

  it.skipIf(!hasEditcap)('on pcapng and nanosecond pcap written by editcap', async () => {
    const source = join(workDir, 'source.pcap');
    await writeFile(
      source,
      classicPcap(
        Array.from({ length: 12 }, (_, i) => ({
          timestamp: T0 + i * 1234.567,
          data: ethernetFrame(
            i % 3 === 0
              ? udp(`2001:db8::${i + 1}`, '2001:db8::ff', [i])
              : udp(`10.1.1.${i}`, '10.2.2.2', [i, i]),
          ),
        })),
      ),
    );
    const expected = readUdpDatagrams(await readFile(source));
    expect(expected.datagrams).toHaveLength(12);
    for (const format of ['pcapng', 'nsecpcap']) {
      const converted = join(workDir, `converted.${format}`);
      await run('editcap', ['-F', format, source, converted]);
      const actual = readUdpDatagrams(await readFile(converted));
      expect(actual.errors).toEqual([]);
      expect(actual.datagrams.map(summary).map(withRoundedTime)).toEqual(
        expected.datagrams.map(summary).map(withRoundedTime),
      );
      expect(actual.datagrams.map(summary).map(withRoundedTime)).toEqual(
        (await tsharkDatagrams(converted)).map(withRoundedTime),
      );
    }
  });
});
