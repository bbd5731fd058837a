/**
 * Tests for the packet and pcap writer: checksums computed independently here and validated by
 * tshark (with checksum checking switched on), and tshark reading the files the writer produces.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classicPcap, ethernetFrame, ipPacket, parseIp, udpPcap, writeUdpPcap } from './pcap-writer.js';
import { requireTool } from './tools.js';
import { tsharkAvailable } from './tshark.js';

const hasTshark = requireTool('tshark', tsharkAvailable());
const run = promisify(execFile);

/** One's-complement sum of 16-bit words, folded: 0xffff for data that includes a correct checksum. */
function onesComplementSum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

describe('parseIp', () => {
  it('parses IPv4 and every IPv6 shorthand', () => {
    expect([...parseIp('192.0.2.1')]).toEqual([192, 0, 2, 1]);
    expect([...parseIp('::')]).toEqual(new Array(16).fill(0));
    expect([...parseIp('::1')]).toEqual([...new Array(15).fill(0), 1]);
    expect([...parseIp('fe80::')]).toEqual([0xfe, 0x80, ...new Array(14).fill(0)]);
    expect([...parseIp('2001:db8::1:0:0:1')]).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1,
    ]);
    expect([...parseIp('::ffff:192.0.2.1')]).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
    ]);
    expect([...parseIp('1:2:3:4:5:6:7:8')]).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  });

  it('rejects what is not an address', () => {
    expect(() => parseIp('1.2.3')).toThrow(/not an IP address/);
    expect(() => parseIp('1::2::3')).toThrow(/not an IP address/);
  });
});

describe('ipPacket', () => {
  it('writes an IPv4 header with the right length, protocol and checksum', () => {
    const packet = ipPacket({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      tos: 0x28,
      id: 0x1234,
      ttl: 17,
      transport: { kind: 'udp', srcPort: 1, dstPort: 2, payload: new Uint8Array(11) },
    });
    expect(packet.length).toBe(20 + 8 + 11);
    expect([packet[0], packet[1], packet[2], packet[3], packet[8], packet[9]]).toEqual([
      0x45, 0x28, 0, 39, 17, 17,
    ]);
    expect(onesComplementSum(packet.subarray(0, 20))).toBe(0xffff);
  });

  it('checksums IPv4 headers with options and fragment fields', () => {
    const packet = ipPacket({
      src: '198.51.100.7',
      dst: '203.0.113.9',
      ipv4Options: Uint8Array.of(1, 1, 1, 0),
      moreFragments: true,
      fragmentOffset: 0,
      transport: { kind: 'icmp', type: 8, code: 0 },
    });
    expect(packet[0]).toBe(0x46);
    expect([packet[6], packet[7]]).toEqual([0x20, 0]);
    expect(onesComplementSum(packet.subarray(0, 24))).toBe(0xffff);
    expect(onesComplementSum(packet.subarray(24))).toBe(0xffff); // ICMP: no pseudo-header
  });

  it('writes IPv6 with a chain of extension headers ending in the transport', () => {
    const packet = ipPacket({
      src: '2001:db8::1',
      dst: '2001:db8::2',
      ipv6ExtensionHeaders: [{ type: 0 }, { type: 60, body: new Uint8Array(10) }],
      transport: { kind: 'udp', srcPort: 5, dstPort: 6, payload: Uint8Array.of(1, 2, 3) },
    });
    expect(packet[0]! >> 4).toBe(6);
    expect(packet[6]).toBe(0); // hop-by-hop first
    expect([packet[40], packet[41]]).toEqual([60, 0]); // 8 bytes, next: destination options
    expect([packet[48], packet[49]]).toEqual([17, 1]); // 16 bytes, next: UDP
    expect((packet[4]! << 8) | packet[5]!).toBe(8 + 16 + 8 + 3);
  });

  it('never writes a UDP checksum of 0, which would mean "no checksum"', () => {
    let zeroSums = 0;
    for (let value = 0; value < 0x10000; value++) {
      const packet = ipPacket({
        src: '10.0.0.1',
        dst: '10.0.0.2',
        transport: { kind: 'udp', srcPort: 7, dstPort: 9, payload: Uint8Array.of(value >> 8, value & 0xff) },
      });
      const checksum = (packet[26]! << 8) | packet[27]!;
      expect(checksum).not.toBe(0);
      if (checksum === 0xffff) zeroSums++;
    }
    expect(zeroSums).toBeGreaterThan(0); // the case did come up
  });

  it('rejects mixed address families', () => {
    expect(() =>
      ipPacket({ src: '10.0.0.1', dst: '::1', transport: { kind: 'udp', srcPort: 1, dstPort: 2 } }),
    ).toThrow(/mixed/);
  });
});

describe('classicPcap', () => {
  it('writes the header and records in either byte order and resolution', () => {
    const frame = Uint8Array.of(1, 2, 3);
    const big = classicPcap([{ timestamp: 1_500_000_000_123.456, data: frame }], { linkType: 101 });
    const view = new DataView(big.buffer);
    expect(view.getUint32(0)).toBe(0xa1b2c3d4);
    expect(view.getUint32(20)).toBe(101);
    expect([view.getUint32(24), view.getUint32(28), view.getUint32(32)]).toEqual([1_500_000_000, 123_456, 3]);

    const little = classicPcap([{ timestamp: 1_500_000_000_123.4375, data: frame, originalLength: 99 }], {
      littleEndian: true,
      nanosecond: true,
    });
    const littleView = new DataView(little.buffer);
    expect(littleView.getUint32(0, true)).toBe(0xa1b23c4d);
    expect(littleView.getUint32(28, true)).toBe(123_437_500);
    expect(littleView.getUint32(36, true)).toBe(99);
  });

  it('carries a fraction that rounds up to a whole second into the seconds', () => {
    const file = classicPcap([{ timestamp: 1999.9999996, data: new Uint8Array(0) }]);
    const view = new DataView(file.buffer);
    expect([view.getUint32(24), view.getUint32(28)]).toEqual([2, 0]);
  });
});

