/**
 * Builds the attack-detection evaluation traces: flow exports (NetFlow v9 datagrams in pcap files,
 * gzipped) with a manifest of what was injected when. Run as root (raw sockets, capture):
 *
 *   npx tsx scripts/detect-traces.ts [OUTDIR]        (default test/fixtures/detect)
 *   npx tsx scripts/detect-traces.ts --synthetic-only [OUTDIR]
 *
 * Loopback traces (needs softflowd, tcpdump, hping3, nmap from Debian): tcpdump captures `lo`
 * while the attacks run, then softflowd exports the capture as NetFlow v9 one second at a time,
 * each second's datagrams stamped with that second's end (an exporter with one-second timeouts).
 * The attacks: hping3 SYN and UDP floods with fixed packet counts, nmap SYN scans
 * (vertical, horizontal across 127.0.2.0/24, and block), and benign traffic (HTTP requests to a
 * local server, DNS-like UDP exchanges). Each attack comes from its own loopback source so that
 * episodes cannot merge. Nothing leaves the loopback interface: every address is in 127.0.0.0/8.
 * Only packets to or from the scenario's targets (127.0.1.0/24, 127.0.2.0/24, 127.0.3.0/24) are
 * captured, so other programs' loopback traffic stays out of the traces.
 *
 * Synthetic traces (seeded, from the test encoder) show what loopback cannot: many real-looking
 * sources, amplification source ports, a sampled exporter, and a host ten times above its own
 * baseline while under the static thresholds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { readUdpDatagrams } from '../common/pcap.js';
import { type FieldSpec, v9Datagram } from '../test/support/encoder.js';
import { udpPcap } from '../test/support/pcap-writer.js';
import { prng } from '../test/support/random.js';
import { exportWithSoftflowd } from '../test/support/softflowd.js';
import { findExecutable } from '../test/support/tools.js';

/** One injected attack: what a detector should report, and when it ran (Unix ms, capture clock). */
export interface InjectedAttack {
  /** syn_flood, udp_flood, vertical_scan, horizontal_scan, block_scan, amplification, ... */
  readonly type: string;
  /** The anomaly kind that counts as finding it. */
  readonly kind: 'ddos' | 'syn_flood' | 'scan';
  /** The attacked host (floods) or the scanning source (scans). */
  readonly subject: string;
  readonly start: number;
  readonly end: number;
  readonly detail: string;
}

export interface TraceManifest {
  readonly name: string;
  /** The pcap.gz of NetFlow v9 export datagrams, beside the manifest. */
  readonly file: string;
  readonly origin: 'loopback' | 'synthetic';
  readonly description: string;
  readonly attacks: readonly InjectedAttack[];
  /** The exporter's packet sampling (1: unsampled); a collector configured by hand needs it. */
  readonly samplingRate?: number;
}

const run = (cmd: string, args: string[]): Promise<number> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolvePromise(code ?? -1));
  });

function need(name: string): string {
  const path = findExecutable(name);
  if (path === undefined) throw new Error(`${name} is not installed (apt-get install ${name})`);
  return path;
}

/**
 * Splits a classic pcap (as tcpdump writes it) into files of `sliceMs` of capture each; returns
 * their paths and end times (Unix ms). Empty slices are skipped.
 */
async function slicePcap(
  bytes: Uint8Array,
  sliceMs: number,
  dir: string,
): Promise<{ path: string; end: number }[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== 0xa1b2c3d4)
    throw new Error(`not a little-endian microsecond pcap (magic ${magic.toString(16)})`);
  const header = bytes.subarray(0, 24);
  const slices = new Map<number, Uint8Array[]>();
  let first: number | undefined;
  for (let at = 24; at + 16 <= bytes.length; ) {
    const time = view.getUint32(at, true) * 1000 + view.getUint32(at + 4, true) / 1000;
    const length = view.getUint32(at + 8, true);
    first ??= time;
    const index = Math.floor((time - first) / sliceMs);
    const list = slices.get(index) ?? [];
    list.push(bytes.subarray(at, at + 16 + length));
    slices.set(index, list);
    at += 16 + length;
  }
  const out = [];
  for (const [index, records] of [...slices].sort((x, y) => x[0] - y[0])) {
    const path = join(dir, `slice-${index}.pcap`);
    await writeFile(path, Buffer.concat([header, ...records]));
    out.push({ path, end: (first ?? 0) + (index + 1) * sliceMs });
  }
  return out;
}

