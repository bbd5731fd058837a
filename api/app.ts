/**
 * The HTTP API (express 5). This module builds the app from its dependencies; the server component
 * in server.ts listens. In order, every request goes through: a response deadline, security headers
 * (helmet), CORS (only when origins are configured), a per-client rate limit, the bearer token (when
 * one is configured), a bounded body, then its route, whose parameters its zod schemas validate.
 * Errors of every kind are mapped in one place to `{"error":{"code","message"}}`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import cors from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { JobControl } from '../analytics/job-status.js';
import type { CollectorView } from '../collector/decode/view.js';
import { MAX_INTERFACE_ROWS, type Store } from '../storage/store.js';
import { consoleStatic } from './console.js';
import { toCsv } from './csv.js';
import { docsAsset, docsPage } from './docs.js';
import { ApiError, toApiError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { expressPath, type JsonRoute, type RawRoute, type Route, type RouteContext } from './route.js';
import { ROUTES, TRUNCATED_HEADER } from './routes.js';

/** What the API reads from. */
export interface ApiDeps {
  readonly store: Store;
  /** The running collector's view of its state; absent in a process without a collector. */
  readonly collector?: CollectorView;
  /** The analytics jobs; absent when the scheduler does not run in this process. */
  readonly jobs?: JobControl;
  readonly metrics: Registry;
  /** The /metrics page when it is more than `metrics` (the decode workers' registries summed in). */
  readonly metricsText?: () => Promise<string>;
  readonly log: Logger;
  /** Extra collector details for /api/v1/health. */
  readonly collectorHealth?: () => Record<string, unknown>;
  /** The clock (tests set it). */
  readonly now?: () => number;
}

/** How the API behaves; every field has a default in {@link API_DEFAULTS}. */
export interface ApiOptions {
  /** Bearer token every route but health (and /metrics, docs when public) requires; unset: none. */
  readonly apiToken?: string | undefined;
  /** /metrics answers without the token. */
  readonly publicMetrics: boolean;
  /** /api/docs and /api/v1/openapi.json answer without the token. */
  readonly publicDocs: boolean;
  /** Origins allowed to call the API from a browser (CORS); empty: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** Requests per minute per client address (IPv6 per /56); 0 turns the limit off. */
  readonly rateLimitPerMinute: number;
  /** Largest request body accepted. */
  readonly maxBodyBytes: number;
  /** A request still unanswered after this long gets 503 `timeout`. */
  readonly responseTimeoutMs: number;
  /** Seconds per rollup point: the smallest traffic step. */
  readonly rollupIntervalSeconds: number;
  /** Checks every JSON answer against its documented schema (tests). */
  readonly validateResponses: boolean;
  /**
   * The most interfaces `/api/v1/interfaces` lists, and the busiest rows it asks of the store: the
   * bound on what one request makes the store copy and the API hold (MAX_INTERFACE_ROWS).
   */
  readonly maxInterfaces: number;
}

export const API_DEFAULTS: ApiOptions = {
  publicMetrics: false,
  publicDocs: false,
  corsOrigins: [],
  rateLimitPerMinute: 600,
  maxBodyBytes: 16 * 1024,
  responseTimeoutMs: 30_000,
  rollupIntervalSeconds: 60,
  validateResponses: false,
  maxInterfaces: MAX_INTERFACE_ROWS,
};

const VERSION = '0.1.0';

/** A counter registered once per registry (several apps may share one in tests). */
function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** The zod issue a client needs to see, naming the parameter. */
function parameterError(error: z.ZodError, accepted: readonly string[]): ApiError {
  const issue = error.issues[0];
  if (issue === undefined) return new ApiError('bad_parameter', 'bad parameters');
  if (issue.code === 'unrecognized_keys') {
    const list = accepted.length === 0 ? 'none' : accepted.join(', ');
    return new ApiError(
      'bad_parameter',
      `unknown parameter ${issue.keys.map((k) => `"${k}"`).join(', ')} (accepted: ${list})`,
    );
  }
  const name = issue.path.length > 0 ? issue.path.map(String).join('.') : '(parameters)';
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message;
  return new ApiError('bad_parameter', `parameter "${name}": ${message}`);
}

function keysOf(schema: z.ZodType | undefined): string[] {
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape === undefined ? [] : Object.keys(shape);
}

/** Sends an error as JSON (never HTML, never a stack trace). */
function sendError(res: Response, e: ApiError): void {
  if (e.status === 401 && !res.hasHeader('WWW-Authenticate'))
    res.set('WWW-Authenticate', 'Bearer realm="flowcast"');
  res.status(e.status).json({ error: { code: e.code, message: e.message } });
}

