/**
 * The web console in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against a real `flowcast serve` (child process, loopback only) that a capture
 * was replayed into with `flowcast replay`. Forecast, capacity and anomaly points, and an hour of
 * traffic before the replay, are written through the embedded store before flowcast starts (the
 * analytics jobs that would write them are not part of this process).
 *
 * Each page must load without a console error or a failed request, its charts must hold and draw
 * what the API answered (the chart's data compared with the answer the page received, and pixels
 * of the series colour counted on the canvas), and its tables must show the API's rows. A
 * screenshot of each page goes to test-artifacts/console/ (kept by CI, ignored by git).
 *
 * Locally the suite skips with a notice when Chromium is missing; under CI=true it fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../storage/embedded/embedded-store.js';
import type { Point } from '../storage/store.js';
import { encodeV5 } from './support/encoder.js';
import { FlowcastProcess } from './support/flowcast-process.js';
import { writeUdpPcap } from './support/pcap-writer.js';
import { prng } from './support/random.js';
import { runFlowcast } from './support/run-cli.js';
import { findExecutable, requireTool } from './support/tools.js';

const ROOT = resolve(import.meta.dirname, '..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');
const CHROMIUM =
  process.env['CHROMIUM_PATH'] ?? findExecutable('chromium') ?? findExecutable('chromium-browser');
const hasChromium = requireTool('chromium', CHROMIUM !== undefined);
const EXPORTER = '127.0.0.1';
const SOURCES = ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4'];
const DESTINATIONS = ['192.0.2.10', '192.0.2.20', '198.51.100.7'];
const IN_COLOR: readonly [number, number, number] = [0x2f, 0x9e, 0x44];
const MINUTE = 60_000;
/**
 * The analytics jobs run in flowcast serve and are listed on the Collector page, but not during the
 * test (with 1 s rollups the anomaly job would run every second): they are due on 1 January.
 */
const QUIET_JOBS = {
  schedules: { forecast: '0 0 1 1 *', capacity: '0 0 1 1 *', anomaly: '0 0 1 1 *' },
};

/** What the replayed capture holds: 12 NetFlow v5 datagrams, flows in on ifIndex 1 and 2, out on 3. */
function capture(now: number): { payloads: Uint8Array[]; inBytes: number } {
  const random = prng(11);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const payloads: Uint8Array[] = [];
  let inBytes = 0;
  for (let d = 0; d < 12; d++) {
    const records = Array.from({ length: 20 }, () => {
      const protocol = pick([6, 6, 6, 17, 1]);
      const bytes = 500 + Math.floor(random() * 400_000);
      inBytes += bytes;
      return {
        srcAddr: pick(SOURCES),
        dstAddr: pick(DESTINATIONS),
        srcPort: protocol === 1 ? 0 : 1024 + Math.floor(random() * 60_000),
        dstPort: protocol === 1 ? 0 : pick([443, 53, 22, 80]),
        protocol,
        input: pick([1, 2]),
        output: 3,
        packets: 1 + Math.floor(random() * 300),
        bytes,
        first: 3_600_000 - 900,
        last: 3_600_000 - 100,
      };
    });
    payloads.push(
      encodeV5({ unixSecs: Math.floor(now / 1000), sysUptime: 3_600_000, flowSequence: d * 20, records }),
    );
  }
  return { payloads, inBytes };
}

/** Daily-looking traffic for the hour before `end`, one point a second (the rollup interval here). */
function history(end: number): Point[] {
  const points: Point[] = [];
  const shape = (t: number, phase: number, base: number) =>
    base * (1 + 0.35 * Math.sin(t / 600_000 + phase) + 0.08 * Math.sin(t / 37_000 + 2 * phase));
  for (let t = end - 60 * MINUTE; t < end; t += 1000) {
    for (const [ifIndex, direction, base, phase] of [
      ['1', 'in', 3.1e6, 0],
      ['2', 'in', 1.2e6, 1],
      ['3', 'out', 4.0e6, 2],
    ] as const) {
      const bytes = Math.round(shape(t, phase, base));
      points.push({
        measurement: 'traffic',
        tags: { exporter: EXPORTER, ifIndex, ifName: ifIndex, direction },
        fields: { bytes, packets: Math.round(bytes / 800), flows: 40 },
        time: t,
      });
    }
  }
  return points;
}