/**
 * tcpdump captures the scenario's packets on lo while `body` runs; then softflowd exports the
 * capture one second at a time (offline, `-r`), and each second's export datagrams are stamped
 * with the end of that second: an exporter with one-second active and inactive timeouts.
 * softflowd watching lo live is no good here: libpcap hands it packets only when a ring block
 * fills, so a short scan's flows waited 20 s or for the next attack (observed with 1.1.0).
 */
async function captureLoopback(work: string, name: string, body: () => Promise<InjectedAttack[]>) {
  const raw = join(work, `${name}-raw.pcap`);
  const tcpdump = spawn(
    need('tcpdump'),
    ['-i', 'lo', '-U', '-s', '128', '-w', raw, '(net 127.0.1.0/24 or net 127.0.2.0/24 or net 127.0.3.0/24)'],
    { stdio: 'ignore' },
  );
  await sleep(1500);
  const attacks = await body();
  await sleep(3000);
  await stop(tcpdump, 'SIGINT');
  const slices = await slicePcap(await readFile(raw), 1000, work);
  const datagrams: {
    payload: Uint8Array;
    timestamp: number;
    srcAddr: string;
    dstAddr: string;
    dstPort: number;
  }[] = [];
  for (const slice of slices) {
    const exported = await exportWithSoftflowd(9, slice.path, { quietMs: 50 });
    for (const [i, d] of exported.entries()) {
      datagrams.push({
        payload: d.payload,
        timestamp: slice.end + i * 0.01,
        srcAddr: '127.0.0.1',
        dstAddr: '127.0.0.1',
        dstPort: 2055,
      });
    }
    await rm(slice.path);
  }
  const pcap = join(work, `${name}.pcap`);
  await writeFile(pcap, udpPcap(datagrams));
  return { pcap, attacks };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

async function timed(
  type: string,
  kind: InjectedAttack['kind'],
  subject: string,
  detail: string,
  cmd: string,
  args: string[],
): Promise<InjectedAttack> {
  const start = Date.now();
  const code = await run(cmd, args);
  if (code !== 0) throw new Error(`${detail}: exit ${code}`);
  return { type, kind, subject, start, end: Date.now(), detail };
}

const GAP_MS = 20_000;

async function floods(proto: 'syn' | 'udp'): Promise<InjectedAttack[]> {
  const hping3 = need('hping3');
  const runs = [
    { src: '127.0.0.21', dst: '127.0.1.1', port: 80, interval: 'u300' },
    { src: '127.0.0.22', dst: '127.0.1.2', port: 443, interval: 'u250' },
    { src: '127.0.0.23', dst: '127.0.1.3', port: proto === 'syn' ? 22 : 5353, interval: 'u350' },
  ];
  const out: InjectedAttack[] = [];
  for (const r of runs) {
    const args = [
      '-q',
      ...(proto === 'syn' ? ['-S'] : ['--udp']),
      '-p',
      String(r.port),
      '-c',
      '30000',
      '-i',
      r.interval,
      '-a',
      r.src,
      r.dst,
    ];
    const detail = `hping3 ${args.join(' ')}`;
    out.push(
      await timed(`${proto}_flood`, proto === 'syn' ? 'syn_flood' : 'ddos', r.dst, detail, hping3, args),
    );
    await sleep(GAP_MS);
  }
  return out;
}

async function scans(shape: 'vertical' | 'horizontal' | 'block'): Promise<InjectedAttack[]> {
  const nmap = need('nmap');
  const runs =
    shape === 'vertical'
      ? [
          ['127.0.0.11', '1-1000', '127.0.1.20'],
          ['127.0.0.12', '1000-1600', '127.0.1.21'],
          ['127.0.0.13', '1-400', '127.0.1.22'],
        ]
      : shape === 'horizontal'
        ? [
            ['127.0.0.14', '80', '127.0.2.1-254'],
            ['127.0.0.15', '22', '127.0.2.1-254'],
            ['127.0.0.16', '443', '127.0.2.1-254'],
          ]
        : [
            ['127.0.0.17', '1-50', '127.0.3.1-10'],
            ['127.0.0.18', '100-140', '127.0.3.11-20'],
            ['127.0.0.19', '20-60', '127.0.3.21-30'],
          ];
  const out: InjectedAttack[] = [];
  for (const [src, ports, targets] of runs as [string, string, string][]) {
    const args = ['-sS', '-Pn', '-n', '--max-retries', '0', '-e', 'lo', '-S', src, '-p', ports, targets];
    out.push(await timed(`${shape}_scan`, 'scan', src, `nmap ${args.join(' ')}`, nmap, args));
    await sleep(GAP_MS);
  }
  return out;
}

/** Benign: HTTP requests (connection per request) to a local server, and DNS-like UDP exchanges. */
async function benign(seconds: number): Promise<InjectedAttack[]> {
  const http = createServer((_req, res) => res.end('x'.repeat(2000)));
  await new Promise<void>((r) => http.listen(8080, '127.0.1.10', () => r()));
  const dns = createSocket('udp4');
  dns.on('message', (msg, rinfo) => dns.send(msg, rinfo.port, rinfo.address));
  await new Promise<void>((r) => dns.bind(5353, '127.0.1.11', () => r()));
  const clients = Array.from({ length: 40 }, () => createSocket('udp4'));
  const deadline = Date.now() + seconds * 1000;
  const random = prng(5);
  const web = async () => {
    while (Date.now() < deadline) {
      await new Promise<void>((r) => {
        const req = request({ host: '127.0.1.10', port: 8080, path: '/', agent: false }, (res) => {
          res.resume();
          res.on('end', () => r());
        });
        req.on('error', () => r());
        req.end();
      });
      await sleep(40 + random() * 40);
    }
  };
  const queries = async () => {
    while (Date.now() < deadline) {
      for (const c of clients) c.send(Buffer.alloc(40 + Math.floor(random() * 60)), 5353, '127.0.1.11');
      await sleep(50);
    }
  };
  await Promise.all([...Array.from({ length: 8 }, web), queries()]);
  for (const c of clients) c.close();
  dns.close();
  await new Promise<void>((r) => http.close(() => r()));
  return [];
}

// ---------------------------------------------------------------------------------------------
// Synthetic traces
// ---------------------------------------------------------------------------------------------

const FIELDS: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 7, length: 2 },
  { id: 11, length: 2 },
  { id: 4, length: 1 },
  { id: 6, length: 1 },
  { id: 2, length: 4 },
  { id: 1, length: 4 },
  { id: 34, length: 4 }, // samplingInterval
];
type Row = [string, string, number, number, number, number, number, number, number];

