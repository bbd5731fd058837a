/**
 * Tests for the pmacct helpers, end to end: synthetic traffic → real pmacctd + nfprobe (v5, v9,
 * IPFIX) → datagrams → capture → tshark. What pmacct reports must match the traffic as generated
 * (test/support/softflowd.test.ts checks the generator against tshark's reading of the capture).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exportWithPmacct,
  PMACCT_AGGREGATE,
  pluginFinished,
  pmacctAvailable,
  pmacctConfig,
  pmacctV5CaptureStart,
} from './pmacct.js';
import { generateTrafficPcap, type TrafficPacket } from './softflowd.js';
import { requireTool } from './tools.js';
import { tsharkAvailable, tsharkFlows, writeTsharkCapture } from './tshark.js';

const hasTshark = requireTool('tshark', tsharkAvailable());
const hasPmacct = requireTool('pmacctd', pmacctAvailable());

/** Per-direction flow totals. */
interface FlowTotals {
  packets: number;
  bytes: number;
  start: number;
  end: number;
}

/** ICMP flows are keyed without ports: pmacct puts type and code in the destination port. */
function flowKey(src: string, dst: string, protocol: number, srcPort: number, dstPort: number): string {
  return protocol === 6 || protocol === 17
    ? `${src}:${srcPort}>${dst}:${dstPort}/${protocol}`
    : `${src}>${dst}/${protocol}`;
}

/** Both directions of a flow: the endpoints in a fixed order. */
function conversationKey(
  src: string,
  dst: string,
  protocol: number,
  srcPort: number,
  dstPort: number,
): string {
  const a = flowKey(src, dst, protocol, srcPort, dstPort);
  const b = flowKey(dst, src, protocol, dstPort, srcPort);
  return a < b ? a : b;
}

function addTo(table: Map<string, FlowTotals>, key: string, add: FlowTotals): void {
  const flow = table.get(key);
  if (flow === undefined) {
    table.set(key, { ...add });
    return;
  }
  flow.packets += add.packets;
  flow.bytes += add.bytes;
  flow.start = Math.min(flow.start, add.start);
  flow.end = Math.max(flow.end, add.end);
}

describe('pmacctConfig', () => {
  it('replays the capture once into nfprobe, in the foreground, exporting to the loopback port', () => {
    const text = pmacctConfig(9, '/tmp/x/traffic.pcap', 40000, '/tmp/y/pmacctd.pid');
    expect(text.split('\n')).toEqual([
      'daemonize: false',
      'pidfile: /tmp/y/pmacctd.pid',
      'pcap_savefile: /tmp/x/traffic.pcap',
      'pcap_savefile_delay: 1',
      'plugins: nfprobe',
      'nfprobe_receiver: 127.0.0.1:40000',
      'nfprobe_version: 9',
      `aggregate: ${PMACCT_AGGREGATE}`,
      '',
    ]);
  });

  it('refuses paths that would break the configuration syntax', () => {
    expect(() => pmacctConfig(5, '/tmp/a\nplugins: print', 1, '/tmp/p')).toThrow(/not usable/);
  });
});

describe('pluginFinished', () => {
  it('takes the core exiting 1 after nfprobe shut down on request as a finished export, nothing else', () => {
    // pmacctd 1.7.7's lines from the one CI run where the core exited 1 this way.
    const raced = [
      'INFO ( default_nfprobe/nfprobe ): Exporting flows to [127.0.0.1]:46127',
      'INFO ( default_nfprobe/nfprobe ): Shutting down on user request.',
      "WARN ( default/core ): connection lost to 'default_nfprobe-nfprobe'; closing connection.",
      'WARN ( default/core ): no more plugins active. Shutting down.',
    ].join('\n');
    expect(pluginFinished(raced)).toBe(true);
    // The plugin died without its shutdown: not finished.
    expect(
      pluginFinished(
        raced
          .split('\n')
          .filter((l) => !l.includes('user request'))
          .join('\n'),
      ),
    ).toBe(false);
    expect(pluginFinished('ERROR ( default/core ): [/nonexistent] pcap_open_offline(): No such file')).toBe(
      false,
    );
  });
});

describe('pmacctV5CaptureStart', () => {
  it('is on a whole second, minutes after now', () => {
    const now = Date.UTC(2030, 0, 1, 0, 0, 0, 250);
    expect(pmacctV5CaptureStart(now)).toBe(Date.UTC(2030, 0, 1, 0, 10, 1));
  });
});

