/**
 * Tests for the tshark oracle: its records for Telegraf's NetFlow/IPFIX samples agree with the
 * values Telegraf decoded (expected.out), and hand-made datagrams exercise the normalisation of
 * tshark quirks (uptime 0, 64-bit counters, IPv6 text, options records).
 */

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeUdpPcap } from './pcap-writer.js';
import { requireTool } from './tools.js';
import { parseAbsoluteTime, parseRelativeTime, toCounter, tsharkAvailable, tsharkFlows } from './tshark.js';

const telegrafDir = join(import.meta.dirname, '..', 'fixtures', 'telegraf');
const hasTshark = requireTool('tshark', tsharkAvailable());

const PORT = 2055;
let workDir = '';

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'flowcast-tshark-'));
});

afterAll(async () => {
  if (workDir !== '') await rm(workDir, { recursive: true, force: true });
});

/** Telegraf's expected.out line: its fields with quotes and the `u` suffix removed. */
function lineFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const body = line.slice(line.indexOf(' ') + 1);
  let key = '';
  let value = '';
  let inKey = true;
  let quoted = false;
  const flush = (): void => {
    fields[key] = /^\d+u$/.test(value) ? value.slice(0, -1) : value;
    key = '';
    value = '';
    inKey = true;
  };
  for (const char of body) {
    if (inKey) {
      if (char === '=') inKey = false;
      else key += char;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (!quoted && (char === ',' || char === ' ')) {
      flush();
      if (char === ' ') return fields; // the line's own timestamp follows
    } else {
      value += char;
    }
  }
  flush();
  return fields;
}

