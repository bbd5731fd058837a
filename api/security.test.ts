/**
 * The HTTP hardening of the API, each against a real HttpServer on loopback and the real embedded
 * store: the bearer token on every route but health, security headers, no CORS unless configured,
 * the per-client rate limit, bounded bodies, errors as JSON only, health's 503, and the server's
 * timeouts closing idle, kept-alive and slow connections.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../storage/embedded/embedded-store.js';
import { request } from './routes.suite.js';
import { HttpServer, type HttpServerConfig } from './server.js';

const log = pino({ level: 'silent' });
const TOKEN = 'c0rrect-h0rse-battery-staple';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** A started server on a fresh embedded store (started unless `startStore` is false). */
async function serve(
  config: Partial<HttpServerConfig> = {},
  startStore = true,
  store?: EmbeddedStore,
  logger = log,
) {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-api-sec-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const s = store ?? new EmbeddedStore({ dataDir, log });
  if (startStore) await s.start();
  cleanups.push(() => s.stop());
  const server = new HttpServer(
    { bind: '127.0.0.1', port: 0, ...config },
    { store: s, metrics: new Registry(), log: logger },
  );
  await server.start();
  cleanups.push(() => server.stop());
  const base = `http://127.0.0.1:${server.port}`;
  return { base, store: s, get: (path: string, init?: RequestInit) => request(base, path, init) };
}

/** Every documented route, its path parameters filled in. */
async function documentedRequests(base: string): Promise<[method: string, path: string][]> {
  const open = await serve();
  const doc = (await open.get('/api/v1/openapi.json')).json as {
    paths: Record<string, Record<string, unknown>>;
  };
  void base;
  const fill = (path: string) =>
    path.replace('{address}', '192.0.2.1').replace('{name}', 'forecast').replace('{file}', 'swagger-ui.css');
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method): [string, string] => [method.toUpperCase(), fill(path)]),
  );
}

