/**
 * The decode workers, seen from the thread that receives. Each exporter (by address) is pinned to
 * one worker, so that its templates, sequence numbers and data waiting for a template stay
 * together; datagrams go to their worker in batches (batch.ts), one transferred buffer per batch.
 * In front of each worker at most `queueSize` datagrams and `queueMaxBytes` bytes wait (in flight
 * and in its own queue); beyond that a datagram is dropped and counted, and the receiving thread
 * never waits.
 *
 * Rollup windows: every `flushEveryMs` each worker is asked to emit its due windows. Points of the
 * exporters pinned to a worker come ahead of its answer, as columns, and go to the store as they
 * come; the answers hold what several workers may share (exporter "overflow"), merged
 * (mergeWindowPoints) and written, so the store sees one point per series and interval whatever
 * the number of workers. At stop the open windows are closed the same way and where to
 * resume is kept in rollup-state.json.
 *
 * A worker that dies is started again at once, with the templates last persisted for its
 * exporters (it reads them from templates.json itself); what it held in memory (its open windows, data queued in it) is lost and counted in
 * flowcast_worker_restarts_total.
 */
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import { AggregatorRegistry, Counter, type Registry } from 'prom-client';
import type { InternalErrors } from '../../common/internal-errors.js';
import { type Logger, RateLimitedLog } from '../../common/logger.js';
import { startWorker } from '../../common/worker.js';
import type { PointBatch } from '../../storage/columns.js';
import type { Point } from '../../storage/store.js';
import { datagramVersion } from '../decode/decode.js';
import { TEMPLATES_HEAD, TEMPLATES_TAIL } from '../decode/state.js';
import { byRecency, type CollectorView } from '../decode/view.js';
import type { ReceivedDatagram } from '../receive/queue.js';
import type { DatagramRoute } from '../receive/service.js';
import { BATCH_BYTES, BatchWriter } from './batch.js';
import { mergeWindowPoints } from './merge.js';
import {
  type DropCounts,
  type FromWorker,
  type Op,
  type StopAnswer,
  type ToWorker,
  type WorkerSetup,
  workerOf,
} from './messages.js';

export interface DecodePoolOptions {
  workers: number;
  /** Datagrams waiting over all workers at most (in flight and in their queues); each gets 1/workers. */
  queueSize: number;
  /** Bytes of datagrams waiting over all workers at most; each gets 1/workers. */
  queueMaxBytes: number;
  /** How often due rollup windows are collected from the workers (ms). */
  flushEveryMs: number;
  /** `<dataDir>/rollup-state.json`; undefined keeps no state. */
  stateFile: string | undefined;
  setup: Pick<WorkerSetup, 'config' | 'logFormat'>;
  /**
   * Where the workers' log lines go; unset, to this process's stdout as Node relays it (written
   * synchronously on the receiving thread when stdout is a pipe).
   */
  logOutput?: (lines: string) => void;
}

export interface DecodePoolDeps {
  log: Logger;
  internalErrors: InternalErrors;
  metrics: Registry;
  /** Receives rollup windows (merged where workers meet), raw-flow and anomaly points. */
  write: (points: PointBatch) => void;
}

