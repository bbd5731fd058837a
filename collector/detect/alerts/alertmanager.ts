/**
 * Prometheus Alertmanager sink: each episode event is posted to `POST <url>/api/v2/alerts` as one
 * alert labelled alertname (flowcast_<kind>), kind, subject, exporter, group and severity. While
 * the episode lasts its `endsAt` lies `holdMs` ahead (each update pushes it on, so the alert does
 * not depend on Alertmanager's resolve_timeout); the end event sets `endsAt` to the end, which
 * resolves the alert.
 */
import type { Logger } from 'pino';
import type { AnomalyKind } from '../detector.js';
import type { EpisodeEvent } from '../episodes.js';
import { postJson } from './http.js';
import { type DeliveryListener, QueuedSink, type QueueOptions } from './sink.js';

export interface AlertmanagerOptions extends QueueOptions {
  /** Alertmanager base URL, e.g. http://127.0.0.1:9093 */
  readonly url: string;
  readonly timeoutMs: number;
  /** How far ahead `endsAt` is set while the episode is open (ms). */
  readonly holdMs: number;
  readonly severity: Readonly<Record<AnomalyKind, string>>;
  /** Extra labels on every alert (for routing). */
  readonly labels: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
}

export function alertOf(
  event: EpisodeEvent,
  options: Pick<AlertmanagerOptions, 'holdMs' | 'severity' | 'labels'>,
) {
  const e = event.episode;
  const d = e.latest;
  const endsAt = event.state === 'end' ? (e.endedAt ?? event.time) : event.time + options.holdMs;
  return {
    labels: {
      ...options.labels,
      alertname: `flowcast_${e.kind}`,
      kind: e.kind,
      subject: e.subject,
      exporter: e.exporter,
      group: e.group,
      severity: options.severity[e.kind],
    },
    annotations: {
      summary: d.message,
      metric: d.metric,
      value: String(Math.round(d.value)),
      expected: String(Math.round(d.expected)),
      score: d.score.toFixed(2),
      peak: e.peak.message,
      episode: e.id,
    },
    startsAt: new Date(e.startedAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
  };
}

export class AlertmanagerSink extends QueuedSink {
  constructor(options: AlertmanagerOptions, deps: { log: Logger; onResult: DeliveryListener }) {
    const endpoint = `${options.url.replace(/\/+$/, '')}/api/v2/alerts`;
    super(
      'alertmanager',
      options,
      (event, signal) =>
        postJson(endpoint, [alertOf(event, options)], options.headers, options.timeoutMs, signal),
      deps,
      'alertmanager: delivery failed',
    );
  }
}
