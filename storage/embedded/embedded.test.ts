import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { storeContract } from '../store.contract.js';
import type { Point } from '../store.js';
import { EmbeddedStore, type EmbeddedStoreOptions } from './embedded-store.js';
import { EmbeddedStoreError } from './errors.js';

const log = pino({ level: 'silent' });
/** The fixtures are dated 2024: keep them out of reach of the retention run at start. */
const KEEP = 100 * 365;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'flowcast-embedded-'));
}

storeContract('embedded (DuckDB)', async () => {
  const dataDir = await tempDir();
  return {
    store: new EmbeddedStore({ dataDir, log, retentionDays: KEEP }),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});

const traffic = (time: number, tags: Record<string, string>, bytes: number | bigint): Point => ({
  measurement: 'traffic',
  time,
  tags: { exporter: '192.0.2.1', ifIndex: '1', direction: 'in', ...tags },
  fields: { bytes, packets: 1, flows: 1 },
});

describe('EmbeddedStore', () => {
  const dirs: string[] = [];
  const stores: EmbeddedStore[] = [];
  async function open(options: Partial<EmbeddedStoreOptions> = {}, dataDir?: string): Promise<EmbeddedStore> {
    const dir = dataDir ?? (await tempDir());
    if (dataDir === undefined) dirs.push(dir);
    const store = new EmbeddedStore({ dataDir: dir, log, retentionDays: KEEP, ...options });
    stores.push(store);
    await store.start();
    return store;
  }
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.stop();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('keeps its data across a restart of a new store on the same directory', async () => {
    const first = await open();
    first.write([traffic(T0, {}, 2n ** 62n), traffic(T0 + 60_000, { ifName: 'ge-0/0/1' }, 5)]);
    await first.stop();
    const second = await open({}, first.path.replace(/\/flowcast\.duckdb$/, ''));
    const rows = await second.rows('traffic', { from: T0, to: T0 + DAY });
    expect(rows.map((r) => [r.time, r['bytes'], r['ifName']])).toEqual([
      [T0, 2 ** 62, undefined],
      [T0 + 60_000, 5, 'ge-0/0/1'],
    ]);
  });

  it('deletes rows older than the retention period', async () => {
    const store = await open({ retentionDays: 30 });
    const now = T0 + 100 * DAY;
    store.write([
      traffic(now - 31 * DAY, {}, 1),
      traffic(now - 29 * DAY, {}, 2),
      {
        measurement: 'anomaly',
        time: now - 40 * DAY,
        tags: { kind: 'scan' },
        fields: { score: 1, message: 'old' },
      },
    ]);
    await store.flush();
    expect(await store.applyRetention(now)).toBe(2);
    expect((await store.rows('traffic', { from: 0, to: now })).map((r) => r['bytes'])).toEqual([2]);
    expect(await store.anomalies({ from: 0, to: now })).toEqual([]);
  });

  it('stores quotes and SQL in tag and field values as data', async () => {
    const store = await open();
    const hostile = `it's "x"; DROP TABLE traffic; --`;
    store.write([traffic(T0, { exporter: hostile, ifName: hostile }, 10)]);
    await store.flush();
    expect(await store.interfaces({ limit: 10 })).toEqual([
      { exporter: hostile, ifIndex: 1, ifName: hostile },
    ]);
    expect(await store.traffic({ from: T0, to: T0 + 60_000, stepSeconds: 60, exporter: hostile })).toEqual([
      { time: T0, bytes: 10, packets: 1, flows: 1 },
    ]);
    expect(await store.traffic({ from: T0, to: T0 + 60_000, stepSeconds: 60, exporter: "it's" })).toEqual([]);
  });

  it('writes a batch by itself once batchSize points wait, and after flushIntervalMs otherwise', async () => {
    const store = await open({ batchSize: 3, flushIntervalMs: 20 });
    store.write([traffic(T0, {}, 1), traffic(T0, {}, 2)]);
    expect(store.stats.pointsWritten).toBe(0);
    await expect.poll(() => store.stats.pointsWritten, { timeout: 2000 }).toBe(2);
    store.write([traffic(T0, {}, 3), traffic(T0, {}, 4), traffic(T0, {}, 5)]);
    await expect.poll(() => store.stats.pointsWritten, { timeout: 2000 }).toBe(5);
  });

  it('keeps extra tags and fields outside the schema', async () => {
    const store = await open();
    store.write([
      {
        measurement: 'flows',
        time: T0,
        tags: { exporter: 'e', protocol: 'tcp', site: 'lab' },
        fields: { srcAddr: '10.0.0.1', bytes: 40, flowEndReason: 3, note: 'x', sampled: true },
      },
    ]);
    await store.flush();
    expect(await store.rows('flows', { from: T0, to: T0 + 1 })).toEqual([
      {
        time: T0,
        exporter: 'e',
        protocol: 'tcp',
        site: 'lab',
        srcAddr: '10.0.0.1',
        bytes: 40,
        flowEndReason: 3,
        note: 'x',
        sampled: true,
      },
    ]);
  });

  it('refuses, and counts, points outside the schema or the integer range', async () => {
    const store = await open();
    store.write([
      { measurement: 'nonsense', time: T0, tags: {}, fields: { x: 1 } },
      traffic(T0, {}, 2n ** 63n),
      traffic(T0, {}, 1.5),
      { measurement: 'forecast', time: T0, tags: { series: 's' }, fields: { yhat: Number.NaN } },
      traffic(T0, {}, 7),
    ]);
    await store.flush();
    expect(store.stats).toMatchObject({ rejected: 4, pointsWritten: 1, writeErrors: 0 });
  });

  it('queues writes made before start and writes them when it starts', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const store = new EmbeddedStore({ dataDir: dir, log, retentionDays: KEEP });
    stores.push(store);
    store.write([traffic(T0, {}, 9)]);
    await store.flush();
    expect(store.stats.pointsWritten).toBe(0);
    await store.start();
    expect(store.stats.pointsWritten).toBe(1);
    expect(await store.rows('traffic', { from: T0, to: T0 + 1 })).toHaveLength(1);
  });

  it('drops the oldest queued points beyond maxQueued, counted', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const store = new EmbeddedStore({ dataDir: dir, log, retentionDays: KEEP, maxQueued: 2 });
    stores.push(store);
    store.write([traffic(T0, {}, 1), traffic(T0 + 1, {}, 2), traffic(T0 + 2, {}, 3)]);
    expect(store.stats.spoolDropped).toBe(1);
    await store.start();
    expect((await store.rows('traffic', { from: T0, to: T0 + 3 })).map((r) => r['bytes'])).toEqual([2, 3]);
  });

  it('answers reads before start with a typed, retryable error', async () => {
    const store = new EmbeddedStore({ dataDir: '/nonexistent', log });
    const error = await store.exporters().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddedStoreError);
    expect(error).toMatchObject({ code: 'FLOWCAST_EMBEDDED_NOT_STARTED', retryable: true });
    await expect(open().then((s) => s.traffic({ from: 0, to: 1, stepSeconds: 0 }))).rejects.toMatchObject({
      code: 'FLOWCAST_EMBEDDED_ARGUMENT',
    });
  });
});