async function expectedLines(sample: string): Promise<Record<string, string>[]> {
  const text = await readFile(join(telegrafDir, sample, 'expected.out'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('netflow,'))
    .map(lineFields);
}

/** Puts a sample's .bin datagrams, in name order, into one capture (tshark keeps templates across frames). */
async function samplePcap(sample: string): Promise<string> {
  const names = (await readdir(join(telegrafDir, sample)))
    .filter((name) => name.endsWith('.bin'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const payloads = await Promise.all(names.map((name) => readFile(join(telegrafDir, sample, name))));
  const path = join(workDir, `${sample}.pcap`);
  await writeUdpPcap(
    path,
    payloads.map((payload) => ({ payload, dstPort: PORT })),
  );
  return path;
}

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17 };

describe('tshark output parsing', () => {
  it('reads absolute times, space-padded days and all nine fraction digits', () => {
    expect(parseAbsoluteTime('Oct 21, 2022 11:07:58.660000000 UTC')).toBe(1666350478660);
    expect(parseAbsoluteTime('Jan  1, 2024 00:00:00.000000000 UTC')).toBe(Date.UTC(2024, 0, 1));
    expect(parseAbsoluteTime('Jan  1, 1970 00:00:00.000000000 UTC')).toBe(0);
    expect(parseAbsoluteTime('Dec 31, 1999 23:59:59.999999 UTC')).toBeCloseTo(946684799999.999, 3);
    expect(() => parseAbsoluteTime('Oct 21, 2022 13:07:58.660000000 CEST')).toThrow(/absolute time/);
  });

  it('reads relative times as milliseconds', () => {
    expect(parseRelativeTime('86400.660000000')).toBe(86400660);
    expect(parseRelativeTime('0.000000001')).toBeCloseTo(0.000001, 9);
    expect(parseRelativeTime('-2.5')).toBe(-2500);
    expect(() => parseRelativeTime('2 seconds')).toThrow(/relative time/);
  });

  it('keeps counters exact beyond 2^53', () => {
    expect(toCounter('87477')).toBe(87477);
    expect(toCounter('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(toCounter('9007199254740993')).toBe(9007199254740993n);
    expect(toCounter('18446744073709551615')).toBe(18446744073709551615n);
  });
});

describe.skipIf(!hasTshark)('tshark on Telegraf samples', () => {
  it('netflow_v5_example: every record agrees with Telegraf', async () => {
    const records = await tsharkFlows(await samplePcap('netflow_v5_example'), [PORT]);
    const expected = await expectedLines('netflow_v5_example');
    expect(expected).toHaveLength(8);
    expect(records).toHaveLength(expected.length);
    expect(records[0]).toMatchObject({
      frame: 1,
      version: 5,
      srcAddr: '140.82.121.3',
      srcPort: 443,
      dstAddr: '192.168.119.100',
      dstPort: 55516,
      protocol: 6,
      bytes: 87477,
      packets: 78,
    });

    // Uptime-based times: boot = header export time - header uptime, read from the raw datagram.
    const raw = await readFile(join(telegrafDir, 'netflow_v5_example', 'netflow_v5.bin'));
    const exportMs = raw.readUInt32BE(8) * 1000 + raw.readUInt32BE(12) / 1e6;
    records.forEach((record, i) => {
      const line = expected[i]!;
      const boot = exportMs - Number(line['sys_uptime']);
      expect(record).toMatchObject({
        srcAddr: line['src'],
        srcPort: Number(line['src_port']),
        dstAddr: line['dst'],
        dstPort: Number(line['dst_port']),
        protocol: PROTOCOLS[line['protocol']!],
        bytes: Number(line['in_bytes']),
        packets: Number(line['in_packets']),
        start: boot + Number(line['first_switched']),
        end: boot + Number(line['last_switched']),
      });
    });
  });

  it('netflow_v5_example and netflow_v9_example (the same flows) give the same absolute times', async () => {
    const v5 = await tsharkFlows(await samplePcap('netflow_v5_example'), [PORT]);
    const v9 = await expectedLines('netflow_v9_example');
    expect(v5.map((r) => [r.start, r.end])).toEqual(
      v9.map((line) => [Number(line['flow_start_ms']), Number(line['flow_end_ms'])]),
    );
  });

  it.each(['netflow_v9_example', 'ipfix_example', 'ipfix_pen_35632', 'issue_13305'])(
    '%s: records, counters and millisecond times agree with Telegraf',
    async (sample) => {
      const records = await tsharkFlows(await samplePcap(sample), [PORT]);
      const expected = await expectedLines(sample);
      expect(records.length).toBeGreaterThan(0);
      expect(records).toHaveLength(expected.length);
      records.forEach((record, i) => {
        const line = expected[i]!;
        const bytes = line['in_bytes'] ?? line['in_total_bytes'];
        const packets = line['in_packets'] ?? line['in_total_packets'];
        expect({
          src: record.srcAddr,
          srcPort: record.srcPort,
          dst: record.dstAddr,
          dstPort: record.dstPort,
          protocol: record.protocol,
          bytes: record.bytes ?? record.totalBytes,
          packets: record.packets ?? record.totalPackets,
          start: record.start,
          end: record.end,
        }).toEqual({
          src: line['src'],
          srcPort: Number(line['src_port']),
          dst: line['dst'],
          dstPort: Number(line['dst_port']),
          protocol: PROTOCOLS[line['protocol']!],
          bytes: Number(bytes),
          packets: Number(packets),
          start: Number(line['flow_start_ms']),
          end: Number(line['flow_end_ms']),
        });
      });
    },
  );

  it('ipfix_example: templates from earlier frames are used, frames are numbered from 1', async () => {
    const records = await tsharkFlows(await samplePcap('ipfix_example'), [PORT]);
    expect(records[0]).toMatchObject({ frame: 3, version: 10, observationDomainId: 0, templateId: 45825 });
    expect(new Set(records.map((r) => r.frame))).toEqual(new Set([3, 5, 6]));
  });

  it('issue_14370: IPv6 addresses in RFC 5952 form; zero flowStart/EndSeconds leave times undefined', async () => {
    const records = await tsharkFlows(await samplePcap('issue_14370'), [PORT]);
    expect(records.map((r) => [r.srcAddr, r.dstAddr, r.bytes, r.start, r.end])).toEqual([
      ['0.0.0.0', '101.104.199.17', 256, undefined, undefined],
      ['::6568:c711:0:0:6568:c711', '2001:db8:0:1::1', 256, undefined, undefined],
    ]);
  });

  it.each(['netflow_v9_options', 'ipfix_options'])(
    '%s: options data records are not flow records',
    async (sample) => {
      expect(await tsharkFlows(await samplePcap(sample), [PORT])).toEqual([]);
    },
  );
});

/** A NetFlow v5 datagram with one record (all other fields zero). */
function v5Datagram(
  header: { uptime: number; secs: number; nsecs: number },
  first: number,
  last: number,
): Uint8Array {
  const bytes = new Uint8Array(24 + 48);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 5);
  view.setUint16(2, 1);
  view.setUint32(4, header.uptime);
  view.setUint32(8, header.secs);
  view.setUint32(12, header.nsecs);
  bytes.set([10, 1, 2, 3, 10, 4, 5, 6], 24); // src, dst
  view.setUint32(24 + 16, 3); // packets
  view.setUint32(24 + 20, 300); // octets
  view.setUint32(24 + 24, first);
  view.setUint32(24 + 28, last);
  view.setUint16(24 + 32, 1234);
  view.setUint16(24 + 34, 80);
  bytes[24 + 38] = 6;
  return bytes;
}

/**
 * A NetFlow v9 datagram with a template (IPv6 src/dst, 8-byte octets and packets, uptime first and
 * last) and one data record.
 */
function v9Datagram(record: {
  src: number[];
  dst: number[];
  octets: bigint;
  first: number;
  last: number;
}): Uint8Array {
  const fields = [
    [27, 16],
    [28, 16],
    [1, 8],
    [2, 8],
    [22, 4],
    [21, 4],
  ] as const;
  const templateLength = 4 + 4 + fields.length * 4;
  const dataLength = 4 + 16 + 16 + 8 + 8 + 4 + 4;
  const bytes = new Uint8Array(20 + templateLength + dataLength);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 9);
  view.setUint16(2, 2); // template + data record
  view.setUint32(4, 5000); // uptime
  view.setUint32(8, 1_700_000_000);
  view.setUint32(16, 7); // source ID
  let at = 20;
  view.setUint16(at, 0);
  view.setUint16(at + 2, templateLength);
  view.setUint16(at + 4, 300);
  view.setUint16(at + 6, fields.length);
  at += 8;
  for (const [type, length] of fields) {
    view.setUint16(at, type);
    view.setUint16(at + 2, length);
    at += 4;
  }
  view.setUint16(at, 300);
  view.setUint16(at + 2, dataLength);
  at += 4;
  bytes.set(record.src, at);
  bytes.set(record.dst, at + 16);
  view.setBigUint64(at + 32, record.octets);
  view.setBigUint64(at + 40, 1n);
  view.setUint32(at + 48, record.first);
  view.setUint32(at + 52, record.last);
  return bytes;
}

describe.skipIf(!hasTshark)('tshark quirks on hand-made datagrams', () => {
  it('v5: uptime-based times are anchored with the header seconds, nanoseconds and uptime', async () => {
    const path = join(workDir, 'v5-anchor.pcap');
    const header = { uptime: 10_000, secs: 1_700_000_000, nsecs: 250_000_000 };
    await writeUdpPcap(path, [{ payload: v5Datagram(header, 0, 1500), dstPort: PORT }]);
    const [record] = await tsharkFlows(path, [PORT]);
    const boot = 1_700_000_000_000 + 250 - 10_000;
    expect(record).toMatchObject({
      srcAddr: '10.1.2.3',
      dstAddr: '10.4.5.6',
      srcPort: 1234,
      dstPort: 80,
      protocol: 6,
      start: boot,
      end: boot + 1500,
    });
  });

  it('v9: an uptime of 0, printed by tshark as the absolute epoch, is anchored at boot', async () => {
    const path = join(workDir, 'v9-uptime-zero.pcap');
    const loopback = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    await writeUdpPcap(path, [
      {
        payload: v9Datagram({ src: loopback, dst: loopback, octets: 10n, first: 0, last: 2500 }),
        dstPort: PORT,
      },
    ]);
    const [record] = await tsharkFlows(path, [PORT]);
    expect(record?.fields['cflow.abstimestart']).toEqual(['Jan  1, 1970 00:00:00.000000000 UTC']);
    const boot = 1_700_000_000_000 - 5000;
    expect(record).toMatchObject({ srcAddr: '::1', start: boot, end: boot + 2500 });
  });

  it('v9: 64-bit counters stay exact, IPv6 is normalised, uptime is anchored with whole-second export time', async () => {
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1];
    const documentation = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const path = join(workDir, 'v9-counters.pcap');
    await writeUdpPcap(path, [
      {
        payload: v9Datagram({
          src: mapped,
          dst: documentation,
          octets: 2n ** 60n + 1n,
          first: 1000,
          last: 4000,
        }),
        dstPort: PORT,
      },
    ]);
    const [record] = await tsharkFlows(path, [PORT]);
    const boot = 1_700_000_000_000 - 5000;
    expect(record).toMatchObject({
      version: 9,
      observationDomainId: 7,
      templateId: 300,
      srcAddr: '::ffff:192.0.2.1',
      dstAddr: '2001:db8::1',
      bytes: 2n ** 60n + 1n,
      packets: 1,
      start: boot + 1000,
      end: boot + 4000,
    });
  });

  it('rejects when tshark cannot read the file', async () => {
    await expect(tsharkFlows(join(workDir, 'missing.pcap'), [PORT])).rejects.toThrow();
  });
});
