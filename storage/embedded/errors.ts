/**
 * The embedded store's error catalogue: stable machine-readable codes, the underlying `cause`, and
 * whether trying again later can help.
 */

/** Stable codes of {@link EmbeddedStoreError}. */
export type EmbeddedErrorCode =
  /** A read before `start()` or after `stop()`: the store may be (re)starting. */
  | 'FLOWCAST_EMBEDDED_NOT_STARTED'
  /** DuckDB failed a statement (I/O error, full disk, corrupt file, …). */
  | 'FLOWCAST_EMBEDDED_QUERY'
  /** A read was asked with arguments it cannot take (for example a step of 0). */
  | 'FLOWCAST_EMBEDDED_ARGUMENT';

const RETRYABLE: ReadonlySet<EmbeddedErrorCode> = new Set(['FLOWCAST_EMBEDDED_NOT_STARTED']);

/** An error of the embedded (DuckDB) store. */
export class EmbeddedStoreError extends Error {
  /** Whether the same call may succeed later without any change. */
  readonly retryable: boolean;

  constructor(
    readonly code: EmbeddedErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EmbeddedStoreError';
    this.retryable = RETRYABLE.has(code);
  }
}
