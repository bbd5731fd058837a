/**
 * The store interface: what the collector writes through and the API and analytics read through.
 * Two adapters implement it (InfluxDB in influx/, the embedded DuckDB store in embedded/) and both
 * run the one contract suite in store.contract.ts. The schema is docs/schema.md (a contract).
 */
import type { PointBatch } from './columns.js';

/** A field value as stored. Integers are written as InfluxDB `i` integers (never `u`). */
export type StoredValue = number | bigint | string | boolean;

/** One point of a measurement in docs/schema.md. */
export interface Point {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, StoredValue>>;
  /** Unix milliseconds: the start of the rollup interval (or the forecast's future time). */
  readonly time: number;
}

export interface TimeRange {
  /** Unix milliseconds, inclusive. */
  readonly from: number;
  /** Unix milliseconds, exclusive. */
  readonly to: number;
}

export interface TrafficQuery extends TimeRange {
  readonly exporter?: string;
  readonly ifIndex?: number;
  readonly direction?: 'in' | 'out';
  /** Bucket width in seconds; the series is summed per bucket. */
  readonly stepSeconds: number;
}

export interface TrafficSample {
  /** Bucket start, Unix milliseconds. */
  readonly time: number;
  readonly bytes: number;
  readonly packets: number;
  readonly flows: number;
}

export interface TopTalker {
  readonly addr: string;
  readonly bytes: number;
  readonly packets: number;
}

export interface ProtocolTotal {
  readonly protocol: string;
  readonly service: string;
  readonly bytes: number;
  readonly packets: number;
  readonly flows: number;
}

/** Traffic of one interface and direction summed over a range. */
export interface InterfaceTotal {
  readonly exporter: string;
  readonly ifIndex: number;
  /** `in`, `out`, or '' when the point had no direction. */
  readonly direction: string;
  readonly bytes: number;
  readonly packets: number;
  readonly flows: number;
}

export interface ExporterInfo {
  readonly exporter: string;
  /** Unix milliseconds of the last collector point. */
  readonly lastSeen: number;
}

export interface InterfaceRef {
  readonly exporter: string;
  readonly ifIndex: number;
  readonly ifName: string;
}

export interface ForecastSample {
  readonly time: number;
  readonly yhat: number;
  /** The 95 % band. */
  readonly lower: number;
  readonly upper: number;
  /** The 80 % band; NaN for points written before flowcast stored it. */
  readonly lower80: number;
  readonly upper80: number;
}

/** A stored row of a measurement: tags and fields flattened, with its time. */
export interface Row {
  readonly time: number;
  readonly [key: string]: string | number | boolean | null;
}

/** Counters every store keeps (exported on /metrics). */
export interface StoreStats {
  pointsWritten: number;
  writeErrors: number;
  /** Points in the durable spool, waiting to be written. */
  spoolPoints: number;
  /** Points dropped because the spool was full (oldest first). */
  spoolDropped: number;
  /** Points refused by the database as malformed (HTTP 400), not retried. */
  rejected: number;
}

/**
 * The most rows the API and the analytics jobs ask of {@link Store.interfaces} and
 * {@link Store.interfaceTotals}. A flood from exporters with random ifIndex values leaves millions
 * of interfaces in `traffic`; each row crossing from the store thread costs about 1 µs to copy on
 * each side and stays in memory until the answer is built, and the interfaces route answers anyone
 * who can reach the API. 10,000 rows are about 10 ms of copying on each side, and enough for every
 * interface with traffic on the networks flowcast is built for; the cut drops the quietest, and the
 * API says when it cut.
 */
export const MAX_INTERFACE_ROWS = 10_000;

export interface Store {
  /** Opens the database (and replays the spool); nothing happens before start. */
  start(): Promise<void>;
  /** Flushes everything buffered, then closes. */
  stop(): Promise<void>;
  /**
   * Queues points for writing, as objects or as columns (storage/columns.ts); never blocks and
   * never throws (failures are spooled and counted).
   */
  write(points: PointBatch): void;
  /** Resolves once every point queued so far is written or durably spooled. */
  flush(): Promise<void>;
  readonly stats: StoreStats;

  traffic(q: TrafficQuery): Promise<TrafficSample[]>;
  topTalkers(q: TimeRange & { side: 'src' | 'dst'; exporter?: string; limit: number }): Promise<TopTalker[]>;
  protocols(q: TimeRange & { exporter?: string }): Promise<ProtocolTotal[]>;
  /**
   * `traffic` summed per (exporter, ifIndex, direction) over a range: the `limit` busiest rows,
   * most bytes first (ties by exporter, ifIndex, direction). The database ranks and cuts; at most
   * `limit` rows ever reach this process.
   */
  interfaceTotals(q: TimeRange & { exporter?: string; limit: number }): Promise<InterfaceTotal[]>;
  exporters(): Promise<ExporterInfo[]>;
  /**
   * Interfaces seen in `traffic` (over a range when given, of one exporter when given), each with
   * its newest name: the `limit` busiest, most bytes over the range first (ties by exporter,
   * ifIndex). The database ranks and cuts, as for interfaceTotals.
   */
  interfaces(q: Partial<TimeRange> & { exporter?: string; limit: number }): Promise<InterfaceRef[]>;
  forecasts(q: { series: string; from?: number; to?: number }): Promise<ForecastSample[]>;
  /** The `series` keys that have forecast points, sorted. */
  forecastSeries(): Promise<string[]>;
  /** The latest `capacity` point per (exporter, ifIndex, direction). */
  capacity(): Promise<Row[]>;
  anomalies(q: TimeRange & { kind?: string; exporter?: string }): Promise<Row[]>;
  /** Raw rows of one measurement over a range (used by tests and the evaluation harness). */
  rows(measurement: string, q: TimeRange): Promise<Row[]>;
}
