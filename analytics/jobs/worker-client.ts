/**
 * The main thread's side of the analytics worker: one long-lived worker thread (the anomaly
 * detectors keep their state in it), job runs and tasks queued to it one message each. Built from nothing,
 * started by start(), terminated by stop(); a crashed worker fails the tasks in flight and is
 * replaced at the next task.
 */
import type { MessagePort, TransferListItem, Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { startWorker } from '../../common/worker.js';
import type { JobResult } from './jobs.js';
import type {
  AnomalyEvent,
  AnomalyTask,
  CapacityOutput,
  CapacityTask,
  ForecastOutput,
  ForecastTask,
  Task,
} from './tasks.js';
import type { JobTask, JobWarning } from './worker.js';

/** What a job's run in the worker answers: its result and the warnings for the log. */
export interface JobOutcome {
  readonly result: JobResult;
  readonly warnings: readonly JobWarning[];
  /** Warnings past those sent. */
  readonly more: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** The analytics worker (worker.ts), compiled or through tsx under the tests. */
function newWorker(): Worker {
  return startWorker(import.meta.url, './worker', { name: 'flowcast-analytics' });
}

export class AnalyticsWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private started = false;

  constructor(private readonly log: Logger) {}

  async start(): Promise<void> {
    this.started = true;
    this.spawn();
  }

  async stop(): Promise<void> {
    this.started = false;
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new Error('analytics worker stopped'));
    if (w !== undefined) await w.terminate();
  }

  /**
   * One run of a job in the worker, reading and writing the store through `port`
   * (storage/thread/serve-port.ts), which the worker closes when done.
   */
  job(task: Omit<JobTask, 'type' | 'port'>, port: MessagePort): Promise<JobOutcome> {
    if (!this.started) {
      port.close();
      return Promise.reject(new Error('analytics worker not started'));
    }
    return this.post({ type: 'job', ...task, port }, [port]) as Promise<JobOutcome>;
  }

  run(task: ForecastTask): Promise<ForecastOutput[]>;
  run(task: CapacityTask): Promise<CapacityOutput[]>;
  run(task: AnomalyTask): Promise<AnomalyEvent[]>;
  run(task: Task): Promise<unknown> {
    if (!this.started) return Promise.reject(new Error('analytics worker not started'));
    return this.post(task, []);
  }

  private post(task: Task | JobTask, transfer: readonly TransferListItem[]): Promise<unknown> {
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, task }, transfer);
    });
  }

  private spawn(): Worker {
    const worker = newWorker();
    worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    worker.on('error', (err) => {
      this.log.error({ err }, 'analytics worker failed; it is restarted at the next task');
      if (this.worker === worker) this.worker = undefined;
      this.failAll(err);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.failAll(new Error(`analytics worker exited with code ${code}`));
      }
    });
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
