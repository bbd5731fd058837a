/**
 * Generic webhook sink: each episode event as a JSON POST (see `eventJson`), retried with
 * exponential backoff from a bounded queue; failures and drops are counted.
 */
import type { Logger } from 'pino';
import { postJson } from './http.js';
import { type DeliveryListener, eventJson, QueuedSink, type QueueOptions } from './sink.js';

export interface WebhookOptions extends QueueOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
}

export class WebhookSink extends QueuedSink {
  constructor(options: WebhookOptions, deps: { log: Logger; onResult: DeliveryListener }) {
    super(
      'webhook',
      options,
      (event, signal) => postJson(options.url, eventJson(event), options.headers, options.timeoutMs, signal),
      deps,
      'webhook: delivery failed',
    );
  }
}
