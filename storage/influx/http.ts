/**
 * HTTP to InfluxDB through the client library's transport: `/ping` and version detection, writes
 * to `/write` (1.6/1.7) or `/api/v2/write` (1.8+, 2.x, 3.x), and InfluxQL over `/query`, the
 * endpoint every version shares (docs/operations.md).
 */
import { HttpError, InfluxDB, type Transport } from '@influxdata/influxdb-client';
import { z } from 'zod';
import { PRECISION } from '../line-protocol.js';
import { InfluxStoreError } from './errors.js';

/** Where and how to reach InfluxDB. */
export interface ConnectionOptions {
  /** Base URL, for example `http://localhost:8086`. */
  readonly url: string;
  /** 1.x database; on 2.x/3.x the bucket (2.x maps it for InfluxQL through DBRP). */
  readonly database: string;
  /** Organisation for `/api/v2/write`; empty is fine for 1.8 and 3.x. */
  readonly org?: string;
  /** API token, sent as `Authorization: Token …` everywhere. */
  readonly token?: string;
  /** 1.x user: Basic auth on `/write` and `/query`, the `user:password` token on `/api/v2/write`. */
  readonly username?: string;
  readonly password?: string;
  /** Per-request timeout. */
  readonly timeoutMs: number;
}

/** What `/ping` told about the server, and the write endpoint that follows from it. */
export interface ServerInfo {
  /** The `X-Influxdb-Version` header, when the server sent one. */
  readonly version: string | undefined;
  readonly major: number | undefined;
  readonly writeApi: 'v1' | 'v2';
}

/** One series of an InfluxQL answer. */
export interface QuerySeries {
  readonly name?: string | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly columns: readonly string[];
  readonly values?: readonly (readonly unknown[])[] | undefined;
}

const queryResponse = z.object({
  results: z
    .array(
      z.object({
        series: z
          .array(
            z.object({
              name: z.string().optional(),
              tags: z.record(z.string(), z.string()).optional(),
              columns: z.array(z.string()),
              values: z.array(z.array(z.unknown())).optional(),
            }),
          )
          .optional(),
        error: z.string().optional(),
      }),
    )
    .optional(),
  error: z.string().optional(),
});

/**
 * The write API a server version calls for: `/write` before 1.8 (which has no `/api/v2/write`),
 * `/api/v2/write` from 1.8 on. An unreadable or missing version (some managed services) gets v2.
 */
export function serverInfo(version: string | undefined): ServerInfo {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (match === null) return { version, major: undefined, writeApi: 'v2' };
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return { version, major, writeApi: major === 1 && minor < 8 ? 'v1' : 'v2' };
}

