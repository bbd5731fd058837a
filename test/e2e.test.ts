/**
 * End to end, with real processes on loopback: softflowd (a real exporter) → `flowcast serve` (a
 * child process) → InfluxDB 1.6.7 (a real influxd) or the embedded DuckDB store; tshark decodes
 * the same datagrams independently and is the oracle for what must be stored.
 *
 * softflowd exports a generated capture as NetFlow v5, v9 and IPFIX (`-a`: capture-time flow
 * times, long past, so the rollup adds every record to the current window and counts it late).
 * Each version is sent from its own loopback address (127.0.0.5, 127.0.0.9, 127.0.0.10), so the
 * collector sees three exporters and every stored sum can be checked per version: the bytes,
 * packets and flows of `traffic_protocol` per exporter must equal, exactly, the sums over
 * tshark's records of that version's datagrams (samplingRate is 1 for softflowd).
 *
 * Outage and restart behaviour (docs/operations.md: an InfluxDB outage or a collector restart loses
 * no rollup) is checked by stopping influxd mid-stream, and by SIGKILLing a collector whose points
 * sit in the durable spool and starting another on the same data directory.
 *
 * Locally the suites skip with a notice when tshark, softflowd or influxd is missing; under
 * CI=true they fail instead (test/support/tools.ts).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../storage/embedded/embedded-store.js';
import type { Row } from '../storage/store.js';
import {
  type FlowcastOptions,
  FlowcastProcess,
  type Metrics,
  UdpExporter,
} from './support/flowcast-process.js';
import { Influxd, influxdAvailable } from './support/influxd.js';
import { exportWithSoftflowd, generateTrafficPcap, softflowdAvailable } from './support/softflowd.js';
import { requireTool } from './support/tools.js';
import { tsharkAvailable, tsharkFlows, writeTsharkCapture } from './support/tshark.js';

const hasTshark = requireTool('tshark', tsharkAvailable());
const hasSoftflowd = requireTool('softflowd', softflowdAvailable());
const hasInfluxd = influxdAvailable();

/** Seconds per rollup window: short, so windows are emitted within a few seconds. */
const ROLLUP_INTERVAL = 1;
const DATABASE = 'flowcast';
/** Measurements the rollup writes, with a field every one of their points carries. */
const MEASUREMENTS = [
  ['traffic', 'bytes'],
  ['traffic_protocol', 'bytes'],
  ['top_talkers', 'bytes'],
  ['collector', 'packets'],
] as const;

type Version = 5 | 9 | 10;

/** One version's export: what softflowd sent, and what tshark says it holds. */
interface Export {
  readonly version: Version;
  /** The loopback address it is sent from: the exporter the collector names it by. */
  readonly exporter: string;
  readonly datagrams: readonly Uint8Array[];
  /** Sums over tshark's flow records of these datagrams. */
  readonly expected: Totals;
}

/** Traffic sums, exact. */
interface Totals {
  bytes: bigint;
  packets: bigint;
  flows: bigint;
}

type ByExporter = Record<string, Totals>;

const exports: Export[] = [];

/** Clean-up steps of the running test, run in reverse order after it, pass or fail. */
let cleanup: (() => unknown)[] = [];
const defer = (step: () => unknown) => cleanup.push(step);

afterEach(async () => {
  const steps = cleanup.reverse();
  cleanup = [];
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'clean-up failed');
});

/** A temporary directory removed after the test. */
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startFlowcast(options: FlowcastOptions): Promise<FlowcastProcess> {
  const fc = await FlowcastProcess.start(options);
  defer(() => fc.kill());
  return fc;
}

async function launchInfluxd(): Promise<Influxd> {
  const influxd = await Influxd.launch();
  defer(() => influxd.destroy());
  return influxd;
}

/** One exporter socket per version, on its own loopback address. */
async function openExporters(): Promise<Map<Version, UdpExporter>> {
  const sockets = new Map<Version, UdpExporter>();
  for (const e of exports) {
    const socket = await UdpExporter.open(e.exporter);
    defer(() => socket.close());
    sockets.set(e.version, socket);
  }
  return sockets;
}

