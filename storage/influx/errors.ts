/**
 * The InfluxDB adapter's error catalogue: stable machine-readable codes, the underlying `cause`, and
 * whether trying again later can help.
 */

/** Stable codes of {@link InfluxStoreError}. */
export type InfluxErrorCode =
  /** InfluxDB did not answer (network error, timeout, 5xx): try again later. */
  | 'FLOWCAST_INFLUX_UNAVAILABLE'
  /** The credentials were refused (401/403). */
  | 'FLOWCAST_INFLUX_AUTH'
  /** InfluxDB refused or failed a query (bad statement, unknown database, …). */
  | 'FLOWCAST_INFLUX_QUERY'
  /** InfluxDB answered something this adapter cannot read. */
  | 'FLOWCAST_INFLUX_RESPONSE'
  /** A read was asked with arguments it cannot take (for example a step of 0). */
  | 'FLOWCAST_INFLUX_ARGUMENT'
  /** A read before `start()` or after `stop()`. */
  | 'FLOWCAST_INFLUX_NOT_STARTED';

const RETRYABLE: ReadonlySet<InfluxErrorCode> = new Set(['FLOWCAST_INFLUX_UNAVAILABLE']);

/** An error of the InfluxDB adapter. */
export class InfluxStoreError extends Error {
  /** Whether the same call may succeed later without any change. */
  readonly retryable: boolean;

  constructor(
    readonly code: InfluxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InfluxStoreError';
    this.retryable = RETRYABLE.has(code);
  }
}
