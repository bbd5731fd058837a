/**
 * The API's error catalogue: every error a client can get, with its stable code and HTTP status.
 * Handlers throw {@link ApiError}; one middleware (app.ts) maps everything thrown, including store
 * errors and body-parser errors, to `{"error":{"code","message"}}`. Never a stack trace, never HTML.
 */
import { EmbeddedStoreError } from '../storage/embedded/errors.js';
import { InfluxStoreError } from '../storage/influx/errors.js';

/** Stable error codes, with the HTTP status each one is answered with. */
export const ERROR_STATUS = {
  /** A query parameter, path parameter or body is missing, malformed or out of range. */
  bad_parameter: 400,
  /** A token is required and was missing or wrong. */
  unauthorized: 401,
  /** No such endpoint, exporter, series or job. */
  not_found: 404,
  /** The endpoint exists but not for this method. */
  method_not_allowed: 405,
  /** The client accepts neither JSON nor CSV. */
  not_acceptable: 406,
  /** The job is already running. */
  conflict: 409,
  /** The request body is larger than the API accepts. */
  payload_too_large: 413,
  /** Too many requests from this client; retry after the `Retry-After` seconds. */
  rate_limited: 429,
  /** Something unexpected failed; the log has the details. */
  internal: 500,
  /** The store cannot be read right now (InfluxDB down, database not open): retry later. */
  store_unavailable: 503,
  /** The request took longer than the API allows. */
  timeout: 503,
} as const;

export type ApiErrorCode = keyof typeof ERROR_STATUS;

/** An error the API reports with a stable code; the status follows from the code. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.status = ERROR_STATUS[code];
  }
}

/** A bad parameter, named, with what was expected. */
export function badParameter(name: string, expected: string): ApiError {
  return new ApiError('bad_parameter', `parameter "${name}": ${expected}`);
}

/**
 * The status of an error raised by express or a body parser (http-errors style `status`), with
 * its `type` when a body parser set one (`entity.too.large`, `entity.parse.failed`, …).
 */
function httpError(err: unknown): { status: number; type: string | undefined; message: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, type, message } = err as { status?: unknown; type?: unknown; message?: unknown };
  if (typeof status !== 'number') return undefined;
  return {
    status,
    type: typeof type === 'string' ? type : undefined,
    message: typeof message === 'string' ? message.slice(0, 200) : '',
  };
}

/**
 * Anything thrown, as an {@link ApiError}: store errors become `store_unavailable` (503) or, for an
 * argument the store refused, `bad_parameter`; express and body-parser errors (a body too large, a
 * path that cannot be decoded) `payload_too_large` or `bad_parameter`; everything else `internal`, its message kept out of the answer.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof EmbeddedStoreError || err instanceof InfluxStoreError) {
    if (err.code === 'FLOWCAST_EMBEDDED_ARGUMENT' || err.code === 'FLOWCAST_INFLUX_ARGUMENT') {
      return new ApiError('bad_parameter', err.message, { cause: err });
    }
    return new ApiError('store_unavailable', `the store cannot answer now (${err.code}); retry later`, {
      cause: err,
    });
  }
  const http = httpError(err);
  if (http !== undefined) {
    if (http.status === 413) {
      return new ApiError('payload_too_large', 'the request body is too large', { cause: err });
    }
    if (http.status >= 400 && http.status < 500) {
      return new ApiError('bad_parameter', `the request cannot be read (${http.type ?? http.message})`, {
        cause: err,
      });
    }
  }
  return new ApiError('internal', 'internal error', { cause: err });
}
