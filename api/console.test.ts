/**
 * The console's static files: served at / from the built folder, never in place of an API path,
 * and a page that says how to build them when they are missing. (The pages themselves are tested in
 * a browser by test/console.test.ts.)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterEach, expect, it } from 'vitest';
import { CONSOLE_DIR, consoleStatic } from './console.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** An app with the console's files from `dir`, and a marker answer for whatever falls through. */
async function serve(dir: string): Promise<string> {
  const app = express();
  app.use(consoleStatic(dir));
  app.use((req, res) => {
    res.status(404).json({ fellThrough: `${req.method} ${req.path}` });
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flowcast-console-static-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

it('looks for the build in dist/console of the package', () => {
  expect(CONSOLE_DIR.endsWith(join('dist', 'console'))).toBe(true);
  expect(CONSOLE_DIR.includes(join('dist', 'dist'))).toBe(false);
});

it('serves the built page and its assets, and leaves API paths and other methods alone', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>flowcast</title>');
  await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'metrics'), 'not this');
  const base = await serve(dir);

  const page = await fetch(`${base}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await page.text()).toContain('<title>flowcast</title>');
  const script = await fetch(`${base}/assets/app.js`);
  expect(script.status).toBe(200);
  expect(script.headers.get('content-type')).toMatch(/javascript/);

  for (const path of ['/api/v1/health', '/metrics', '/nothing-here']) {
    const res = await fetch(`${base}${path}`);
    expect(await res.json(), path).toEqual({ fellThrough: `GET ${path}` });
  }
  const post = await fetch(`${base}/`, { method: 'POST' });
  expect(await post.json()).toEqual({ fellThrough: 'POST /' });
});

it('says how to build the console when it is not built', async () => {
  const base = await serve(join(await tempDir(), 'missing'));
  const res = await fetch(`${base}/`);
  expect(res.status).toBe(503);
  expect(await res.text()).toContain('npm run build');
  expect((await fetch(`${base}/api/v1/health`)).status).toBe(404);
});
