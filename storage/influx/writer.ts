/**
 * The write path: lines are batched (by count, bytes and time), sent one batch at a time, retried
 * with exponential backoff and jitter when the failure is temporary, and otherwise handed to the
 * durable spool. While the spool holds anything, new batches join it behind the older ones and a
 * recovery loop health-checks InfluxDB and replays the spool in order once it answers.
 *
 * Memory: batches wait in memory only while the batch ahead of them is being sent, which is bounded
 * in time (at most `maxRetries` backoffs of at most `maxRetryDelayMs`); rollups arrive at a few
 * points per interface and interval, so that wait holds little.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import type { Spool } from '../spool.js';
import type { StoreStats } from '../store.js';

/** What the writer sends to: the connection, seen through the two calls it needs. */
export interface WriteTarget {
  /**
   * Sends line protocol; rejects with the transport's errors (`HttpError`, network errors), or when
   * `signal` aborts.
   */
  write(lines: string, signal?: AbortSignal): Promise<void>;
  /** Whether InfluxDB is up and ready for writes again (called while the spool holds data). */
  healthy(signal?: AbortSignal): Promise<boolean>;
}

/** Tuning of the {@link Writer}. */
export interface WriterOptions {
  readonly batchSize: number;
  readonly maxBatchBytes: number;
  readonly flushIntervalMs: number;
  /** Attempts after the first before a batch is spooled. */
  readonly maxRetries: number;
  readonly minRetryDelayMs: number;
  readonly maxRetryDelayMs: number;
  /** How often InfluxDB is pinged while the spool holds data. */
  readonly healthCheckIntervalMs: number;
  /**
   * How long `stop()` lets writes and pings in flight run before aborting them; what is left then
   * goes to the spool. An InfluxDB that accepts connections but never answers must not hold a
   * shutdown past the supervisor's grace period.
   */
  readonly stopTimeoutMs: number;
  readonly log: Logger;
}

interface Batch {
  readonly payload: string;
  readonly points: number;
  readonly seq: number;
}

type Outcome = 'done' | 'failed';

