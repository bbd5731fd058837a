/**
 * The OpenAPI document: valid OpenAPI 3.1 (checked by an independent validator against the
 * specification's JSON Schema), every route the app registers is in it and every path in it is
 * a route the app registers; and the reference page at /api/docs loads only from flowcast itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../storage/embedded/embedded-store.js';
import { createApp } from './app.js';
import { request } from './routes.suite.js';
import { HttpServer } from './server.js';

const log = pino({ level: 'silent' });
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

let dataDir = '';
let store: EmbeddedStore;
let server: HttpServer;
let base = '';
// biome-ignore lint/suspicious/noExplicitAny: the document is inspected as plain JSON
let doc: any;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'flowcast-openapi-'));
  store = new EmbeddedStore({ dataDir, log });
  await store.start();
  server = new HttpServer({ bind: '127.0.0.1', port: 0 }, { store, metrics: new Registry(), log });
  await server.start();
  base = `http://127.0.0.1:${server.port}`;
  const r = await request(base, '/api/v1/openapi.json');
  expect(r.status).toBe(200);
  doc = r.json;
});
afterAll(async () => {
  await server?.stop();
  await store?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean>; stack: { name: string }[] };
}

/** `METHOD /path` for every route registered on an app (the catch-all 405 answers left out). */
function registeredRoutes(): string[] {
  const app = createApp({ store, metrics: new Registry(), log });
  const stack = (app as unknown as { router: { stack: RouteLayer[] } }).router.stack;
  const routes: string[] = [];
  for (const layer of stack) {
    const route = layer.route;
    if (route === undefined || route.stack.every((l) => l.name === 'methodNotAllowed')) continue;
    for (const method of Object.keys(route.methods)) routes.push(`${method.toUpperCase()} ${route.path}`);
  }
  return routes.sort();
}

function documentedRoutes(): string[] {
  const routes: string[] = [];
  for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
    for (const method of Object.keys(item)) {
      if (METHODS.includes(method))
        routes.push(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
    }
  }
  return routes.sort();
}

describe('OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents every registered route, and registers every documented one', () => {
    const registered = registeredRoutes();
    expect(registered.length).toBeGreaterThan(15);
    expect(documentedRoutes()).toEqual(registered);
  });

  it('covers every endpoint of the contract (docs/api.md)', () => {
    for (const route of [
      'GET /api/v1/health',
      'GET /api/v1/exporters',
      'GET /api/v1/exporters/:address',
      'GET /api/v1/exporters/:address/templates',
      'GET /api/v1/interfaces',
      'GET /api/v1/traffic',
      'GET /api/v1/top',
      'GET /api/v1/protocols',
      'GET /api/v1/forecasts',
      'GET /api/v1/series',
      'GET /api/v1/capacity',
      'GET /api/v1/anomalies',
      'GET /api/v1/jobs',
      'POST /api/v1/jobs/:name/run',
      'GET /api/v1/openapi.json',
      'GET /api/docs',
      'GET /metrics',
    ]) {
      expect(documentedRoutes()).toContain(route);
    }
  });

  it('declares every path parameter, every query parameter a route accepts, and the error answers', () => {
    for (const [path, item] of Object.entries<
      Record<
        string,
        {
          parameters?: { in: string; name: string; required?: boolean }[];
          responses: Record<string, unknown>;
        }
      >
    >(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
        const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual(inPath.sort());
        for (const p of declared) expect(p.required, `${method} ${path} ${p.name}`).toBe(true);
        if (path.startsWith('/api/v1/') && path !== '/api/v1/openapi.json') {
          expect(Object.keys(op.responses), `${method} ${path}`).toEqual(
            expect.arrayContaining(['400', '401', '429']),
          );
        }
      }
    }
    const traffic = doc.paths['/api/v1/traffic'].get.parameters.map((p: { name: string }) => p.name);
    expect(traffic.sort()).toEqual(['direction', 'exporter', 'format', 'from', 'ifIndex', 'step', 'to']);
    const step = doc.paths['/api/v1/traffic'].get.parameters.find((p: { name: string }) => p.name === 'step');
    expect(step.schema).toEqual({ type: 'integer', minimum: 1, maximum: 316_224_000 });
    expect(Object.keys(doc.paths['/api/v1/capacity'].get.responses['200'].content)).toEqual([
      'application/json',
      'text/csv',
    ]);
  });
});

describe('/api/docs', () => {
  it('renders from assets flowcast serves itself, none from elsewhere', async () => {
    const page = await request(base, '/api/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      expect(ref, 'same-origin path').toMatch(/^\/api\/docs\//);
      const asset = await fetch(`${base}${ref}`);
      expect(asset.status, ref).toBe(200);
      const body = await asset.arrayBuffer();
      expect(body.byteLength, ref).toBeGreaterThan(100);
      if (ref.endsWith('.js')) expect(asset.headers.get('content-type'), ref).toMatch(/^text\/javascript/);
      if (ref.endsWith('.css')) expect(asset.headers.get('content-type'), ref).toMatch(/^text\/css/);
    }
    const init = await request(base, '/api/docs/flowcast-init.js');
    expect(init.text).toContain("url: '/api/v1/openapi.json'");
    expect(init.text).toContain('validatorUrl: null');
    // Nothing inline: the Content-Security-Policy forbids inline scripts, and allows scripts from flowcast only.
    expect(page.text).not.toMatch(/<script>(?!<\/script>)/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await request(base, '/api/docs/index.html')).status).toBe(404);
    expect((await request(base, '/api/docs/..%2Fpackage.json')).status).toBe(404);
  });
});