/** `message` with the InfluxDB error in the answer body, when there is one. */
function describe(err: unknown): string {
  if (err instanceof HttpError) {
    const json = err.json as { error?: unknown; message?: unknown } | undefined;
    const detail = json?.error ?? json?.message ?? err.body;
    return `HTTP ${err.statusCode}${detail ? `: ${String(detail)}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Maps a failed request to the adapter's error catalogue. */
function toStoreError(what: string, err: unknown): InfluxStoreError {
  if (err instanceof InfluxStoreError) return err;
  const message = `${what}: ${describe(err)}`;
  if (err instanceof HttpError) {
    if (err.statusCode === 401 || err.statusCode === 403)
      return new InfluxStoreError('FLOWCAST_INFLUX_AUTH', message, { cause: err });
    if (err.statusCode < 500 && err.statusCode !== 429)
      return new InfluxStoreError('FLOWCAST_INFLUX_QUERY', message, { cause: err });
  }
  return new InfluxStoreError('FLOWCAST_INFLUX_UNAVAILABLE', message, { cause: err });
}

/** The HTTP side of the adapter. */
/** The longest encoded statement sent in a GET's URL; longer reads are POSTed (see `query`). */
const MAX_GET_QUERY_BYTES = 4096;

export class InfluxConnection {
  private readonly transport: Transport;
  private server: ServerInfo | undefined;

  constructor(private readonly options: ConnectionOptions) {
    // No token here: the Authorization header depends on the endpoint and is set per request.
    this.transport = new InfluxDB({ url: options.url, timeout: options.timeoutMs }).transport;
  }

  /** The server found by the last `detect()`. */
  get info(): ServerInfo | undefined {
    return this.server;
  }

  /** Calls `/ping` and returns the version header; throws an {@link InfluxStoreError} on failure. */
  async ping(signal?: AbortSignal): Promise<string | undefined> {
    let version: string | undefined;
    try {
      const options = { method: 'GET', headers: this.auth('v1'), ...(signal !== undefined && { signal }) };
      await this.transport.request('/ping', '', options, (headers) => {
        const value = headers['x-influxdb-version'];
        version = Array.isArray(value) ? value[0] : value;
      });
    } catch (err) {
      throw toStoreError('InfluxDB /ping failed', err);
    }
    return version;
  }

  /** Pings the server and picks the write endpoint from its version. */
  async detect(signal?: AbortSignal): Promise<ServerInfo> {
    this.server = serverInfo(await this.ping(signal));
    return this.server;
  }

  /**
   * Sends line protocol to the write endpoint. Rejects with the transport's own errors (`HttpError`,
   * network errors) so that the writer can tell what to retry.
   */
  async write(lines: string, signal?: AbortSignal): Promise<void> {
    const { database, org = '' } = this.options;
    // Until a ping succeeds the endpoint is unknown; the first write finds out.
    const api = (this.server ?? (await this.detect(signal))).writeApi;
    const path =
      api === 'v1'
        ? `/write?${new URLSearchParams({ db: database, precision: PRECISION })}`
        : `/api/v2/write?${new URLSearchParams({ org, bucket: database, precision: PRECISION })}`;
    await this.transport.request(path, lines, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', ...this.auth(api) },
      gzipThreshold: 64 * 1024,
      ...(signal !== undefined && { signal }),
    });
  }

  /**
   * Runs InfluxQL statements against the database (times as Unix milliseconds) and returns the
   * series of each statement. `GET` for reads, unless the statement is long; `POST` for statements
   * that change something.
   */
  async query(q: string, method: 'GET' | 'POST' = 'GET'): Promise<QuerySeries[][]> {
    const params = new URLSearchParams({ db: this.options.database, epoch: 'ms' });
    const encoded = new URLSearchParams({ q }).toString();
    // A read naming 500 interfaces is a 40 kB URL; proxies in front of InfluxDB refuse request
    // lines past a few kB (nginx's default buffer is 8 KiB): a long read goes in a POST body.
    const get = method === 'GET' && encoded.length <= MAX_GET_QUERY_BYTES;
    let answer: unknown;
    try {
      answer = get
        ? await this.transport.request(`/query?${params}&${encoded}`, '', {
            method,
            headers: this.auth('v1'),
          })
        : await this.transport.request(`/query?${params}`, encoded, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.auth('v1') },
          });
    } catch (err) {
      throw toStoreError(`InfluxQL ${JSON.stringify(q)} failed`, err);
    }
    const parsed = queryResponse.safeParse(answer);
    if (!parsed.success) {
      throw new InfluxStoreError(
        'FLOWCAST_INFLUX_RESPONSE',
        `unexpected /query answer to ${JSON.stringify(q)}`,
        {
          cause: parsed.error,
        },
      );
    }
    const { results = [], error } = parsed.data;
    const failed = error ?? results.find((r) => r.error !== undefined)?.error;
    if (failed !== undefined) {
      throw new InfluxStoreError('FLOWCAST_INFLUX_QUERY', `InfluxQL ${JSON.stringify(q)} failed: ${failed}`);
    }
    return results.map((r) => r.series ?? []);
  }

  /**
   * The Authorization header: a token as is; a 1.x user as Basic auth, except on `/api/v2/write`
   * where InfluxDB 1.8 takes `user:password` as the token.
   */
  private auth(api: 'v1' | 'v2'): Record<string, string> {
    const { token, username, password = '' } = this.options;
    if (token !== undefined) return { authorization: `Token ${token}` };
    if (username === undefined) return {};
    if (api === 'v2') return { authorization: `Token ${username}:${password}` };
    return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  }
}
