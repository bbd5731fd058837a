/**
 * The writer's decisions (retry or not, how long to wait, how many points a 400 refused) with the
 * error bodies InfluxDB 1.6.7 really sends, and its retry/spool/replay sequence driven through its
 * `WriteTarget` seam. The HTTP side is covered against a real influxd in influx.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpError } from '@influxdata/influxdb-client';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from '../spool.js';
import type { StoreStats } from '../store.js';
import { backoffDelay, rejectedCount, retryAfterMs, Writer, type WriteTarget } from './writer.js';

const log = pino({ level: 'silent' });
const json = 'application/json';

describe('rejectedCount', () => {
  it('reads dropped=N and the unparsable lines of a 1.x partial write', () => {
    const conflict =
      '{"error":"partial write: field type conflict: input field \\"x\\" on measurement \\"q\\" is type float, already exists as type integer dropped=1"}';
    expect(rejectedCount(new HttpError(400, 'Bad Request', conflict, undefined, json), 3)).toBe(1);
    const unparsable =
      '{"error":"partial write: unable to parse \'z y=1u 2000\': invalid number\\nunable to parse \'z x= 2500\': missing field value dropped=0"}';
    expect(rejectedCount(new HttpError(400, 'Bad Request', unparsable, undefined, json), 4)).toBe(2);
  });

  it('counts the whole batch when the answer gives no count (2.x), and 3.x line lists', () => {
    const v2 = '{"code":"invalid","message":"unable to parse \'bad\': missing fields"}';
    expect(rejectedCount(new HttpError(400, 'Bad Request', v2, undefined, json), 5)).toBe(5);
    const v3 =
      '{"error":"partial write of line protocol occurred","data":[{"original_line":"bad","line_number":2}]}';
    expect(rejectedCount(new HttpError(400, 'Bad Request', v3, undefined, json), 5)).toBe(1);
  });
});

describe('retryAfterMs and backoffDelay', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const busy = (value: string) =>
      new HttpError(429, 'Too Many Requests', '', value, 'text/plain', undefined, { 'retry-after': value });
    expect(retryAfterMs(busy('3'))).toBe(3000);
    expect(
      retryAfterMs(busy('Wed, 21 Oct 2015 07:28:10 GMT'), Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(10_000);
    expect(retryAfterMs(new HttpError(503, 'Service Unavailable'))).toBeUndefined();
    expect(retryAfterMs(new Error('ECONNREFUSED'))).toBeUndefined();
  });

  it('doubles up to the ceiling, with jitter in the upper half', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const ceiling = Math.min(1000, 100 * 2 ** (attempt - 1));
      const delay = backoffDelay(attempt, 100, 1000);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe('Writer', () => {
  let dir: string;
  let spool: Spool;
  let stats: StoreStats;
  const options = {
    batchSize: 2,
    maxBatchBytes: 1 << 20,
    flushIntervalMs: 10,
    maxRetries: 2,
    minRetryDelayMs: 10,
    maxRetryDelayMs: 2000,
    healthCheckIntervalMs: 20,
    stopTimeoutMs: 2000,
    log,
  };

  /** A target answering with the scripted outcomes in turn (then success), recording each call. */
  function scripted(outcomes: Array<Error | undefined>, healthy = () => true) {
    const calls: { lines: string; at: number }[] = [];
    const target: WriteTarget = {
      write: async (lines) => {
        calls.push({ lines, at: Date.now() });
        const outcome = outcomes.shift();
        if (outcome !== undefined) throw outcome;
      },
      healthy: async () => healthy(),
    };
    return { target, calls };
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowcast-writer-'));
    spool = new Spool({ dir, maxBytes: 1 << 20, log });
    await spool.open();
    stats = { pointsWritten: 0, writeErrors: 0, spoolPoints: 0, spoolDropped: 0, rejected: 0 };
  });
  afterEach(async () => {
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an outage adds no abort listener per retry or health check (the transport never removes its own)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const signals = new Set<AbortSignal>();
    let down = true;
    const leaky = (signal: AbortSignal | undefined) => {
      // What the HTTP transport does with the signal it is given.
      signal?.addEventListener('abort', () => undefined);
      if (signal !== undefined) signals.add(signal);
    };
    const target: WriteTarget = {
      write: async (_lines, signal) => {
        leaky(signal);
        if (down) throw new Error('ECONNREFUSED');
      },
      healthy: async (signal) => {
        leaky(signal);
        return !down;
      },
    };
    const writer = new Writer(target, spool, stats, { ...options, maxRetries: 3 });
    writer.start();
    for (let i = 0; i < 16; i++) writer.add(`m v=${i}`);
    await writer.flush();
    // Several health checks go by while InfluxDB is down.
    await new Promise((r) => setTimeout(r, 300));
    down = false;
    await new Promise((r) => setTimeout(r, 300));
    await writer.stop();
    process.off('warning', onWarning);
    expect(signals.size).toBeGreaterThan(11);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
    expect(stats.pointsWritten).toBe(16);
  });

  it('sends nothing before start, then batches by count', async () => {
    const { target, calls } = scripted([]);
    const writer = new Writer(target, spool, stats, options);
    for (const line of ['a', 'b', 'c']) writer.add(line);
    await writer.flush();
    expect(calls).toEqual([]);
    writer.start();
    await writer.flush();
    expect(calls.map((c) => c.lines)).toEqual(['a\nb', 'c']);
    expect(stats.pointsWritten).toBe(3);
    await writer.stop();
  });

  it('honours Retry-After before retrying', async () => {
    const busy = new HttpError(503, 'Service Unavailable', '', '1', 'text/plain', undefined, {
      'retry-after': '1',
    });
    const { target, calls } = scripted([busy]);
    const writer = new Writer(target, spool, stats, options);
    writer.start();
    writer.add('a');
    await writer.flush();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(stats).toMatchObject({ pointsWritten: 1, writeErrors: 1, spoolPoints: 0 });
    await writer.stop();
  });

  it('spools after the last retry, queues later batches behind it, and replays in order when healthy', async () => {
    let up = false;
    const down = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const { target, calls } = scripted([down(), down(), down(), down()], () => up);
    const writer = new Writer(target, spool, stats, options);
    writer.start();
    writer.add('a');
    writer.add('b');
    await writer.flush();
    expect(calls).toHaveLength(3);
    writer.add('c');
    await writer.flush();
    // While the spool holds data, new batches join it without a request of their own.
    expect(calls).toHaveLength(3);
    expect(stats).toMatchObject({ spoolPoints: 3, writeErrors: 3, pointsWritten: 0 });

    up = true;
    const deadline = Date.now() + 5000;
    while (stats.spoolPoints > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // The first replay attempt meets the fourth scripted failure; the next health check retries.
    expect(calls.slice(3).map((c) => c.lines)).toEqual(['a\nb', 'a\nb', 'c']);
    expect(stats).toMatchObject({ spoolPoints: 0, pointsWritten: 3 });
    expect(spool.empty).toBe(true);
    await writer.stop();
  });

  it('does not retry or spool a batch refused with HTTP 400', async () => {
    const refused = new HttpError(
      400,
      'Bad Request',
      '{"error":"partial write: unable to parse \'m x=\': missing field value dropped=0"}',
      undefined,
      json,
    );
    const { target, calls } = scripted([refused]);
    const writer = new Writer(target, spool, stats, options);
    writer.start();
    writer.add('m x=');
    writer.add('m x=1i 1');
    await writer.flush();
    expect(calls).toHaveLength(1);
    expect(stats).toMatchObject({ rejected: 1, pointsWritten: 1, writeErrors: 0, spoolPoints: 0 });
    await writer.stop();
  });
});