/** What the analytics jobs would have written: a forecast, capacity rows and anomalies. */
function analytics(now: number): Point[] {
  const series = `traffic/${EXPORTER}/1/in`;
  const points: Point[] = [];
  for (let t = now - 20 * MINUTE; t <= now + 30 * MINUTE; t += MINUTE) {
    const yhat = 8 * 3.1e6 * (1 + 0.35 * Math.sin(t / 600_000));
    points.push({
      measurement: 'forecast',
      tags: { series, model: 'seasonal' },
      fields: { yhat, lower: yhat * 0.75, upper: yhat * 1.25, lower80: yhat * 0.85, upper80: yhat * 1.15 },
      time: t,
    });
  }
  const capacity = (ifIndex: string, direction: string, fields: Record<string, number>): Point => ({
    measurement: 'capacity',
    tags: { exporter: EXPORTER, ifIndex, direction },
    fields,
    time: now - 5 * MINUTE,
  });
  points.push(
    capacity('1', 'in', {
      capacityBps: 1e8,
      p95Bps: 3.3e7,
      trendBpsPerDay: 4.1e5,
      daysToThreshold: 113,
      probCongested: 0.02,
    }),
    capacity('3', 'out', {
      capacityBps: 1e8,
      p95Bps: 4.3e7,
      trendBpsPerDay: 2.2e6,
      threshold: 0.8,
      daysToThreshold: 16.5,
      probCongested: 0.18,
    }),
    capacity('2', 'in', { p95Bps: 1.3e7, trendBpsPerDay: -1.0e5 }),
  );
  const anomaly = (time: number, tags: Record<string, string>, fields: Point['fields']): Point => ({
    measurement: 'anomaly',
    tags: { exporter: EXPORTER, ...tags },
    fields,
    time,
  });
  points.push(
    anomaly(
      now - 18 * MINUTE,
      { kind: 'series', series },
      {
        score: 4.2,
        value: 3.9e7,
        expected: 2.4e7,
        message: 'traffic above the forecast band',
        subject: series,
        state: 'start',
      },
    ),
    anomaly(
      now - 35 * MINUTE,
      { kind: 'syn_flood' },
      {
        score: 8.5,
        value: 52_000,
        expected: 40,
        message: 'SYN flood towards 192.0.2.10',
        subject: '192.0.2.10',
        state: 'start',
      },
    ),
    anomaly(
      now - 50 * MINUTE,
      { kind: 'scan' },
      { score: 2.1, value: 310, expected: 12, message: 'port scan from 10.1.0.3', subject: '10.1.0.3' },
    ),
  );
  return points;
}

async function seed(dataDir: string, points: readonly Point[]): Promise<void> {
  const store = new EmbeddedStore({ dataDir, log: pino({ level: 'silent' }) });
  await store.start();
  store.write(points);
  await store.flush();
  await store.stop();
}

/** `flowcast replay` as a user runs it, at `rate` datagrams a second; resolves once it exits 0. */
async function replay(file: string, port: number, rate: number): Promise<void> {
  const run = await runFlowcast(['replay', file, '--to', `${EXPORTER}:${port}`, '--rate', String(rate)]);
  if (run.code !== 0) throw new Error(`flowcast replay exited ${run.code}: ${run.stderr}`);
}

