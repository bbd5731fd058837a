/**
 * The analytics scheduler: runs the forecast, capacity and anomaly jobs on their node-cron
 * schedules, never two runs of one job at once, keeps each job's status for the API
 * (`JobControl`, analytics/job-status.ts) and exports it on `/metrics`:
 * `flowcast_job_runs_total{job,result}`, `flowcast_job_duration_seconds{job}`,
 * `flowcast_job_last_success_timestamp_seconds{job}`. Built from config and dependencies; nothing
 * is scheduled and no worker thread exists until start(); stop() cancels the schedules, waits for
 * runs in progress (bounded) and ends the worker.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Store } from '../../storage/store.js';
import { storePort } from '../../storage/thread/serve-port.js';
import type { JobControl, JobStatus } from '../job-status.js';
import { JOB_NAMES, type JobName, type JobResult, type JobSettings } from './jobs.js';
import { AnalyticsWorker } from './worker-client.js';

export { JOB_NAMES, type JobName } from './jobs.js';

export interface SchedulerConfig {
  readonly enabled: boolean;
  readonly schedules: Readonly<Record<JobName, string>>;
  readonly settings: JobSettings;
}

export interface SchedulerDeps {
  readonly store: Store;
  readonly log: Logger;
  readonly metrics?: Registry;
  readonly now?: () => number;
}

interface MutableStatus {
  running: boolean;
  lastStart?: number;
  lastDurationMs?: number;
  lastResult?: 'ok' | 'error';
  lastError?: string;
  seriesProcessed?: number;
  lastSuccess?: number;
  current?: Promise<JobResult>;
}

export class AnalyticsScheduler implements JobControl {
  private readonly worker: AnalyticsWorker;
  private readonly status = new Map<JobName, MutableStatus>();
  private readonly tasks = new Map<JobName, ScheduledTask>();
  /** Aborted by stop(): no run starts after it (a running one ends when stop() terminates the worker). */
  private readonly stopping = new AbortController();
  private readonly runs?: Counter<'job' | 'result'>;
  private readonly duration?: Histogram<'job'>;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly deps: SchedulerDeps,
  ) {
    for (const name of JOB_NAMES) {
      if (!cron.validate(config.schedules[name])) {
        throw new Error(`analytics.schedules.${name}: not a cron expression: "${config.schedules[name]}"`);
      }
      this.status.set(name, { running: false });
    }
    this.worker = new AnalyticsWorker(deps.log);
    const registry = deps.metrics;
    if (registry !== undefined) {
      this.runs = new Counter({
        name: 'flowcast_job_runs_total',
        help: 'Analytics job runs by result',
        labelNames: ['job', 'result'],
        registers: [registry],
      });
      this.duration = new Histogram({
        name: 'flowcast_job_duration_seconds',
        help: 'Duration of analytics job runs',
        labelNames: ['job'],
        buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900],
        registers: [registry],
      });
      const status = this.status;
      new Gauge({
        name: 'flowcast_job_last_success_timestamp_seconds',
        help: 'Unix time of the last successful run of each analytics job',
        labelNames: ['job'],
        registers: [registry],
        collect() {
          for (const [job, s] of status)
            if (s.lastSuccess !== undefined) this.set({ job }, s.lastSuccess / 1000);
        },
      });
      for (const job of JOB_NAMES) for (const result of ['ok', 'error']) this.runs.inc({ job, result }, 0);
    }
  }

  async start(): Promise<void> {
    await this.worker.start();
    if (!this.config.enabled) {
      this.deps.log.info('analytics jobs disabled (analytics.enabled: false): another instance runs them');
      return;
    }
    for (const name of JOB_NAMES) {
      const task = cron.schedule(this.config.schedules[name], () => void this.trigger(name), {
        name: `flowcast-${name}`,
        noOverlap: true,
      });
      this.tasks.set(name, task);
    }
    this.deps.log.info({ schedules: this.config.schedules }, 'analytics jobs scheduled');
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('the service is stopping'));
    for (const task of this.tasks.values()) await task.destroy();
    this.tasks.clear();
    const running = [...this.status.values()].flatMap((s) =>
      s.current === undefined ? [] : [s.current.catch(() => undefined)],
    );
    await this.worker.stop();
    await Promise.all(running);
  }

  list(): JobStatus[] {
    return JOB_NAMES.map((name) => {
      const s = this.status.get(name)!;
      const next = this.tasks.get(name)?.getNextRun();
      return {
        name,
        schedule: this.config.schedules[name],
        enabled: this.config.enabled,
        running: s.running,
        ...(s.lastStart !== undefined && { lastStart: s.lastStart }),
        ...(s.lastDurationMs !== undefined && { lastDurationMs: s.lastDurationMs }),
        ...(s.lastResult !== undefined && { lastResult: s.lastResult }),
        ...(s.lastError !== undefined && { lastError: s.lastError }),
        ...(s.seriesProcessed !== undefined && { seriesProcessed: s.seriesProcessed }),
        ...(s.lastSuccess !== undefined && { lastSuccess: s.lastSuccess }),
        ...(next != null && { nextRun: next.getTime() }),
      };
    });
  }

  trigger(name: string): 'started' | 'running' | 'unknown' {
    if (!(JOB_NAMES as readonly string[]).includes(name)) return 'unknown';
    const s = this.status.get(name as JobName)!;
    if (s.running) return 'running';
    void this.run(name as JobName).catch(() => undefined);
    return 'started';
  }

  /** Runs a job now and resolves with its result (rejects with its error); `running` when one is in progress. */
  run(name: JobName): Promise<JobResult> {
    const s = this.status.get(name)!;
    if (s.running && s.current !== undefined) return Promise.reject(new Error(`${name} is already running`));
    const now = this.deps.now ?? Date.now;
    const log = this.deps.log.child({ job: name });
    const started = Date.now();
    s.running = true;
    s.lastStart = now();
    // The whole run happens in the analytics worker, through a port to the store.
    const outcome = this.stopping.signal.aborted
      ? Promise.reject(this.stopping.signal.reason as Error)
      : this.worker.job({ name, settings: this.config.settings, now: now() }, storePort(this.deps.store));
    const current = outcome.then(
      ({ result, warnings, more }) => {
        for (const w of warnings) log.warn(w.obj, w.msg);
        if (more > 0) log.warn({ more }, 'more warnings of this run not logged');
        const ms = Date.now() - started;
        Object.assign(s, {
          running: false,
          lastDurationMs: ms,
          lastResult: 'ok',
          seriesProcessed: result.series,
          lastSuccess: now(),
        });
        delete s.lastError;
        delete s.current;
        this.runs?.inc({ job: name, result: 'ok' });
        this.duration?.observe({ job: name }, ms / 1000);
        log.info(
          { durationMs: ms, series: result.series, points: result.points, failed: result.failed },
          `${name} job done: ${result.detail}`,
        );
        return result;
      },
      (err: unknown) => {
        const ms = Date.now() - started;
        Object.assign(s, {
          running: false,
          lastDurationMs: ms,
          lastResult: 'error',
          lastError: (err as Error).message,
        });
        delete s.current;
        this.runs?.inc({ job: name, result: 'error' });
        this.duration?.observe({ job: name }, ms / 1000);
        log.error({ err, durationMs: ms }, `${name} job failed`);
        throw err;
      },
    );
    s.current = current;
    return current;
  }
}
