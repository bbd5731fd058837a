/**
 * The store on a thread of its own. The receiving thread keeps only this proxy: a write is one
 * message (columns cross as typed arrays), a read one call and one answer. The store itself
 * (DuckDB appends and appender closes, answers made into rows, InfluxDB encoding) runs on the
 * `flowcast-store` thread, so none of it holds the thread that receives datagrams and answers
 * health: under bench/survive.ts's flood those were the receiving thread's longest holds (a rollup
 * interval's appends 73-97 ms, the analytics jobs' reads 90-106 ms).
 *
 * The proxy is a {@link RemoteStore} whose channel is the thread. The thread starts with the first
 * write or `start()`. If it dies while the service runs, what
 * was in flight is failed (reads) or lost (queued points), the loss is reported as an internal
 * error, and a new thread opens the store again a second later.
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { InternalErrors } from '../../common/internal-errors.js';
import { startWorker } from '../../common/worker.js';
import type { PointBatch } from '../columns.js';
import { EmbeddedStoreError } from '../embedded/errors.js';
import { InfluxStoreError } from '../influx/errors.js';
import type { StoreSpec } from '../open.js';
import { RemoteStore } from './client.js';
import { type Connectable, serveStore } from './serve-port.js';

/** What the store thread is started with (its workerData). */
export interface StoreThreadSetup {
  readonly spec: StoreSpec;
  readonly logLevel: string;
  readonly logFormat: 'pretty' | 'json';
}

export interface ThreadStoreOptions extends StoreThreadSetup {
  /** Where the thread's log lines go; unset, to this process's stdout as Node relays it. */
  readonly logOutput?: (lines: string) => void;
  readonly log: Logger;
  readonly internalErrors?: InternalErrors;
  /** The thread's JavaScript heap limit: past it the thread dies and is replaced, not the process. */
  readonly heapLimitMb?: number;
  /** Points written and not yet taken by the thread past which writes are dropped (client.ts). */
  readonly maxInFlightPoints?: number;
  /** Wait before a thread that died is replaced. */
  readonly restartDelayMs?: number;
}

export class ThreadStore extends RemoteStore implements Connectable {
  private worker: Worker | undefined;
  private running = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Times the thread died and was replaced. */
  restarts = 0;

  constructor(private readonly o: ThreadStoreOptions) {
    super(undefined, {
      closedBy: notStarted(o.spec.kind),
      ...(o.maxInFlightPoints !== undefined && { maxInFlightPoints: o.maxInFlightPoints }),
    });
  }

  /** Which store runs on the thread. */
  get kind(): StoreSpec['kind'] {
    return this.o.spec.kind;
  }

  override async start(): Promise<void> {
    this.ensure();
    this.running = true;
    await super.start();
  }

  override async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (worker === undefined) return;
    try {
      await super.stop();
    } finally {
      this.worker = undefined;
      this.close(notStarted(this.o.spec.kind));
      await worker.terminate();
    }
  }

  override write(points: PointBatch): void {
    this.ensure();
    super.write(points);
  }

  /** A port on which another thread calls this store (transfer it; the receiver closes it). */
  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    if (this.worker !== undefined) {
      this.worker.postMessage({ type: 'connect', port: port2 }, [port2]);
    } else {
      // No thread: the client's calls are answered here, each with "not started" (a port closed
      // before it is transferred would leave them waiting for good).
      serveStore(this, port2);
      port2.unref();
    }
    return port1;
  }

  /**
   * A thread, started now if there is none: writes before `start()` wait in it, and while the
   * service runs, a thread that replaces one that died opens the store at once (whether a write or
   * the restart timer came first).
   */
  private ensure(): void {
    if (this.worker !== undefined) return;
    clearTimeout(this.restartTimer);
    const setup: StoreThreadSetup = {
      spec: this.o.spec,
      logLevel: this.o.logLevel,
      logFormat: this.o.logFormat,
    };
    const worker = startWorker(import.meta.url, './host', {
      name: 'flowcast-store',
      workerData: setup,
      ...(this.o.heapLimitMb !== undefined && {
        resourceLimits: { maxOldGenerationSizeMb: this.o.heapLimitMb },
      }),
      ...(this.o.logOutput !== undefined && { stdout: true }),
    });
    const logOutput = this.o.logOutput;
    if (logOutput !== undefined) {
      worker.stdout.setEncoding('utf8');
      worker.stdout.on('data', (lines: string) => logOutput(lines));
    }
    worker.on('error', (err) => this.o.log.error({ err }, 'store thread failed'));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.close(notStarted(this.o.spec.kind));
      this.carryOver();
      if (!this.running) return;
      const err = new Error(`store thread exited with code ${code}; points queued in it are lost`);
      if (this.o.internalErrors !== undefined) this.o.internalErrors.report('store', err);
      else this.o.log.error({ err }, 'store thread died');
      this.restartTimer = setTimeout(() => {
        if (this.running) this.ensure();
      }, this.o.restartDelayMs ?? 1000);
      this.restartTimer.unref();
    });
    this.worker = worker;
    this.attach(worker);
    if (!this.running) return;
    this.restarts++;
    super.start().then(
      () => this.o.log.warn({ restarts: this.restarts }, 'store thread restarted'),
      (err: unknown) => this.o.log.error({ err }, 'store thread could not open the store again'),
    );
  }
}

function notStarted(kind: StoreSpec['kind']): Error {
  return kind === 'embedded'
    ? new EmbeddedStoreError('FLOWCAST_EMBEDDED_NOT_STARTED', 'the store thread is not running')
    : new InfluxStoreError('FLOWCAST_INFLUX_NOT_STARTED', 'the store thread is not running');
}
