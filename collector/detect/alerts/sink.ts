/**
 * Alert sinks: where episode events (start, update, end) go besides the store. Every sink has the
 * component shape (built from its config, nothing runs before `start()`, `stop()` drains) and the
 * same contract (alerts/sink.contract.ts): `deliver()` never blocks and never throws; an event the
 * sink cannot take (queue full) or could not send after its retries is counted, never retried
 * forever, and never holds up detection.
 */
import type { Logger } from 'pino';
import type { EpisodeEvent } from '../episodes.js';

export type DeliveryResult = 'success' | 'failure' | 'dropped';

export interface AlertSink {
  /** `alertmanager`, `webhook` or `command`: the `sink` label of flowcast_alert_deliveries_total. */
  readonly name: string;
  start(): Promise<void>;
  /** Sends what is queued (bounded by the sink's timeouts), then stops. */
  stop(): Promise<void>;
  deliver(event: EpisodeEvent): void;
}

/** Called once per event and sink with its outcome. */
export type DeliveryListener = (sink: string, result: DeliveryResult) => void;

/** The JSON form of an event that webhooks and commands receive. */
export function eventJson(event: EpisodeEvent): Record<string, unknown> {
  const e = event.episode;
  const d = e.latest;
  return {
    state: event.state,
    time: new Date(event.time).toISOString(),
    episode: {
      id: e.id,
      kind: e.kind,
      subject: e.subject,
      exporter: e.exporter,
      group: e.group,
      startedAt: new Date(e.startedAt).toISOString(),
      endedAt: e.endedAt === undefined ? null : new Date(e.endedAt).toISOString(),
      ticks: e.ticks,
      metric: d.metric,
      value: d.value,
      expected: d.expected,
      limit: d.limit,
      score: d.score,
      sources: d.sources ?? null,
      message: d.message,
      peak: { metric: e.peak.metric, value: e.peak.value, score: e.peak.score, message: e.peak.message },
    },
  };
}

export interface QueueOptions {
  /** Events waiting; when full, new ones are dropped and counted. */
  readonly maxQueued: number;
  /** Attempts per event (1: no retry). */
  readonly attempts: number;
  /** First backoff (ms), doubled per retry up to `maxBackoffMs`, with jitter. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

/**
 * A bounded queue with one sender working through it in order, retrying each event with
 * exponential backoff and jitter. `send` rejects to ask for a retry.
 */
export class DeliveryQueue {
  private readonly queue: EpisodeEvent[] = [];
  private running = false;
  private stopped = true;
  private idle: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly sinkName: string,
    private readonly options: QueueOptions,
    private readonly send: (event: EpisodeEvent, signal: AbortSignal) => Promise<void>,
    private readonly onResult: DeliveryListener,
    private readonly onError: (err: unknown, event: EpisodeEvent, attempt: number) => void,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  start(): void {
    this.stopped = false;
  }

  push(event: EpisodeEvent): void {
    if (this.stopped || this.queue.length >= this.options.maxQueued) {
      this.onResult(this.sinkName, 'dropped');
      return;
    }
    this.queue.push(event);
    if (!this.running) {
      this.running = true;
      this.idle = this.run();
    }
  }

  /** Waits until the queue is empty (or `timeoutMs`); what is left is counted as dropped. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    this.wake?.();
    await Promise.race([this.idle, timer]);
    this.abort.abort();
    await this.idle;
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const event = this.queue.shift()!;
      let delivered = false;
      for (let attempt = 1; attempt <= this.options.attempts && !this.abort.signal.aborted; attempt++) {
        try {
          await this.send(event, this.abort.signal);
          delivered = true;
          break;
        } catch (err) {
          this.onError(err, event, attempt);
          if (attempt === this.options.attempts || this.stopped) break;
          const backoff = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** (attempt - 1));
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, backoff * (0.5 + Math.random() / 2));
            this.wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          this.wake = undefined;
        }
      }
      this.onResult(this.sinkName, delivered ? 'success' : 'failure');
    }
    this.running = false;
  }
}

/**
 * A sink that sends each event from a DeliveryQueue: the shape every sink shares (start, stop
 * within the sink's timeout, deliver by queueing, a warning per failed attempt); a subclass gives
 * its name and how one event is sent.
 */
export abstract class QueuedSink implements AlertSink {
  protected readonly queue: DeliveryQueue;

  constructor(
    readonly name: string,
    private readonly queueOptions: QueueOptions & { readonly timeoutMs: number },
    send: (event: EpisodeEvent, signal: AbortSignal) => Promise<void>,
    deps: { log: Logger; onResult: DeliveryListener },
    failure: string,
  ) {
    this.queue = new DeliveryQueue(name, queueOptions, send, deps.onResult, (err, event, attempt) =>
      deps.log.warn({ err: (err as Error).message, episode: event.episode.id, attempt }, failure),
    );
  }

  async start(): Promise<void> {
    this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop(this.queueOptions.timeoutMs);
  }

  deliver(event: EpisodeEvent): void {
    this.queue.push(event);
  }
}