/** sha256 digests compared in constant time: neither the token nor its length leaks through timing. */
function sameToken(given: string, expected: Buffer): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), expected);
}

export function createApp(deps: ApiDeps, options: Partial<ApiOptions> = {}): express.Express {
  const o: ApiOptions = { ...API_DEFAULTS, ...options };
  if (!Number.isSafeInteger(o.maxInterfaces) || o.maxInterfaces < 1)
    throw new RangeError(`maxInterfaces must be a positive integer, got ${o.maxInterfaces}`);
  const requests = counter(
    deps.metrics,
    'flowcast_http_requests_total',
    'HTTP requests answered, by route and status',
    ['route', 'status'],
  );
  const ctx: RouteContext = {
    store: deps.store,
    collector: deps.collector,
    jobs: deps.jobs,
    metrics: deps.metrics,
    collectorHealth: deps.collectorHealth,
    rollupIntervalSeconds: o.rollupIntervalSeconds,
    maxInterfaces: o.maxInterfaces,
    now: deps.now ?? Date.now,
    health: {},
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  app.set('etag', false);

  // Counted by route template (bounded), never by the raw path a client sent.
  app.use((req, res, next) => {
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      requests.inc({ route, status: String(res.statusCode) });
    });
    next();
  });

  app.use((req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      deps.log.warn(
        { method: req.method, path: req.path, ms: o.responseTimeoutMs },
        'HTTP request timed out',
      );
      sendError(
        res,
        new ApiError('timeout', `no answer within ${o.responseTimeoutMs} ms; try a shorter range`),
      );
    }, o.responseTimeoutMs);
    timer.unref();
    res.on('close', () => clearTimeout(timer));
    next();
  });

  // flowcast serves plain HTTP (TLS, when wanted, is a proxy's job): a CSP that upgrades requests to
  // https would break /api/docs, and HSTS belongs to whoever terminates TLS.
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
      strictTransportSecurity: false,
    }),
  );

  if (o.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: [...o.corsOrigins],
        methods: ['GET', 'POST'],
        allowedHeaders: ['Authorization', 'Content-Type', 'Accept'],
        // A page on another origin reads it too: in CSV it is the only sign of a cut listing.
        exposedHeaders: [TRUNCATED_HEADER],
        maxAge: 600,
      }),
    );
  }

  if (o.rateLimitPerMinute > 0) {
    app.use(
      rateLimit({
        windowMs: 60_000,
        limit: o.rateLimitPerMinute,
        standardHeaders: 'draft-8',
        legacyHeaders: false,
        ipv6Subnet: 56,
        handler: (req, res) => {
          const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
          const seconds =
            reset === undefined ? 60 : Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000));
          res.set('Retry-After', String(seconds));
          sendError(
            res,
            new ApiError(
              'rate_limited',
              `more than ${o.rateLimitPerMinute} requests a minute; retry in ${seconds} s`,
            ),
          );
        },
      }),
    );
  }

  // The console's static files (no data in them) load without the token, so the page can ask for it.
  app.use(consoleStatic());

  if (o.apiToken !== undefined) {
    const expected = createHash('sha256').update(o.apiToken).digest();
    const isPublic = (path: string) =>
      path === '/api/v1/health' ||
      (o.publicMetrics && path === '/metrics') ||
      (o.publicDocs &&
        (path === '/api/v1/openapi.json' || path === '/api/docs' || path.startsWith('/api/docs/')));
    app.use((req, res, next) => {
      if (isPublic(req.path)) return next();
      const header = req.get('authorization');
      const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
      if (match !== null && sameToken(match[1]!, expected)) return next();
      if (header !== undefined) res.set('WWW-Authenticate', 'Bearer realm="flowcast", error="invalid_token"');
      sendError(
        res,
        new ApiError(
          'unauthorized',
          header === undefined ? 'this API needs Authorization: Bearer <token>' : 'wrong token',
        ),
      );
    });
  }

  // Every body is read (or refused) within the limit, whatever its content type.
  app.use(express.raw({ type: () => true, limit: o.maxBodyBytes }));

  const document = openApiDocument(allRoutes(deps), VERSION);
  const raw = rawRoutes(deps, document);
  for (const route of ROUTES) app[route.method](expressPath(route.path), jsonHandler(route, ctx, o));
  for (const route of raw) app[route.method](expressPath(route.path), (req, res) => route.handle(req, res));

  // A known path with another method: 405 with the methods it has.
  const methods = new Map<string, Set<string>>();
  for (const route of [...ROUTES, ...raw]) {
    const set = methods.get(route.path) ?? new Set<string>();
    set.add(route.method.toUpperCase());
    methods.set(route.path, set);
  }
  for (const [path, allowed] of methods) {
    app.all(expressPath(path), function methodNotAllowed(req: Request, res: Response) {
      res.set('Allow', [...allowed].join(', '));
      sendError(
        res,
        new ApiError(
          'method_not_allowed',
          `${req.method} is not allowed here; use ${[...allowed].join(' or ')}`,
        ),
      );
    });
  }

  app.use((req, _res, next) =>
    next(new ApiError('not_found', `no such endpoint: ${req.method} ${req.path}`)),
  );
  // Server-side failures are logged at most once per code every 10 s (an InfluxDB outage would
  // otherwise log every request); each is counted in flowcast_http_requests_total all the same.
  const lastLogged = new Map<string, number>();
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toApiError(err);
    const now = Date.now();
    if (e.status >= 500 && now - (lastLogged.get(e.code) ?? 0) >= 10_000) {
      lastLogged.set(e.code, now);
      deps.log.error({ err, method: req.method, path: req.path, code: e.code }, 'HTTP request failed');
    }
    if (res.headersSent) return;
    sendError(res, e);
  });
  return app;
}