describe.skipIf(!hasTshark || !hasPmacct)('pmacct exports of synthetic traffic, decoded by tshark', () => {
  let workDir = '';

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'flowcast-pmacct-test-'));
  });

  afterAll(async () => {
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
  });

  // pmacct truncates times to milliseconds: absolute v9/IPFIX times are within 1 ms; v5 First/Last
  // and the header uptime are both truncated differences from the plugin's start, within 1 ms either
  // way. The extra microsecond absorbs floating-point rounding of epoch milliseconds.
  // About 3 s each, mostly pmacctd's fixed sleeps: the versions run at the same time.
  it.concurrent.each([5, 9, 10] as const)(
    'v%s: every flow, direction by direction, matches the traffic',
    async (version) => {
      const trafficPath = join(workDir, `traffic-${version}.pcap`);
      const generated: TrafficPacket[] = await generateTrafficPcap(trafficPath, {
        seed: 7,
        flows: 40,
        ipv6: version !== 5,
        ...(version === 5 ? { start: pmacctV5CaptureStart() } : {}),
      });
      const datagrams = await exportWithPmacct(version, trafficPath);
      expect(datagrams.length).toBeGreaterThan(1);
      for (const datagram of datagrams) {
        expect(datagram.srcAddr).toBe('127.0.0.1');
        expect([datagram.payload[0], datagram.payload[1]]).toEqual([0, version]);
      }

      const exportPath = join(workDir, `export-v${version}.pcap`);
      await writeTsharkCapture(
        exportPath,
        datagrams.map((datagram) => ({ payload: datagram.payload, dstPort: 2055 })),
      );
      const records = await tsharkFlows(exportPath, [2055]);

      // Counters per direction; times per conversation: nfprobe keeps one bidirectional flow and gives
      // both directions' records its start (first packet either way) and end (last packet either way).
      const expected = new Map<string, FlowTotals>();
      const conversations = new Map<string, FlowTotals>();
      const conversationOf = new Map<string, string>();
      for (const p of generated) {
        const totals = { packets: 1, bytes: p.ipLength, start: p.timestamp, end: p.timestamp };
        const key = flowKey(p.src, p.dst, p.protocol, p.srcPort, p.dstPort);
        const conversation = conversationKey(p.src, p.dst, p.protocol, p.srcPort, p.dstPort);
        addTo(expected, key, totals);
        addTo(conversations, conversation, totals);
        conversationOf.set(key, conversation);
      }
      const reported = new Map<string, FlowTotals>();
      for (const r of records) {
        expect(r.version).toBe(version);
        if (r.protocol === 1 || r.protocol === 58) {
          // Echo requests: type 8 (ICMP) or 128 (ICMPv6), code 0, as type * 256 + code.
          expect([r.srcPort, r.dstPort]).toEqual([0, (r.protocol === 1 ? 8 : 128) * 256]);
        }
        const key = flowKey(r.srcAddr!, r.dstAddr!, r.protocol!, r.srcPort ?? 0, r.dstPort ?? 0);
        expect(reported.has(key), `${key} reported once`).toBe(false);
        addTo(reported, key, {
          packets: Number(r.packets),
          bytes: Number(r.bytes),
          start: r.start!,
          end: r.end!,
        });
      }

      expect([...reported.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [key, flow] of expected) {
        const got = reported.get(key)!;
        expect({ key, packets: got.packets, bytes: got.bytes }).toEqual({
          key,
          packets: flow.packets,
          bytes: flow.bytes,
        });
        const conversation = conversations.get(conversationOf.get(key)!)!;
        expect(Math.abs(got.start - conversation.start), `${key} start`).toBeLessThanOrEqual(1.001);
        expect(Math.abs(got.end - conversation.end), `${key} end`).toBeLessThanOrEqual(1.001);
      }
    },
  );

  it('rejects, with pmacctd’s message, when pmacctd cannot read the capture', async () => {
    const bad = join(workDir, 'not-a-capture.pcap');
    await writeFile(bad, 'not a capture');
    await expect(exportWithPmacct(9, join(workDir, 'missing.pcap'))).rejects.toThrow(/pcap_open_offline/);
    await expect(exportWithPmacct(9, bad)).rejects.toThrow(/pcap_open_offline\(\): unknown file format/);
  });
});
