/**
 * The `detection:` section of the configuration (attack detection and alert sinks), and the
 * builder that turns it into the detection component for the composition root. Documented in
 * docs/detection.md. Every key is validated at start-up: an invalid CIDR or a threshold of the
 * wrong type stops start-up naming the key (for example `detection.hostGroups.0.networks.1`).
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { AlertmanagerSink } from '../collector/detect/alerts/alertmanager.js';
import { CommandSink } from '../collector/detect/alerts/command.js';
import type { AlertSink } from '../collector/detect/alerts/sink.js';
import { WebhookSink } from '../collector/detect/alerts/webhook.js';
import type { Thresholds } from '../collector/detect/detector.js';
import { DetectionService } from '../collector/detect/service.js';
import { parsePrefix } from '../common/cidr.js';
import type { Point } from '../storage/store.js';

const rate = z.number().positive();
const seconds = z.number().positive().max(86_400);

const thresholdsSchema = z.strictObject({
  pps: rate.optional(),
  mbps: rate.optional(),
  flows: rate.optional(),
  synPps: rate.optional(),
  udpPps: rate.optional(),
  icmpPps: rate.optional(),
  fragmentPps: rate.optional(),
  amplificationPps: rate.optional(),
});

/** A CIDR prefix or a single address (common/cidr.ts): host groups and collector.allowedExporters. */
export const cidr = z.string().refine((s) => parsePrefix(s) !== undefined, {
  message: 'not a CIDR prefix (a.b.c.d/n, x:y::/n or a single address)',
});

const queue = {
  /** Events waiting for delivery; beyond this they are dropped and counted. */
  maxQueued: z.number().int().min(1).max(100_000).default(1000),
  attempts: z.number().int().min(1).max(20).default(5),
  /** First retry after this many seconds, doubling up to 60 s. */
  backoff: seconds.default(1),
  timeout: seconds.default(5),
};

const headers = z
  .record(z.string().regex(/^[A-Za-z0-9-]+$/, 'not an HTTP header name'), z.string())
  .default({});

export const detectionSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Seconds per detection window. */
    tick: z.number().min(1).max(300).default(5),
    /** Seconds between checks of the open window (at most `tick`). */
    checkEvery: z.number().min(0.1).max(300).default(0.25),
    /** Limits for destinations in no host group (FastNetMon's global thresholds). */
    thresholds: thresholdsSchema.default({ pps: 20_000, mbps: 1000, flows: 3500 }),
    hostGroups: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)'),
          networks: z.array(cidr).min(1),
          thresholds: thresholdsSchema.default({}),
        }),
      )
      .max(1000)
      .default([])
      .refine(
        (groups) => new Set(groups.map((g) => g.name)).size === groups.length,
        'host group names must differ',
      ),
    baseline: z
      .strictObject({
        /** Report a destination above factor × its own average (0: baselines off). */
        factor: z.number().min(0).default(10),
        /** ... and above this many packets per second. */
        minPps: z.number().min(0).default(1000),
        /** Seconds of history before a destination's baseline is used. */
        warmup: z.number().min(0).max(604_800).default(600),
        halfLife: seconds.default(600),
      })
      .prefault({}),
    scan: z
      .strictObject({
        minPairs: z.number().int().min(2).default(200),
        verticalMaxHosts: z.number().int().min(1).default(2),
        horizontalMaxPorts: z.number().int().min(1).default(2),
        window: seconds.default(60),
      })
      .prefault({}),
    episodes: z
      .strictObject({
        endAfter: seconds.default(30),
        updateEvery: seconds.default(60),
        max: z.number().int().min(1).max(1_000_000).default(10_000),
      })
      .prefault({}),
    memory: z
      .strictObject({
        destinations: z.number().int().min(16).max(1_048_576).default(4096),
        sources: z.number().int().min(16).max(1_048_576).default(4096),
        baselineHosts: z.number().int().min(0).max(10_000_000).default(65_536),
      })
      .prefault({}),
    amplificationPorts: z
      .array(z.number().int().min(0).max(65535))
      .default([19, 53, 123, 161, 389, 1900, 3702, 11211]),
    alertmanager: z
      .strictObject({
        url: z.url(),
        severity: z
          .strictObject({
            ddos: z.string().min(1).default('critical'),
            syn_flood: z.string().min(1).default('critical'),
            scan: z.string().min(1).default('warning'),
          })
          .prefault({}),
        labels: z
          .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a label name'), z.string())
          .default({}),
        headers,
        ...queue,
      })
      .optional(),
    webhook: z.strictObject({ url: z.url(), headers, ...queue }).optional(),
    command: z
      .strictObject({
        path: z.string().min(1),
        args: z.array(z.string()).default([]),
        maxQueued: queue.maxQueued,
        timeout: seconds.default(10),
      })
      .optional(),
  })
  .prefault({});

