/**
 * The composition root of `flowcast serve`: builds every component from the configuration in
 * dependency order (store, rollup, collector, HTTP), starts them in that order, and stops them in
 * reverse on SIGINT/SIGTERM, so the collector drains into the rollup, the rollup emits its open
 * windows into the store, and the store flushes (or spools) before the process exits.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { schedulerConfig } from '../analytics/jobs/config.js';
import { AnalyticsScheduler } from '../analytics/jobs/scheduler.js';
import { HttpServer } from '../api/server.js';
import { Collector } from '../collector/receive/service.js';
import { aggregatedMetrics, DecodePool } from '../collector/worker/pool.js';
import { InternalErrors, registerInternalErrorMetrics } from '../common/internal-errors.js';
import { type Logger, type LogOutput, resolveFormat } from '../common/logger.js';
import { mirroredCounter } from '../common/metrics.js';
import { installProfiler } from '../common/profiler.js';
import { batchLength, hasMeasurement, pointsOf } from '../storage/columns.js';
import { registerStoreMetrics } from '../storage/metrics.js';
import { openStore, type StoreSpec } from '../storage/open.js';
import type { Store } from '../storage/store.js';
import { ThreadStore } from '../storage/thread/thread-store.js';
import type { Config } from './config.js';

export interface Component {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Service {
  readonly collector: Collector;
  readonly http: HttpServer;
  readonly store: Store;
  readonly pool: DecodePool;
  readonly internalErrors: InternalErrors;
  readonly jobs: AnalyticsScheduler;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const MIB = 1024 * 1024;
/**
 * The store thread's heap: its queue (at most 200,000 points, as columns) and the answers it is
 * making. Past it the thread is replaced, not the process (docs/operations.md).
 */
const STORE_HEAP_MB = 384;

/** The store the configuration asks for: InfluxDB when a URL is set, the embedded one otherwise. */
export function storeSpec(config: Config, dataDir: string): StoreSpec {
  const influx = config.storage.influx;
  if (influx.url === undefined) {
    return {
      kind: 'embedded',
      options: {
        dataDir,
        retentionDays: config.storage.retentionDays,
        threads: config.storage.embeddedThreads,
      },
    };
  }
  return {
    kind: 'influx',
    options: {
      url: influx.url,
      database: influx.database,
      ...(influx.org !== undefined && { org: influx.org }),
      ...(influx.token !== undefined && { token: influx.token }),
      ...(influx.username !== undefined && { username: influx.username }),
      ...(influx.password !== undefined && { password: influx.password }),
      dataDir,
      spoolMaxBytes: config.storage.spoolMaxMegabytes * MIB,
    },
  };
}

/** The store the configuration asks for, on this thread (one-shot commands). */
export function buildStore(config: Config, dataDir: string, log: Logger): Store {
  return openStore(storeSpec(config, dataDir), log.child({ component: 'store' }));
}

/** Decode workers: as configured, else one per core less the receiving one, at least one. */
export function decodeWorkers(configured: number | undefined): number {
  return configured ?? Math.max(1, availableParallelism() - 1);
}

