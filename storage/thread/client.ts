/**
 * The {@link Store} interface on the far side of a channel: every read is one call message and one
 * answer, writes are posted without an answer, and `stats` follow the counters each answer (and
 * the store thread's periodic message) carries. Used by ThreadStore on the receiving thread and by
 * the analytics worker for its reads.
 */
import { batchLength, type PointBatch } from '../columns.js';
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
import {
  addCounters,
  copyStats,
  type Endpoint,
  emptyStats,
  type FromStore,
  fromWire,
  type Method,
} from './protocol.js';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export interface RemoteStoreOptions {
  /** Without an endpoint, every call fails with this until one is attached. */
  readonly closedBy?: Error;
  /**
   * Points written but not yet taken by the store past which a write is refused and counted in
   * `spoolDropped`: the messages wait outside both threads' heaps, where no heap limit bounds them.
   */
  readonly maxInFlightPoints?: number;
  /** The channel is taken as dead when the store has not said hello within this (ms). */
  readonly helloTimeoutMs?: number;
}

/** Points written and not yet taken (a store thread's queue holds 200,000 at most). */
const MAX_IN_FLIGHT_POINTS = 400_000;

export class RemoteStore implements Store {
  readonly stats: StoreStats = emptyStats();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private endpoint: Endpoint | undefined;
  private closedBy: Error | undefined;
  /** Points written on the current channel, and those the store has reported taken. */
  private posted = 0;
  private taken = 0;
  /** The counters the store reported last. */
  private last: StoreStats = emptyStats();
  /**
   * Added to what the store reports: the points refused here, and (ThreadStore) the counters of
   * threads before this one.
   */
  private readonly offset: StoreStats = emptyStats();
  private helloTimer: NodeJS.Timeout | undefined;
  private readonly maxInFlight: number;

  constructor(
    endpoint?: Endpoint,
    private readonly options: RemoteStoreOptions = {},
  ) {
    this.maxInFlight = options.maxInFlightPoints ?? MAX_IN_FLIGHT_POINTS;
    if (endpoint !== undefined) this.attach(endpoint);
    else this.closedBy = options.closedBy ?? new Error('the store channel is not open');
  }

  /** Calls go to `endpoint` from now on (a store thread that replaced one that died). */
  protected attach(endpoint: Endpoint): void {
    this.endpoint = endpoint;
    this.closedBy = undefined;
    this.posted = 0;
    this.taken = 0;
    const hello = this.options.helloTimeoutMs;
    if (hello !== undefined) {
      // A port handed to a thread that died before reading it is dropped, never closed.
      this.helloTimer = setTimeout(() => {
        if (this.endpoint === endpoint) this.close(new Error(`the store did not answer within ${hello} ms`));
      }, hello);
      this.helloTimer.unref();
    }
    endpoint.on('message', (m) => {
      if (this.endpoint !== endpoint) return;
      clearTimeout(this.helloTimer);
      this.onMessage(m as FromStore);
    });
    // A MessagePort whose other side is gone (a store thread that died or stopped).
    endpoint.on('close', () => {
      if (this.endpoint === endpoint) this.close(new Error('the store channel closed'));
    });
  }

  /** Fails every call in flight and every later one with `err` (the channel is gone). */
  close(err: Error): void {
    clearTimeout(this.helloTimer);
    this.endpoint = undefined;
    this.closedBy ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Calls in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  call(method: Method, args: unknown[]): Promise<unknown> {
    const endpoint = this.endpoint;
    if (endpoint === undefined) return Promise.reject(this.closedBy);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        endpoint.postMessage({ type: 'call', id, method, args });
      } catch (err) {
        this.pending.delete(id);
        reject(err as Error);
      }
    });
  }

  start(): Promise<void> {
    return this.call('start', []) as Promise<void>;
  }
  stop(): Promise<void> {
    return this.call('stop', []) as Promise<void>;
  }
  flush(): Promise<void> {
    return this.call('flush', []) as Promise<void>;
  }
  write(points: PointBatch): void {
    const n = batchLength(points);
    if (this.endpoint === undefined || this.posted - this.taken + n > this.maxInFlight) {
      this.offset.spoolDropped += n;
      this.show();
      return;
    }
    this.posted += n;
    this.endpoint.postMessage({ type: 'write', batch: points });
  }
  traffic(q: TrafficQuery): Promise<TrafficSample[]> {
    return this.call('traffic', [q]) as Promise<TrafficSample[]>;
  }
  topTalkers(q: TimeRange & { side: 'src' | 'dst'; exporter?: string; limit: number }): Promise<TopTalker[]> {
    return this.call('topTalkers', [q]) as Promise<TopTalker[]>;
  }
  protocols(q: TimeRange & { exporter?: string }): Promise<ProtocolTotal[]> {
    return this.call('protocols', [q]) as Promise<ProtocolTotal[]>;
  }
  interfaceTotals(q: TimeRange & { exporter?: string; limit: number }): Promise<InterfaceTotal[]> {
    return this.call('interfaceTotals', [q]) as Promise<InterfaceTotal[]>;
  }
  exporters(): Promise<ExporterInfo[]> {
    return this.call('exporters', []) as Promise<ExporterInfo[]>;
  }
  interfaces(q: Partial<TimeRange> & { exporter?: string; limit: number }): Promise<InterfaceRef[]> {
    return this.call('interfaces', [q]) as Promise<InterfaceRef[]>;
  }
  forecasts(q: { series: string; from?: number; to?: number }): Promise<ForecastSample[]> {
    return this.call('forecasts', [q]) as Promise<ForecastSample[]>;
  }
  forecastSeries(): Promise<string[]> {
    return this.call('forecastSeries', []) as Promise<string[]>;
  }
  capacity(): Promise<Row[]> {
    return this.call('capacity', []) as Promise<Row[]>;
  }
  anomalies(q: TimeRange & { kind?: string; exporter?: string }): Promise<Row[]> {
    return this.call('anomalies', [q]) as Promise<Row[]>;
  }
  rows(measurement: string, q: TimeRange): Promise<Row[]> {
    return this.call('rows', [measurement, q]) as Promise<Row[]>;
  }

  /**
   * The store behind this channel is gone for good (a thread that died): its counters are kept,
   * and a new one's are counted on from them.
   */
  protected carryOver(): void {
    addCounters(this.last, this.offset);
    this.last = emptyStats();
    this.show();
  }

  private show(): void {
    copyStats(this.last, this.stats);
    addCounters(this.offset, this.stats);
  }

  private onMessage(m: FromStore): void {
    this.last = m.stats;
    this.taken = m.taken;
    this.show();
    if (m.type === 'stats') return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (m.type === 'error') p.reject(fromWire(m.error));
    else p.resolve(m.value);
  }
}
