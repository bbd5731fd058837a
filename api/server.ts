/**
 * The HTTP server component: built from its config and the API's dependencies, listens on start(),
 * closes every connection on stop(). Its timeouts bound what a client can hold: the request head
 * must arrive within `headersTimeoutMs`, the whole request within `requestTimeoutMs`, an idle
 * keep-alive connection is closed after `keepAliveTimeoutMs`, and a connection that sends nothing
 * at all is closed after `idleTimeoutMs`; at most `maxConnections` are open at once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { type ApiDeps, type ApiOptions, createApp } from './app.js';

export interface HttpServerConfig extends Partial<ApiOptions> {
  readonly bind: string;
  readonly port: number;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly maxConnections?: number;
}

/** The defaults the configuration is spread over. */
export const HTTP_SERVER_DEFAULTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  maxConnections: 1024,
};

export class HttpServer {
  private server: Server | undefined;
  private readonly config: HttpServerConfig &
    Required<Pick<HttpServerConfig, keyof typeof HTTP_SERVER_DEFAULTS>>;

  constructor(
    config: HttpServerConfig,
    private readonly deps: ApiDeps & { log: Logger },
  ) {
    this.config = { ...HTTP_SERVER_DEFAULTS, ...config };
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.config.port;
  }

  async start(): Promise<void> {
    if (this.server !== undefined) return;
    const c = this.config;
    const server = createServer(
      {
        headersTimeout: c.headersTimeoutMs,
        requestTimeout: c.requestTimeoutMs,
        keepAliveTimeout: c.keepAliveTimeoutMs,
        // Node checks the two timeouts above this often; keep it below the shortest of them.
        connectionsCheckingInterval: Math.max(10, Math.min(1000, c.headersTimeoutMs / 2)),
      },
      createApp(this.deps, c),
    );
    // A socket with no traffic at all (never a request, or a stalled one) is closed after this.
    server.setTimeout(c.idleTimeoutMs, (socket) => socket.destroy());
    server.maxConnections = c.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(c.port, c.bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.deps.log.info(
      {
        bind: c.bind,
        port: this.port,
        auth: c.apiToken !== undefined,
        publicMetrics: c.publicMetrics ?? false,
      },
      'HTTP API listening',
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
