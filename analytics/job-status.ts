/**
 * What the scheduled analytics jobs expose to the rest of flowcast (the HTTP API, `/metrics`, the
 * console): each job's status, and a way to run one now. The scheduler in analytics/ implements
 * `JobControl`; the API depends only on this interface.
 */

/** One job's state and its last run. Times are Unix milliseconds. */
export interface JobStatus {
  /** Stable job name, for example `forecast`, `capacity`, `anomaly`. */
  readonly name: string;
  /** Its cron expression. */
  readonly schedule: string;
  readonly enabled: boolean;
  readonly running: boolean;
  readonly lastStart?: number;
  readonly lastDurationMs?: number;
  readonly lastResult?: 'ok' | 'error';
  readonly lastError?: string;
  /** Series the last run processed. */
  readonly seriesProcessed?: number;
  readonly lastSuccess?: number;
  readonly nextRun?: number;
}

export interface JobControl {
  list(): JobStatus[];
  /**
   * Starts a run of `name` now without waiting for it: `started`, or `running` when a run is already
   * in progress (never two at once), or `unknown` when there is no such job.
   */
  trigger(name: string): 'started' | 'running' | 'unknown';
}
