import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { InternalErrors } from '../../common/internal-errors.js';
import { EmbeddedStore } from '../embedded/embedded-store.js';
import { EmbeddedStoreError } from '../embedded/errors.js';
import { storeContract } from '../store.contract.js';
import type { Point } from '../store.js';
import { RemoteStore } from './client.js';
import { storePort } from './serve-port.js';
import { ThreadStore } from './thread-store.js';

const log = pino({ level: 'silent' });
/** The fixtures are dated 2024: keep them out of reach of the retention run at start. */
const KEEP = 100 * 365;
const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

const tempDir = () => mkdtemp(join(tmpdir(), 'flowcast-thread-store-'));

function threadStore(dataDir: string, extra: Partial<ConstructorParameters<typeof ThreadStore>[0]> = {}) {
  return new ThreadStore({
    spec: { kind: 'embedded', options: { dataDir, retentionDays: KEEP } },
    logLevel: 'silent',
    logFormat: 'json',
    log,
    ...extra,
  });
}

storeContract('embedded, on the store thread', async () => {
  const dataDir = await tempDir();
  return { store: threadStore(dataDir), cleanup: () => rm(dataDir, { recursive: true, force: true }) };
});

const traffic = (time: number, bytes: number): Point => ({
  measurement: 'traffic',
  time,
  tags: { exporter: '192.0.2.1', ifIndex: '1', direction: 'in' },
  fields: { bytes, packets: 1, flows: 1 },
});

describe('ThreadStore', () => {
  const dirs: string[] = [];
  const stores: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.stop();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  async function dir() {
    const d = await tempDir();
    dirs.push(d);
    return d;
  }

  it('keeps the store errors’ class and code across the thread (the API maps them to 4xx/503)', async () => {
    const store = threadStore(await dir());
    stores.push(store);
    await expect(store.traffic({ from: T0, to: T0 + DAY, stepSeconds: 60 })).rejects.toMatchObject({
      code: 'FLOWCAST_EMBEDDED_NOT_STARTED',
    });
    await store.start();
    const refused = store.traffic({ from: T0, to: T0 + DAY, stepSeconds: 0 });
    await expect(refused).rejects.toBeInstanceOf(EmbeddedStoreError);
    await expect(refused).rejects.toMatchObject({ code: 'FLOWCAST_EMBEDDED_ARGUMENT' });
  });

  it('answers a client on another thread "not started" while it has no thread', async () => {
    const store = threadStore(await dir());
    const port = store.connect();
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       workerData.port.on('message', (m) => {
         if (m.type === 'stats') return; // the hello
         parentPort.postMessage(m);
         workerData.port.close();
       });
       workerData.port.postMessage({ type: 'call', id: 1, method: 'exporters', args: [] });`,
      { eval: true, workerData: { port }, transferList: [port] },
    );
    try {
      const answer = await new Promise((resolve) => worker.once('message', resolve));
      expect(answer).toMatchObject({
        type: 'error',
        id: 1,
        error: { code: 'FLOWCAST_EMBEDDED_NOT_STARTED' },
      });
    } finally {
      await worker.terminate();
    }
  });

  it('replaces a thread that died, reports it, and answers again from the same database', async () => {
    const internalErrors = new InternalErrors(log);
    // A heap too small for the batch below: the thread dies of it, as a bug could make it die.
    // The restart is a minute away: the write that comes first must start the new thread itself.
    const store = threadStore(await dir(), {
      internalErrors,
      restartDelayMs: 60_000,
      heapLimitMb: 48,
      maxInFlightPoints: 2_000_000,
    });
    stores.push(store);
    await store.start();
    store.write([traffic(T0, 7)]);
    await store.flush();
    expect(store.stats.pointsWritten).toBe(1);
    const huge = Array.from({ length: 1_500_000 }, (_, i) => traffic(T0 + i * 60_000, i));
    store.write(huge);
    await expect
      .poll(() => internalErrors.counts.get('store') ?? 0, { timeout: 30_000, interval: 50 })
      .toBe(1);
    store.write([traffic(T0 + 60_000, 8)]);
    await expect
      .poll(() => store.rows('traffic', { from: T0, to: T0 + 60_001 }).catch(() => []), {
        timeout: 30_000,
        interval: 100,
      })
      .toEqual([
        expect.objectContaining({ time: T0, bytes: 7 }),
        expect.objectContaining({ time: T0 + 60_000, bytes: 8 }),
      ]);
    expect(store.restarts).toBe(1);
    // The counters go on from the dead thread's: /metrics counters never go back.
    expect(store.stats.pointsWritten).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('drops and counts writes past its bound of points in flight, and gives up on a silent channel', async () => {
    const { port1, port2 } = new MessageChannel();
    const remote = new RemoteStore(port1, { maxInFlightPoints: 3, helloTimeoutMs: 200 });
    remote.write([traffic(T0, 1), traffic(T0 + 1, 2)]);
    remote.write([traffic(T0 + 2, 3), traffic(T0 + 3, 4)]);
    expect(remote.stats.spoolDropped).toBe(2);
    // Nobody serves port2: no hello, so the call fails instead of waiting for good.
    await expect(remote.exporters()).rejects.toThrow(/did not answer within 200 ms/);
    port2.close();
  });

  it('serves a store of this thread through a port to a client on another', async () => {
    const store = new EmbeddedStore({ dataDir: await dir(), log, retentionDays: KEEP });
    stores.push(store);
    await store.start();
    const port = storePort(store);
    const remote = new RemoteStore(port);
    remote.write([traffic(T0, 5), traffic(T0 + 60_000, 6)]);
    await remote.flush();
    expect((await remote.rows('traffic', { from: T0, to: T0 + DAY })).map((r) => r['bytes'])).toEqual([5, 6]);
    expect(remote.stats.pointsWritten).toBe(2);
    port.close();
    await expect(remote.exporters()).rejects.toThrow(/closed/);
  });
});
