/**
 * The InfluxDB store (1.x, 2.x and 3.x): writes line protocol through the batching, retrying,
 * spooling {@link Writer}, and reads with InfluxQL `SELECT`/`SHOW` over `/query`, the one query
 * language all three versions share (docs/operations.md). The constructor only builds; `start()`
 * detects the version, creates the database on 1.x, and replays what an earlier run spooled.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type PointBatch, pointsOf } from '../columns.js';
import { toLine } from '../line-protocol.js';
import { Spool } from '../spool.js';
import type {
  ExporterInfo,
  ForecastSample,
  InterfaceRef,
  InterfaceTotal,
  Point,
  ProtocolTotal,
  Row,
  Store,
  StoreStats,
  TimeRange,
  TopTalker,
  TrafficQuery,
  TrafficSample,
} from '../store.js';
import { InfluxStoreError } from './errors.js';
import { InfluxConnection, type QuerySeries, type ServerInfo } from './http.js';
import { ident, tagEquals, timeRange, where } from './influxql.js';
import { Writer } from './writer.js';

/** Configuration and dependencies of an {@link InfluxStore}. */
export interface InfluxStoreOptions {
  /** Base URL, for example `http://localhost:8086`. */
  readonly url: string;
  /** 1.x database, or the 2.x/3.x bucket (mapped to a database for InfluxQL on 2.x). */
  readonly database: string;
  /** Organisation for `/api/v2/write` on 2.x; empty by default (fine for 1.8 and 3.x). */
  readonly org?: string;
  /** API token (`Authorization: Token …`). */
  readonly token?: string;
  /** 1.x user: Basic auth, or the `user:password` token on `/api/v2/write` (1.8). */
  readonly username?: string;
  readonly password?: string;
  /** The spool lives in `<dataDir>/spool`. */
  readonly dataDir: string;
  readonly spoolMaxBytes?: number;
  /** Points per write request. */
  readonly batchSize?: number;
  /** Bytes of line protocol per write request. */
  readonly maxBatchBytes?: number;
  /** How long a point may wait for its batch to fill. */
  readonly flushIntervalMs?: number;
  /** Retries of a temporary write failure before the batch is spooled. */
  readonly maxRetries?: number;
  readonly minRetryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** How often InfluxDB is pinged while the spool holds data. */
  readonly healthCheckIntervalMs?: number;
  readonly requestTimeoutMs?: number;
  /** How long stop() lets requests in flight run before spooling what is left. */
  readonly stopTimeoutMs?: number;
  /** How long start() waits for `/ping`. */
  readonly startPingTimeoutMs?: number;
  readonly log: Logger;
}

/** The defaults user options are spread over. */
export const INFLUX_STORE_DEFAULTS = {
  org: '',
  spoolMaxBytes: 256 * 1024 * 1024,
  batchSize: 5000,
  maxBatchBytes: 1024 * 1024,
  flushIntervalMs: 1000,
  maxRetries: 3,
  minRetryDelayMs: 500,
  maxRetryDelayMs: 10_000,
  healthCheckIntervalMs: 5000,
  requestTimeoutMs: 10_000,
  stopTimeoutMs: 2000,
  /** How long start() waits for `/ping` before starting anyway (writes spool until it answers). */
  startPingTimeoutMs: 3000,
} as const;

type Cell = string | number | boolean | null;

/** The rows of a series: its tags and columns by name. */
function rowsOf(series: QuerySeries): Record<string, Cell>[] {
  return (series.values ?? []).map((values) => {
    const row: Record<string, Cell> = { ...series.tags };
    series.columns.forEach((column, i) => {
      row[column] = (values[i] ?? null) as Cell;
    });
    return row;
  });
}

/** Conditions a `traffic` point needs to count as an interface's: an exporter, a numeric ifIndex. */
const INTERFACE_TAGS = [`"exporter" != ''`, `"ifIndex" =~ /^-?[0-9]+$/`];

