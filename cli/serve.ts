/**
 * The composition root of `flowcast serve`: builds every component from the configuration in
 * dependency order, starts them in that order, and stops them in reverse on SIGINT/SIGTERM.
 */
import { resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpServer } from '../api/server.js';
import { ElementRegistry } from '../collector/ie/registry.js';
import { Collector } from '../collector/service.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

export interface Component {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Service {
  readonly collector: Collector;
  readonly http: HttpServer;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the service; nothing listens or writes until `start()`. */
export function buildService(config: Config, log: Logger): Service {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'flowcast_process_' });
  const c = config.collector;
  const dataDir = resolve(config.storage.dataDir);
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
      receiveBuffer: c.receiveBuffer,
      dataDir,
      state: {
        templateLifetimeMs: c.templateLifetime * 1000,
        maxTemplatesPerExporter: c.maxTemplatesPerExporter,
        maxExporters: c.maxExporters,
        pendingLifetimeMs: c.pendingLifetime * 1000,
        pendingMaxSets: c.pendingMaxSets,
        sampling,
      },
    },
    {
      log: log.child({ component: 'collector' }),
      registry: new ElementRegistry(c.enterpriseElements),
      metrics,
      sink: () => {},
    },
  );
  const http = new HttpServer(config.http, {
    log: log.child({ component: 'http' }),
    metrics,
    health: () => ({ exporters: collector.state.exporters.size, queue: collector.queue.length }),
  });

  const components: Component[] = [collector, http];
  const started: Component[] = [];
  return {
    collector,
    http,
    async start() {
      for (const component of components) {
        await component.start();
        started.push(component);
      }
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
