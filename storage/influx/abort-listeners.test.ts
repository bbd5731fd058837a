/**
 * An InfluxDB outage must not leak abort listeners: every failed request used to leave one on the
 * writer's long-lived stop signal, and Node warned "MaxListenersExceededWarning: 11 abort listeners
 * added to [AbortSignal]" after eleven failures. Here the store writes and pings a port nothing
 * listens on (loopback), fast, for well over eleven failures, and no such warning may appear.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { InfluxStore } from './influx-store.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

it('keeps no abort listener per failed request during an outage', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  cleanups.push(async () => process.off('warning', onWarning));
  const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-abort-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const store = new InfluxStore({
    url: `http://127.0.0.1:${await closedPort()}`,
    database: 'flowcast',
    dataDir,
    log: pino({ level: 'silent' }),
    startPingTimeoutMs: 200,
    flushIntervalMs: 5,
    maxRetries: 3,
    minRetryDelayMs: 1,
    maxRetryDelayMs: 2,
    healthCheckIntervalMs: 5,
  });
  await store.start();
  cleanups.push(() => store.stop());
  const point = (i: number) => ({
    measurement: 'traffic',
    time: i * 60_000,
    tags: { exporter: '192.0.2.1', ifIndex: '1', direction: 'in' },
    fields: { bytes: i, packets: 1, flows: 1 },
  });
  for (let i = 0; i < 8; i++) {
    store.write([point(i)]);
    await store.flush();
  }
  // Pings while the spool holds data: dozens more failed requests.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await new Promise((resolve) => setImmediate(resolve));
  expect(store.stats.writeErrors).toBeGreaterThan(0);
  expect(store.stats.spoolPoints).toBe(8);
  expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map(String)).toEqual([]);
});
