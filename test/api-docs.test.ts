/**
 * The API reference at /api/docs renders in a real browser (headless Chromium from Debian, driven
 * by playwright-core) from flowcast's own files alone: every request the page makes goes to
 * flowcast, none fails, and the operations of the OpenAPI document are listed.
 *
 * Locally the suite skips with a notice when Chromium is missing; under CI=true it fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowcastProcess } from './support/flowcast-process.js';
import { findExecutable, requireTool } from './support/tools.js';

const CHROMIUM =
  process.env['CHROMIUM_PATH'] ?? findExecutable('chromium') ?? findExecutable('chromium-browser');
const hasChromium = requireTool('chromium', CHROMIUM !== undefined);

describe.skipIf(!hasChromium)('/api/docs in a browser', () => {
  let work = '';
  let fc: FlowcastProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'flowcast-api-docs-'));
    fc = await FlowcastProcess.start({
      dataDir: join(work, 'data'),
      rollupInterval: 60,
      config: { http: { publicDocs: true }, analytics: { enabled: false } },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await fc?.stop();
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  it('lists every operation of the OpenAPI document, with no request leaving flowcast and none failing', async () => {
    const origin = `http://127.0.0.1:${fc!.httpPort}`;
    const document = (await (await fetch(`${origin}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const page = await browser!.newPage();
    const requests: string[] = [];
    const failures: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => failures.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r) => {
      if (r.status() >= 400) failures.push(`${r.url()}: HTTP ${r.status()}`);
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${origin}/api/docs`, { waitUntil: 'networkidle' });
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const shown = await page.$$eval('.opblock-summary-path', (els) =>
      els.map((e) => e.getAttribute('data-path') ?? e.textContent ?? ''),
    );
    const documented = Object.keys(document.paths);
    expect(documented.length).toBeGreaterThan(10);
    for (const path of documented) expect(shown, path).toContain(path);
    expect(
      requests.every((url) => url.startsWith(origin)),
      requests.join('\n'),
    ).toBe(true);
    expect(failures).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
