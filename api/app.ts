/**
 * The HTTP API (express). This module builds the app from its dependencies; the server component
 * in server.ts listens. Errors are JSON `{"error":{"code","message"}}` with a 4xx/5xx status.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';

export interface ApiDeps {
  metrics: Registry;
  /** Health details: component name → state. */
  health: () => Record<string, unknown>;
}

/** An error the API reports with a stable code and an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/api/v1/health', (_req, res) => {
    res.json({ status: 'ok', ...deps.health() });
  });

  app.get('/metrics', async (_req, res, next) => {
    try {
      res.set('Content-Type', deps.metrics.contentType);
      res.send(await deps.metrics.metrics());
    } catch (err) {
      next(err);
    }
  });

  app.use((req, _res, next) =>
    next(new ApiError(404, 'not_found', `no such endpoint: ${req.method} ${req.path}`)),
  );
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof ApiError ? err : new ApiError(500, 'internal', 'internal error');
    res.status(e.status).json({ error: { code: e.code, message: e.message } });
  });
  return app;
}
