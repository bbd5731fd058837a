/**
 * The decode workers as the service runs them: real worker threads, fed by a real collector
 * socket on loopback. Records of exporters pinned to different workers come out as one point per
 * series and interval; a worker that dies is started again with its exporters' templates; a full
 * share drops and counts; /metrics sums the workers' registries.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { InternalErrors } from '../../common/internal-errors.js';
import { pointsOf } from '../../storage/columns.js';
import type { Point } from '../../storage/store.js';
import { encodeV5, type FieldSpec, v9Datagram } from '../../test/support/encoder.js';
import type { PersistedTemplates } from '../decode/state.js';
import { Collector } from '../receive/service.js';
import { aggregatedMetrics, DecodePool, workerOf } from './pool.js';

const silent = pino({ level: 'silent' });
const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Two loopback exporters that the hash pins to different workers of two. */
function exportersOnBothWorkers(): [string, string] {
  const byWorker = new Map<number, string>();
  for (let i = 1; byWorker.size < 2; i++) {
    const address = `127.0.3.${i}`;
    if (!byWorker.has(workerOf(address, 2))) byWorker.set(workerOf(address, 2), address);
  }
  return [byWorker.get(0)!, byWorker.get(1)!];
}

async function start(workers: number, options: { queueSize?: number; dataDir?: string } = {}) {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'flowcast-pool-'));
  if (options.dataDir === undefined) cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig(undefined, {});
  config.detection.enabled = false;
  config.log.level = 'silent';
  const written: Point[] = [];
  const metrics = new Registry();
  const internalErrors = new InternalErrors(silent);
  const pool = new DecodePool(
    {
      workers,
      queueSize: options.queueSize ?? 4096,
      queueMaxBytes: 16 << 20,
      flushEveryMs: 60_000,
      stateFile: join(dataDir, 'rollup-state.json'),
      setup: { config, logFormat: 'json' },
    },
    { log: silent, internalErrors, metrics, write: (points) => written.push(...pointsOf(points)) },
  );
  const collector = new Collector(
    {
      bind: '127.0.0.1',
      netflowPort: 0,
      ipfixPort: 0,
      receiveBuffer: 1 << 20,
      allowedExporters: [],
      dataDir,
    },
    { log: silent, route: pool, metrics, internalErrors },
  );
  await collector.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await collector.stop();
  };
  cleanup.push(stop);
  return { pool, collector, written, metrics, dataDir, stop };
}

async function sendFrom(source: string, port: number, ...datagrams: Uint8Array[]): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, source, resolve));
  for (const d of datagrams) {
    await new Promise<void>((resolve, reject) =>
      socket.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }
  socket.close();
}

async function until(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the decode workers');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A v5 datagram of one record, `bytes` on input interface `inIf`, ending now. */
function v5(bytes: number, inIf = 1): Uint8Array {
  const now = Date.now();
  return encodeV5({
    unixSecs: Math.floor(now / 1000),
    sysUptime: 1_000_000,
    records: [
      {
        srcAddr: '10.0.0.1',
        dstAddr: '10.0.0.2',
        bytes,
        packets: 1,
        input: inIf,
        output: 2,
        first: 999_000,
        last: 999_999,
      },
    ],
  });
}

const FIELDS: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 1, length: 4 },
];