/**
 * Interfaces per query when reading their names: each is a condition of about 60 characters in
 * the query string, so 500 keep a query near 30 kB.
 */
const NAME_BATCH = 500;

/** Orders strings by UTF-16 code units, as the embedded store's ORDER BY does for these keys. */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const num = (value: Cell | undefined): number => (typeof value === 'number' ? value : 0);
const text = (value: Cell | undefined): string => (typeof value === 'string' ? value : '');

/** A stored row without its empty cells: a point carries only the tags and fields it was given. */
function toRow(cells: Record<string, Cell>): Row {
  const row: Record<string, Cell> = {};
  for (const [key, value] of Object.entries(cells)) if (value !== null) row[key] = value;
  return { ...row, time: num(cells['time']) };
}

function positiveInteger(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InfluxStoreError(
      'FLOWCAST_INFLUX_ARGUMENT',
      `${what} must be a positive integer, got ${value}`,
    );
  }
  return value;
}

/** The {@link Store} on InfluxDB. */
export class InfluxStore implements Store {
  readonly stats: StoreStats = {
    pointsWritten: 0,
    writeErrors: 0,
    spoolPoints: 0,
    spoolDropped: 0,
    rejected: 0,
  };
  private readonly connection: InfluxConnection;
  private readonly spool: Spool;
  private readonly writer: Writer;
  private readonly log: Logger;
  private readonly database: string;
  private readonly startPingTimeoutMs: number;
  private started = false;
  private lastRefusalLog = 0;

  constructor(options: InfluxStoreOptions) {
    const o = { ...INFLUX_STORE_DEFAULTS, ...options };
    this.log = o.log;
    this.database = o.database;
    this.startPingTimeoutMs = o.startPingTimeoutMs;
    this.connection = new InfluxConnection({ ...o, timeoutMs: o.requestTimeoutMs });
    this.spool = new Spool({ dir: join(o.dataDir, 'spool'), maxBytes: o.spoolMaxBytes, log: o.log });
    this.writer = new Writer(
      {
        write: (lines, signal) => this.connection.write(lines, signal),
        healthy: (signal) => this.healthy(signal),
      },
      this.spool,
      this.stats,
      o,
    );
  }

  /** What `/ping` reported at the last detection (undefined before it succeeded). */
  get server(): ServerInfo | undefined {
    return this.connection.info;
  }

  /**
   * Opens the spool, detects the server version, creates the database on 1.x, and starts the
   * writer. An unreachable InfluxDB does not fail the start: writes are spooled until it answers.
   */
  async start(): Promise<void> {
    if (this.started) return;
    await this.spool.open();
    if (!(await this.healthy(AbortSignal.timeout(this.startPingTimeoutMs)))) {
      this.log.warn('InfluxDB unreachable at start; spooling writes until it answers');
    }
    this.started = true;
    this.writer.start();
  }

