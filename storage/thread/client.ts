/**
 * The {@link Store} interface on the far side of a channel: every read is one call message and one
 * answer, writes are posted without an answer, and `stats` follow the counters each answer (and
 * the store thread's periodic message) carries. Used by ThreadStore on the receiving thread and by
 * the analytics worker for its reads.
 */
import type { PointBatch } from '../columns.js';
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
import { copyStats, type Endpoint, emptyStats, type FromStore, fromWire, type Method } from './protocol.js';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class RemoteStore implements Store {
  readonly stats: StoreStats = emptyStats();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private endpoint: Endpoint | undefined;
  private closedBy: Error | undefined;

  /** Without an endpoint every call fails with `closedBy` until one is attached. */
  constructor(endpoint?: Endpoint, closedBy?: Error) {
    if (endpoint !== undefined) this.attach(endpoint);
    else this.closedBy = closedBy ?? new Error('the store channel is not open');
  }

  /** Calls go to `endpoint` from now on (a store thread that replaced one that died). */
  protected attach(endpoint: Endpoint): void {
    this.endpoint = endpoint;
    this.closedBy = undefined;
    endpoint.on('message', (m) => {
      if (this.endpoint === endpoint) this.onMessage(m as FromStore);
    });
    // A MessagePort whose other side is gone (a store thread that died or stopped).
    endpoint.on('close', () => {
      if (this.endpoint === endpoint) this.close(new Error('the store channel closed'));
    });
  }

  /** Fails every call in flight and every later one with `err` (the channel is gone). */
  close(err: Error): void {
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
      endpoint.postMessage({ type: 'call', id, method, args });
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
    this.endpoint?.postMessage({ type: 'write', batch: points });
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
  interfaceTotals(q: TimeRange & { exporter?: string }): Promise<InterfaceTotal[]> {
    return this.call('interfaceTotals', [q]) as Promise<InterfaceTotal[]>;
  }
  exporters(): Promise<ExporterInfo[]> {
    return this.call('exporters', []) as Promise<ExporterInfo[]>;
  }
  interfaces(q?: Partial<TimeRange>): Promise<InterfaceRef[]> {
    return this.call('interfaces', q === undefined ? [] : [q]) as Promise<InterfaceRef[]>;
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

  private onMessage(m: FromStore): void {
    copyStats(m.stats, this.stats);
    if (m.type === 'stats') return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (m.type === 'error') p.reject(fromWire(m.error));
    else p.resolve(m.value);
  }
}