/** The delay before retry number `attempt` (from 1): exponential, halved by random jitter. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * The `Retry-After` of an answer in milliseconds (seconds or an HTTP date), if it sent one. The
 * library's `HttpError.retryAfter()` returns the header's seconds as if they were milliseconds.
 */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  if (!(err instanceof HttpError)) return undefined;
  const header = err.headers?.['retry-after'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How many points of a batch a 400 answer says were refused: 1.x reports `dropped=N` plus one
 * `unable to parse` per unparsable line (which `dropped` leaves out); 3.x lists the refused lines;
 * 2.x refuses the whole batch.
 */
export function rejectedCount(err: HttpError, points: number): number {
  const json = err.json as { data?: unknown } | undefined;
  if (Array.isArray(json?.data)) return Math.min(points, json.data.length);
  const text = err.body ?? '';
  const dropped = /dropped=(\d+)/.exec(text);
  if (dropped === null) return points;
  const unparsable = text.match(/unable to parse/g)?.length ?? 0;
  return Math.min(points, Number(dropped[1]) + unparsable);
}

/** Batches, sends, retries and spools lines; see the module comment. */
export class Writer {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: Batch[] = [];
  private sealed = 0;
  private completed = 0;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private pumping: Promise<void> | undefined;
  private recovering: Promise<void> | undefined;
  /** What of the segment being replayed is written already, so a failed replay resumes after it. */
  private replayed: { segment: number; records: number; points: number } | undefined;
  private wake: (() => void) | undefined;
  /** Between start() and the end of stop(): batches are sent only then. */
  private running = false;
  private stopping = false;
  /** Aborts requests in flight when a stop has waited long enough. */
  private abort = new AbortController();

  constructor(
    private readonly target: WriteTarget,
    private readonly spool: Spool,
    private readonly stats: StoreStats,
    private readonly options: WriterOptions,
  ) {}

  /** Starts sending what was queued before, and replaying what the spool holds from an earlier run. */
  start(): void {
    this.running = true;
    this.stopping = false;
    this.abort = new AbortController();
    this.countSpooled();
    if (!this.spool.empty) this.recover();
    this.kick();
  }

  /** Queues one line (never blocks, never throws). */
  add(line: string): void {
    const bytes = Buffer.byteLength(line) + 1;
    if (this.pending.length > 0 && this.pendingBytes + bytes > this.options.maxBatchBytes) this.seal();
    this.pending.push(line);
    this.pendingBytes += bytes;
    if (this.pending.length >= this.options.batchSize || this.pendingBytes >= this.options.maxBatchBytes)
      this.seal();
    else this.timer ??= setTimeout(() => this.seal(), this.options.flushIntervalMs);
  }

  /** Resolves once every line added so far is written, refused, or spooled (at once when not started). */
  flush(): Promise<void> {
    this.seal();
    const seq = this.sealed;
    if (!this.running || this.completed >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Flushes (sending each batch once, spooling what fails), then ends the recovery loop. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const deadline = setTimeout(() => this.abort.abort(), this.options.stopTimeoutMs);
    try {
      await this.flush();
      await this.recovering;
    } finally {
      clearTimeout(deadline);
    }
    this.running = false;
  }

  private seal(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.queue.push({ payload: this.pending.join('\n'), points: this.pending.length, seq: ++this.sealed });
    this.pending = [];
    this.pendingBytes = 0;
    this.kick();
  }

  private kick(): void {
    if (!this.running) return;
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
      // A batch sealed while the loop was finishing has not been picked up yet.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async pump(): Promise<void> {
    for (let batch = this.queue.shift(); batch !== undefined; batch = this.queue.shift()) {
      // Once anything is spooled, later batches queue up behind it so the spool stays in order.
      if (
        !this.spool.empty ||
        (await this.send(batch.payload, batch.points, this.stopping ? 0 : this.options.maxRetries)) ===
          'failed'
      ) {
        await this.toSpool(batch);
      }
      this.completed = batch.seq;
      const waiting = this.waiters;
      this.waiters = [];
      for (const waiter of waiting) {
        if (waiter.seq <= batch.seq) waiter.resolve();
        else this.waiters.push(waiter);
      }
    }
  }

  /**
   * One batch, with up to `retries` retries of temporary failures. 'done' when written or refused
   * as malformed (HTTP 400: retrying cannot help); 'failed' when it must wait in the spool.
   */
  private async send(payload: string, points: number, retries: number): Promise<Outcome> {
    const { log } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.target.write(payload, this.abort.signal);
        this.stats.pointsWritten += points;
        return 'done';
      } catch (err) {
        if (err instanceof HttpError && [400, 413, 422].includes(err.statusCode)) {
          const rejected = rejectedCount(err, points);
          this.stats.rejected += rejected;
          this.stats.pointsWritten += points - rejected;
          const offending = [...(err.body ?? '').matchAll(/unable to parse '((?:[^'\\]|\\.)*)'/g)].map(
            (m) => m[1],
          );
          log.error(
            { status: err.statusCode, rejected, offending, body: err.body?.slice(0, 2000) },
            'InfluxDB refused points',
          );
          return 'done';
        }
        this.stats.writeErrors++;
        const temporary =
          !(err instanceof HttpError) ||
          err.statusCode === 408 ||
          err.statusCode === 429 ||
          err.statusCode >= 500;
        const after = retryAfterMs(err);
        const delay = Math.max(
          after ?? 0,
          backoffDelay(attempt + 1, this.options.minRetryDelayMs, this.options.maxRetryDelayMs),
        );
        // A Retry-After beyond the longest backoff is left to the spool's health check.
        if (!temporary || attempt >= retries || this.stopping || delay > this.options.maxRetryDelayMs) {
          log.warn({ err, attempt: attempt + 1, points }, 'InfluxDB write failed');
          return 'failed';
        }
        log.debug({ err, attempt: attempt + 1, delay }, 'InfluxDB write failed, retrying');
        // A stop that gave up waiting cuts the backoff short (the retry then fails at once).
        await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  private async toSpool(batch: Batch): Promise<void> {
    try {
      this.stats.spoolDropped += await this.spool.append(batch.payload, batch.points);
    } catch (err) {
      this.stats.spoolDropped += batch.points;
      this.options.log.error({ err, points: batch.points }, 'spool: append failed, batch lost');
    }
    this.countSpooled();
    this.recover();
  }

  private recover(): void {
    if (this.stopping) return;
    this.recovering ??= this.recoveryLoop()
      .catch((err: unknown) => this.options.log.error({ err }, 'spool: replay stopped'))
      .finally(() => {
        this.recovering = undefined;
      });
  }

  private async recoveryLoop(): Promise<void> {
    while (!this.stopping && !this.spool.empty) {
      if (!(await this.target.healthy(this.abort.signal)) || !(await this.replay())) {
        if (this.stopping) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.healthCheckIntervalMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private countSpooled(): void {
    this.stats.spoolPoints = this.spool.points - (this.replayed?.points ?? 0);
  }

  /** Writes the spool out, oldest segment first; false when a write fails (the rest stays). */
  private async replay(): Promise<boolean> {
    for (
      let segment = await this.spool.oldest();
      segment !== undefined;
      segment = await this.spool.oldest()
    ) {
      this.stats.spoolDropped += this.spool.takeLost();
      if (this.replayed?.segment !== segment.id)
        this.replayed = { segment: segment.id, records: 0, points: 0 };
      const progress = this.replayed;
      for (const record of segment.records.slice(progress.records)) {
        if (this.stopping || (await this.send(record.payload, record.points, 0)) === 'failed') return false;
        progress.records++;
        progress.points += record.points;
        this.countSpooled();
      }
      await this.spool.remove(segment.id);
      this.stats.spoolDropped += this.spool.takeLost();
      this.replayed = undefined;
      this.countSpooled();
      this.options.log.info({ segment: segment.id, left: this.stats.spoolPoints }, 'spool: segment replayed');
    }
    this.stats.spoolDropped += this.spool.takeLost();
    this.countSpooled();
    return true;
  }
}
