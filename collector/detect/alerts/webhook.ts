/**
 * Generic webhook sink: each episode event as a JSON POST (see `eventJson`), retried with
 * exponential backoff from a bounded queue; failures and drops are counted.
 */
import type { Logger } from 'pino';
import type { EpisodeEvent } from '../episodes.js';
import { postJson } from './http.js';
import {
  type AlertSink,
  type DeliveryListener,
  DeliveryQueue,
  eventJson,
  type QueueOptions,
} from './sink.js';

export interface WebhookOptions extends QueueOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
}

export class WebhookSink implements AlertSink {
  readonly name = 'webhook';
  private readonly queue: DeliveryQueue;

  constructor(
    private readonly options: WebhookOptions,
    deps: { log: Logger; onResult: DeliveryListener },
  ) {
    this.queue = new DeliveryQueue(
      this.name,
      options,
      (event, signal) => postJson(options.url, eventJson(event), options.headers, options.timeoutMs, signal),
      deps.onResult,
      (err, event, attempt) =>
        deps.log.warn(
          { err: (err as Error).message, episode: event.episode.id, attempt },
          'webhook: delivery failed',
        ),
    );
  }

  async start(): Promise<void> {
    this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop(this.options.timeoutMs);
  }

  deliver(event: EpisodeEvent): void {
    this.queue.push(event);
  }
}