/** Builds the service; nothing listens or writes until `start()`. */
export function buildService(config: Config, log: Logger, logOutput?: LogOutput): Service {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'flowcast_process_' });
  if (logOutput !== undefined)
    mirroredCounter(
      metrics,
      'flowcast_log_dropped_bytes_total',
      "Log bytes dropped because stdout's reader fell 16 MiB behind",
      [],
      (set) => set({}, logOutput.droppedBytes),
    );
  const c = config.collector;
  const dataDir = resolve(config.storage.dataDir);

  const internalErrors = new InternalErrors(log.child({ component: 'guard' }));
  registerInternalErrorMetrics(metrics, internalErrors);
  installProfiler('main', (err) => internalErrors.report('profiler', err));
  const spec = storeSpec(config, dataDir);
  // The store runs on a thread of its own (storage/thread/thread-store.ts).
  const store = new ThreadStore({
    spec,
    logLevel: config.log.level,
    logFormat: resolveFormat(config.log.format),
    ...(logOutput !== undefined && { logOutput: (lines: string) => logOutput.write(lines) }),
    log: log.child({ component: 'store' }),
    internalErrors,
    heapLimitMb: STORE_HEAP_MB,
  });
  registerStoreMetrics(metrics, store);

  let firstRollup = false;
  const intervalMs = config.storage.rollupInterval * 1000;
  const pool = new DecodePool(
    {
      workers: decodeWorkers(c.workers),
      queueSize: c.queueSize,
      queueMaxBytes: c.queueMaxMegabytes * MIB,
      flushEveryMs: Math.min(5000, intervalMs / 4),
      stateFile: join(dataDir, 'rollup-state.json'),
      // `auto` decided here, where the terminal is: a worker's stdout is not one.
      setup: { config, logFormat: resolveFormat(config.log.format) },
      ...(logOutput !== undefined && { logOutput: (lines: string) => logOutput.write(lines) }),
    },
    {
      log: log.child({ component: 'collector' }),
      internalErrors,
      metrics,
      write: (points) => {
        if (!firstRollup && hasMeasurement(points, 'traffic')) {
          firstRollup = true;
          log.info(
            {
              points: batchLength(points),
              interval: new Date(pointsOf(points, 0, 1)[0]!.time).toISOString(),
            },
            'first rollup interval written',
          );
        }
        store.write(points);
      },
    },
  );
  const collector = new Collector(
    {
      bind: c.bind,
      netflowPort: c.netflowPort,
      ipfixPort: c.ipfixPort,
      receiveBuffer: c.receiveBuffer,
      allowedExporters: c.allowedExporters,
      dataDir,
    },
    { log: log.child({ component: 'collector' }), route: pool, metrics, internalErrors },
  );

  const jobs = new AnalyticsScheduler(schedulerConfig(config.analytics, config.storage.rollupInterval), {
    store,
    log: log.child({ component: 'analytics' }),
    metrics,
  });

  const h = config.http;
  const http = new HttpServer(
    {
      bind: h.bind ?? c.bind,
      port: h.port,
      ...(h.apiToken !== undefined && { apiToken: h.apiToken }),
      publicMetrics: h.publicMetrics,
      publicDocs: h.publicDocs,
      corsOrigins: h.corsOrigins,
      rateLimitPerMinute: h.rateLimit,
      maxBodyBytes: h.maxBodyBytes,
      headersTimeoutMs: h.headersTimeout * 1000,
      requestTimeoutMs: h.requestTimeout * 1000,
      responseTimeoutMs: h.requestTimeout * 1000,
      keepAliveTimeoutMs: h.keepAliveTimeout * 1000,
      rollupIntervalSeconds: config.storage.rollupInterval,
    },
    {
      log: log.child({ component: 'http' }),
      metrics,
      store,
      collector: pool.view,
      metricsText: () => aggregatedMetrics(metrics, pool),
      jobs,
      collectorHealth: () => ({
        queue: pool.pending,
        workers: pool.workers,
        store: spec.kind === 'influx' ? 'influxdb' : 'embedded',
      }),
    },
  );

  const components: Component[] = [store, collector, jobs, http];
  const started: Component[] = [];
  return {
    collector,
    http,
    store,
    pool,
    internalErrors,
    jobs,
    async start() {
      for (const component of components) {
        await component.start();
        started.push(component);
      }
      log.info(
        {
          store: spec.kind === 'influx' ? config.storage.influx.url : `embedded (${dataDir})`,
          rollupInterval: config.storage.rollupInterval,
        },
        'flowcast started',
      );
    },
    async stop() {
      while (started.length > 0) {
        const component = started.pop()!;
        try {
          await component.stop();
        } catch (err) {
          log.error({ err }, 'error while stopping a component');
        }
      }
    },
  };
}