export type DetectionConfig = z.infer<typeof detectionSchema>;

function thresholds(t: z.infer<typeof thresholdsSchema>): Thresholds {
  return { ...t };
}

/** The detection component the configuration asks for, or undefined when `enabled: false`. */
export function buildDetection(
  config: DetectionConfig,
  deps: { log: Logger; metrics?: Registry; write: (points: readonly Point[]) => void },
): DetectionService | undefined {
  if (!config.enabled) return undefined;
  const sinks: AlertSink[] = [];
  let onResult: DetectionService['onDelivery'] = () => {};
  const listener: DetectionService['onDelivery'] = (sink, result) => onResult(sink, result);
  const log = deps.log;
  if (config.alertmanager !== undefined) {
    const a = config.alertmanager;
    sinks.push(
      new AlertmanagerSink(
        {
          url: a.url,
          timeoutMs: a.timeout * 1000,
          // While open, an alert stays firing two update periods past each refresh.
          holdMs: 2 * config.episodes.updateEvery * 1000 + config.episodes.endAfter * 1000,
          severity: a.severity,
          labels: a.labels,
          headers: a.headers,
          maxQueued: a.maxQueued,
          attempts: a.attempts,
          backoffMs: a.backoff * 1000,
          maxBackoffMs: 60_000,
        },
        { log: log.child({ sink: 'alertmanager' }), onResult: listener },
      ),
    );
  }
  if (config.webhook !== undefined) {
    const w = config.webhook;
    sinks.push(
      new WebhookSink(
        {
          url: w.url,
          headers: w.headers,
          timeoutMs: w.timeout * 1000,
          maxQueued: w.maxQueued,
          attempts: w.attempts,
          backoffMs: w.backoff * 1000,
          maxBackoffMs: 60_000,
        },
        { log: log.child({ sink: 'webhook' }), onResult: listener },
      ),
    );
  }
  if (config.command !== undefined) {
    const c = config.command;
    sinks.push(
      new CommandSink(
        {
          path: c.path,
          args: c.args,
          timeoutMs: c.timeout * 1000,
          maxQueued: c.maxQueued,
          attempts: 1,
          backoffMs: 0,
          maxBackoffMs: 0,
        },
        { log: log.child({ sink: 'command' }), onResult: listener },
      ),
    );
  }
  const service = new DetectionService(
    {
      tickMs: config.tick * 1000,
      checkMs: Math.min(config.checkEvery, config.tick) * 1000,
      detector: {
        groups: config.hostGroups.map((g) => ({
          name: g.name,
          networks: g.networks.map((n) => parsePrefix(n)!),
          thresholds: thresholds(g.thresholds),
        })),
        defaultThresholds: thresholds(config.thresholds),
        baseline: {
          factor: config.baseline.factor,
          minPps: config.baseline.minPps,
          warmupMs: config.baseline.warmup * 1000,
          halfLifeMs: config.baseline.halfLife * 1000,
        },
        scan: {
          minPairs: config.scan.minPairs,
          verticalMaxHosts: config.scan.verticalMaxHosts,
          horizontalMaxPorts: config.scan.horizontalMaxPorts,
          windowMs: config.scan.window * 1000,
        },
        destinations: config.memory.destinations,
        sources: config.memory.sources,
        baselineHosts: config.memory.baselineHosts,
        amplificationPorts: config.amplificationPorts,
      },
      episodes: {
        endAfterMs: config.episodes.endAfter * 1000,
        updateEveryMs: config.episodes.updateEvery * 1000,
        maxEpisodes: config.episodes.max,
      },
    },
    { log, write: deps.write, sinks, ...(deps.metrics !== undefined && { metrics: deps.metrics }) },
  );
  onResult = service.onDelivery;
  return service;
}
