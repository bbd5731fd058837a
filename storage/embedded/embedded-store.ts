/**
 * The embedded store: the {@link Store} on DuckDB, in `<dataDir>/flowcast.duckdb`, used when no
 * InfluxDB is configured. One table per measurement of docs/schema.md (tables.ts), written in
 * batches: `write()` only queues; a batch goes when `batchSize` points wait or `flushIntervalMs` after
 * the first of them, through appenders in one transaction per batch. Reads run on a second
 * connection and see committed batches only. Every statement takes its values as parameters.
 *
 * A failed transaction is rolled back and its points are kept in memory (`spoolPoints`) for the next
 * batch, up to `maxQueued` queued points, beyond which the oldest are dropped and counted
 * (`spoolDropped`). Rows older than `retentionDays` are deleted at start and every
 * `retentionIntervalMs`. The constructor only builds; `start()` opens the file and creates or
 * completes the tables; `stop()` writes what is queued and closes.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { Logger } from 'pino';
import { batchLength, type PointBatch, pointsOf } from '../columns.js';
import { cleanTagValue } from '../line-protocol.js';
import type {
  ExporterInfo,
  ForecastSample,
  InterfaceRef,
  InterfaceTotal,
  ProtocolTotal,
  Row,
  Store,
  StoreStats,
  TimeRange,
  TopTalker,
  TrafficQuery,
  TrafficSample,
} from '../store.js';
import { EmbeddedStoreError } from './errors.js';
import { append, ddl, encode, ident, stagingName, TABLES, type Table, toRow, upsert } from './tables.js';

/** Configuration and dependencies of an {@link EmbeddedStore}. */
export interface EmbeddedStoreOptions {
  /** The database is `<dataDir>/flowcast.duckdb`. */
  readonly dataDir: string;
  /** Rows older than this many days are deleted. */
  readonly retentionDays?: number;
  /** Points that make a batch go at once. */
  readonly batchSize?: number;
  /** How long a point may wait for its batch. */
  readonly flushIntervalMs?: number;
  /** How often old rows are deleted. */
  readonly retentionIntervalMs?: number;
  /** Points held in memory (queued, or kept after a failed write) before the oldest are dropped. */
  readonly maxQueued?: number;
  /** DuckDB `memory_limit`: the collector shares its machine. */
  readonly memoryLimit?: string;
  /**
   * DuckDB worker threads. One by default: the collector needs the cores, and its queries are
   * small scans. The forecast job's 120 series reads (14 days of 5-minute points each, 483,840
   * rows) took 2.49-2.75 s of CPU and 2.6-2.8 s with one thread, 3.16-3.22 s and 3.2-3.3 s with
   * two (2-core VM, load 2.6-2.9): a second thread added work and no speed.
   */
  readonly threads?: number;
  readonly log: Logger;
}

/** The defaults user options are spread over. */
export const EMBEDDED_STORE_DEFAULTS = {
  retentionDays: 30,
  batchSize: 5000,
  flushIntervalMs: 1000,
  retentionIntervalMs: 60 * 60_000,
  maxQueued: 200_000,
  memoryLimit: '256MB',
  threads: 1,
} as const;

const DAY_MS = 86_400_000;
/** Rows appended between two yields to the event loop (about 5 ms of work). */
const APPEND_SLICE = 500;
const REFUSAL_LOG_INTERVAL_MS = 60_000;

type Cells = Record<string, unknown>;

/** Points `start` to `end` of a written batch: what the queue holds, without copying the points. */
interface Slice {
  readonly batch: PointBatch;
  start: number;
  readonly end: number;
}

function sliceLength(slices: readonly Slice[]): number {
  let n = 0;
  for (const s of slices) n += s.end - s.start;
  return n;
}

const num = (value: unknown): number =>
  typeof value === 'bigint' || typeof value === 'number' ? Number(value) : 0;
const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const ms = (time: number): bigint => BigInt(Math.floor(time));

/**
 * A WHERE clause: each condition whose value is defined, with the value appended to `params`, and the
 * `fixed` conditions as given.
 */