  /** Writes or spools everything queued, then closes the spool. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.writer.stop();
    await this.spool.close();
  }

  write(batch: PointBatch): void {
    for (const point of pointsOf(batch)) {
      let line: string;
      try {
        line = toLine(point);
      } catch (err) {
        this.refuse(point, err);
        continue;
      }
      this.writer.add(line);
    }
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async traffic(q: TrafficQuery): Promise<TrafficSample[]> {
    const step = positiveInteger('stepSeconds', q.stepSeconds);
    const conditions = [
      ...timeRange(q),
      ...tagEquals({ exporter: q.exporter, ifIndex: q.ifIndex, direction: q.direction }),
    ];
    const series = await this.select(
      `SELECT sum("bytes") AS "bytes", sum("packets") AS "packets", sum("flows") AS "flows" FROM "traffic"${where(conditions)} GROUP BY time(${step}s) fill(none)`,
    );
    return series
      .flatMap(rowsOf)
      .map((r) => ({
        time: num(r['time']),
        bytes: num(r['bytes']),
        packets: num(r['packets']),
        flows: num(r['flows']),
      }))
      .sort((a, b) => a.time - b.time);
  }

  async topTalkers(
    q: TimeRange & { side: 'src' | 'dst'; exporter?: string; limit: number },
  ): Promise<TopTalker[]> {
    const limit = positiveInteger('limit', q.limit);
    // addr is a field (no address is ever a tag), so InfluxQL cannot group by it: sum here.
    const conditions = [...timeRange(q), ...tagEquals({ side: q.side, exporter: q.exporter })];
    const series = await this.select(
      `SELECT "addr", "bytes", "packets" FROM "top_talkers"${where(conditions)}`,
    );
    const totals = new Map<string, { addr: string; bytes: number; packets: number }>();
    for (const r of series.flatMap(rowsOf)) {
      const addr = text(r['addr']);
      if (addr === '') continue;
      const total = totals.get(addr) ?? { addr, bytes: 0, packets: 0 };
      total.bytes += num(r['bytes']);
      total.packets += num(r['packets']);
      totals.set(addr, total);
    }
    return [...totals.values()]
      .sort((a, b) => b.bytes - a.bytes || b.packets - a.packets || a.addr.localeCompare(b.addr))
      .slice(0, limit);
  }

  async protocols(q: TimeRange & { exporter?: string }): Promise<ProtocolTotal[]> {
    const conditions = [...timeRange(q), ...tagEquals({ exporter: q.exporter })];
    const series = await this.select(
      `SELECT sum("bytes") AS "bytes", sum("packets") AS "packets", sum("flows") AS "flows" FROM "traffic_protocol"${where(conditions)} GROUP BY "protocol", "service"`,
    );
    return series
      .flatMap(rowsOf)
      .map((r) => ({
        protocol: text(r['protocol']),
        service: text(r['service']),
        bytes: num(r['bytes']),
        packets: num(r['packets']),
        flows: num(r['flows']),
      }))
      .sort(
        (a, b) =>
          b.bytes - a.bytes || a.protocol.localeCompare(b.protocol) || a.service.localeCompare(b.service),
      );
  }

  /**
   * InfluxQL has no ORDER BY on a value, so TOP over the sums ranks in InfluxDB: at most `limit`
   * rows come back, whatever the number of interfaces. Points that could never be an interface (no
   * exporter, an ifIndex that is not a number) are left out by the query, so they take no place in
   * the cut. Ties at the cut are InfluxDB's to break. InfluxDB still sums every interface: on 1.6.7
   * with 200,000 interfaces (a shared 2-core VM under load) the unbounded read took 29 s and answered
   * 36 MB, TOP of 10,000 took 14 s and answered 0.66 MB.
   */
  async interfaceTotals(q: TimeRange & { exporter?: string; limit: number }): Promise<InterfaceTotal[]> {
    const limit = positiveInteger('limit', q.limit);
    const conditions = [...timeRange(q), ...tagEquals({ exporter: q.exporter }), ...INTERFACE_TAGS];
    const series = await this.select(
      `SELECT TOP("bytes", "exporter", "ifIndex", "direction", ${limit}), "packets", "flows" FROM (SELECT sum("bytes") AS "bytes", sum("packets") AS "packets", sum("flows") AS "flows" FROM "traffic"${where(conditions)} GROUP BY "exporter", "ifIndex", "direction")`,
    );
    const totals: InterfaceTotal[] = [];
    for (const r of series.flatMap(rowsOf)) {
      const exporter = text(r['exporter']);
      const ifIndex = Number(text(r['ifIndex']));
      if (exporter === '' || !Number.isSafeInteger(ifIndex)) continue;
      totals.push({
        exporter,
        ifIndex,
        direction: text(r['direction']),
        bytes: num(r['top']),
        packets: num(r['packets']),
        flows: num(r['flows']),
      });
    }
    return totals.sort(
      (a, b) =>
        b.bytes - a.bytes ||
        byCodeUnit(a.exporter, b.exporter) ||
        a.ifIndex - b.ifIndex ||
        byCodeUnit(a.direction, b.direction),
    );
  }