/**
 * A synthetic export: `perSecond(t)` gives the flow records of second t; they are sent in
 * datagrams of 30 records, spread over the second, with a template every 20 datagrams.
 */
function synthesize(start: number, seconds: number, perSecond: (t: number) => Row[]): Uint8Array {
  const datagrams: {
    payload: Uint8Array;
    timestamp: number;
    srcAddr: string;
    dstAddr: string;
    dstPort: number;
  }[] = [];
  let sequence = 0;
  for (let t = 0; t < seconds; t++) {
    const rows = perSecond(t);
    const chunks = Math.max(1, Math.ceil(rows.length / 30));
    for (let c = 0; c < chunks; c++) {
      const records = rows.slice(c * 30, (c + 1) * 30);
      const flowsets = [];
      if (sequence % 20 === 0)
        flowsets.push({ kind: 'template' as const, templates: [{ id: 256, fields: FIELDS }] });
      if (records.length > 0) flowsets.push({ kind: 'data' as const, id: 256, fields: FIELDS, records });
      const timestamp = start + t * 1000 + Math.floor((c * 1000) / chunks);
      datagrams.push({
        payload: v9Datagram({
          sysUptime: t * 1000,
          unixSecs: Math.floor(timestamp / 1000),
          sequence: sequence++,
          flowsets,
        }),
        timestamp,
        srcAddr: '192.0.2.1',
        dstAddr: '127.0.0.1',
        dstPort: 2055,
      });
    }
  }
  return udpPcap(datagrams);
}