describe.skipIf(!hasTshark)('tshark reads what the writer writes', () => {
  let workDir = '';
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'flowcast-writer-'));
  });
  afterAll(async () => {
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
  });

  async function fields(path: string, names: string[], extra: string[] = []): Promise<string[][]> {
    const args = [
      '-r',
      path,
      '-n',
      ...extra,
      '-T',
      'fields',
      '-E',
      'separator=/t',
      ...names.flatMap((n) => ['-e', n]),
    ];
    const { stdout } = await run('tshark', args);
    return stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t'));
  }

  it('validates every IP, TCP, UDP, ICMP and ICMPv6 checksum', async () => {
    const payload = Uint8Array.from({ length: 33 }, (_, i) => i * 7);
    const packets = [
      ipPacket({
        src: '10.0.0.1',
        dst: '10.0.0.2',
        transport: { kind: 'udp', srcPort: 1000, dstPort: 2055, payload },
      }),
      ipPacket({
        src: '10.0.0.1',
        dst: '10.0.0.2',
        transport: { kind: 'tcp', srcPort: 1000, dstPort: 80, flags: 0x18, seq: 7, ack: 9, payload },
      }),
      ipPacket({ src: '10.0.0.1', dst: '10.0.0.2', transport: { kind: 'icmp', type: 8, code: 0, payload } }),
      ipPacket({
        src: '2001:db8::1',
        dst: '2001:db8::2',
        transport: { kind: 'udp', srcPort: 1000, dstPort: 2055, payload },
      }),
      ipPacket({
        src: '2001:db8::1',
        dst: '2001:db8::2',
        transport: { kind: 'tcp', srcPort: 1000, dstPort: 443, flags: 0x02, payload },
      }),
      ipPacket({
        src: '2001:db8::1',
        dst: '2001:db8::2',
        transport: { kind: 'icmp', type: 128, code: 0, payload },
      }),
    ];
    const path = join(workDir, 'checksums.pcap');
    await writeFile(
      path,
      classicPcap(packets.map((ip, i) => ({ timestamp: 1000 * i, data: ethernetFrame(ip) }))),
    );
    const checks = [
      'ip.checksum.status',
      'udp.checksum.status',
      'tcp.checksum.status',
      'icmp.checksum.status',
    ];
    checks.push('icmpv6.checksum.status');
    const prefs = ['ip.check_checksum:TRUE', 'udp.check_checksum:TRUE', 'tcp.check_checksum:TRUE'];
    const rows = await fields(
      path,
      checks,
      prefs.flatMap((pref) => ['-o', pref]),
    );
    // 1 = good, 0 = bad, 2 = not checked; empty = no such header.
    expect(rows.map((row) => row.join(','))).toEqual([
      '1,1,,,',
      '1,,1,,',
      '1,,,1,',
      ',1,,,',
      ',,1,,',
      ',,,,1',
    ]);
  });

  it('writes UDP captures with defaults, IPv6 when an address is IPv6, and VLAN tags tshark recognises', async () => {
    const path = join(workDir, 'udp.pcap');
    await writeUdpPcap(path, [
      { payload: Uint8Array.of(0xca, 0xfe) },
      {
        payload: Uint8Array.of(1),
        srcAddr: '2001:db8::7',
        srcPort: 9999,
        timestamp: Date.UTC(2024, 0, 1, 0, 0, 5, 250),
      },
      { payload: Uint8Array.of(2), dstAddr: '2001:db8::8', dstPort: 4739 },
    ]);
    const rows = await fields(path, [
      'frame.time_epoch',
      'ip.src',
      'ipv6.src',
      'ipv6.dst',
      'udp.srcport',
      'udp.dstport',
      'udp.payload',
    ]);
    expect(rows).toEqual([
      ['1704067200.000000000', '192.0.2.1', '', '', '50000', '2055', 'cafe'],
      ['1704067205.250000000', '', '2001:db8::7', '2001:db8::100', '9999', '2055', '01'],
      ['1704067206.250000000', '', '2001:db8::1', '2001:db8::8', '50000', '4739', '02'],
    ]);

    const tagged = join(workDir, 'vlan.pcap');
    const ip = ipPacket({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      transport: { kind: 'udp', srcPort: 1, dstPort: 2 },
    });
    await writeFile(
      tagged,
      classicPcap([{ timestamp: 0, data: ethernetFrame(ip, { vlanIds: [100, 200] }) }]),
    );
    // Outer tag 802.1ad (TPID 0x88a8), inner 802.1Q.
    expect(await fields(tagged, ['ieee8021ad.id', 'vlan.id', 'ip.dst'])).toEqual([
      ['100', '200', '10.0.0.2'],
    ]);
  });

  it('udpPcap is what writeUdpPcap writes', async () => {
    const datagrams = [{ payload: Uint8Array.of(1, 2, 3), timestamp: 5 }];
    const path = join(workDir, 'same.pcap');
    await writeUdpPcap(path, datagrams);
    const { stdout } = await run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.len']);
    expect(stdout.trim()).toBe(String(udpPcap(datagrams).length - 24 - 16));
  });
});
