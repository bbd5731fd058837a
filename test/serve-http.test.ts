/**
 * The HTTP server as `flowcast serve` builds it (cli/serve.ts, configured like a user would, from
 * FLOWCAST_* variables and a config file): the address it binds, and the token on /metrics.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../cli/config.js';
import { buildService, type Service } from '../cli/serve.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function start(env: Record<string, string>, file?: string): Promise<Service> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-serve-http-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const config = loadConfig(file, {
    FLOWCAST_NETFLOW_PORT: '0',
    FLOWCAST_IPFIX_PORT: '0',
    FLOWCAST_HTTP_PORT: '0',
    FLOWCAST_DATA_DIR: dataDir,
    ...env,
  });
  const service = buildService(config, log);
  await service.start();
  cleanups.push(() => service.stop());
  return service;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('flowcast serve: HTTP', () => {
  it('binds the collector address when FLOWCAST_HTTP_BIND is unset', async () => {
    const service = await start({ FLOWCAST_BIND: '127.0.0.1' });
    expect(await accepts('127.0.0.1', service.http.port)).toBe(true);
    // 127.0.0.2 is loopback too: a server bound to 0.0.0.0 would accept there.
    expect(await accepts('127.0.0.2', service.http.port)).toBe(false);
  });

  it('binds FLOWCAST_HTTP_BIND when set', async () => {
    const service = await start({ FLOWCAST_BIND: '127.0.0.1', FLOWCAST_HTTP_BIND: '127.0.0.2' });
    expect(await accepts('127.0.0.2', service.http.port)).toBe(true);
    expect(await accepts('127.0.0.1', service.http.port)).toBe(false);
  });

  it('checks FLOWCAST_API_TOKEN on /metrics unless http.publicMetrics is set', async () => {
    const token = 'serve-test-token';
    const guarded = await start({ FLOWCAST_BIND: '127.0.0.1', FLOWCAST_API_TOKEN: token });
    const url = `http://127.0.0.1:${guarded.http.port}`;
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/api/v1/exporters`)).status).toBe(401);
    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
    const authorised = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(authorised.status).toBe(200);
    expect(await authorised.text()).toContain('flowcast_packets_received_total');

    const dir = await mkdtemp(join(tmpdir(), 'flowcast-serve-http-config-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'flowcast.yaml');
    await writeFile(file, 'http:\n  publicMetrics: true\n');
    const open = await start({ FLOWCAST_BIND: '127.0.0.1', FLOWCAST_API_TOKEN: token }, file);
    expect((await fetch(`http://127.0.0.1:${open.http.port}/metrics`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${open.http.port}/api/v1/exporters`)).status).toBe(401);
  });

  it('refuses HTTP settings it cannot honour, naming the key', () => {
    expect(() => loadConfig(undefined, { FLOWCAST_HTTP_BIND: 'localhost' })).toThrow(
      /http\.bind \(from FLOWCAST_HTTP_BIND\)/,
    );
    expect(() => loadConfig(undefined, { FLOWCAST_HTTP_BIND: '0.0.0.0; rm -rf /' })).toThrow(/http\.bind/);
  });
});
