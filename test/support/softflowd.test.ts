/**
 * Tests for the softflowd helpers, end to end: synthetic traffic → real softflowd (v5, v9, IPFIX)
 * → datagrams → capture → tshark. What softflowd reports must match the traffic, which is counted
 * independently by tshark reading the traffic capture itself (IP lengths, addresses, ports, times).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeUdpPcap } from './pcap-writer.js';
import {
  exportWithSoftflowd,
  generateTrafficPcap,
  softflowdAvailable,
  type TrafficPacket,
} from './softflowd.js';
import { requireTool } from './tools.js';
import { parseRelativeTime, tsharkAvailable, tsharkFlows } from './tshark.js';

const hasTshark = requireTool('tshark', tsharkAvailable());
const hasSoftflowd = requireTool('softflowd', softflowdAvailable());
const run = promisify(execFile);

/** Per-direction flow totals, keyed by addresses, protocol and (TCP/UDP only) ports. */
interface FlowTotals {
  packets: number;
  bytes: number;
  start: number;
  end: number;
}

function flowKey(src: string, dst: string, protocol: number, srcPort: number, dstPort: number): string {
  return protocol === 6 || protocol === 17
    ? `${src}:${srcPort}>${dst}:${dstPort}/${protocol}`
    : `${src}>${dst}/${protocol}`;
}

function addTo(
  table: Map<string, FlowTotals>,
  key: string,
  packets: number,
  bytes: number,
  start: number,
  end: number,
): void {
  const flow = table.get(key);
  if (flow === undefined) {
    table.set(key, { packets, bytes, start, end });
    return;
  }
  flow.packets += packets;
  flow.bytes += bytes;
  flow.start = Math.min(flow.start, start);
  flow.end = Math.max(flow.end, end);
}

/** The traffic capture as tshark sees it: one entry per packet, IP-layer length. */
async function tsharkPackets(path: string): Promise<TrafficPacket[]> {
  const fields = ['frame.time_epoch', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'ip.len', 'ipv6.plen'];
  fields.push('ip.proto', 'ipv6.nxt', 'tcp.srcport', 'udp.srcport', 'tcp.dstport', 'udp.dstport');
  const args = ['-r', path, '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f'];
  const { stdout } = await run('tshark', [...args, ...fields.flatMap((field) => ['-e', field])], {
    maxBuffer: 1 << 28,
  });
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [time, src4, src6, dst4, dst6, len4, plen6, proto4, next6, tcpSrc, udpSrc, tcpDst, udpDst] =
        line.split('\t');
      return {
        timestamp: parseRelativeTime(time!),
        src: src4 || src6!,
        dst: dst4 || dst6!,
        protocol: Number(proto4 || next6),
        srcPort: Number(tcpSrc || udpSrc || 0),
        dstPort: Number(tcpDst || udpDst || 0),
        ipLength: len4 ? Number(len4) : 40 + Number(plen6),
      };
    });
}

/**
 * softflowd's v9 header counts data records only; tshark stops decoding after `count` records and
 * would miss the data flowsets after the templates. The oracle gets the count raised to 0xffff.
 */
function uncapV9Count(payload: Uint8Array): Uint8Array {
  const copy = new Uint8Array(payload);
  if (copy[0] === 0 && copy[1] === 9) copy.set([0xff, 0xff], 2);
  return copy;
}

