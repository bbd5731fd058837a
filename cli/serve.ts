/**
 * The composition root of `flowcast serve`: builds every component from the configuration in
 * dependency order (store, rollup, collector, HTTP), starts them in that order, and stops them in
 * reverse on SIGINT/SIGTERM, so the collector drains into the rollup, the rollup emits its open
 * windows into the store, and the store flushes (or spools) before the process exits.
 */
import { join, resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { schedulerConfig } from '../analytics/jobs/config.js';
import { AnalyticsScheduler } from '../analytics/jobs/scheduler.js';
import { HttpServer } from '../api/server.js';
import type { DecodedRecord } from '../collector/decode/flow.js';
import { ElementRegistry } from '../collector/decode/ie/registry.js';
import { collectorCounters, type FlowState } from '../collector/decode/state.js';
import { localView } from '../collector/decode/view.js';
import { registerRollupMetrics } from '../collector/receive/metrics.js';
import { Collector } from '../collector/receive/service.js';
import { RawFlowSampler } from '../collector/rollup/raw-flows.js';
import { Rollup } from '../collector/rollup/rollup.js';
import { RollupService } from '../collector/rollup/rollup-service.js';
import { InternalErrors, registerInternalErrorMetrics } from '../common/internal-errors.js';
import type { Logger } from '../common/logger.js';
import { EmbeddedStore } from '../storage/embedded/embedded-store.js';
import { InfluxStore } from '../storage/influx/influx-store.js';
import { registerStoreMetrics } from '../storage/metrics.js';
import type { Store } from '../storage/store.js';
import type { Config } from './config.js';
import { buildDetection } from './detection-config.js';

export interface Component {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Service {
  readonly collector: Collector;
  readonly http: HttpServer;
  readonly store: Store;
  readonly rollup: Rollup;
  readonly internalErrors: InternalErrors;
  readonly jobs: AnalyticsScheduler;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const MIB = 1024 * 1024;

/** The store the configuration asks for: InfluxDB when a URL is set, the embedded one otherwise. */
export function buildStore(config: Config, dataDir: string, log: Logger): Store {
  const influx = config.storage.influx;
  if (influx.url === undefined) {
    return new EmbeddedStore({
      dataDir,
      retentionDays: config.storage.retentionDays,
      log: log.child({ component: 'store' }),
    });
  }
  return new InfluxStore({
    url: influx.url,
    database: influx.database,
    ...(influx.org !== undefined && { org: influx.org }),
    ...(influx.token !== undefined && { token: influx.token }),
    ...(influx.username !== undefined && { username: influx.username }),
    ...(influx.password !== undefined && { password: influx.password }),
    dataDir,
    spoolMaxBytes: config.storage.spoolMaxMegabytes * MIB,
    log: log.child({ component: 'store' }),
  });
}

/** Builds the service; nothing listens or writes until `start()`. */
export function buildService(config: Config, log: Logger): Service {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'flowcast_process_' });
  const c = config.collector;
  const dataDir = resolve(config.storage.dataDir);

  const internalErrors = new InternalErrors(log.child({ component: 'guard' }));
  registerInternalErrorMetrics(metrics, internalErrors);
  const store = buildStore(config, dataDir, log);
  registerStoreMetrics(metrics, store);

  let state: FlowState | undefined;
  let firstRollup = false;
  const intervalMs = config.storage.rollupInterval * 1000;
  const rollup = new Rollup(
    { intervalMs, topN: config.storage.topTalkers },
    {
      sink: (points) => {
        if (!firstRollup && points.some((p) => p.measurement === 'traffic')) {
          firstRollup = true;
          log.info(
            { points: points.length, interval: new Date(points[0]!.time).toISOString() },
            'first rollup interval written',
          );
        }
        store.write(points);
      },
      interfaceName: (exporter, ifIndex) => state?.exporters.get(exporter)?.interfaces.get(ifIndex)?.name,
      collectorCounters: () => (state === undefined ? [] : collectorCounters(state)),
    },
  );
  const rollupService = new RollupService(
    rollup,
    Math.min(5000, intervalMs / 4),
    join(dataDir, 'rollup-state.json'),
    log.child({ component: 'rollup' }),
    internalErrors,
  );
  const rawFlows = config.storage.rawFlows.enabled
    ? new RawFlowSampler(config.storage.rawFlows.sampleOneIn, (points) => store.write(points))
    : undefined;
  const detection = buildDetection(config.detection, {
    log: log.child({ component: 'detection' }),
    metrics,
    write: (points) => store.write(points),
  });
  const sink = (records: readonly DecodedRecord[]): void => {
    const now = Date.now();
    rollup.ingest(records, now);
    rawFlows?.ingest(records, now);
    detection?.ingest(records, now);
  };

  const sampling = new Map(
    Object.entries(c.exporters).map(([address, e]) => [
      address,
      {
        ...(e.samplingRate !== undefined && { default: e.samplingRate }),
        ...(e.samplingOverride !== undefined && { override: e.samplingOverride }),
      },
    ]),
  );
  const collector = new Collector(
    {
      bind: c.bind,
      netflowPort: c.netflowPort,
      ipfixPort: c.ipfixPort,
      queueSize: c.queueSize,
      queueMaxBytes: c.queueMaxMegabytes * MIB,
      receiveBuffer: c.receiveBuffer,
      allowedExporters: c.allowedExporters,
      metricsMaxExporters: c.metricsMaxExporters,
      dataDir,
      state: {
        templateLifetimeMs: c.templateLifetime * 1000,
        maxTemplatesPerExporter: c.maxTemplatesPerExporter,
        maxExporters: c.maxExporters,
        pendingLifetimeMs: c.pendingLifetime * 1000,
        pendingMaxSets: c.pendingMaxSets,
        stateMaxBytes: c.stateMemoryMegabytes * MIB,
        exporterMaxBytes: c.exporterMemoryMegabytes * MIB,
        sampling,
      },
    },
    {
      log: log.child({ component: 'collector' }),
      registry: new ElementRegistry(c.enterpriseElements),
      metrics,
      sink,
      internalErrors,
    },
  );
  state = collector.state;
  registerRollupMetrics(metrics, rollup);

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
      collector: localView(collector.state),
      jobs,
      collectorHealth: () => ({
        queue: collector.queue.length,
        store: store instanceof InfluxStore ? 'influxdb' : 'embedded',
      }),
    },
  );

  const components: Component[] = [
    store,
    rollupService,
    ...(detection ? [detection] : []),
    collector,
    jobs,
    http,
  ];
  const started: Component[] = [];
  return {
    collector,
    http,
    store,
    rollup,
    internalErrors,
    jobs,
    async start() {
      for (const component of components) {
        await component.start();
        started.push(component);
      }
      log.info(
        {
          store: store instanceof InfluxStore ? config.storage.influx.url : `embedded (${dataDir})`,
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