  async exporters(): Promise<ExporterInfo[]> {
    const series = await this.select('SELECT last("packets") FROM "collector" GROUP BY "exporter"');
    return series
      .flatMap(rowsOf)
      .filter((r) => text(r['exporter']) !== '')
      .map((r) => ({ exporter: text(r['exporter']), lastSeen: num(r['time']) }))
      .sort((a, b) => a.exporter.localeCompare(b.exporter));
  }

  /**
   * Two steps, each bounded by `limit`: TOP over the bytes per interface ranks in InfluxDB (as in
   * interfaceTotals), then the newest name of each of those is read, {@link NAME_BATCH} interfaces
   * per query. One query cannot do both: a name is a tag, and InfluxQL cannot carry the newest
   * one's value through an aggregate over every name. A name query's time grows with its number of
   * conditions (500: 130-270 ms on 1.6.7 over 50,000-200,000 interfaces). 10,000 names over 50,000
   * interfaces took 5.0 s in batches of 500, 4.6 s of 100 and 13.8 s of 2,000.
   */
  async interfaces(q: Partial<TimeRange> & { exporter?: string; limit: number }): Promise<InterfaceRef[]> {
    const limit = positiveInteger('limit', q.limit);
    const range = timeRange(q);
    const conditions = [...range, ...tagEquals({ exporter: q.exporter }), ...INTERFACE_TAGS];
    const ranked = await this.select(
      `SELECT TOP("bytes", "exporter", "ifIndex", ${limit}) FROM (SELECT sum("bytes") AS "bytes" FROM "traffic"${where(conditions)} GROUP BY "exporter", "ifIndex")`,
    );
    // By the tag values as stored, which the name query answers with.
    const busiest = new Map<
      string,
      { exporter: string; ifIndex: number; ifName: string; bytes: number; tags: Record<string, string> }
    >();
    for (const r of ranked.flatMap(rowsOf)) {
      const exporter = text(r['exporter']);
      const ifIndexText = text(r['ifIndex']);
      const ifIndex = Number(ifIndexText);
      if (exporter === '' || !Number.isSafeInteger(ifIndex)) continue;
      busiest.set(`${exporter}\0${ifIndexText}`, {
        exporter,
        ifIndex,
        ifName: '',
        bytes: num(r['top']),
        tags: { exporter, ifIndex: ifIndexText },
      });
    }
    const wanted = [...busiest.values()];
    for (let i = 0; i < wanted.length; i += NAME_BATCH) {
      const which = wanted
        .slice(i, i + NAME_BATCH)
        .map((w) => `(${tagEquals(w.tags).join(' AND ')})`)
        .join(' OR ');
      // The newest point that has a name: an interface renamed over time keeps its newest name.
      const named = await this.select(
        `SELECT last("bytes"), "ifName" FROM "traffic"${where([...range, `"ifName" != ''`, `(${which})`])} GROUP BY "exporter", "ifIndex"`,
      );
      for (const r of named.flatMap(rowsOf)) {
        const entry = busiest.get(`${text(r['exporter'])}\0${text(r['ifIndex'])}`);
        if (entry !== undefined) entry.ifName = text(r['ifName']);
      }
    }
    return wanted
      .sort((a, b) => b.bytes - a.bytes || byCodeUnit(a.exporter, b.exporter) || a.ifIndex - b.ifIndex)
      .map(({ exporter, ifIndex, ifName }) => ({ exporter, ifIndex, ifName }));
  }