/** The handler of a JSON route: validate, negotiate JSON or CSV, run, answer. */
function jsonHandler(route: JsonRoute, ctx: RouteContext, o: ApiOptions) {
  const acceptedQuery = keysOf(route.query);
  return async (req: Request, res: Response) => {
    const query = route.query.safeParse(req.query);
    if (!query.success) throw parameterError(query.error, acceptedQuery);
    let params: unknown = {};
    if (route.params !== undefined) {
      const parsed = route.params.safeParse(req.params);
      if (!parsed.success) throw parameterError(parsed.error, []);
      params = parsed.data;
    }
    let csv = false;
    if (route.csv) {
      res.vary('Accept');
      const format = (query.data as { format?: string }).format;
      if (format !== undefined) csv = format === 'csv';
      else {
        const accepted = req.accepts(['application/json', 'text/csv']);
        if (accepted === false)
          throw new ApiError('not_acceptable', 'this endpoint answers application/json or text/csv');
        csv = accepted === 'text/csv';
      }
    }
    const answer = await route.handle({ query: query.data, params }, ctx);
    if (res.headersSent) return;
    if (o.validateResponses) {
      const checked = route.response.safeParse(answer.body);
      if (!checked.success)
        throw new Error(`${route.operationId} answered off its schema: ${checked.error.message}`);
    }
    const status = answer.status ?? route.successStatus ?? 200;
    if (answer.headers !== undefined) res.set(answer.headers);
    if (csv && answer.table !== undefined) {
      res
        .status(status)
        .type('text/csv; charset=utf-8')
        .set('Content-Disposition', `attachment; filename="${route.operationId}.csv"`)
        .send(toCsv(answer.table.columns, answer.table.rows));
      return;
    }
    res.status(status).json(answer.body);
  };
}

/** The routes that write their own answers. */
function rawRoutes(deps: ApiDeps, document: unknown): RawRoute[] {
  return [
    {
      kind: 'raw',
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tag: 'service',
      contentType: 'text/plain',
      access: 'metrics',
      async handle(_req, res) {
        const text = await (deps.metricsText?.() ?? deps.metrics.metrics());
        res.set('Content-Type', deps.metrics.contentType).send(text);
      },
    },
    {
      kind: 'raw',
      method: 'get',
      path: '/api/v1/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document',
      tag: 'service',
      contentType: 'application/json',
      access: 'docs',
      handle(_req, res) {
        res.json(document);
      },
    },
    {
      kind: 'raw',
      method: 'get',
      path: '/api/docs',
      operationId: 'docs',
      summary: 'Interactive API reference (Swagger UI, served offline)',
      tag: 'service',
      contentType: 'text/html',
      access: 'docs',
      handle: docsPage,
    },
    {
      kind: 'raw',
      method: 'get',
      path: '/api/docs/{file}',
      operationId: 'docsAsset',
      summary: 'Assets of the API reference page',
      tag: 'service',
      contentType: 'application/octet-stream',
      params: docsFileParams,
      access: 'docs',
      handle: docsAsset,
    },
  ];
}

const docsFileParams = z.strictObject({
  file: z.string().meta({ description: 'Asset file name', example: 'swagger-ui.css' }),
});

/** Every route, JSON and raw, as documented. */
function allRoutes(deps: ApiDeps): Route[] {
  return [...ROUTES, ...rawRoutes(deps, undefined)];
}