/** How long a request to a worker may take before it is answered as missing (ms). */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * The same while stopping: a stuck worker must not hold SIGTERM past what service managers wait
 * (docker-compose's 30 s grace), so the windows and resume state that did arrive get written.
 */
const STOP_TIMEOUT_MS = 8000;
/** Timed-out requests remembered per worker for their late answers. */
const MAX_LATE_OPS = 1024;
/** How old the exporter overview health reads may be (ms). */
const OVERVIEW_MAX_AGE_MS = 1000;
/** Waits before starting a worker again that died within RESTART_MAX_DELAY_MS of its start (ms). */
const RESTART_MIN_DELAY_MS = 1000;
const RESTART_MAX_DELAY_MS = 30_000;
/** How long a batch may wait for more datagrams before it goes to its worker (ms). */
const SEND_DELAY_MS = 2;
/** Spare batch buffers kept for reuse. */
const SPARE_BUFFERS = 64;
/** Exporters whose drops on this thread are passed to their worker with one batch. */
const MAX_DROP_ENTRIES = 1024;

type Overview = Awaited<ReturnType<CollectorView['overview']>>;

interface Pending {
  op: Op;
  resolve(value: unknown): void;
  timer: NodeJS.Timeout;
}

class Slot {
  worker: Worker | undefined;
  readonly writer: BatchWriter;
  inflightCount = 0;
  inflightBytes = 0;
  /** The worker's own queue as of its last answer: datagrams, bytes, dropped so far. */
  queue: [number, number, number] = [0, 0, 0];
  /** Dropped so far by the queues of earlier incarnations of this worker. */
  droppedBefore = 0;
  /** Drops on the receiving thread by exporter and version, until passed on with the next batch. */
  drops = new Map<string, [address: string, version: number, count: number]>();
  readonly requests = new Map<number, Pending>();
  /** Requests whose time ran out, by id: what their late answers were (bounded, oldest forgotten). */
  readonly lateOps = new Map<number, Op>();
  /** The worker's metrics as last answered, used when it does not answer a scrape in time. */
  metrics: object | undefined;
  startedAt = 0;
  /** Wait before the next start after a worker died young (doubles up to RESTART_MAX_DELAY_MS). */
  restartDelayMs = 0;

  constructor(
    readonly index: number,
    take: (size: number) => ArrayBuffer,
  ) {
    this.writer = new BatchWriter(take);
  }
}

/**
 * Bytes waiting for one worker: the batch buffers in flight to it (whole: at a few datagrams a
 * batch their payload would undercount them), the batch being written, and its own queue.
 */
function waitingBytes(s: Slot): number {
  return s.inflightBytes + s.writer.used + s.queue[1];
}

export { workerOf };

export class DecodePool implements DatagramRoute {
  /** Datagrams dropped on this thread because their worker's share was full. */
  droppedHere = 0;
  restarts = 0;
  private readonly slots: Slot[];
  private readonly spare: ArrayBuffer[] = [];
  private sendScheduled = false;
  private stopping = false;
  private nextId = 1;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing = false;
  private resumeAt: number | undefined;
  private readonly intervalMs: number;
  private readonly heapLimitMb: number;
  /** Warnings about the workers, limited like the decoder's. */
  private readonly warn: RateLimitedLog;
  /** What may wait for one worker: datagrams and bytes. */
  private readonly shareSize: number;
  private readonly shareBytes: number;
  private overviewCache: (Overview & { recent: number; at: number }) | undefined;
  private overviewRefresh: Promise<Overview> | undefined;
  /** templates.json, once restored from or persisted to: a worker started again reads it. */
  private templatesFile: string | undefined;
  /** The persist under way: the next waits for it (they share the part and temp files). */
  private persisting: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: DecodePoolOptions,
    private readonly deps: DecodePoolDeps,
  ) {
    if (!(Number.isInteger(options.workers) && options.workers >= 1))
      throw new RangeError('workers must be a positive integer');
    const take = (size: number) =>
      size === BATCH_BYTES && this.spare.length > 0 ? this.spare.pop()! : Buffer.allocUnsafeSlow(size).buffer;
    this.slots = Array.from({ length: options.workers }, (_, i) => new Slot(i, take));
    this.shareSize = Math.max(1, Math.ceil(options.queueSize / options.workers));
    this.shareBytes = Math.max(BATCH_BYTES, Math.ceil(options.queueMaxBytes / options.workers));
    this.intervalMs = options.setup.config.storage.rollupInterval * 1000;
    this.warn = new RateLimitedLog(deps.log);
    // What a worker holds is bounded (its share of the state budget and of the rollup's, the
    // detectors' sketches): twice the budget plus 256 MiB, shared by the workers (at least 256
    // MiB each), leaves room for all of it and for garbage, and makes the engine collect before a
    // flood's garbage grows the process past a gigabyte. A worker that still reaches it dies
    // alone and is started again.
    const c = options.setup.config.collector;
    this.heapLimitMb = Math.max(256, Math.ceil((2 * c.stateMemoryMegabytes + 256) / options.workers));
    const pool = this;
    new Counter({
      name: 'flowcast_worker_restarts_total',
      help: 'Decode workers that died and were started again (their open rollup windows and queued datagrams are lost)',
      registers: [deps.metrics],
      collect() {
        this.reset();
        this.inc(pool.restarts);
      },
    });
  }

  get workers(): number {
    return this.slots.length;
  }

  get pending(): number {
    let n = 0;
    for (const s of this.slots) n += s.inflightCount + s.writer.count + s.queue[0];
    return n;
  }

  get pendingBytes(): number {
    let n = 0;
    for (const s of this.slots) n += waitingBytes(s);
    return n;
  }

  get dropped(): number {
    let n = this.droppedHere;
    for (const s of this.slots) n += s.droppedBefore + s.queue[2];
    return n;
  }

  /**
   * Each worker restores its own exporters' templates from templates.json, and counts those it
   * restored (not those past their lifetime). This thread only names the file: it used to parse
   * the document and keep every exporter's part as text for restarts, the largest thing on its
   * heap (its strings copied again at every persist, each minute).
   */
  async restoreTemplates(file: string): Promise<number> {
    this.templatesFile = file;
    const answers = await this.all<number>('restore', file);
    if (answers.every((n) => n === undefined))
      throw new Error('no decode worker could read the templates file');
    return answers.reduce<number>((sum, n) => sum + (n ?? 0), 0);
  }

  /**
   * Writes templates.json: each worker writes its exporters' part to a file beside it, and this
   * thread joins the parts as buffers (outside its heap) into the temp file, renamed over the old
   * one. When a worker does not write its part the old file stays, and is written again at the next
   * persist. One persist at a time: the minute's and a stop's can meet, and both write the same
   * part and temp files.
   */
  persistTemplates(file: string): Promise<void> {
    const run = this.persisting.then(() => this.writeTemplates(file));
    this.persisting = run.catch(() => undefined);
    return run;
  }

  private async writeTemplates(file: string): Promise<void> {
    this.templatesFile = file;
    this.sendAll();
    const partOf = (s: Slot) => `${file}.${s.index}.part`;
    const written = await Promise.all(this.slots.map((s) => this.request<number>(s, 'templates', partOf(s))));
    const missing = written.indexOf(undefined);
    if (missing >= 0) throw new Error(`decode worker ${missing} did not write its templates`);
    const tmp = `${file}.tmp`;
    const out = await open(tmp, 'w');
    try {
      await out.write(TEMPLATES_HEAD);
      let first = true;
      for (const [i, s] of this.slots.entries()) {
        if (written[i] === 0) continue;
        if (!first) await out.write(',');
        first = false;
        await out.write(await readFile(partOf(s)));
      }
      await out.write(TEMPLATES_TAIL);
    } finally {
      await out.close();
    }
    await rename(tmp, file);
    await Promise.all(this.slots.map((s) => rm(partOf(s), { force: true })));
  }

  async start(): Promise<void> {
    if (this.options.stateFile !== undefined) {
      const text = await readFile(this.options.stateFile, 'utf8').catch(() => undefined);
      if (text !== undefined) {
        try {
          const at = Number((JSON.parse(text) as { resumeAt?: unknown }).resumeAt);
          if (Number.isSafeInteger(at)) this.resumeAt = at;
        } catch (err) {
          this.deps.log.warn(
            { err, file: this.options.stateFile },
            'rollup: state file unreadable; starting afresh',
          );
        }
      }
      if (this.resumeAt !== undefined && this.resumeAt > Date.now()) {
        this.deps.log.info(
          { resumeAt: new Date(this.resumeAt).toISOString() },
          'rollup: resuming after the interval written at the last stop',
        );
      }
    }
    await Promise.all(this.slots.map((s) => this.spawn(s, this.resumeAt)));
    this.flushTimer = setInterval(
      this.deps.internalErrors.guard('rollup.flush', () => void this.flushWindows(Date.now())),
      this.options.flushEveryMs,
    );
    this.flushTimer.unref();
    this.deps.log.info({ workers: this.slots.length }, 'decode workers started');
  }

  /** Hands one datagram to its exporter's worker; false (counted) when that worker's share is full. */
  push(d: ReceivedDatagram): boolean {
    const s = this.slotOf(d.address);
    const length = d.payload.length;
    if (
      s.worker === undefined ||
      s.inflightCount + s.writer.count + s.queue[0] >= this.shareSize ||
      waitingBytes(s) + length > this.shareBytes
    ) {
      this.droppedHere++;
      this.countDrop(s, d);
      this.scheduleSend();
      return false;
    }
    if (!s.writer.fits(length, d.address)) this.send(s);
    s.writer.add(d.payload, d.address, d.port, d.receivedAt);
    this.scheduleSend();
    return true;
  }

  /**
   * Batches leave SEND_DELAY_MS after their first datagram (or when full). Sent at the end of each
   * turn of the event loop instead, they held one or two datagrams at 20,000 a second (datagrams
   * arrive spread out, a turn each), and the messages and their acknowledgements took a quarter of
   * the receiving thread's time and a tenth of the worker's.
   */
  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    setTimeout(this.sendAll, SEND_DELAY_MS);
  }

  /** Decodes everything handed on so far, in every worker. */
  async drain(): Promise<void> {
    this.sendAll();
    await this.all('drain');
  }

  /** Every worker's metrics registry as JSON, for AggregatorRegistry.aggregate. */
  async workerMetrics(): Promise<object[]> {
    const answers = await this.all<object>('metrics');
    // A worker that does not answer in time is reported as it last was, not as gone (Prometheus
    // would read its counters' disappearance as a reset).
    return this.slots
      .map((s, i) => {
        if (answers[i] !== undefined) s.metrics = answers[i];
        return s.metrics;
      })
      .filter((m) => m !== undefined);
  }

  /** The collector view over every worker: lists are merged, one exporter is asked of its worker. */
  readonly view: CollectorView = {
    exporters: async (limit) => {
      const lists = await this.viewAll<Awaited<ReturnType<CollectorView['exporters']>>>('exporters', [limit]);
      return lists
        .flat()
        .sort(byRecency)
        .slice(0, limit ?? Number.POSITIVE_INFINITY);
    },
    // Health asks for this on every probe: it is answered from the last merge, refreshed in the
    // background at most once a second, so that a busy worker never delays health.
    overview: async (recent) => {
      const cached = this.overviewCache;
      if (cached === undefined || cached.recent < recent) return this.refreshOverview(recent);
      if (Date.now() - cached.at >= OVERVIEW_MAX_AGE_MS) void this.refreshOverview(cached.recent);
      return { count: cached.count, lastDatagram: cached.lastDatagram.slice(0, recent) };
    },
    has: async (address) => (await this.viewOne<boolean>(address, 'has', [address])) ?? false,
    // One request per worker, whatever the number of addresses (the API asks about up to a page's
    // worth, 10,000, at once); a worker that does not answer knows none of its own.
    known: async (addresses) => {
      const per = this.slots.map((): number[] => []);
      for (const [i, a] of addresses.entries()) per[this.slotOf(a).index]!.push(i);
      const out = addresses.map(() => false);
      await Promise.all(
        this.slots.map(async (s) => {
          const mine = per[s.index]!;
          if (mine.length === 0) return;
          const answer = await this.request<boolean[]>(s, 'view', {
            method: 'known',
            args: [mine.map((i) => addresses[i]!)],
          });
          answer?.forEach((yes, j) => {
            out[mine[j]!] = yes;
          });
        }),
      );
      return out;
    },
    exporter: (address) => this.viewOne(address, 'exporter', [address]),
    templates: (address, limit) => this.viewOne(address, 'templates', [address, limit]),
    interfaces: async (exporter, limit) => {
      if (exporter !== undefined)
        return (await this.viewOne(exporter, 'interfaces', [exporter, limit])) ?? [];
      // One worker after another, each asked for what is still missing: never workers × limit rows.
      const rows: Awaited<ReturnType<CollectorView['interfaces']>> = [];
      for (const s of this.slots) {
        if (rows.length >= limit) break;
        const part = await this.request<typeof rows>(s, 'view', {
          method: 'interfaces',
          args: [undefined, limit - rows.length],
        });
        if (part !== undefined) rows.push(...part.slice(0, limit - rows.length));
      }
      return rows;
    },
  };

  async stop(): Promise<void> {
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    this.sendAll();
    const now = Date.now();
    this.stopping = true;
    const answers = await this.all<StopAnswer>('stop', now);
    const closed = answers.filter((a) => a !== undefined);
    this.writeMerged(closed.map((a) => a.points));
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
    if (this.options.stateFile === undefined) return;
    // Every worker closed at the same `now`, so they agree; the largest is the safe one.
    const resumeAt = Math.max(
      Math.floor(now / this.intervalMs) * this.intervalMs + this.intervalMs,
      ...closed.map((a) => a.resumeAt),
    );
    try {
      const tmp = `${this.options.stateFile}.tmp`;
      await writeFile(tmp, JSON.stringify({ resumeAt }));
      await rename(tmp, this.options.stateFile);
    } catch (err) {
      this.deps.log.error({ err, file: this.options.stateFile }, 'rollup: could not record where to resume');
    }
  }

  /** Collects the due windows of every worker, merges them and writes them. */
  async flushWindows(now: number): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const answers = await this.all<Point[]>('flush', now);
      this.writeMerged(answers.filter((a) => a !== undefined));
    } finally {
      this.flushing = false;
    }
  }

  private writeMerged(lists: Point[][]): void {
    const points = mergeWindowPoints(lists);
    if (points.length > 0) this.deps.write(points);
  }

  private readonly sendAll = (): void => {
    this.sendScheduled = false;
    for (const s of this.slots) this.send(s);
  };

  private send(s: Slot): void {
    const batch = s.writer.finish();
    let drops: DropCounts | undefined;
    if (s.drops.size > 0 && s.worker !== undefined) {
      drops = [...s.drops.values()];
      s.drops.clear();
    }
    if (batch === undefined) {
      if (drops !== undefined) s.worker?.postMessage({ t: 'drops', drops } satisfies ToWorker);
      return;
    }
    if (s.worker === undefined) {
      this.droppedHere += batch.count;
      return;
    }
    s.inflightCount += batch.count;
    s.inflightBytes += batch.buffer.byteLength;
    const m: ToWorker = { t: 'batch', buffer: batch.buffer, used: batch.used, drops };
    s.worker.postMessage(m, [batch.buffer]);
  }

  /** Remembers a drop on this thread for the exporter's `collector` point (bounded per batch). */
  private countDrop(s: Slot, d: ReceivedDatagram): void {
    const version = datagramVersion(d.payload);
    const key = `${d.address}/${version}`;
    const entry = s.drops.get(key);
    if (entry !== undefined) entry[2]++;
    else if (s.drops.size < MAX_DROP_ENTRIES) s.drops.set(key, [d.address, version, 1]);
  }

  private spawn(s: Slot, resumeAt: number | undefined): Promise<void> {
    const setup: WorkerSetup = {
      ...this.options.setup,
      index: s.index,
      count: this.slots.length,
      resumeAt,
      templatesFile: this.templatesFile,
    };
    const worker = startWorker(import.meta.url, './worker', {
      name: `flowcast-decode-${s.index}`,
      workerData: setup,
      resourceLimits: { maxOldGenerationSizeMb: this.heapLimitMb },
      ...(this.options.logOutput !== undefined && { stdout: true }),
    });
    const logOutput = this.options.logOutput;
    if (logOutput !== undefined) {
      worker.stdout.setEncoding('utf8');
      worker.stdout.on('data', (lines: string) => logOutput(lines));
    }
    s.worker = worker;
    s.startedAt = Date.now();
    return new Promise((resolve) => {
      worker.on('message', (m: FromWorker) => {
        try {
          this.onMessage(s, m);
        } catch (err) {
          this.deps.internalErrors.report('collector.worker', err);
        }
        if (m.t === 'ready') resolve();
      });
      worker.on('error', (err) => {
        this.deps.log.error({ err, worker: s.index }, 'decode worker failed');
      });
      worker.on('exit', (code) => {
        if (s.worker !== worker) return;
        s.worker = undefined;
        resolve();
        for (const [id, p] of s.requests) {
          clearTimeout(p.timer);
          s.requests.delete(id);
          p.resolve(undefined);
        }
        // What it held (in flight to it, and in its queue) is lost: counted as dropped.
        s.droppedBefore += s.queue[2] + s.queue[0] + s.inflightCount;
        s.inflightCount = 0;
        s.inflightBytes = 0;
        s.queue = [0, 0, 0];
        if (this.stopping) return;
        this.restarts++;
        this.deps.log.error(
          { worker: s.index, code },
          'decode worker exited; starting it again with its exporters’ templates',
        );
        // Intervals before the current one may already be written for this worker's exporters:
        // the new worker starts at the current one so that it never writes over them.
        // One that dies young again and again (a bug met by every datagram of an exporter) is
        // started again after a growing wait, not in a tight loop.
        s.restartDelayMs =
          Date.now() - s.startedAt < RESTART_MAX_DELAY_MS
            ? Math.min(RESTART_MAX_DELAY_MS, Math.max(RESTART_MIN_DELAY_MS, 2 * s.restartDelayMs))
            : 0;
        const restart = () => {
          if (this.stopping) return;
          const now = Date.now();
          const current = Math.floor(now / this.intervalMs) * this.intervalMs;
          void this.spawn(s, Math.max(current, this.resumeAt ?? current));
        };
        if (s.restartDelayMs === 0) restart();
        else setTimeout(restart, s.restartDelayMs).unref();
      });
    });
  }

  private onMessage(s: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'ready':
        return;
      case 'ack':
        s.inflightCount -= m.count;
        s.inflightBytes -= m.buffer.byteLength;
        s.queue = m.queue;
        if (m.buffer.byteLength === BATCH_BYTES && this.spare.length < SPARE_BUFFERS)
          this.spare.push(m.buffer);
        return;
      case 'queue':
        s.queue = m.queue;
        return;
      case 'points':
        this.deps.write(m.points);
        return;
      case 'part':
        // Points of exporters pinned to this worker: no other worker has their series, so they go
        // to the store as they come, a late answer's too.
        this.deps.write(m.columns);
        return;
      case 'res': {
        const p = s.requests.get(m.id);
        if (p === undefined) {
          // A flush answered after its time was up: its windows are still written, unmerged
          // (a series two workers share is then written twice, the later replacing the earlier).
          // Any other late answer is of no use any more.
          const op = s.lateOps.get(m.id);
          s.lateOps.delete(m.id);
          if (op === 'flush' && Array.isArray(m.value) && m.value.length > 0)
            this.deps.write(m.value as Point[]);
          else if (op === 'stop' && Array.isArray((m.value as StopAnswer | undefined)?.points))
            this.deps.write((m.value as StopAnswer).points);
          return;
        }
        s.requests.delete(m.id);
        clearTimeout(p.timer);
        if (m.error !== undefined)
          this.warn.warn(
            `failed:${s.index}:${p.op}`,
            { worker: s.index, op: p.op, error: m.error },
            'decode worker request failed',
          );
        p.resolve(m.error === undefined ? m.value : undefined);
      }
    }
  }

  /** Asks one worker; resolves to undefined when it is gone, fails, or does not answer in time. */
  private request<T>(s: Slot, op: Op, arg?: unknown): Promise<T | undefined> {
    const worker = s.worker;
    if (worker === undefined) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          s.requests.delete(id);
          if (s.lateOps.size >= MAX_LATE_OPS) s.lateOps.delete(s.lateOps.keys().next().value!);
          s.lateOps.set(id, op);
          this.warn.warn(
            `late:${s.index}:${op}`,
            { worker: s.index, op },
            'decode worker did not answer in time',
          );
          resolve(undefined);
        },
        this.stopping || op === 'stop' || op === 'drain' ? STOP_TIMEOUT_MS : REQUEST_TIMEOUT_MS,
      );
      timer.unref();
      s.requests.set(id, { op, resolve: resolve as (v: unknown) => void, timer });
      const m: ToWorker = { t: 'req', id, op, arg };
      worker.postMessage(m);
    });
  }

  private all<T>(op: Op, arg?: unknown): Promise<(T | undefined)[]> {
    return Promise.all(this.slots.map((s) => this.request<T>(s, op, arg)));
  }

  private refreshOverview(recent: number): Promise<Overview> {
    if (this.overviewRefresh !== undefined) return this.overviewRefresh;
    const refresh = (async () => {
      const parts = await this.viewAll<Overview>('overview', [recent]);
      const overview = {
        count: parts.reduce((n, p) => n + p.count, 0),
        lastDatagram: parts
          .flatMap((p) => p.lastDatagram)
          .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen))
          .slice(0, recent),
      };
      this.overviewCache = { ...overview, recent, at: Date.now() };
      return overview;
    })().finally(() => {
      this.overviewRefresh = undefined;
    });
    this.overviewRefresh = refresh;
    return refresh;
  }

  private async viewAll<T>(method: keyof CollectorView, args: unknown[]): Promise<T[]> {
    const answers = await this.all<T>('view', { method, args });
    return answers.filter((a): a is Awaited<T> => a !== undefined) as T[];
  }

  private viewOne<T>(address: string, method: keyof CollectorView, args: unknown[]): Promise<T | undefined> {
    return this.request<T>(this.slotOf(address), 'view', { method, args });
  }

  /** The worker an exporter is pinned to. */
  private slotOf(address: string): Slot {
    return this.slots.length === 1 ? this.slots[0]! : this.slots[workerOf(address, this.slots.length)]!;
  }
}

/** /metrics text: this thread's registry and every worker's, summed (AggregatorRegistry). */
export async function aggregatedMetrics(main: Registry, pool: DecodePool): Promise<string> {
  const all = [await main.getMetricsAsJSON(), ...(await pool.workerMetrics())];
  return AggregatorRegistry.aggregate(all).metrics();
}