describe('bearer token', () => {
  it('guards every route but health, with WWW-Authenticate, and lets the right token through', async () => {
    const { base, get } = await serve({ apiToken: TOKEN });
    const routes = await documentedRequests(base);
    expect(routes.length).toBeGreaterThan(15);
    for (const [method, path] of routes) {
      const anonymous = await get(path, { method });
      if (path === '/api/v1/health') {
        expect(anonymous.status, path).toBe(200);
        continue;
      }
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), path).toBe('Bearer realm="flowcast"');
      expect(anonymous.json.error.code).toBe('unauthorized');
      const wrong = await get(path, { method, headers: { authorization: 'Bearer not-the-token' } });
      expect(wrong.status, path).toBe(401);
      expect(wrong.headers.get('www-authenticate'), path).toContain('error="invalid_token"');
      const right = await get(path, { method, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(right.status, `${method} ${path} with the token`).not.toBe(401);
    }
    // Unknown paths too: nothing about the API's shape without the token.
    expect((await get('/api/v1/nothing')).status).toBe(401);
  });

  it('compares tokens of any length without failing, and accepts only Bearer', async () => {
    const { get } = await serve({ apiToken: TOKEN });
    for (const header of [
      'Bearer x',
      `Bearer ${'y'.repeat(8000)}`,
      `Bearer ${TOKEN}x`,
      `Basic ${TOKEN}`,
      TOKEN,
      'Bearer ',
    ]) {
      const r = await get('/api/v1/exporters', { headers: { authorization: header } });
      expect(r.status, header.slice(0, 20)).toBe(401);
    }
    expect((await get('/api/v1/exporters', { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(
      200,
    );
  });

  it('leaves /metrics and the docs open only when configured', async () => {
    const closed = await serve({ apiToken: TOKEN });
    expect((await closed.get('/metrics')).status).toBe(401);
    expect((await closed.get('/api/docs')).status).toBe(401);
    const open = await serve({ apiToken: TOKEN, publicMetrics: true, publicDocs: true });
    const metrics = await open.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('flowcast_http_requests_total');
    expect((await open.get('/api/docs')).status).toBe(200);
    expect((await open.get('/api/v1/openapi.json')).status).toBe(200);
    expect((await open.get('/api/v1/exporters')).status).toBe(401);
  });

  it('needs no token when none is configured', async () => {
    const { get } = await serve();
    expect((await get('/api/v1/exporters')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(200);
  });
});

describe('headers and CORS', () => {
  it('sends helmet security headers and no X-Powered-By', async () => {
    const { get } = await serve();
    for (const path of ['/api/v1/health', '/api/v1/nothing', '/api/docs']) {
      const r = await get(path);
      expect(r.headers.get('x-powered-by'), path).toBeNull();
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('content-security-policy'), path).toContain("default-src 'self'");
      expect(r.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      // Plain HTTP: nothing that would send a browser to https for the docs page's assets.
      expect(r.headers.get('content-security-policy'), path).not.toContain('upgrade-insecure-requests');
      expect(r.headers.get('strict-transport-security'), path).toBeNull();
    }
  });

  it('sends no CORS headers unless origins are configured, then only for those', async () => {
    const plain = await serve();
    const evil = { origin: 'https://evil.example' };
    expect(
      (await plain.get('/api/v1/health', { headers: evil })).headers.get('access-control-allow-origin'),
    ).toBeNull();
    const preflight = await plain.get('/api/v1/exporters', {
      method: 'OPTIONS',
      headers: { ...evil, 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();

    const grafana = 'https://grafana.example.com';
    const cors = await serve({ corsOrigins: [grafana], apiToken: TOKEN });
    const allowed = await cors.get('/api/v1/health', { headers: { origin: grafana } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(grafana);
    // A cut interface listing says so in a header the page may read.
    expect(allowed.headers.get('access-control-expose-headers')).toBe('Flowcast-Truncated');
    expect(
      (await cors.get('/api/v1/health', { headers: evil })).headers.get('access-control-allow-origin'),
    ).toBeNull();
    // A browser's preflight carries no token: it is answered, and the real request then needs one.
    const ok = await cors.get('/api/v1/exporters', {
      method: 'OPTIONS',
      headers: {
        origin: grafana,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-headers')).toContain('Authorization');
  });
});

describe('limits', () => {
  it('rate-limits each client, with 429 and Retry-After', async () => {
    const { get } = await serve({ rateLimitPerMinute: 5 });
    for (let i = 0; i < 5; i++) expect((await get('/api/v1/health')).status).toBe(200);
    const limited = await get('/api/v1/health');
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
  });

  it('refuses a body over the limit with 413, as JSON', async () => {
    const { get } = await serve({ maxBodyBytes: 1024 });
    const r = await get('/api/v1/jobs/forecast/run', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(100_000) }),
    });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('payload_too_large');
  });

  it('answers malformed requests with JSON errors, never HTML or a stack trace', async () => {
    const { get } = await serve();
    const badEscape = await get('/api/v1/exporters/%E0%A4%A');
    expect(badEscape.status).toBe(400);
    expect(badEscape.headers.get('content-type')).toMatch(/^application\/json/);
    const badJson = await get('/api/v1/jobs/forecast/run', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"unterminated',
    });
    expect(badJson.status).toBeLessThan(500);
    expect(badJson.headers.get('content-type')).toMatch(/^application\/json/);
    for (const r of [badEscape, badJson]) {
      expect(r.text).not.toMatch(/<html|\n\s+at /i);
    }
    const method = await get('/api/v1/traffic', { method: 'DELETE' });
    expect([method.status, method.headers.get('allow'), method.json.error.code]).toEqual([
      405,
      'GET',
      'method_not_allowed',
    ]);
  });
});

describe('store outage', () => {
  it('answers 503 store_unavailable when the store cannot be read', async () => {
    const { get } = await serve({}, false);
    const r = await get('/api/v1/traffic?from=-1h');
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('store_unavailable');
    expect(r.text).not.toMatch(/\n\s+at /);
  });

  it('logs a run of store failures once, and counts every one', async () => {
    const lines: string[] = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const { get } = await serve({}, false, undefined, capture);
    for (let i = 0; i < 5; i++) expect((await get('/api/v1/protocols')).status).toBe(503);
    expect(lines.filter((l) => l.includes('HTTP request failed'))).toHaveLength(1);
    const metrics = (await get('/metrics')).text;
    expect(metrics).toContain('flowcast_http_requests_total{route="/api/v1/protocols",status="503"} 5');
  });

  it('health: a store that hangs gets one probe at a time, and health still answers at once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-api-sec-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const store = new EmbeddedStore({ dataDir, log });
    let probes = 0;
    // A read that never answers, like a database that hung.
    store.rows = () => {
      probes++;
      return new Promise(() => {});
    };
    const { get } = await serve({}, true, store);
    const first = await get('/api/v1/health');
    expect(first.json.store.reachable).toBe(false);
    expect(first.json.store.error).toContain('did not answer within');
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 600));
      const started = performance.now();
      const again = await get('/api/v1/health');
      expect(performance.now() - started).toBeLessThan(1000);
      expect(again.json.store.reachable).toBe(false);
    }
    expect(probes).toBe(1);
  });

  it('health: degraded while writes are kept, 503 once they are being lost', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-api-sec-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // Never started: reads fail, and writes wait in memory, at most 2 points of them.
    const store = new EmbeddedStore({ dataDir, log, maxQueued: 2 });
    const { get } = await serve({}, false, store);
    const traffic = (i: number) => ({
      measurement: 'traffic',
      time: i * 60_000,
      tags: { exporter: '192.0.2.1', ifIndex: '1', direction: 'in' },
      fields: { bytes: 1, packets: 1, flows: 1 },
    });
    store.write([traffic(1)]);
    const kept = await get('/api/v1/health');
    expect([kept.status, kept.json.status, kept.json.store.reachable]).toEqual([200, 'degraded', false]);
    store.write([traffic(2), traffic(3), traffic(4)]);
    expect(store.stats.spoolDropped).toBe(2);
    const losing = await get('/api/v1/health');
    expect([losing.status, losing.json.status]).toEqual([503, 'unavailable']);
    expect(losing.json.store.spoolDropped).toBe(2);
  });
});

/** Opens `count` connections to the server; resolves with them and a counter of those closed. */
async function connections(base: string, count: number) {
  const { port } = new URL(base);
  const sockets: Socket[] = [];
  const closed = { count: 0 };
  for (let i = 0; i < count; i++) {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => closed.count++);
    // Reading (and dropping) what arrives is what lets the socket see the server's FIN.
    socket.resume();
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    sockets.push(socket);
  }
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
  });
  return { sockets, closed };
}

async function until(
  what: string,
  done: () => boolean,
  timeoutMs: number,
  detail: () => string = () => '',
): Promise<number> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`${what}: not within ${timeoutMs} ms (${detail()})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return Date.now() - started;
}

describe('server timeouts', () => {
  const timeouts = {
    keepAliveTimeoutMs: 300,
    idleTimeoutMs: 600,
    headersTimeoutMs: 500,
    requestTimeoutMs: 1000,
  };

  it('closes connections that never send a request', async () => {
    const { base } = await serve(timeouts);
    const { closed } = await connections(base, 100);
    await until(
      '100 silent connections closed',
      () => closed.count === 100,
      5000,
      () => `${closed.count} closed`,
    );
  });

  it('closes kept-alive connections once idle', async () => {
    const { base } = await serve(timeouts);
    const { sockets, closed } = await connections(base, 50);
    const answered = { count: 0 };
    for (const s of sockets) {
      s.once('data', () => answered.count++);
      s.write('GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    }
    await until('50 answers', () => answered.count === 50, 5000);
    expect(closed.count).toBe(0);
    // Closed after the keep-alive timeout (300 ms), well before the idle timeout would (600 ms after the answer).
    await until('50 idle kept-alive connections closed', () => closed.count === 50, 3000);
  });

  it('drops a client that sends its request head too slowly', async () => {
    const { base } = await serve(timeouts);
    const { sockets, closed } = await connections(base, 10);
    let answers = '';
    for (const s of sockets) {
      s.on('data', (d: Buffer) => {
        answers += d.toString();
      });
      s.write('GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    }
    // One header line every 100 ms would keep the idle timer alive; the head timeout ends it.
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-Drip: 1\r\n');
    }, 100);
    cleanups.push(async () => clearInterval(drip));
    await until('10 slow clients dropped', () => closed.count === 10, 5000);
    expect(answers).not.toContain('200 OK');
  });
});