/** Sends `part(e)` of each version's datagrams; IPFIX to the IPFIX port, NetFlow to the NetFlow port. */
async function send(
  fc: FlowcastProcess,
  sockets: Map<Version, UdpExporter>,
  part: (e: Export) => readonly Uint8Array[],
): Promise<number> {
  let sent = 0;
  for (const e of exports) {
    const datagrams = part(e);
    await sockets.get(e.version)!.send(datagrams, e.version === 10 ? fc.ipfixPort : fc.netflowPort);
    sent += datagrams.length;
  }
  return sent;
}

const firstHalf = (e: Export) => e.datagrams.slice(0, Math.ceil(e.datagrams.length / 2));
const secondHalf = (e: Export) => e.datagrams.slice(Math.ceil(e.datagrams.length / 2));
const everything = (e: Export) => e.datagrams;

const totalDatagrams = () => exports.reduce((n, e) => n + e.datagrams.length, 0);
const totalRecords = () => exports.reduce((n, e) => n + Number(e.expected.flows), 0);

function expectedByExporter(): ByExporter {
  return Object.fromEntries(exports.map((e) => [e.exporter, e.expected]));
}

/** Waits until the collector decoded `datagrams` datagrams in all (and the rollup saw their records). */
function waitForDatagrams(fc: FlowcastProcess, datagrams: number, records?: number): Promise<Metrics> {
  return fc.waitForMetrics(
    `${datagrams} datagrams decoded`,
    (m) =>
      m.value('flowcast_packets_received_total') === datagrams &&
      (records === undefined || m.value('flowcast_rollup_records_total') === records),
    15_000,
  );
}

/**
 * Waits until every record is rolled up, every window emitted and every emitted point written (no
 * spool, nothing queued), then checks that nothing more is emitted over another interval: from
 * there on, SIGTERM adds no point, so this scrape's counters are the run's final ones.
 */
async function waitUntilSettled(fc: FlowcastProcess, timeoutMs: number): Promise<Metrics> {
  const records = totalRecords();
  const settled = (m: Metrics) =>
    m.value('flowcast_rollup_records_total') === records &&
    m.value('flowcast_rollup_open_windows') === 0 &&
    m.value('flowcast_store_spool_points') === 0 &&
    m.value('flowcast_rollup_points_total') > 0 &&
    m.value('flowcast_store_points_written_total') + m.value('flowcast_store_points_rejected_total') ===
      m.value('flowcast_rollup_points_total');
  const first = await fc.waitForMetrics('every point emitted and written', settled, timeoutMs);
  await sleep(ROLLUP_INTERVAL * 1000 + 500);
  const again = await fc.metrics();
  expect(settled(again)).toBe(true);
  expect(again.value('flowcast_rollup_points_total')).toBe(first.value('flowcast_rollup_points_total'));
  return again;
}

/** SIGTERM, and check the process stopped cleanly. */
async function stopCleanly(fc: FlowcastProcess): Promise<void> {
  const exit = await fc.stop();
  expect(exit, fc.output()).toEqual({ code: 0, signal: null });
  expect(fc.logged('stopped')).toBe(true);
}

/** An InfluxDB integer from a query answer, as a bigint (refusing anything that lost precision). */
function exact(value: unknown): bigint {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new Error(`not an exact integer: ${String(value)}`);
  }
  return BigInt(value);
}

/** One InfluxQL statement's series; throws on an error answer. */
async function select(influxd: Influxd, q: string) {
  const answer = await influxd.query(DATABASE, q);
  const result = answer.results?.[0];
  if (answer.error !== undefined || result === undefined || result.error !== undefined) {
    throw new Error(`${q}: ${answer.error ?? result?.error ?? 'no result'}`);
  }
  return result.series ?? [];
}

/** Sums of traffic_protocol per exporter, from InfluxDB. */
async function influxTotals(influxd: Influxd): Promise<ByExporter> {
  const series = await select(
    influxd,
    'SELECT sum("bytes"), sum("packets"), sum("flows") FROM "traffic_protocol" GROUP BY "exporter"',
  );
  const totals: ByExporter = {};
  for (const s of series) {
    const [row] = s.values;
    const column = (name: string) => row?.[s.columns.indexOf(name)];
    totals[s.tags?.['exporter'] ?? '?'] = {
      bytes: exact(column('sum')),
      packets: exact(column('sum_1')),
      flows: exact(column('sum_2')),
    };
  }
  return totals;
}

/** Points per measurement in InfluxDB. */
async function influxCounts(influxd: Influxd): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [measurement, field] of MEASUREMENTS) {
    const series = await select(influxd, `SELECT count("${field}") FROM "${measurement}"`);
    counts[measurement] = Number(exact(series[0]?.values[0]?.[1] ?? 0));
  }
  return counts;
}