describe('decode workers', () => {
  it('pins exporters to workers by address, stably and spread over the workers', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[workerOf(`10.${i >> 8}.${i & 255}.1`, 4)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
    expect(workerOf('192.0.2.1', 4)).toBe(workerOf('192.0.2.1', 4));
  });

  it('decodes exporters pinned to different workers, and writes each interval once per series at stop', async () => {
    const [a, b] = exportersOnBothWorkers();
    const { collector, written, metrics, pool, stop } = await start(2);
    const port = collector.ports[0]!;
    await sendFrom(a, port, v5(100), v5(200));
    await sendFrom(b, port, v5(1000), v5(2000), v5(3000));
    await until(async () => (await pool.view.exporters()).reduce((n, e) => n + e.records, 0) === 5);
    const text = await aggregatedMetrics(metrics, pool);
    expect(text).toContain(`flowcast_packets_received_total{exporter="${a}",version="5"} 2`);
    expect(text).toContain(`flowcast_packets_received_total{exporter="${b}",version="5"} 3`);
    expect(text).toMatch(/flowcast_rollup_records_total 5\b/);
    await stop();
    const traffic = written.filter((p) => p.measurement === 'traffic' && p.tags['direction'] === 'in');
    const byExporter = new Map(traffic.map((p) => [p.tags['exporter'], p.fields['bytes']]));
    expect(traffic).toHaveLength(2);
    expect(byExporter.get(a)).toBe(300);
    expect(byExporter.get(b)).toBe(6000);
  });

  it('answers whether it knows many exporters with one request per worker', async () => {
    const [a, b] = exportersOnBothWorkers();
    const { collector, pool } = await start(2);
    const port = collector.ports[0]!;
    await sendFrom(a, port, v5(100));
    await sendFrom(b, port, v5(200));
    await until(async () => (await pool.view.exporters()).length === 2);
    const slots = (pool as unknown as { slots: { worker: { postMessage(m: unknown): void } }[] }).slots;
    let requests = 0;
    for (const s of slots) {
      const post = s.worker.postMessage.bind(s.worker);
      s.worker.postMessage = (m: unknown) => {
        if ((m as { t: string }).t === 'req') requests++;
        post(m);
      };
    }
    const unknown = Array.from({ length: 1000 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);
    const answer = await pool.view.known([b, ...unknown, a]);
    expect(requests).toBe(2);
    expect(answer).toEqual([true, ...unknown.map(() => false), true]);
  });

  it.each(['flush', 'stop'])(
    'writes an interval of more points than one message carries, whole, at %s',
    async (when) => {
      const { collector, pool, written, stop } = await start(1);
      const sources = ['127.0.4.3', '127.0.4.4'];
      const now = Date.now();
      // Per exporter 50 datagrams × 30 records, each record on its own input and output interface:
      // 3,000 traffic points each in one interval, 6,000 in all, sent by the worker in parts of 5,000.
      const datagrams = Array.from({ length: 50 }, (_, d) =>
        encodeV5({
          unixSecs: Math.floor(now / 1000),
          sysUptime: 1_000_000,
          records: Array.from({ length: 30 }, (_, r) => ({
            srcAddr: '10.0.0.1',
            dstAddr: '10.0.0.2',
            bytes: 1,
            packets: 1,
            input: 1 + d * 30 + r,
            output: 5000 + d * 30 + r,
            first: 999_000,
            last: 999_999,
          })),
        }),
      );
      for (const source of sources) {
        await sendFrom(source, collector.ports[0]!, ...datagrams);
        await until(async () => (await pool.view.exporter(source))?.records === 1500);
      }
      if (when === 'flush') await pool.flushWindows(now + 10 * 60_000);
      else await stop();
      for (const source of sources) {
        const traffic = written.filter((p) => p.measurement === 'traffic' && p.tags['exporter'] === source);
        expect(traffic).toHaveLength(3000);
        expect(new Set(traffic.map((p) => `${p.tags['ifIndex']}/${p.tags['direction']}`)).size).toBe(3000);
      }
    },
  );

  it('persists every worker’s templates in one file and restores each exporter’s in its worker, counting only those restored', async () => {
    const [a, b] = exportersOnBothWorkers();
    const dataDir = mkdtempSync(join(tmpdir(), 'flowcast-pool-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = await start(2, { dataDir });
    const template = (id: number) =>
      v9Datagram({
        unixSecs: Math.floor(Date.now() / 1000),
        flowsets: [
          { kind: 'template', templates: [{ id, fields: FIELDS }] },
          { kind: 'data', id, fields: FIELDS, records: [['10.1.1.1', 7]] },
        ],
      });
    await sendFrom(a, first.collector.ports[0]!, template(300));
    await sendFrom(b, first.collector.ports[0]!, template(301));
    // Both decoded (an empty list is not: `every` holds on it, and the stop below closed the
    // sockets with the datagrams still unread once, so nothing was persisted).
    await until(async () => {
      const listed = await first.pool.view.exporters();
      return listed.length === 2 && listed.every((e) => e.records === 1);
    });
    await first.stop();
    const file = join(dataDir, 'templates.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as PersistedTemplates;
    expect(doc.exporters.map((e) => e.address).sort()).toEqual([a, b].sort());
    expect(readdirSync(dataDir).filter((f) => f.includes('.part') || f.endsWith('.tmp'))).toEqual([]);
    // One template past its lifetime: restored templates are those that are not.
    doc.exporters.find((e) => e.address === a)!.domains[0]!.templates[0]!.receivedAt = 0;
    writeFileSync(file, JSON.stringify(doc));

    const second = await start(2, { dataDir });
    expect(await second.pool.restoreTemplates(file)).toBe(1);
    expect((await second.pool.view.templates(b, 10))?.templates.map((t) => t.templateId)).toEqual([301]);
    expect((await second.pool.view.templates(a, 10))?.templates ?? []).toEqual([]);
  });

  it('two persists at once (the minute timer and a stop) both complete and leave one whole file', async () => {
    const [a, b] = exportersOnBothWorkers();
    const dataDir = mkdtempSync(join(tmpdir(), 'flowcast-pool-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const { collector, pool, stop } = await start(2, { dataDir });
    const template = (id: number) =>
      v9Datagram({
        unixSecs: Math.floor(Date.now() / 1000),
        flowsets: [
          { kind: 'template', templates: [{ id, fields: FIELDS }] },
          { kind: 'data', id, fields: FIELDS, records: [['10.1.1.1', 7]] },
        ],
      });
    await sendFrom(a, collector.ports[0]!, template(300));
    await sendFrom(b, collector.ports[0]!, template(301));
    await until(async () => {
      const listed = await pool.view.exporters();
      return listed.length === 2 && listed.every((e) => e.records === 1);
    });
    const file = join(dataDir, 'templates.json');
    await Promise.all([
      pool.persistTemplates(file),
      pool.persistTemplates(file),
      pool.persistTemplates(file),
    ]);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as PersistedTemplates;
    expect(doc.exporters.map((e) => e.address).sort()).toEqual([a, b].sort());
    expect(readdirSync(dataDir).filter((f) => f.includes('.part') || f.endsWith('.tmp'))).toEqual([]);
    await stop();
  });

  it('a worker that dies is started again with its exporters’ templates', async () => {
    const { collector, pool, written, stop } = await start(1);
    const port = collector.ports[0]!;
    const source = '127.0.4.1';
    await sendFrom(
      source,
      port,
      v9Datagram({
        unixSecs: Math.floor(Date.now() / 1000),
        flowsets: [
          { kind: 'template', templates: [{ id: 300, fields: FIELDS }] },
          { kind: 'data', id: 300, fields: FIELDS, records: [['10.1.1.1', 7]] },
        ],
      }),
    );
    await until(async () => (await pool.view.exporter(source))?.records === 1);
    // The templates are persisted (every minute in the service; here at once), and the worker
    // started again reads them from the file.
    await collector.persistTemplates();
    await (
      pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }
    ).slots[0]!.worker.terminate();
    await until(() => pool.restarts === 1);
    await until(async () => (await pool.view.has(source)) === true);
    // Data only: decoded with the template the new worker was started with.
    await sendFrom(
      source,
      port,
      v9Datagram({
        unixSecs: Math.floor(Date.now() / 1000),
        flowsets: [{ kind: 'data', id: 300, fields: FIELDS, records: [['10.1.1.1', 42]] }],
      }),
    );
    await until(async () => (await pool.view.exporter(source))?.records === 1);
    expect((await pool.view.exporter(source))?.missingTemplates).toBe(0);
    await stop();
    const bytes = written
      .filter((p) => p.measurement === 'traffic_protocol' && p.tags['exporter'] === source)
      .map((p) => p.fields['bytes']);
    expect(bytes).toEqual([42]);
  });

  it('drops and counts what exceeds a worker’s share, on /metrics and in the exporter’s collector point', async () => {
    const { collector, pool, metrics, written, stop } = await start(1, { queueSize: 16 });
    const port = collector.ports[0]!;
    const source = '127.0.4.2';
    await sendFrom(source, port, v5(1));
    await until(async () => (await pool.view.has(source)) === true);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, source, resolve));
    const datagram = v5(1);
    // Sent in one turn of this thread: the receiving side queues them faster than they are acknowledged.
    for (let i = 0; i < 2000; i++) socket.send(datagram, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 500));
    socket.close();
    await until(() => pool.pending === 0);
    expect(pool.dropped).toBeGreaterThan(0);
    const text = await aggregatedMetrics(metrics, pool);
    const dropped = Number(/flowcast_queue_dropped_total (\d+)/.exec(text)?.[1]);
    expect(dropped).toBe(pool.dropped);
    const decoded = (await pool.view.exporter(source))!.packets;
    // Every datagram sent is either decoded or counted as dropped (none lost by the kernel here).
    const kernel = Number(/flowcast_socket_drops_total (\d+)/.exec(text)?.[1] ?? 0);
    expect(decoded + dropped + kernel).toBe(2001);
    await stop();
    const droppedField = written
      .filter((p) => p.measurement === 'collector' && p.tags['exporter'] === source)
      .reduce((n, p) => n + Number(p.fields['dropped']), 0);
    expect(droppedField).toBe(dropped);
  });
});

type Internals = { slots: { worker: { terminate(): Promise<number> } }[]; sendAll(): void };

describe('decode pool losses', () => {
  it('counts as dropped the datagrams in flight to a worker that dies', async () => {
    const { pool } = await start(1);
    const internals = pool as unknown as Internals;
    const dying = internals.slots[0]!.worker.terminate();
    const payload = v5(1);
    for (let i = 0; i < 100; i++)
      expect(pool.push({ payload, address: '127.0.5.1', port: 2055, receivedAt: Date.now() })).toBe(true);
    internals.sendAll();
    expect(pool.pending).toBe(100);
    await dying;
    await until(() => pool.restarts === 1);
    // Nothing is waiting any more and nothing was decoded: all 100 must show as dropped.
    expect(pool.pending).toBe(0);
    expect(pool.dropped).toBe(100);
  });

  it('keeps an exporter’s drops of one version when a datagram of another version is dropped', async () => {
    const { collector, pool, written, stop } = await start(1, { queueSize: 16 });
    const source = '127.0.5.2';
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, source, resolve));
    await new Promise<void>((resolve, reject) =>
      socket.send(v5(1), collector.ports[0]!, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
    socket.close();
    await until(async () => (await pool.view.has(source)) === true);
    await until(() => pool.pending === 0);
    const d = (payload: Uint8Array) =>
      pool.push({ payload, address: source, port: 2055, receivedAt: Date.now() });
    // The share (16) fills with the batch being written; what follows is dropped on this thread.
    for (let i = 0; i < 16; i++) expect(d(v5(1))).toBe(true);
    for (let i = 0; i < 10; i++) expect(d(v5(1))).toBe(false);
    expect(d(Uint8Array.of(0, 9, 0, 0))).toBe(false);
    await until(() => pool.pending === 0);
    expect(pool.dropped).toBe(11);
    await stop();
    const droppedField = written
      .filter((p) => p.measurement === 'collector' && p.tags['exporter'] === source)
      .reduce((n, p) => n + Number(p.fields['dropped']), 0);
    expect(droppedField).toBe(11);
  });
});

describe('decode pool late answers', () => {
  it('never writes a late answer to anything but a flush to the store', async () => {
    const { vi } = await import('vitest');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const config = loadConfig(undefined, {});
      const written: unknown[] = [];
      const pool = new DecodePool(
        {
          workers: 1,
          queueSize: 16,
          queueMaxBytes: 1 << 20,
          flushEveryMs: 60_000,
          stateFile: undefined,
          setup: { config, logFormat: 'json' },
        },
        {
          log: silent,
          internalErrors: new InternalErrors(silent),
          metrics: new Registry(),
          write: (p) => written.push(...pointsOf(p)),
        },
      );
      const posted: { id: number }[] = [];
      const internals = pool as unknown as {
        slots: { worker: unknown }[];
        onMessage(s: unknown, m: unknown): void;
      };
      // A worker busy past the request timeout (e.g. behind a queue of heavy API requests).
      internals.slots[0]!.worker = { postMessage: (m: { id: number }) => posted.push(m) };
      const answer = pool.view.interfaces(undefined, 100_000);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(await answer).toEqual([]);
      // Its answer arrives after all: interface rows, not points.
      internals.onMessage(internals.slots[0], {
        t: 'res',
        id: posted[0]!.id,
        value: [{ exporter: '192.0.2.1', ifIndex: 1, name: 'ge-0/0/0' }],
      });
      expect(written).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
