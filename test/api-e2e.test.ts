/**
 * End to end through the API: a capture of NetFlow v5 and v9 datagrams is replayed with
 * `flowcast replay` into a running `flowcast serve` (real child processes, loopback only), then
 * traffic, protocols, top talkers and exporters are read back through the HTTP API and compared
 * with what tshark, an independent decoder, reads from the same datagrams.
 *
 * Sources and destinations are few (6 and 3 addresses), fewer than the top-talker ranks kept per
 * interval (10), so the API's top talkers are exact and must equal tshark's per-address sums.
 * Locally the suite skips with a notice when tshark is missing; under CI=true it fails.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeV5, type FieldSpec, v9Datagram } from './support/encoder.js';
import { FlowcastProcess } from './support/flowcast-process.js';
import { writeUdpPcap } from './support/pcap-writer.js';
import { prng } from './support/random.js';
import { requireTool } from './support/tools.js';
import { type TsharkRecord, tsharkAvailable, tsharkFlows, writeTsharkCapture } from './support/tshark.js';

const hasTshark = requireTool('tshark', tsharkAvailable());
const ROOT = resolve(import.meta.dirname, '..');
const EXPORTER = '127.0.0.1';
const SOURCES = ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6'];
const DESTINATIONS = ['192.0.2.10', '192.0.2.20', '198.51.100.7'];
/** IANA protocol numbers and the names flowcast stores them under. */
const PROTOCOLS: readonly [number, string][] = [
  [6, 'tcp'],
  [17, 'udp'],
  [1, 'icmp'],
];
const V9_FIELDS: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 7, length: 2 },
  { id: 11, length: 2 },
  { id: 4, length: 1 },
  { id: 10, length: 2 },
  { id: 14, length: 2 },
  { id: 1, length: 4 },
  { id: 2, length: 4 },
  { id: 22, length: 4 },
  { id: 21, length: 4 },
];

/** The capture: v5 datagrams and v9 datagrams (template in each), flow times just before now. */
function datagrams(now: number): Uint8Array[] {
  const random = prng(2024);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const unixSecs = Math.floor(now / 1000);
  const uptime = 3_600_000;
  const out: Uint8Array[] = [];
  for (let d = 0; d < 8; d++) {
    const records = Array.from({ length: 25 }, () => {
      const [protocol] = pick(PROTOCOLS);
      return {
        srcAddr: pick(SOURCES),
        dstAddr: pick(DESTINATIONS),
        srcPort: protocol === 1 ? 0 : 1024 + Math.floor(random() * 60_000),
        dstPort: protocol === 1 ? 0 : pick([53, 443, 123, 22]),
        protocol,
        input: pick([1, 2]),
        output: 3,
        packets: 1 + Math.floor(random() * 50),
        bytes: 40 + Math.floor(random() * 60_000),
        first: uptime - 5000,
        last: uptime - 1000,
      };
    });
    out.push(encodeV5({ unixSecs, sysUptime: uptime, flowSequence: d * 25, records }));
    out.push(
      v9Datagram({
        unixSecs,
        sysUptime: uptime,
        sequence: d,
        sourceId: 1,
        flowsets: [
          { kind: 'template', templates: [{ id: 300, fields: V9_FIELDS }] },
          {
            kind: 'data',
            id: 300,
            fields: V9_FIELDS,
            records: records
              .slice(0, 10)
              .map((r) => [
                r.srcAddr,
                r.dstAddr,
                r.srcPort,
                r.dstPort,
                r.protocol,
                r.input,
                r.output,
                r.bytes * 3,
                r.packets * 2,
                r.first,
                r.last,
              ]),
          },
        ],
      }),
    );
  }
  return out;
}

/** `flowcast replay` as a user runs it; resolves once it exits 0. */
function replay(file: string, port: number): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWCAST_')));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/flowcast.ts', 'replay', file, '--to', `${EXPORTER}:${port}`, '--rate', '500'],
      { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun();
      else reject(new Error(`flowcast replay exited ${code}: ${stderr}`));
    });
  });
}

const value = (r: TsharkRecord, field: string) => Number(r.fields[field]?.[0]);

function sumBy(records: readonly TsharkRecord[], key: (r: TsharkRecord) => string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const r of records) sums[key(r)] = (sums[key(r)] ?? 0) + Number(r.bytes);
  return sums;
}