function where(
  params: DuckDBValue[],
  conditions: readonly [column: string, op: string, value: DuckDBValue | undefined][],
  ...fixed: string[]
): string {
  const parts: string[] = [...fixed];
  for (const [column, op, value] of conditions) {
    if (value === undefined) continue;
    // Tag values are stored cleaned (see cleanTagValue): compare with the cleaned form.
    params.push(typeof value === 'string' ? cleanTagValue(value) : value);
    parts.push(`${ident(column)} ${op} $${params.length}`);
  }
  return parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`;
}

function positive(what: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new EmbeddedStoreError('FLOWCAST_EMBEDDED_ARGUMENT', `${what} must be positive, got ${value}`);
  }
  return value;
}

/** The {@link Store} on an embedded DuckDB database. */
export class EmbeddedStore implements Store {
  readonly stats: StoreStats = {
    pointsWritten: 0,
    writeErrors: 0,
    spoolPoints: 0,
    spoolDropped: 0,
    rejected: 0,
  };
  /** The database file. */
  readonly path: string;
  private readonly o: Required<EmbeddedStoreOptions>;
  private instance: DuckDBInstance | undefined;
  private writer: DuckDBConnection | undefined;
  private reader: DuckDBConnection | undefined;
  private queue: Slice[] = [];
  /** Points in `queue`. */
  private queued = 0;
  /** Points of a failed transaction, written first in the next one. */
  private retry: Slice[] = [];
  /** Points in `retry`. */
  private retried = 0;
  /** Every statement on the writer connection runs in this order. */
  private chain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private lastRefusalLog = 0;

  constructor(options: EmbeddedStoreOptions) {
    this.o = { ...EMBEDDED_STORE_DEFAULTS, ...options };
    this.path = join(this.o.dataDir, 'flowcast.duckdb');
  }

  async start(): Promise<void> {
    if (this.instance !== undefined) return;
    await mkdir(this.o.dataDir, { recursive: true });
    const instance = await DuckDBInstance.create(this.path, {
      memory_limit: this.o.memoryLimit,
      threads: String(this.o.threads),
    });
    try {
      const writer = await instance.connect();
      for (const table of TABLES.values()) for (const statement of ddl(table)) await writer.run(statement);
      this.reader = await instance.connect();
      this.writer = writer;
      this.instance = instance;
    } catch (cause) {
      instance.closeSync();
      throw new EmbeddedStoreError('FLOWCAST_EMBEDDED_QUERY', `cannot open ${this.path}: ${String(cause)}`, {
        cause,
      });
    }
    // Old rows that cannot be deleted are no reason not to collect: logged, tried again later.
    const retention = () =>
      this.applyRetention().catch((err: unknown) =>
        this.o.log.error({ err }, 'embedded store retention failed'),
      );
    this.retentionTimer = setInterval(retention, this.o.retentionIntervalMs);
    this.retentionTimer.unref();
    await retention();
    this.o.log.info({ path: this.path, retentionDays: this.o.retentionDays }, 'embedded store opened');
    if (this.queued > 0) await this.flush();
  }

  async stop(): Promise<void> {
    if (this.instance === undefined) return;
    clearInterval(this.retentionTimer);
    await this.flush();
    // A batch that failed is kept for the next one; at stop there is no next one but this.
    if (this.retried > 0) await this.flush();
    if (this.retried > 0) {
      this.o.log.error(
        { points: this.retried },
        'embedded store: points could not be written before stop, lost',
      );
      this.drop(this.retried);
    }
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.reader?.closeSync();
    this.writer?.closeSync();
    this.instance.closeSync();
    this.reader = undefined;
    this.writer = undefined;
    this.instance = undefined;
  }

  write(points: PointBatch): void {
    const count = batchLength(points);
    if (count === 0) return;
    this.queue.push({ batch: points, start: 0, end: count });
    this.queued += count;
    const excess = this.queued + this.retried - this.o.maxQueued;
    if (excess > 0) this.drop(excess);
    if (this.writer === undefined) return;
    if (this.queued >= this.o.batchSize) void this.flush();
    else if (this.flushTimer === undefined && this.queued > 0) {
      this.flushTimer = setTimeout(() => void this.flush(), this.o.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  /** Writes everything queued (before `start()` nothing can be written: it stays queued). */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.writer === undefined || (this.queued === 0 && this.retried === 0)) return this.chain;
    // One transaction per batchSize points: a rollup of a thousand exporters queues tens of
    // thousands at once, and appending them in one go held the event loop for most of a second.
    const queued = this.queue;
    this.queue = [];
    this.queued = 0;
    let batch: Slice[] = [];
    let size = 0;
    const send = (slices: Slice[]) => {
      this.chain = this.chain.then(() => this.writeBatch(slices));
    };
    for (const slice of queued) {
      for (let start = slice.start; start < slice.end; ) {
        const end = Math.min(slice.end, start + this.o.batchSize - size);
        batch.push({ batch: slice.batch, start, end });
        size += end - start;
        start = end;
        if (size >= this.o.batchSize) {
          send(batch);
          batch = [];
          size = 0;
        }
      }
    }
    if (batch.length > 0 || this.retried > 0) send(batch);
    return this.chain;
  }

  /** Deletes the rows older than the retention period; resolves to how many went. */
  applyRetention(now = Date.now()): Promise<number> {
    const cutoff = ms(now - this.o.retentionDays * DAY_MS);
    const run = this.chain.then(() => this.deleteBefore(cutoff));
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async traffic(q: TrafficQuery): Promise<TrafficSample[]> {
    const step = ms(positive('stepSeconds', q.stepSeconds) * 1000);
    const params: DuckDBValue[] = [step];
    const filter = where(params, [
      ['time', '>=', ms(q.from)],
      ['time', '<', ms(q.to)],
      ['exporter', '=', q.exporter],
      ['ifIndex', '=', q.ifIndex === undefined ? undefined : String(q.ifIndex)],
      ['direction', '=', q.direction],
    ]);
    const rows = await this.query(
      `SELECT (time // $1) * $1 AS bucket, sum(bytes) AS bytes, sum(packets) AS packets, sum(flows) AS flows
       FROM traffic ${filter} GROUP BY bucket ORDER BY bucket`,
      params,
    );
    return rows.map((r) => ({
      time: num(r['bucket']),
      bytes: num(r['bytes']),
      packets: num(r['packets']),
      flows: num(r['flows']),
    }));
  }

  async topTalkers(
    q: TimeRange & { side: 'src' | 'dst'; exporter?: string; limit: number },
  ): Promise<TopTalker[]> {
    const params: DuckDBValue[] = [];
    const filter = where(
      params,
      [
        ['side', '=', q.side],
        ['time', '>=', ms(q.from)],
        ['time', '<', ms(q.to)],
        ['exporter', '=', q.exporter],
      ],
      'addr IS NOT NULL',
    );
    params.push(BigInt(Math.ceil(positive('limit', q.limit))));
    const rows = await this.query(
      `SELECT addr, coalesce(sum(bytes), 0) AS bytes, coalesce(sum(packets), 0) AS packets
       FROM top_talkers ${filter} GROUP BY addr ORDER BY bytes DESC, packets DESC, addr LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ addr: text(r['addr']), bytes: num(r['bytes']), packets: num(r['packets']) }));
  }

  async protocols(q: TimeRange & { exporter?: string }): Promise<ProtocolTotal[]> {
    const params: DuckDBValue[] = [];
    const filter = where(params, [
      ['time', '>=', ms(q.from)],
      ['time', '<', ms(q.to)],
      ['exporter', '=', q.exporter],
    ]);
    const rows = await this.query(
      `SELECT coalesce(protocol, '') AS protocol, coalesce(service, '') AS service, coalesce(sum(bytes), 0) AS bytes,
         coalesce(sum(packets), 0) AS packets, coalesce(sum(flows), 0) AS flows
       FROM traffic_protocol ${filter} GROUP BY ALL ORDER BY bytes DESC, packets DESC, protocol, service`,
      params,
    );
    return rows.map((r) => ({
      protocol: text(r['protocol']),
      service: text(r['service']),
      bytes: num(r['bytes']),
      packets: num(r['packets']),
      flows: num(r['flows']),
    }));
  }

  async interfaceTotals(q: TimeRange & { exporter?: string; limit: number }): Promise<InterfaceTotal[]> {
    const params: DuckDBValue[] = [];
    const filter = where(
      params,
      [
        ['time', '>=', ms(q.from)],
        ['time', '<', ms(q.to)],
        ['exporter', '=', q.exporter],
      ],
      'exporter IS NOT NULL',
      'TRY_CAST("ifIndex" AS BIGINT) IS NOT NULL',
    );
    params.push(BigInt(Math.ceil(positive('limit', q.limit))));
    const rows = await this.query(
      `SELECT exporter, TRY_CAST("ifIndex" AS BIGINT) AS "ifIndex", coalesce(direction, '') AS direction,
         coalesce(sum(bytes), 0) AS bytes, coalesce(sum(packets), 0) AS packets, coalesce(sum(flows), 0) AS flows
       FROM traffic ${filter} GROUP BY ALL
       ORDER BY bytes DESC, exporter, "ifIndex", direction LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      exporter: text(r['exporter']),
      ifIndex: num(r['ifIndex']),
      direction: text(r['direction']),
      bytes: num(r['bytes']),
      packets: num(r['packets']),
      flows: num(r['flows']),
    }));
  }

  async exporters(): Promise<ExporterInfo[]> {
    const rows = await this.query(
      'SELECT exporter, max(time) AS last FROM collector WHERE exporter IS NOT NULL GROUP BY exporter ORDER BY exporter',
      [],
    );
    return rows.map((r) => ({ exporter: text(r['exporter']), lastSeen: num(r['last']) }));
  }

  async interfaces(q: Partial<TimeRange> & { exporter?: string; limit: number }): Promise<InterfaceRef[]> {
    const params: DuckDBValue[] = [];
    const filter = where(
      params,
      [
        ['time', '>=', q.from === undefined ? undefined : ms(q.from)],
        ['time', '<', q.to === undefined ? undefined : ms(q.to)],
        ['exporter', '=', q.exporter],
      ],
      'exporter IS NOT NULL',
      'TRY_CAST("ifIndex" AS BIGINT) IS NOT NULL',
    );
    params.push(BigInt(Math.ceil(positive('limit', q.limit))));
    const rows = await this.query(
      `SELECT exporter, TRY_CAST("ifIndex" AS BIGINT) AS "ifIndex",
         coalesce(arg_max("ifName", time) FILTER (WHERE "ifName" IS NOT NULL), '') AS "ifName"
       FROM traffic ${filter}
       GROUP BY exporter, TRY_CAST("ifIndex" AS BIGINT)
       ORDER BY coalesce(sum(bytes), 0) DESC, exporter, "ifIndex" LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      exporter: text(r['exporter']),
      ifIndex: num(r['ifIndex']),
      ifName: text(r['ifName']),
    }));
  }

  async forecasts(q: { series: string; from?: number; to?: number }): Promise<ForecastSample[]> {
    const params: DuckDBValue[] = [];
    const filter = where(params, [
      ['series', '=', q.series],
      ['time', '>=', q.from === undefined ? undefined : ms(q.from)],
      ['time', '<', q.to === undefined ? undefined : ms(q.to)],
    ]);
    const rows = await this.query(
      `SELECT time, yhat, lower, upper, lower80, upper80 FROM forecast ${filter} ORDER BY time`,
      params,
    );
    const value = (v: unknown) => (v === null ? Number.NaN : num(v));
    return rows.map((r) => ({
      time: num(r['time']),
      yhat: value(r['yhat']),
      lower: value(r['lower']),
      upper: value(r['upper']),
      lower80: value(r['lower80']),
      upper80: value(r['upper80']),
    }));
  }

  async forecastSeries(): Promise<string[]> {
    const rows = await this.query(
      'SELECT DISTINCT series FROM forecast WHERE series IS NOT NULL ORDER BY series',
      [],
    );
    return rows.map((r) => text(r['series']));
  }

  async capacity(): Promise<Row[]> {
    const table = this.table('capacity');
    const rows = await this.query(
      `SELECT * FROM capacity
       QUALIFY row_number() OVER (PARTITION BY exporter, "ifIndex", direction ORDER BY time DESC) = 1
       ORDER BY exporter, "ifIndex", direction`,
      [],
    );
    return rows.map((r) => toRow(table, r));
  }

  async anomalies(q: TimeRange & { kind?: string; exporter?: string }): Promise<Row[]> {
    const table = this.table('anomaly');
    const params: DuckDBValue[] = [];
    const filter = where(params, [
      ['time', '>=', ms(q.from)],
      ['time', '<', ms(q.to)],
      ['kind', '=', q.kind],
      ['exporter', '=', q.exporter],
    ]);
    const rows = await this.query(`SELECT * FROM anomaly ${filter} ORDER BY time`, params);
    return rows.map((r) => toRow(table, r));
  }

  async rows(measurement: string, q: TimeRange): Promise<Row[]> {
    const table = TABLES.get(measurement);
    if (table === undefined) return [];
    const params: DuckDBValue[] = [];
    const filter = where(params, [
      ['time', '>=', ms(q.from)],
      ['time', '<', ms(q.to)],
    ]);
    const rows = await this.query(`SELECT * FROM ${ident(table.name)} ${filter} ORDER BY time`, params);
    return rows.map((r) => toRow(table, r));
  }

  private table(name: string): Table {
    return TABLES.get(name)!;
  }

  private async query(sql: string, params: DuckDBValue[]): Promise<Cells[]> {
    const reader = this.reader;
    if (reader === undefined)
      throw new EmbeddedStoreError('FLOWCAST_EMBEDDED_NOT_STARTED', 'the embedded store is not started');
    try {
      return (await reader.runAndReadAll(sql, params)).getRowObjectsJS();
    } catch (cause) {
      throw new EmbeddedStoreError('FLOWCAST_EMBEDDED_QUERY', `query failed: ${String(cause)}`, { cause });
    }
  }

  /** Drops the oldest points held in memory (those kept for retry first). */
  private drop(count: number): void {
    let left = count;
    for (const list of [this.retry, this.queue]) {
      while (left > 0 && list.length > 0) {
        const first = list[0]!;
        const n = Math.min(left, first.end - first.start);
        first.start += n;
        left -= n;
        if (first.start === first.end) list.shift();
      }
    }
    this.retried = sliceLength(this.retry);
    this.queued = sliceLength(this.queue);
    this.stats.spoolDropped += count - left;
    this.stats.spoolPoints = this.retried;
  }

  /**
   * One transaction for the points kept from a failed batch and `slices`; never rejects. Points are
   * made from their columns, encoded and appended 500 at a time, with a yield between: nothing of
   * the batch outlives its slice but its appenders' rows, which DuckDB holds outside the JS heap.
   */
  private async writeBatch(slices: readonly Slice[]): Promise<void> {
    const writer = this.writer;
    const all = this.retried === 0 ? slices : [...this.retry, ...slices];
    this.retry = [];
    this.retried = 0;
    this.stats.spoolPoints = 0;
    if (writer === undefined) {
      this.queue = [...all, ...this.queue];
      this.queued = sliceLength(this.queue);
      return;
    }
    const total = sliceLength(all);
    if (total === 0) return;
    let refused = 0;
    const open = new Map<Table, { appender: DuckDBAppender; rows: number }>();
    const ranges = new Map<Table, { from: number; to: number }>();
    const close = (table: Table) => {
      const entry = open.get(table);
      if (entry === undefined) return;
      open.delete(table);
      entry.appender.closeSync();
    };
    try {
      await writer.run('BEGIN TRANSACTION');
      let first = true;
      for (const slice of all) {
        for (let start = slice.start; start < slice.end; start += APPEND_SLICE) {
          // Encoding, appends and an appender's close (which inserts what it holds) are
          // synchronous: a slice at a time, with a yield to the event loop between slices. One
          // appender per table held the receiving thread 100-180 ms at its close when a rollup of
          // a thousand exporters was written.
          if (!first) await new Promise<void>((resolve) => setImmediate(resolve));
          first = false;
          for (const p of pointsOf(slice.batch, start, Math.min(slice.end, start + APPEND_SLICE))) {
            const table = TABLES.get(p.measurement);
            const row = table === undefined ? undefined : encode(table, p);
            if (table === undefined || row === undefined) {
              refused++;
              continue;
            }
            let entry = open.get(table);
            if (entry === undefined) {
              entry = { appender: await writer.createAppender(stagingName(table)), rows: 0 };
              open.set(table, entry);
            }
            append(entry.appender, row);
            const time = Number(row[0]);
            const range = ranges.get(table);
            if (range === undefined) ranges.set(table, { from: time, to: time });
            else {
              if (time < range.from) range.from = time;
              if (time > range.to) range.to = time;
            }
            if (++entry.rows >= APPEND_SLICE) close(table);
          }
        }
      }
      for (const table of [...open.keys()]) close(table);
      for (const [table, { from, to }] of ranges)
        for (const statement of upsert(table, from, to)) await writer.run(statement);
      await writer.run('COMMIT');
      this.stats.pointsWritten += total - refused;
      if (refused > 0) this.refused(refused);
    } catch (err) {
      for (const { appender } of open.values()) {
        try {
          appender.closeSync();
        } catch {
          // Already failed: the first error is the one worth reporting.
        }
      }
      await writer.run('ROLLBACK').catch(() => undefined);
      this.stats.writeErrors++;
      this.retry = [...all];
      this.retried = total;
      const excess = this.queued + this.retried - this.o.maxQueued;
      if (excess > 0) this.drop(excess);
      this.stats.spoolPoints = this.retried;
      this.o.log.error({ err, points: total }, 'embedded store write failed; points kept for the next batch');
    }
  }

  private refused(count: number): void {
    this.stats.rejected += count;
    const now = Date.now();
    if (now - this.lastRefusalLog < REFUSAL_LOG_INTERVAL_MS) return;
    this.lastRefusalLog = now;
    this.o.log.warn(
      { points: count, rejectedTotal: this.stats.rejected },
      'points that do not fit the schema were refused',
    );
  }

  private async deleteBefore(cutoff: bigint): Promise<number> {
    const writer = this.writer;
    if (writer === undefined) return 0;
    let deleted = 0;
    for (const table of TABLES.values()) {
      deleted += (await writer.run(`DELETE FROM ${ident(table.name)} WHERE time < $1`, [cutoff])).rowsChanged;
    }
    // Hands the space of deleted rows back to the file.
    if (deleted > 0) await writer.run('CHECKPOINT');
    return deleted;
  }
}