/** The sum of `collector` packets (datagrams) per exporter, from InfluxDB. */
async function influxCollectorPackets(influxd: Influxd): Promise<Record<string, number>> {
  const series = await select(influxd, 'SELECT sum("packets") FROM "collector" GROUP BY "exporter"');
  return Object.fromEntries(
    series.map((s) => [s.tags?.['exporter'] ?? '?', Number(exact(s.values[0]?.[1]))]),
  );
}

const datagramsByExporter = () => Object.fromEntries(exports.map((e) => [e.exporter, e.datagrams.length]));
const sumValues = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Sums of rows per exporter (rows of traffic_protocol, from the embedded store). */
function rowTotals(rows: readonly Row[]): ByExporter {
  const totals: ByExporter = {};
  for (const row of rows) {
    const exporter = String(row['exporter']);
    const t = totals[exporter] ?? { bytes: 0n, packets: 0n, flows: 0n };
    totals[exporter] = t;
    t.bytes += exact(row['bytes']);
    t.packets += exact(row['packets']);
    t.flows += exact(row['flows']);
  }
  return totals;
}

describe.skipIf(!hasTshark || !hasSoftflowd)('end to end: softflowd → flowcast serve → store', () => {
  let work = '';

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'flowcast-e2e-'));
    const addresses: Record<Version, string> = { 5: '127.0.0.5', 9: '127.0.0.9', 10: '127.0.0.10' };
    const prepared = await Promise.all(
      ([5, 9, 10] as const).map(async (version): Promise<Export> => {
        const traffic = join(work, `traffic-${version}.pcap`);
        await generateTrafficPcap(traffic, { seed: 100 + version, flows: 120, ipv6: version !== 5 });
        const exported = await exportWithSoftflowd(version, traffic);
        const forTshark = join(work, `exported-${version}-tshark.pcap`);
        await writeTsharkCapture(
          forTshark,
          exported.map((d, i) => ({
            payload: d.payload,
            srcAddr: addresses[version],
            dstPort: 2055,
            timestamp: Date.UTC(2024, 0, 1) + i,
          })),
        );
        const records = await tsharkFlows(forTshark, [2055]);
        const expected: Totals = { bytes: 0n, packets: 0n, flows: 0n };
        for (const r of records) {
          const bytes = r.bytes ?? r.totalBytes;
          const packets = r.packets ?? r.totalPackets;
          if (bytes === undefined || packets === undefined) throw new Error('tshark record without counters');
          expected.bytes += BigInt(bytes);
          expected.packets += BigInt(packets);
          expected.flows += 1n;
        }
        return {
          version,
          exporter: addresses[version],
          datagrams: exported.map((d) => Uint8Array.from(d.payload)),
          expected,
        };
      }),
    );
    exports.push(...prepared);
    for (const e of exports) {
      // Enough to split an export in halves, and records in every datagram's worth.
      expect(e.datagrams.length, `softflowd v${e.version} datagrams`).toBeGreaterThanOrEqual(3);
      expect(e.expected.flows, `tshark v${e.version} records`).toBeGreaterThan(50n);
    }
  }, 60_000);

  afterAll(async () => {
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  it.skipIf(!hasInfluxd)(
    'v5, v9 and IPFIX land in InfluxDB with the sums tshark reads from the same datagrams',
    async () => {
      const influxd = await launchInfluxd();
      const dataDir = join(await tempDir('flowcast-e2e-data-'), 'data');
      const fc = await startFlowcast({
        dataDir,
        rollupInterval: ROLLUP_INTERVAL,
        influxUrl: influxd.url,
        influxDatabase: DATABASE,
      });
      const sockets = await openExporters();
      const sent = await send(fc, sockets, everything);
      const m = await waitForDatagrams(fc, sent, totalRecords());
      for (const e of exports) {
        expect(
          m.value('flowcast_packets_received_total', { exporter: e.exporter, version: String(e.version) }),
        ).toBe(e.datagrams.length);
        expect(
          m.value('flowcast_records_decoded_total', { exporter: e.exporter, version: String(e.version) }),
        ).toBe(Number(e.expected.flows));
      }
      expect(m.value('flowcast_decode_errors_total')).toBe(0);
      expect(m.value('flowcast_queue_dropped_total')).toBe(0);
      // Capture-time timestamps from 2024: every record went to the current window, counted late.
      expect(m.value('flowcast_rollup_late_records_total')).toBe(totalRecords());

      await stopCleanly(fc);

      expect(await influxTotals(influxd)).toEqual(expectedByExporter());
      expect(await influxCollectorPackets(influxd)).toEqual(datagramsByExporter());
      const counts = await influxCounts(influxd);
      expect(counts['traffic']).toBeGreaterThan(0);
      expect(counts['top_talkers']).toBeGreaterThan(0);
    },
    90_000,
  );

  it.skipIf(!hasInfluxd)(
    'a restart inside a rollup interval loses nothing: the interval written at stop is not written again',
    async () => {
      const influxd = await launchInfluxd();
      const dataDir = join(await tempDir('flowcast-e2e-data-'), 'data');
      // An hour-long interval: both processes run inside the same one.
      const options = { dataDir, rollupInterval: 3600, influxUrl: influxd.url, influxDatabase: DATABASE };
      const first = await startFlowcast(options);
      // The exporters keep their sockets: IPFIX templates belong to the transport session.
      const sockets = await openExporters();
      const firstSent = await send(first, sockets, firstHalf);
      await waitForDatagrams(first, firstSent);
      await stopCleanly(first);

      const second = await startFlowcast(options);
      const secondSent = await send(second, sockets, secondHalf);
      await waitForDatagrams(second, secondSent);
      await stopCleanly(second);

      expect(await influxTotals(influxd)).toEqual(expectedByExporter());
      expect(await influxCollectorPackets(influxd)).toEqual(datagramsByExporter());
    },
    90_000,
  );

  it('without FLOWCAST_INFLUX_URL the embedded store in the data directory holds the same sums', async () => {
    const dataDir = join(await tempDir('flowcast-e2e-data-'), 'data');
    const fc = await startFlowcast({ dataDir, rollupInterval: ROLLUP_INTERVAL });
    expect(fc.logs.find((l) => l.msg === 'flowcast started')?.['store']).toBe(`embedded (${dataDir})`);
    const sockets = await openExporters();
    const sent = await send(fc, sockets, everything);
    await waitForDatagrams(fc, sent, totalRecords());
    await stopCleanly(fc);

    // DuckDB locks its file per process: read it only now that the collector has exited.
    const store = new EmbeddedStore({ dataDir, log: pino({ level: 'silent' }) });
    await store.start();
    defer(() => store.stop());
    const range = { from: 0, to: Date.now() + 86_400_000 };
    expect(rowTotals(await store.rows('traffic_protocol', range))).toEqual(expectedByExporter());
    const protocols = await store.protocols(range);
    expect(protocols.reduce((n, p) => n + BigInt(p.bytes), 0n)).toBe(
      exports.reduce((n, e) => n + e.expected.bytes, 0n),
    );
    for (const measurement of ['traffic', 'top_talkers', 'collector']) {
      expect((await store.rows(measurement, range)).length, measurement).toBeGreaterThan(0);
    }
    const collector: Record<string, number> = {};
    for (const row of await store.rows('collector', range)) {
      const exporter = String(row['exporter']);
      collector[exporter] = (collector[exporter] ?? 0) + Number(row['packets']);
    }
    expect(collector).toEqual(datagramsByExporter());
    const exporters = (await store.exporters()).map((e) => e.exporter).sort();
    expect(exporters).toEqual(exports.map((e) => e.exporter).sort());
  }, 60_000);

  it.skipIf(!hasInfluxd)(
    'an InfluxDB outage mid-stream: points are spooled, replayed when it is back, each written once',
    async () => {
      const influxd = await launchInfluxd();
      const dataDir = join(await tempDir('flowcast-e2e-data-'), 'data');
      const fc = await startFlowcast({
        dataDir,
        rollupInterval: ROLLUP_INTERVAL,
        influxUrl: influxd.url,
        influxDatabase: DATABASE,
      });
      const sockets = await openExporters();

      const firstSent = await send(fc, sockets, firstHalf);
      await waitForDatagrams(fc, firstSent);
      await fc.waitForMetrics(
        'points written before the outage',
        (m) => m.value('flowcast_store_points_written_total') > 0,
        15_000,
      );

      await influxd.stop();
      const sent = firstSent + (await send(fc, sockets, secondHalf));
      expect(sent).toBe(totalDatagrams());
      await waitForDatagrams(fc, sent, totalRecords());
      // The writer retries (three backoffs of at most 0.5, 1 and 2 s), then spools.
      const during = await fc.waitForMetrics(
        'points spooled during the outage',
        (m) => m.value('flowcast_store_spool_points') > 0 && m.value('flowcast_rollup_open_windows') === 0,
        20_000,
      );
      expect(during.value('flowcast_store_write_errors_total')).toBeGreaterThan(0);
      expect(existsSegment(await readdir(join(dataDir, 'spool')))).toBe(true);

      await influxd.start();
      // The spool is replayed at the next health check (every 5 s while it holds data).
      const settled = await waitUntilSettled(fc, 30_000);
      await stopCleanly(fc);

      const emitted = settled.value('flowcast_rollup_points_total');
      // Every emitted point was written once: no point lost, none sent twice (a point written
      // twice would count twice here, while InfluxDB would silently overwrite it).
      expect(settled.value('flowcast_store_points_written_total')).toBe(emitted);
      expect(settled.value('flowcast_store_points_rejected_total')).toBe(0);
      expect(settled.value('flowcast_store_spool_dropped_total')).toBe(0);
      // Every point is its own series and time, so InfluxDB holds as many as were emitted (a
      // collision would overwrite one and show up as a shortfall here).
      expect(sumValues(await influxCounts(influxd))).toBe(emitted);
      expect(await influxTotals(influxd)).toEqual(expectedByExporter());
      expect(await influxCollectorPackets(influxd)).toEqual(datagramsByExporter());
    },
    120_000,
  );

  it.skipIf(!hasInfluxd)(
    'SIGKILL with points in the spool: a new collector on the same data directory replays them',
    async () => {
      const influxd = await launchInfluxd();
      await influxd.stop();
      const dataDir = join(await tempDir('flowcast-e2e-data-'), 'data');
      const first = await startFlowcast({
        dataDir,
        rollupInterval: ROLLUP_INTERVAL,
        influxUrl: influxd.url,
        influxDatabase: DATABASE,
      });
      const sockets = await openExporters();
      const sent = await send(first, sockets, everything);
      await waitForDatagrams(first, sent, totalRecords());
      // Every window emitted and every emitted point in the spool: only then is the kill safe to
      // judge (the open window may be lost on SIGKILL; spooled points never).
      const spooledWhen = (m: Metrics) =>
        m.value('flowcast_rollup_open_windows') === 0 &&
        m.value('flowcast_rollup_points_total') > 0 &&
        m.value('flowcast_store_spool_points') === m.value('flowcast_rollup_points_total');
      const before = await first.waitForMetrics('every point spooled', spooledWhen, 30_000);
      await sleep(ROLLUP_INTERVAL * 1000 + 500);
      const spooled = await first.metrics();
      expect(spooledWhen(spooled)).toBe(true);
      expect(spooled.value('flowcast_rollup_points_total')).toBe(
        before.value('flowcast_rollup_points_total'),
      );
      expect(spooled.value('flowcast_store_points_written_total')).toBe(0);
      const points = spooled.value('flowcast_store_spool_points');

      await first.kill();
      expect(first.logged('stopping')).toBe(false);

      await influxd.start();
      const second = await startFlowcast({
        dataDir,
        rollupInterval: ROLLUP_INTERVAL,
        influxUrl: influxd.url,
        influxDatabase: DATABASE,
      });
      expect(second.logs.find((l) => l.msg === 'spool: data to replay')?.['points']).toBe(points);
      const drained = await second.waitForMetrics(
        'the spool replayed',
        (m) =>
          m.value('flowcast_store_spool_points') === 0 &&
          m.value('flowcast_store_points_written_total') === points,
        30_000,
      );
      expect(drained.value('flowcast_rollup_points_total')).toBe(0);
      await stopCleanly(second);

      expect(sumValues(await influxCounts(influxd))).toBe(points);
      expect(await influxTotals(influxd)).toEqual(expectedByExporter());
      expect(await influxCollectorPackets(influxd)).toEqual(datagramsByExporter());
    },
    120_000,
  );
});

/** Whether a spool directory listing holds a segment file. */
function existsSegment(names: readonly string[]): boolean {
  return names.some((name) => /^\d{16}\.seg$/.test(name));
}
