/**
 * Detection as a component: the collector's record sink feeds `ingest`; every tick (5 s by
 * default, independent of the rollup interval) the detector closes its window, the episode tracker
 * turns detections into start/update/end events, and each event becomes an `anomaly` point in the
 * store and a delivery to every alert sink. Nothing runs before `start()`; `stop()` stops the
 * timer and drains the sinks (open episodes are left open: a restart is not the end of an attack,
 * and Alertmanager resolves them when their `endsAt` passes).
 */
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RateLimitedLog } from '../../common/logger.js';
import type { Point } from '../../storage/store.js';
import type { DecodedRecord } from '../decode/flow.js';
import type { AlertSink, DeliveryResult } from './alerts/sink.js';
import { type AnomalyKind, type Detection, Detector, type DetectorOptions } from './detector.js';
import { type EpisodeEvent, type EpisodeOptions, EpisodeTracker } from './episodes.js';

export interface DetectionOptions {
  /** Window length (ms): rates are judged over it and baselines learn from each. */
  readonly tickMs: number;
  /**
   * How often the open window is checked (ms, ≤ tickMs): what arrived so far over the whole
   * window's length, so a strong attack is reported within a second or two, never on more
   * evidence than the closed window would give.
   */
  readonly checkMs: number;
  readonly detector: DetectorOptions;
  readonly episodes: EpisodeOptions;
}

export interface DetectionDeps {
  readonly log: Logger;
  /** Where anomaly points go (the store). */
  readonly write: (points: readonly Point[]) => void;
  readonly sinks: readonly AlertSink[];
  readonly metrics?: Registry;
}

const KINDS: readonly AnomalyKind[] = ['ddos', 'syn_flood', 'scan'];

/** The `anomaly` point of an episode event (docs/schema.md). */
export function anomalyPoint(event: EpisodeEvent): Point {
  const e = event.episode;
  const d = event.state === 'end' ? e.peak : e.latest;
  const message =
    event.state === 'end'
      ? `ended after ${Math.round(((e.endedAt ?? event.time) - e.startedAt) / 1000)} s; peak: ${d.message}`
      : d.message;
  return {
    measurement: 'anomaly',
    tags: { kind: e.kind, exporter: e.exporter || 'unknown', series: `${e.kind}/${e.group}` },
    fields: {
      score: d.score,
      value: d.value,
      expected: d.expected,
      message,
      subject: e.subject,
      state: event.state,
    },
    time: event.time,
  };
}

export class DetectionService {
  readonly detector: Detector;
  readonly episodes: EpisodeTracker;
  private timer: NodeJS.Timeout | undefined;
  private windowStart: number | undefined;
  private running = false;
  private readonly anomalies: Counter<'kind'> | undefined;
  private readonly deliveries: Counter<'sink' | 'result'> | undefined;
  /** Deliveries per sink and result, also kept without a registry (for tests and eval). */
  readonly deliveryCounts = new Map<string, number>();

  /** Episode starts and ends in the log: at most 20 a minute per kind and event, 60 in all. */
  private readonly episodeLog: RateLimitedLog;

  constructor(
    readonly options: DetectionOptions,
    private readonly deps: DetectionDeps,
  ) {
    this.detector = new Detector(options.detector);
    this.episodes = new EpisodeTracker(options.episodes);
    this.episodeLog = new RateLimitedLog(deps.log, { burst: 20, globalBurst: 60 });
    const registers = deps.metrics === undefined ? [] : [deps.metrics];
    if (deps.metrics !== undefined) {
      this.anomalies = new Counter({
        name: 'flowcast_anomalies_total',
        help: 'Anomaly episodes started, by kind',
        labelNames: ['kind'],
        registers,
      });
      for (const kind of KINDS) this.anomalies.inc({ kind }, 0);
      const episodes = this.episodes;
      new Gauge({
        name: 'flowcast_anomalies_active',
        help: 'Anomaly episodes open now, by kind',
        labelNames: ['kind'],
        registers,
        collect() {
          const counts = episodes.activeByKind();
          for (const kind of KINDS) this.set({ kind }, counts.get(kind) ?? 0);
        },
      });
      this.deliveries = new Counter({
        name: 'flowcast_alert_deliveries_total',
        help: 'Alert deliveries by sink and result (success, failure after retries, dropped when the queue was full)',
        labelNames: ['sink', 'result'],
        registers,
      });
      const detector = this.detector;
      new Counter({
        name: 'flowcast_detect_records_total',
        help: 'Flow records seen by the attack detectors',
        registers,
        collect() {
          this.reset();
          this.inc(detector.records);
        },
      });
      new Counter({
        name: 'flowcast_detect_episodes_dropped_total',
        help: 'Detections refused because the most open episodes were reached',
        registers,
        collect() {
          this.reset();
          this.inc(episodes.dropped);
        },
      });
      new Gauge({
        name: 'flowcast_detect_memory_bytes',
        help: 'Upper bound of the memory the detectors hold (fixed by configuration)',
        registers,
        collect() {
          this.set(detector.memoryBytes());
        },
      });
    }
  }