const ip4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const SYN = 0x02;
const ACK_PSH_FIN = 0x19;

/** Benign background towards 10.10.0.0/24: clients to servers with complete TCP, DNS, NTP. */
function background(random: () => number, t: number, scale = 1): Row[] {
  const rows: Row[] = [];
  // A slow swing (±40 % over two minutes) and noise.
  const n = Math.round(scale * 60 * (1 + 0.4 * Math.sin((2 * Math.PI * t) / 120)) * (0.8 + 0.4 * random()));
  for (let i = 0; i < n; i++) {
    const client = ip4(0xc633_6400 + Math.floor(random() * 4000));
    const server = `10.10.0.${10 + Math.floor(random() * 20)}`;
    const packets = 2 + Math.floor(random() * 10);
    if (random() < 0.8) {
      rows.push([
        client,
        server,
        30000 + Math.floor(random() * 30000),
        443,
        6,
        ACK_PSH_FIN | SYN,
        packets,
        packets * 700,
        1,
      ]);
      rows.push([
        server,
        client,
        443,
        30000 + Math.floor(random() * 30000),
        6,
        ACK_PSH_FIN | SYN,
        packets,
        packets * 900,
        1,
      ]);
    } else {
      rows.push([client, server, 30000 + Math.floor(random() * 30000), 53, 17, 0, 1, 70, 1]);
    }
  }
  return rows;
}