describe.skipIf(!hasTshark)('end to end: flowcast replay → flowcast serve → HTTP API, against tshark', () => {
  let work = '';
  let fc: FlowcastProcess | undefined;
  let records: TsharkRecord[] = [];
  let sent = 0;
  const started = Date.now();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'flowcast-api-e2e-'));
    const payloads = datagrams(started);
    sent = payloads.length;
    const specs = payloads.map((payload, i) => ({
      payload,
      srcAddr: EXPORTER,
      dstPort: 2055,
      timestamp: started + i,
    }));
    await writeUdpPcap(join(work, 'replay.pcap'), specs);
    await writeTsharkCapture(join(work, 'tshark.pcap'), specs);
    records = await tsharkFlows(join(work, 'tshark.pcap'), [2055]);
    expect(records).toHaveLength(8 * 25 + 8 * 10);

    fc = await FlowcastProcess.start({ dataDir: join(work, 'data'), rollupInterval: 1 });
    await replay(join(work, 'replay.pcap'), fc.netflowPort);
    const settled = (m: Awaited<ReturnType<FlowcastProcess['metrics']>>) =>
      m.value('flowcast_packets_received_total') === sent &&
      m.value('flowcast_rollup_records_total') === records.length &&
      m.value('flowcast_rollup_open_windows') === 0 &&
      m.value('flowcast_rollup_points_total') > 0 &&
      m.value('flowcast_store_points_written_total') === m.value('flowcast_rollup_points_total');
    await fc.waitForMetrics('every record rolled up and written', settled, 20_000);
  }, 60_000);

  afterAll(async () => {
    await fc?.stop();
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  async function api(path: string) {
    const res = await fetch(`http://127.0.0.1:${fc!.httpPort}${path}`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status, path).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
    return (await res.json()) as any;
  }
  const range = () => `from=${Math.floor(started / 1000) - 3600}&to=${Math.ceil(Date.now() / 1000) + 3600}`;

  it('traffic per interface and direction equals tshark sums per input and output interface', async () => {
    const byInput = sumBy(records, (r) => String(value(r, 'cflow.inputint')));
    const byOutput = sumBy(records, (r) => String(value(r, 'cflow.outputint')));
    expect(Object.keys(byInput).sort()).toEqual(['1', '2']);
    for (const [ifIndex, bytes] of Object.entries(byInput)) {
      const t = await api(
        `/api/v1/traffic?exporter=${EXPORTER}&ifIndex=${ifIndex}&direction=in&step=86400&${range()}`,
      );
      expect(
        t.samples.reduce((n: number, s: { bytes: number }) => n + s.bytes, 0),
        `in on ${ifIndex}`,
      ).toBe(bytes);
    }
    const out = await api(
      `/api/v1/traffic?exporter=${EXPORTER}&ifIndex=3&direction=out&step=86400&${range()}`,
    );
    expect(out.samples.reduce((n: number, s: { bytes: number }) => n + s.bytes, 0)).toBe(byOutput['3']);
    const packets = records.reduce((n, r) => n + Number(r.packets), 0);
    expect(out.samples.reduce((n: number, s: { packets: number }) => n + s.packets, 0)).toBe(packets);
  });

  it('protocols equal tshark sums per protocol number', async () => {
    const expected = sumBy(records, (r) => PROTOCOLS.find(([n]) => n === r.protocol)?.[1] ?? 'other');
    const p = await api(`/api/v1/protocols?exporter=${EXPORTER}&${range()}`);
    const got: Record<string, number> = {};
    for (const row of p.protocols as { protocol: string; bytes: number }[]) {
      got[row.protocol] = (got[row.protocol] ?? 0) + row.bytes;
    }
    expect(got).toEqual(expected);
    const flows = (p.protocols as { flows: number }[]).reduce((n, row) => n + row.flows, 0);
    expect(flows).toBe(records.length);
  });

  it('top talkers equal tshark sums per source and per destination address', async () => {
    for (const [side, key] of [
      ['src', (r: TsharkRecord) => r.srcAddr ?? '?'],
      ['dst', (r: TsharkRecord) => r.dstAddr ?? '?'],
    ] as const) {
      const expected = sumBy(records, key);
      const top = await api(`/api/v1/top?side=${side}&exporter=${EXPORTER}&limit=1000&${range()}`);
      const got = Object.fromEntries(
        (top.talkers as { addr: string; bytes: number }[]).map((t) => [t.addr, t.bytes]),
      );
      expect(got, side).toEqual(expected);
      const ranked = (top.talkers as { bytes: number }[]).map((t) => t.bytes);
      expect(ranked).toEqual([...ranked].sort((a, b) => b - a));
    }
  });

  it('shows the exporter, its versions and counts, and its v9 template', async () => {
    const { exporters } = await api('/api/v1/exporters');
    expect(exporters).toHaveLength(1);
    expect(exporters[0]).toMatchObject({
      address: EXPORTER,
      live: true,
      versions: [5, 9],
      packets: sent,
      records: records.length,
    });
    const { templates } = await api(`/api/v1/exporters/${EXPORTER}/templates`);
    expect(
      templates.map((t: { templateId: number; fields: unknown[] }) => [t.templateId, t.fields.length]),
    ).toEqual([[300, 11]]);
    const health = await api('/api/v1/health');
    expect(health.status).toBe('ok');
    expect(health.exporters.lastDatagram[0].exporter).toBe(EXPORTER);
  });
});