  /** Counts a delivery outcome; sinks call this. */
  readonly onDelivery = (sink: string, result: DeliveryResult): void => {
    this.deliveries?.inc({ sink, result });
    const key = `${sink}/${result}`;
    this.deliveryCounts.set(key, (this.deliveryCounts.get(key) ?? 0) + 1);
  };

  async start(): Promise<void> {
    for (const sink of this.deps.sinks) await sink.start();
    this.running = true;
    this.windowStart = Date.now();
    this.timer = setInterval(() => {
      try {
        this.tick(Date.now());
      } catch (err) {
        this.episodeLog.error('detection.tick', { err }, 'detection check failed; detection goes on');
      }
    }, this.options.checkMs);
    this.timer.unref();
    this.deps.log.info(
      {
        tickSeconds: this.options.tickMs / 1000,
        checkSeconds: this.options.checkMs / 1000,
        groups: this.options.detector.groups.map((g) => g.name),
        sinks: this.deps.sinks.map((s) => s.name),
        memoryMiB: Math.ceil(this.detector.memoryBytes() / 2 ** 20),
      },
      'detection started',
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const sink of [...this.deps.sinks].reverse()) {
      try {
        await sink.stop();
      } catch (err) {
        this.deps.log.error({ err, sink: sink.name }, 'error while stopping an alert sink');
      }
    }
  }

  /** Adds decoded records to the current window (arrival time: they belong to the window open now). */
  ingest(records: readonly DecodedRecord[], now: number): void {
    if (this.running) this.detector.ingest(records, now);
  }

  /**
   * Checks the open window at `now`, and closes it when it has lasted `tickMs` (less half a check
   * period, for timer jitter): detections to episodes, episode events to the store and sinks.
   */
  tick(now: number): EpisodeEvent[] {
    this.windowStart ??= now - this.options.checkMs;
    let detections: Detection[];
    if (now - this.windowStart >= this.options.tickMs - this.options.checkMs / 2) {
      detections = this.detector.evaluate(now, now - this.windowStart);
      this.windowStart = now;
    } else {
      detections = this.detector.peek(now, this.options.tickMs);
    }
    const events = this.episodes.observe(detections, now);
    if (events.length === 0) return events;
    this.deps.write(events.map(anomalyPoint));
    for (const event of events) {
      const e = event.episode;
      if (event.state === 'start') {
        this.anomalies?.inc({ kind: e.kind });
        // Every episode goes to the store and the sinks; the log gets a bounded share of them (a
        // flood of spoofed destinations once wrote thousands of lines and held a stop for 20 s).
        this.episodeLog.warn(
          `start:${e.kind}`,
          { kind: e.kind, subject: e.subject, exporter: e.exporter },
          e.latest.message,
        );
      } else if (event.state === 'end') {
        this.episodeLog.info(
          `end:${e.kind}`,
          {
            kind: e.kind,
            subject: e.subject,
            seconds: Math.round(((e.endedAt ?? now) - e.startedAt) / 1000),
          },
          'attack episode ended',
        );
      }
      for (const sink of this.deps.sinks) sink.deliver(event);
    }
    return events;
  }
}