/** Builds the console into dist/console/ as `npm run build` does. */
function buildConsole(): void {
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const run = spawnSync(process.execPath, [vite, 'build', '--config', 'console/vite.config.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0)
    throw new Error(`console build failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  if (!existsSync(join(ROOT, 'dist', 'console', 'index.html')))
    throw new Error('console build wrote no index.html');
}

/** A page whose console errors, uncaught exceptions and failed requests are recorded. */
async function watchedPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A request the page itself aborts (it moved on to another range) is not a failure.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && r.status() !== 401) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return { page, problems };
}

/** What a chart holds and draws: its uPlot series (labels and values) and pixels per series colour. */
interface ChartState {
  readonly times: number[];
  readonly series: { label: string; values: (number | null)[] }[];
  readonly inPixels: number;
}

/**
 * What chart `name` holds and draws; `since` (Unix ms) counts only the pixels drawn from that time
 * on (right of its position on the time axis). With `alone`, the pixels are counted with every other
 * series hidden for the count: the forecast is drawn over the measured line, and where the replayed
 * samples came close to the fixture's forecast (a quarter of runs, by the hour and the replay's
 * split into intervals) it covered them.
 */
async function chartState(page: Page, name: string, since?: number, alone = false): Promise<ChartState> {
  const handle = page.locator(`[data-chart="${name}"]`).first();
  await handle.locator('canvas').waitFor({ timeout: 15_000 });
  return handle.evaluate(
    async (el, [color, since, alone]) => {
      const u = (
        el as unknown as {
          uplot?: {
            data: ArrayLike<number | null>[];
            series: { label?: string; show?: boolean }[];
            valToPos(value: number, scale: string, canvasPixels: boolean): number;
            setSeries(index: number, options: { show: boolean }): void;
          };
        }
      ).uplot;
      if (u === undefined) throw new Error('no chart on the element');
      const hidden: number[] = [];
      if (alone) {
        for (let i = 2; i < u.series.length; i++) {
          if (u.series[i]!.show !== false) {
            u.setSeries(i, { show: false });
            hidden.push(i);
          }
        }
        // uPlot redraws on the next frame.
        const frame = (
          el.ownerDocument.defaultView as unknown as { requestAnimationFrame(f: () => void): number }
        ).requestAnimationFrame;
        await new Promise<void>((resolve) => frame(() => frame(resolve)));
      }
      const canvas = el.querySelector('canvas')!;
      // Read from a copy: reading the chart's own canvas again and again makes Chromium warn.
      const copy = canvas.ownerDocument.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const context = copy.getContext('2d', { willReadFrequently: true })!;
      context.drawImage(canvas, 0, 0);
      const pixels = context.getImageData(0, 0, copy.width, copy.height).data;
      let inPixels = 0;
      const left = since === null ? 0 : Math.floor(u.valToPos(since / 1000, 'x', true));
      for (let i = 0; i < pixels.length; i += 4) {
        if ((i / 4) % canvas.width < left) continue;
        const near =
          Math.abs(pixels[i]! - color[0]) < 24 &&
          Math.abs(pixels[i + 1]! - color[1]) < 24 &&
          Math.abs(pixels[i + 2]! - color[2]) < 24 &&
          pixels[i + 3]! > 200;
        if (near) inPixels++;
      }
      for (const i of hidden) u.setSeries(i, { show: true });
      return {
        times: Array.from(u.data[0] as ArrayLike<number>),
        series: u.series.slice(1).map((s, i) => ({
          label: String(s.label ?? ''),
          values: Array.from(u.data[i + 1] as ArrayLike<number | null>),
        })),
        inPixels,
      };
    },
    [IN_COLOR, since ?? null, alone] as const,
  );
}

describe.skipIf(!hasChromium)('the web console in Chromium, after a replay into flowcast serve', () => {
  let work = '';
  let fc: FlowcastProcess | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let replayStart = 0;
  let inBytes = 0;
  let sent = 0;

  beforeAll(async () => {
    buildConsole();
    await mkdir(ARTIFACTS, { recursive: true });
    work = await mkdtemp(join(tmpdir(), 'flowcast-console-'));
    const now = Date.now();
    const dataDir = join(work, 'data');
    await seed(dataDir, [...history(now - 30_000), ...analytics(now)]);

    fc = await FlowcastProcess.start({ dataDir, rollupInterval: 1, config: { analytics: QUIET_JOBS } });
    replayStart = Date.now();
    const c = capture(replayStart);
    inBytes = c.inBytes;
    sent = c.payloads.length;
    await writeUdpPcap(
      join(work, 'replay.pcap'),
      c.payloads.map((payload, i) => ({
        payload,
        srcAddr: EXPORTER,
        dstPort: 2055,
        timestamp: replayStart + i,
      })),
    );
    await replay(join(work, 'replay.pcap'), fc.netflowPort, 4);
    await fc.waitForMetrics(
      'every record rolled up and written',
      (m) =>
        m.value('flowcast_packets_received_total') === sent &&
        m.value('flowcast_rollup_open_windows') === 0 &&
        m.value('flowcast_rollup_points_total') > 0 &&
        m.value('flowcast_store_points_written_total') === m.value('flowcast_rollup_points_total'),
      20_000,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox'] });
    // A zone an hour east of UTC in November, so local and UTC times differ.
    context = await browser.newContext({
      viewport: { width: 1440, height: 1000 },
      colorScheme: 'light',
      timezoneId: 'Europe/Paris',
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await fc?.stop();
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  const base = () => `http://127.0.0.1:${fc!.httpPort}/`;
  async function api(path: string) {
    const res = await fetch(`http://127.0.0.1:${fc!.httpPort}${path}`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status, path).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
    return (await res.json()) as any;
  }

  it('Overview charts the replayed traffic the API returns, with the forecast band, mix and talkers', async () => {
    const { page, problems } = await watchedPage(context!);
    const answers: { url: string; body: { samples: { time: string; bytes: number; bps: number }[] } }[] = [];
    page.on('response', async (r) => {
      if (r.url().includes('/api/v1/traffic?') && r.url().includes('direction=in') && r.status() === 200) {
        answers.push({ url: r.url(), body: await r.json() });
      }
    });
    await page.goto(`${base()}#/overview?exporter=${EXPORTER}&ifIndex=1`);
    await page
      .locator('[data-chart="traffic"][data-points]:not([data-points="0"])')
      .waitFor({ timeout: 15_000 });
    await page.locator('[data-table="top-src"] tbody tr').first().waitFor();
    await page.locator('[data-chart="traffic"][data-lines*="forecast"]').waitFor({ timeout: 15_000 });
    const chart = await chartState(page, 'traffic');
    expect(chart.series.map((s) => s.label)).toEqual([
      'in',
      'out',
      'forecast in',
      'upper',
      'lower',
      'upper80',
      'lower80',
    ]);

    // The chart holds exactly what the API answered for inbound traffic.
    const answer = answers.at(-1)!.body;
    const drawn = new Map(chart.times.map((t, i) => [t, chart.series[0]!.values[i]]));
    expect(answer.samples.length).toBeGreaterThan(100);
    for (const s of answer.samples) expect(drawn.get(Date.parse(s.time) / 1000)).toBeCloseTo(s.bps, 6);
    // ...which holds the replayed flows of this interface, and they are drawn.
    const replayed = answer.samples.filter((s) => Date.parse(s.time) >= replayStart - 15_000);
    expect(replayed.reduce((n, s) => n + s.bytes, 0)).toBeGreaterThan(0);
    expect(chart.inPixels).toBeGreaterThan(300);
    // The replayed samples are drawn, not only the hour of history before them (which ends
    // 30 s before the replay).
    const drawnSince = await chartState(page, 'traffic', replayStart - 10_000, true);
    expect(drawnSince.inPixels).toBeGreaterThan(8);
    const forecast = chart.series[2]!.values.filter((v) => v !== null);
    expect(forecast.length).toBeGreaterThan(20);
    // Both bands, as stored: the 80 % one (yhat ± 15 %) inside the 95 % one (± 25 %).
    const [yhat, upper, lower, upper80, lower80] = [2, 3, 4, 5, 6].map((i) => chart.series[i]!.values);
    let banded = 0;
    yhat!.forEach((v, i) => {
      if (v === null) return;
      expect(upper![i]).toBeCloseTo(v * 1.25, 3);
      expect(upper80![i]).toBeCloseTo(v * 1.15, 3);
      expect(lower80![i]).toBeCloseTo(v * 0.85, 3);
      expect(lower![i]).toBeCloseTo(v * 0.75, 3);
      banded++;
    });
    expect(banded).toBe(forecast.length);

    // All exporters, all interfaces: every replayed inbound byte is in the chart's answer.
    answers.length = 0;
    await page.locator('select[name="exporter"]').selectOption('');
    await page.waitForFunction('!location.hash.includes("exporter=")');
    await expect.poll(() => answers.some((a) => !a.url.includes('ifIndex=')), { timeout: 10_000 }).toBe(true);
    const all = answers.filter((a) => !a.url.includes('ifIndex=')).at(-1)!.body;
    const after = all.samples.filter((s) => Date.parse(s.time) >= replayStart - 15_000);
    expect(after.reduce((n, s) => n + s.bytes, 0)).toBe(inBytes);
    await page.locator('[data-chart="traffic"][data-points]:not([data-points="0"])').waitFor();

    // The panels of the new choice load on their own: poll until each shows its answer.
    const protocols = () => page.locator('[data-list="protocols"] li').allInnerTexts();
    await expect.poll(async () => (await protocols()).join(' '), { timeout: 10_000 }).toMatch(/tcp/);
    expect((await protocols()).join(' ')).toMatch(/udp/);
    const sources = () => page.locator('[data-table="top-src"] tbody td.mono').allInnerTexts();
    await expect.poll(async () => (await sources()).sort(), { timeout: 10_000 }).toEqual([...SOURCES].sort());
    const interfaces = () => page.locator('[data-table="interfaces"] tbody tr').count();
    await expect.poll(interfaces, { timeout: 10_000 }).toBe(3);

    // Back to interface 1 (a change of the hash only): its chart, with its forecast, replaces the
    // exporter's.
    await page.goto(`${base()}#/overview?exporter=${EXPORTER}&ifIndex=1`);
    await page.locator('[data-chart="traffic"][data-lines*="forecast"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('select[name="ifIndex"]').inputValue()).toBe('1');
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('Capacity lists the API rows by urgency; a row opens its chart with the capacity line', async () => {
    const { page, problems } = await watchedPage(context!);
    const { capacity } = await api('/api/v1/capacity');
    expect(capacity).toHaveLength(3);
    await page.goto(`${base()}#/capacity`);
    const rows = page.locator('[data-table="capacity"] tbody tr[data-key]');
    await rows.first().waitFor({ timeout: 15_000 });
    const keys = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect(keys).toEqual(
      capacity.map(
        (r: { exporter: string; ifIndex: string; direction: string }) =>
          `${r.exporter}/${r.ifIndex}/${r.direction}`,
      ),
    );
    expect(keys[0]).toBe(`${EXPORTER}/3/out`);
    const first = await rows.first().innerText();
    expect(first).toContain('100 Mb/s');
    expect(first).toContain('17 d');
    expect(first).toContain('43.0 %');
    expect(await rows.nth(2).innerText()).toContain('unknown');

    await rows.first().click();
    await page
      .locator('[data-chart="capacity"][data-points]:not([data-points="0"])')
      .waitFor({ timeout: 15_000 });
    const chart = await chartState(page, 'capacity');
    expect(chart.series.map((s) => s.label)).toEqual(['out', 'capacity', 'threshold']);
    expect(chart.series[1]!.values.every((v) => v === 1e8)).toBe(true);
    // The planning threshold the API gives for the row: 80 % of 100 Mb/s.
    expect(capacity[0].thresholdBps).toBe(8e7);
    expect(chart.series[2]!.values.every((v) => v === 8e7)).toBe(true);
    expect(await page.locator('tr.detail .subtitle').innerText()).toContain(
      'planning threshold (80 Mb/s, 80 % of capacity)',
    );
    expect(chart.series[0]!.values.filter((v) => v !== null && v > 0).length).toBeGreaterThanOrEqual(5);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(ARTIFACTS, 'capacity.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('Anomalies shows the API detections on a timeline and in a table linked to their traffic', async () => {
    const { page, problems } = await watchedPage(context!);
    const { anomalies } = await api('/api/v1/anomalies?from=-24h');
    expect(anomalies).toHaveLength(3);
    await page.goto(`${base()}#/anomalies`);
    const rows = page.locator('[data-table="anomalies"] tbody tr');
    await rows.first().waitFor({ timeout: 15_000 });
    const texts = await rows.allInnerTexts();
    expect(texts).toHaveLength(anomalies.length);
    anomalies.forEach((a: { kind: string; message: string }, i: number) => {
      expect(texts[i]).toContain(a.kind);
      expect(texts[i]).toContain(a.message);
    });
    // Times in the browser's zone (Paris, UTC+1), in UTC once asked.
    const utcText = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
    const first = anomalies[0].time as string;
    const paris = new Date(Date.parse(first) + 3_600_000).toISOString();
    expect(texts[0]).toContain(utcText(paris));
    await page.getByLabel('UTC').check();
    await expect.poll(() => rows.first().innerText()).toContain(`${utcText(first)} UTC`);
    await page.getByLabel('UTC').uncheck();
    await expect.poll(() => rows.first().innerText()).toContain(utcText(paris));

    const chart = await chartState(page, 'anomalies');
    expect(chart.series.map((s) => s.label)).toEqual(['scan', 'series', 'syn_flood']);
    expect(chart.series.flatMap((s) => s.values).filter((v) => v !== null)).toHaveLength(3);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(ARTIFACTS, 'anomalies.png'), fullPage: true });

    await rows.filter({ hasText: 'series' }).getByRole('link').click();
    await page.waitForFunction('location.hash.startsWith("#/overview")');
    expect(page.url()).toContain(`exporter=${EXPORTER}`);
    expect(page.url()).toContain('ifIndex=1');
    await page
      .locator('[data-chart="traffic"][data-points]:not([data-points="0"])')
      .waitFor({ timeout: 15_000 });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('Collector shows the exporter with its counters, the store and the analytics jobs', async () => {
    const { page, problems } = await watchedPage(context!);
    await page.goto(`${base()}#/collector`);
    const row = page.locator('[data-table="exporters"] tbody tr').first();
    await row.waitFor({ timeout: 15_000 });
    const text = await row.innerText();
    expect(text).toContain(EXPORTER);
    expect(text).toContain('v5');
    expect(text).toContain(String(sent));
    expect(text).toContain(String(sent * 20));
    const store = await page.locator('[data-facts="store"]').innerText();
    expect(store).toContain('embedded');
    const jobs = await page.locator('[data-table="jobs"] tbody tr').allInnerTexts();
    const { jobs: expected } = await api('/api/v1/jobs');
    expect(jobs).toHaveLength(expected.length);
    expect(jobs.map((j) => j.split('\t')[0]).sort()).toEqual(['anomaly', 'capacity', 'forecast']);
    for (const j of jobs) expect(j).toContain('0 0 1 1 *');
    // Refresh now: every panel asks the API again.
    let asked = 0;
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/exporters?')) asked++;
    });
    await page.getByTitle('Refresh now').click();
    await expect.poll(() => asked, { timeout: 10_000 }).toBe(1);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(ARTIFACTS, 'collector.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('follows a dark system theme, on a wall screen', async () => {
    const dark = await browser!.newContext({ viewport: { width: 2560, height: 1440 }, colorScheme: 'dark' });
    const { page, problems } = await watchedPage(dark);
    await page.goto(`${base()}#/overview?exporter=${EXPORTER}&ifIndex=1`);
    await page.locator('[data-chart="traffic"][data-lines*="forecast"]').waitFor({ timeout: 15_000 });
    const background = await page.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    expect(background).toBe('rgb(18, 21, 26)');
    expect((await chartState(page, 'traffic')).inPixels).toBeGreaterThan(300);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(ARTIFACTS, 'overview-dark-wall.png'), fullPage: true });
    // Text grows with the screen: at least 18 px at 2560 px wide.
    const size = await page.evaluate('parseFloat(getComputedStyle(document.documentElement).fontSize)');
    expect(size).toBeGreaterThanOrEqual(18);
    expect(problems).toEqual([]);
    await dark.close();
  });
});

describe.skipIf(!hasChromium)('the web console with an API token, before any exporter', () => {
  let work = '';
  let fc: FlowcastProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'console', 'index.html'))) buildConsole();
    await mkdir(ARTIFACTS, { recursive: true });
    work = await mkdtemp(join(tmpdir(), 'flowcast-console-token-'));
    fc = await FlowcastProcess.start({
      dataDir: join(work, 'data'),
      rollupInterval: 1,
      config: { http: { apiToken: 'console-test-token' }, analytics: QUIET_JOBS },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await fc?.stop();
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  it('asks for the token once, keeps it for the session, and explains what to do first', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await watchedPage(context);
    await page.goto(`http://127.0.0.1:${fc!.httpPort}/`);
    const prompt = page.locator('form.token');
    await prompt.waitFor({ timeout: 15_000 });
    await prompt.locator('input[name="token"]').fill('wrong');
    await prompt.locator('button').click();
    await expect.poll(() => prompt.innerText(), { timeout: 10_000 }).toContain('refused');
    await prompt.locator('input[name="token"]').fill('console-test-token');
    await prompt.locator('button').click();
    await page.locator('text=No exporter yet').waitFor({ timeout: 15_000 });
    expect(await page.locator('.empty').innerText()).toContain('UDP port 2055');
    expect(await page.evaluate('sessionStorage.getItem("flowcast.apiToken")')).toBe('console-test-token');

    await page.goto(`http://127.0.0.1:${fc!.httpPort}/#/collector`);
    await page.reload();
    await page.locator('[data-facts="store"]').waitFor({ timeout: 15_000 });
    expect(await prompt.count()).toBe(0);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(ARTIFACTS, 'first-run.png'), fullPage: true });
    // The first, token-less requests are refused (401) by design; nothing else may fail.
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
    await context.close();
  });
});
