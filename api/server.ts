/** The HTTP server component: listens on start, closes on stop. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../cli/logger.js';
import { type ApiDeps, createApp } from './app.js';

export class HttpServer {
  private server: Server | undefined;

  constructor(
    private readonly config: { bind: string; port: number },
    private readonly deps: ApiDeps & { log: Logger },
  ) {}

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.config.port;
  }

  async start(): Promise<void> {
    const server = createServer(createApp(this.deps));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.deps.log.info({ bind: this.config.bind, port: this.port }, 'HTTP API listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