function syntheticTraces(
  start: number,
): { name: string; bytes: Uint8Array; manifest: Omit<TraceManifest, 'file'> }[] {
  const out: { name: string; bytes: Uint8Array; manifest: Omit<TraceManifest, 'file'> }[] = [];
  {
    // SYN floods from tens of thousands of spoofed, real-looking sources.
    const random = prng(101);
    const attacks: InjectedAttack[] = [];
    const windows = [
      { from: 10, to: 20, dst: '10.10.0.101', pps: 2500 },
      { from: 50, to: 60, dst: '10.10.0.102', pps: 1800 },
      { from: 90, to: 96, dst: '10.10.0.103', pps: 4000 },
    ];
    for (const w of windows)
      attacks.push({
        type: 'syn_flood_spoofed',
        kind: 'syn_flood',
        subject: w.dst,
        start: start + w.from * 1000,
        end: start + w.to * 1000,
        detail: `${w.pps} SYN/s from random sources, synthetic`,
      });
    const bytes = synthesize(start, 120, (t) => {
      const rows = background(random, t);
      for (const w of windows)
        if (t >= w.from && t < w.to)
          for (let i = 0; i < w.pps; i++)
            rows.push([
              ip4(0x0100_0000 + Math.floor(random() * 0xdf00_0000)),
              w.dst,
              1024 + Math.floor(random() * 64000),
              80,
              6,
              SYN,
              1,
              60,
              1,
            ]);
      return rows;
    });
    out.push({
      name: 'synthetic-syn-spoofed',
      bytes,
      manifest: {
        name: 'synthetic-syn-spoofed',
        origin: 'synthetic',
        description: 'SYN floods from random spoofed sources over benign background',
        attacks,
      },
    });
  }
  {
    // Reflection/amplification: UDP from source ports 53, 123, 11211 of thousands of reflectors.
    const random = prng(102);
    const windows = [
      { from: 10, to: 25, dst: '10.10.0.111', port: 53, pps: 4000 },
      { from: 50, to: 60, dst: '10.10.0.112', port: 123, pps: 2500 },
      { from: 85, to: 100, dst: '10.10.0.113', port: 11211, pps: 8000 },
    ];
    const attacks = windows.map(
      (w): InjectedAttack => ({
        type: 'amplification',
        kind: 'ddos',
        subject: w.dst,
        start: start + w.from * 1000,
        end: start + w.to * 1000,
        detail: `${w.pps} pps UDP from source port ${w.port}, 3000 reflectors, synthetic`,
      }),
    );
    const reflectors = Array.from({ length: 3000 }, () =>
      ip4(0x2000_0000 + Math.floor(random() * 0x4000_0000)),
    );
    const bytes = synthesize(start, 120, (t) => {
      const rows = background(random, t);
      for (const w of windows)
        if (t >= w.from && t < w.to)
          for (let i = 0; i < w.pps / 10; i++)
            rows.push([
              reflectors[Math.floor(random() * reflectors.length)]!,
              w.dst,
              w.port,
              1024 + Math.floor(random() * 64000),
              17,
              0,
              10,
              10 * 1400,
              1,
            ]);
      return rows;
    });
    out.push({
      name: 'synthetic-amplification',
      bytes,
      manifest: {
        name: 'synthetic-amplification',
        origin: 'synthetic',
        description: 'DNS, NTP and memcached reflection over benign background',
        attacks,
      },
    });
  }
  {
    // A sampled exporter (1:1000): each record stands for a thousand packets.
    const random = prng(103);
    const windows = [
      { from: 10, to: 25, dst: '10.10.0.121', recs: 8 },
      { from: 50, to: 62, dst: '10.10.0.122', recs: 4 },
      { from: 90, to: 100, dst: '10.10.0.123', recs: 15 },
    ];
    const attacks = windows.map(
      (w): InjectedAttack => ({
        type: 'udp_flood_sampled',
        kind: 'ddos',
        subject: w.dst,
        start: start + w.from * 1000,
        end: start + w.to * 1000,
        detail: `${w.recs * 1000} pps UDP seen through 1:1000 sampling, synthetic`,
      }),
    );
    const bytes = synthesize(start, 120, (t) => {
      // Packet sampling leaves mostly one-packet records: the background is about 4 000 pps
      // over 20 servers, 4 sampled packets a second.
      const rows: Row[] = [];
      for (let i = 0; i < 4; i++)
        rows.push([
          ip4(0xc633_6400 + Math.floor(random() * 4000)),
          `10.10.0.${10 + Math.floor(random() * 20)}`,
          40000,
          443,
          6,
          0x18,
          1,
          1000,
          1000,
        ]);
      for (const w of windows)
        if (t >= w.from && t < w.to)
          for (let i = 0; i < w.recs; i++)
            rows.push([
              ip4(0x2100_0000 + Math.floor(random() * 0x0100_0000)),
              w.dst,
              40000,
              9999,
              17,
              0,
              1,
              512,
              1000,
            ]);
      return rows;
    });
    out.push({
      name: 'synthetic-sampled',
      bytes,
      manifest: {
        name: 'synthetic-sampled',
        origin: 'synthetic',
        description: 'UDP floods through a 1:1000 sampled exporter (samplingInterval in every record)',
        samplingRate: 1000,
        attacks,
      },
    });
  }
  {
    // A host ten times above its own baseline, under every static threshold.
    const random = prng(104);
    const windows = [
      { from: 150, to: 170, dst: '10.10.0.131' },
      { from: 210, to: 225, dst: '10.10.0.132' },
    ];
    const attacks = windows.map(
      (w): InjectedAttack => ({
        type: 'baseline_surge',
        kind: 'ddos',
        subject: w.dst,
        start: start + w.from * 1000,
        end: start + w.to * 1000,
        detail: "TCP ACK/PSH packets at 12x the host's own 80 pps, under every static threshold, synthetic",
      }),
    );
    const bytes = synthesize(start, 250, (t) => {
      const rows = background(random, t);
      for (const w of windows) {
        const surge = t >= w.from && t < w.to;
        // Normally 80 pps (16 flows of 5 packets); 950 pps (about 12x) in the surge.
        const flows = surge ? 190 : 16;
        for (let i = 0; i < flows; i++)
          rows.push([
            ip4(0x0800_0000 + Math.floor(random() * 0x0100_0000)),
            w.dst,
            1024 + Math.floor(random() * 64000),
            8443,
            6,
            0x18,
            5,
            5 * 600,
            1,
          ]);
      }
      return rows;
    });
    out.push({
      name: 'synthetic-baseline',
      bytes,
      manifest: {
        name: 'synthetic-baseline',
        origin: 'synthetic',
        description: 'two hosts surging to 12x their own rate while staying under the static thresholds',
        attacks,
      },
    });
  }
  {
    // Benign only: background with a flash crowd (3x on one server) and a busy resolver.
    const random = prng(105);
    const bytes = synthesize(start, 240, (t) => {
      const rows = background(random, t, t >= 120 && t < 150 ? 3 : 1);
      for (let i = 0; i < 100; i++)
        rows.push([
          '10.10.0.53',
          ip4(0xc000_0000 + Math.floor(random() * 0x1000_0000)),
          30000 + i,
          53,
          17,
          0,
          1,
          80,
          1,
        ]);
      return rows;
    });
    out.push({
      name: 'synthetic-benign',
      bytes,
      manifest: {
        name: 'synthetic-benign',
        origin: 'synthetic',
        description:
          'four minutes of benign traffic with a 3x flash crowd and a resolver asking 100 servers/s',
        attacks: [],
      },
    });
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const syntheticOnly = args.includes('--synthetic-only');
  const outDir = resolve(args.find((a) => !a.startsWith('--')) ?? 'test/fixtures/detect');
  await mkdir(outDir, { recursive: true });
  const manifestPath = join(outDir, 'manifest.json');
  const previous = JSON.parse(await readFile(manifestPath, 'utf8').catch(() => '{"traces":[]}')) as {
    traces: TraceManifest[];
  };
  const traces = new Map(previous.traces.map((t) => [t.name, t]));

  for (const s of syntheticTraces(Date.UTC(2026, 0, 1))) {
    const file = `${s.name}.pcap.gz`;
    await writeFile(join(outDir, file), gzipSync(s.bytes, { level: 9 }));
    traces.set(s.name, { ...s.manifest, file });
    console.log(`${file}: ${s.manifest.attacks.length} attacks`);
  }

  if (!syntheticOnly) {
    if (process.getuid?.() !== 0) throw new Error('loopback traces need root (raw sockets and capture)');
    const work = await mkdtemp(join(tmpdir(), 'flowcast-traces-'));
    const scenarios: Array<[string, string, () => Promise<InjectedAttack[]>]> = [
      ['loopback-syn-flood', 'hping3 SYN floods, 30 000 packets each, three targets', () => floods('syn')],
      ['loopback-udp-flood', 'hping3 UDP floods, 30 000 packets each, three targets', () => floods('udp')],
      ['loopback-vertical-scan', 'nmap SYN scans of many ports of one host', () => scans('vertical')],
      [
        'loopback-horizontal-scan',
        'nmap SYN sweeps of one port across 127.0.2.1-254',
        () => scans('horizontal'),
      ],
      ['loopback-block-scan', 'nmap SYN scans of tens of ports on ten hosts', () => scans('block')],
      [
        'loopback-benign',
        'HTTP requests (one connection each) to a local server and DNS-like UDP exchanges, 60 s',
        () => benign(60),
      ],
    ];
    for (const [name, description, body] of scenarios) {
      const { pcap, attacks } = await captureLoopback(work, name, body);
      const bytes = await readFile(pcap);
      const { datagrams } = readUdpDatagrams(bytes);
      const file = `${name}.pcap.gz`;
      await writeFile(join(outDir, file), gzipSync(bytes, { level: 9 }));
      traces.set(name, { name, file, origin: 'loopback', description, attacks });
      console.log(`${file}: ${datagrams.length} export datagrams, ${attacks.length} attacks`);
    }
    await rm(work, { recursive: true, force: true });
  }
  const ordered = [...traces.values()].sort((a, b) => a.name.localeCompare(b.name));
  await writeFile(
    manifestPath,
    `${JSON.stringify({ generator: 'scripts/detect-traces.ts', traces: ordered }, null, 2)}\n`,
  );
}

await main();