describe.skipIf(!hasTshark || !hasSoftflowd)(
  'softflowd exports of synthetic traffic, decoded by tshark',
  () => {
    let workDir = '';
    let trafficPath = '';
    let generated: TrafficPacket[] = [];
    let observed: TrafficPacket[] = [];

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'flowcast-softflowd-test-'));
      trafficPath = join(workDir, 'traffic.pcap');
      generated = await generateTrafficPcap(trafficPath, { seed: 7, flows: 40 });
      observed = await tsharkPackets(trafficPath);
    });

    afterAll(async () => {
      if (workDir !== '') await rm(workDir, { recursive: true, force: true });
    });

    it('generates the traffic it describes: TCP, UDP, ICMP and ICMPv6 over IPv4 and IPv6 within a minute', () => {
      expect(observed).toEqual(generated);
      expect(new Set(generated.map((p) => p.protocol))).toEqual(new Set([1, 6, 17, 58]));
      expect(generated.some((p) => p.src.includes(':') && p.protocol === 6)).toBe(true);
      const times = generated.map((p) => p.timestamp);
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(60_000);
      expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(30_000);
    });

    it('generates the same file for the same seed and a different one for another seed', async () => {
      expect(await generateTrafficPcap(join(workDir, 'again.pcap'), { seed: 7, flows: 40 })).toEqual(
        generated,
      );
      expect(await generateTrafficPcap(join(workDir, 'other.pcap'), { seed: 8, flows: 40 })).not.toEqual(
        generated,
      );
    });

    // softflowd truncates times to milliseconds, and tshark anchors uptimes with the header: v5
    // (seconds + nanoseconds, uptime in ms) is within 1 ms, v9 (whole-second export time) within
    // 1 s, IPFIX (systemInitTimeMilliseconds + uptime, two truncations) within 2 ms. The extra
    // microsecond absorbs floating-point rounding of epoch milliseconds.
    it.each([
      { version: 5 as const, ipv6: false, toleranceMs: 1.001 },
      { version: 9 as const, ipv6: true, toleranceMs: 1000.001 },
      { version: 10 as const, ipv6: true, toleranceMs: 2.001 },
    ])('v$version: totals and every flow match the traffic', async ({ version, ipv6, toleranceMs }) => {
      const datagrams = await exportWithSoftflowd(version, trafficPath);
      expect(datagrams.length).toBeGreaterThan(1);
      for (const datagram of datagrams) {
        expect(datagram.srcAddr).toBe('127.0.0.1');
        expect([datagram.payload[0], datagram.payload[1]]).toEqual([0, version]);
      }

      const exportPath = join(workDir, `export-v${version}.pcap`);
      await writeUdpPcap(
        exportPath,
        datagrams.map((datagram) => ({ payload: uncapV9Count(datagram.payload), dstPort: 2055 })),
      );
      const records = await tsharkFlows(exportPath, [2055]);

      const expected = new Map<string, FlowTotals>();
      for (const p of observed.filter((packet) => ipv6 || !packet.src.includes(':'))) {
        addTo(
          expected,
          flowKey(p.src, p.dst, p.protocol, p.srcPort, p.dstPort),
          1,
          p.ipLength,
          p.timestamp,
          p.timestamp,
        );
      }
      const reported = new Map<string, FlowTotals>();
      for (const r of records) {
        expect(r.version).toBe(version);
        const key = flowKey(r.srcAddr!, r.dstAddr!, r.protocol!, r.srcPort ?? 0, r.dstPort ?? 0);
        addTo(reported, key, Number(r.packets), Number(r.bytes), r.start!, r.end!);
      }

      const sum = (table: Map<string, FlowTotals>, field: 'packets' | 'bytes'): number =>
        [...table.values()].reduce((total, flow) => total + flow[field], 0);
      expect(sum(reported, 'packets')).toBe(sum(expected, 'packets'));
      expect(sum(reported, 'bytes')).toBe(sum(expected, 'bytes'));
      expect([...reported.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [key, flow] of expected) {
        const got = reported.get(key)!;
        expect({ key, packets: got.packets, bytes: got.bytes }).toEqual({
          key,
          packets: flow.packets,
          bytes: flow.bytes,
        });
        expect(Math.abs(got.start - flow.start), `${key} start`).toBeLessThanOrEqual(toleranceMs);
        expect(Math.abs(got.end - flow.end), `${key} end`).toBeLessThanOrEqual(toleranceMs);
      }
    });

    it('rejects when softflowd cannot read the capture', async () => {
      await expect(exportWithSoftflowd(9, join(workDir, 'missing.pcap'))).rejects.toThrow(/softflowd/);
    });
  },
);