  async forecasts(q: { series: string; from?: number; to?: number }): Promise<ForecastSample[]> {
    const conditions = [...tagEquals({ series: q.series }), ...timeRange(q)];
    const series = await this.select(
      `SELECT "yhat", "lower", "upper", "lower80", "upper80" FROM "forecast"${where(conditions)}`,
    );
    const orNaN = (v: Cell | undefined) => (typeof v === 'number' ? v : Number.NaN);
    return series
      .flatMap(rowsOf)
      .map((r) => ({
        time: num(r['time']),
        yhat: num(r['yhat']),
        lower: num(r['lower']),
        upper: num(r['upper']),
        lower80: orNaN(r['lower80']),
        upper80: orNaN(r['upper80']),
      }))
      .sort((a, b) => a.time - b.time);
  }

  async forecastSeries(): Promise<string[]> {
    const series = await this.select('SHOW TAG VALUES FROM "forecast" WITH KEY = "series"');
    return series
      .flatMap(rowsOf)
      .map((r) => text(r['value']))
      .filter((key) => key !== '')
      .sort(byCodeUnit);
  }

  async capacity(): Promise<Row[]> {
    const series = await this.select(
      'SELECT * FROM "capacity" GROUP BY "exporter", "ifIndex", "direction" ORDER BY time DESC LIMIT 1',
    );
    return series
      .flatMap(rowsOf)
      .map(toRow)
      .sort(
        (a, b) =>
          String(a['exporter']).localeCompare(String(b['exporter'])) ||
          Number(a['ifIndex']) - Number(b['ifIndex']) ||
          String(a['direction']).localeCompare(String(b['direction'])),
      );
  }

  async anomalies(q: TimeRange & { kind?: string; exporter?: string }): Promise<Row[]> {
    const conditions = [...timeRange(q), ...tagEquals({ kind: q.kind, exporter: q.exporter })];
    return this.rowsWhere('anomaly', conditions);
  }

  async rows(measurement: string, q: TimeRange): Promise<Row[]> {
    return this.rowsWhere(measurement, timeRange(q));
  }

  private async rowsWhere(measurement: string, conditions: readonly string[]): Promise<Row[]> {
    const series = await this.select(`SELECT * FROM ${ident(measurement)}${where(conditions)}`);
    return series
      .flatMap(rowsOf)
      .map(toRow)
      .sort((a, b) => a.time - b.time);
  }

  private async select(q: string): Promise<QuerySeries[]> {
    if (!this.started)
      throw new InfluxStoreError('FLOWCAST_INFLUX_NOT_STARTED', 'the InfluxDB store is not started');
    const [series = []] = await this.connection.query(q);
    return series;
  }

  /** Pings (re-detecting the version) and makes sure the database exists; false when unreachable. */
  private async healthy(signal?: AbortSignal): Promise<boolean> {
    try {
      const server = await this.connection.detect(signal);
      if (server.major === 1) await this.ensureDatabase();
      return true;
    } catch (err) {
      this.log.debug({ err }, 'InfluxDB health check failed');
      return false;
    }
  }

  /** `CREATE DATABASE` on 1.x (idempotent); a user without the right is assumed to have a database. */
  private async ensureDatabase(): Promise<void> {
    try {
      await this.connection.query(`CREATE DATABASE ${ident(this.database)}`, 'POST');
    } catch (err) {
      if (err instanceof InfluxStoreError && err.code !== 'FLOWCAST_INFLUX_UNAVAILABLE') {
        this.log.warn({ err }, 'could not create the InfluxDB database; assuming it exists');
        return;
      }
      throw err;
    }
  }

  /** Counts a point that cannot be written; logs at most one such warning per 10 s. */
  private refuse(point: Point, err: unknown): void {
    this.stats.rejected++;
    const now = Date.now();
    if (now - this.lastRefusalLog >= 10_000) {
      this.lastRefusalLog = now;
      this.log.warn({ err, measurement: point.measurement, rejected: this.stats.rejected }, 'point refused');
    }
  }
}
