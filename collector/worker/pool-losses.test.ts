/**
 * What the decode pool loses, and that it says so: datagrams held by a worker that dies are
 * counted as dropped, an exporter's drops of one version survive a drop of another in its
 * `collector` point, and a request answered after its time is never mistaken for points.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { InternalErrors } from '../../common/internal-errors.js';
import type { Point } from '../../storage/store.js';
import { encodeV5 } from '../../test/support/encoder.js';
import { Collector } from '../receive/service.js';
import { DecodePool } from './pool.js';

const silent = pino({ level: 'silent' });
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function start(workers: number, queueSize = 4096) {
  const dataDir = mkdtempSync(join(tmpdir(), 'flowcast-pool-losses-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig(undefined, {});
  config.detection.enabled = false;
  config.log.level = 'silent';
  const written: Point[] = [];
  const metrics = new Registry();
  const internalErrors = new InternalErrors(silent);
  const pool = new DecodePool(
    {
      workers,
      queueSize,
      queueMaxBytes: 16 << 20,
      flushEveryMs: 60_000,
      stateFile: join(dataDir, 'rollup-state.json'),
      setup: { config, logFormat: 'json' },
    },
    { log: silent, internalErrors, metrics, write: (points) => written.push(...points) },
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
  return { pool, collector, written, stop };
}

async function until(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function v5(): Buffer {
  const now = Date.now();
  return Buffer.from(
    encodeV5({
      unixSecs: Math.floor(now / 1000),
      sysUptime: 1_000_000,
      records: [
        {
          srcAddr: '10.0.0.1',
          dstAddr: '10.0.0.2',
          bytes: 1,
          packets: 1,
          input: 1,
          output: 2,
          first: 999_000,
          last: 999_999,
        },
      ],
    }),
  );
}

type Internals = { slots: { worker: { terminate(): Promise<number> } }[]; sendAll(): void };

describe('decode pool losses', () => {
  it('counts as dropped the datagrams in flight to a worker that dies', async () => {
    const { pool } = await start(1);
    const internals = pool as unknown as Internals;
    const dying = internals.slots[0]!.worker.terminate();
    const payload = v5();
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
    const { collector, pool, written, stop } = await start(1, 16);
    const source = '127.0.5.2';
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, source, resolve));
    await new Promise<void>((resolve, reject) =>
      socket.send(v5(), collector.ports[0]!, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
    socket.close();
    await until(async () => (await pool.view.has(source)) === true);
    await until(() => pool.pending === 0);
    const d = (payload: Buffer) =>
      pool.push({ payload, address: source, port: 2055, receivedAt: Date.now() });
    // The share (16) fills with the batch being written; what follows is dropped on this thread.
    for (let i = 0; i < 16; i++) expect(d(v5())).toBe(true);
    for (let i = 0; i < 10; i++) expect(d(v5())).toBe(false);
    expect(d(Buffer.from([0, 9, 0, 0]))).toBe(false);
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
          write: (p) => written.push(...p),
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
