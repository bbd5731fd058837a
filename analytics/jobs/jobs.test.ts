/**
 * The analytics jobs against both real stores (embedded DuckDB, and influxd 1.6 when installed):
 * known traffic goes in through the store interface, the jobs run in their worker thread, and the
 * forecast, capacity and anomaly points they write are read back through the store interface and
 * checked against the known series.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../storage/embedded/embedded-store.js';
import { InfluxStore } from '../../storage/influx/influx-store.js';
import type { Point, Store } from '../../storage/store.js';
import { Influxd, influxdAvailable } from '../../test/support/influxd.js';
import { analyticsSchema, schedulerConfig } from './config.js';
import { AnalyticsScheduler } from './scheduler.js';

const log = pino({ level: 'silent' });
const STEP = 300_000;
const DAY = 86_400_000;
/** Ten days of history ending here (a multiple of the step). */
const END = Date.UTC(2024, 5, 11);
const START = END - 10 * DAY;
const A = '192.0.2.1';

/** The known traffic of the test: a daily sinusoid in bits/s around a level that grows 1 Mb/s a day. */
function bps(ifIndex: number, direction: 'in' | 'out', t: number): number {
  const level = (ifIndex === 1 ? 300e6 : 50e6) * (direction === 'in' ? 1 : 0.5);
  return level + 1e6 * ((t - START) / DAY) + 0.4 * level * Math.sin((2 * Math.PI * (t % DAY)) / DAY);
}

function trafficPoints(from: number, to: number, scale = 1): Point[] {
  const points: Point[] = [];
  for (let t = from; t < to; t += STEP) {
    for (const [ifIndex, ifName] of [
      [1, 'GigabitEthernet0/1'],
      [2, 'Ethernet2'],
    ] as const) {
      for (const direction of ['in', 'out'] as const) {
        points.push({
          measurement: 'traffic',
          tags: { exporter: A, ifIndex: String(ifIndex), ifName, direction },
          fields: {
            bytes: BigInt(Math.round((scale * bps(ifIndex, direction, t) * 300) / 8)),
            packets: 1n,
            flows: 1n,
          },
          time: t,
        });
      }
    }
  }
  return points;
}

function jobsSuite(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>): void {
  describe(`analytics jobs on ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let scheduler: AnalyticsScheduler;
    let now = END;
    const metrics = new Registry();

    beforeAll(async () => {
      ({ store, cleanup } = await open());
      await store.start();
      store.write(trafficPoints(START, END));
      await store.flush();
      const analytics = analyticsSchema.parse({ historyDays: 10, horizonDays: 1, enabled: false });
      scheduler = new AnalyticsScheduler(schedulerConfig(analytics, 300), {
        store,
        log,
        metrics,
        now: () => now,
      });
      await scheduler.start();
    });

    afterAll(async () => {
      await scheduler?.stop();
      await store?.stop();
      await cleanup?.();
    });

    it('forecasts every interface, direction and exporter total a day ahead, within 5 % of the known series', async () => {
      const result = await scheduler.run('forecast');
      expect(result.series).toBe(6);
      expect(result.failed).toBe(0);
      const fc = await store.forecasts({ series: `traffic/${A}/1/in` });
      expect(fc.length).toBe(288);
      expect(fc[0]!.time).toBe(END);
      for (const f of fc) {
        const truth = bps(1, 'in', f.time);
        expect(Math.abs(f.yhat - truth) / truth).toBeLessThan(0.05);
        expect(f.lower).toBeLessThanOrEqual(f.lower80);
        expect(f.lower80).toBeLessThanOrEqual(f.yhat);
        expect(f.upper80).toBeGreaterThanOrEqual(f.yhat);
        expect(f.upper).toBeGreaterThanOrEqual(f.upper80);
        // Both bands are the same normal spread: their widths are in the ratio of the z-scores of the
        // central 95 % and 80 % (1.959964 / 1.281552), where the 95 % one is not cut at zero.
        if (f.lower > 0)
          expect((f.upper - f.lower) / (f.upper80 - f.lower80)).toBeCloseTo(1.959964 / 1.281552, 5);
      }
      const rows = await store.rows('forecast', { from: END, to: END + STEP });
      const row = rows.find((r) => r['series'] === `traffic/${A}/1/in`)!;
      expect(row['model']).toBe('auto');
      expect(['decomposition', 'holt_winters', 'regression', 'seasonal_naive']).toContain(
        String(row['chosenModel']).split('+')[0],
      );
      const total = await store.forecasts({ series: `traffic/${A}/total/out` });
      expect(total.length).toBe(288);
      const truthTotal = bps(1, 'out', total[100]!.time) + bps(2, 'out', total[100]!.time);
      expect(Math.abs(total[100]!.yhat - truthTotal) / truthTotal).toBeLessThan(0.05);
      const status = scheduler.list().find((j) => j.name === 'forecast')!;
      expect(status).toMatchObject({ lastResult: 'ok', seriesProcessed: 6, running: false, enabled: false });
    });

    it('writes capacity rows: known speed from the name, unknown capacity explained, p95 and trend', async () => {
      await scheduler.run('capacity');
      const rows = await store.capacity();
      const gi = rows.find((r) => r['ifIndex'] === '1' && r['direction'] === 'in')!;
      expect(gi['capacityBps']).toBe(1e9);
      // p95 of the window: the level plus 0.4 of it times sin at its 95th percentile (0.9877 of a
      // uniform phase), plus the trend; within 2 % of the independent figure.
      const expectedP95 = 300e6 + 0.4 * 300e6 * Math.sin((Math.PI / 2) * 0.9) + 5e6;
      expect(Math.abs((gi['p95Bps'] as number) - expectedP95) / expectedP95).toBeLessThan(0.02);
      expect(gi['trendBpsPerDay'] as number).toBeCloseTo(1e6, -4);
      // 80 % of 1 Gb/s is far beyond a day of forecast: the trend takes it there in hundreds of days.
      expect(gi['daysToThreshold'] as number).toBeGreaterThan(200);
      expect(gi['probCongested'] as number).toBeGreaterThanOrEqual(0);
      expect(gi['probCongested'] as number).toBeLessThan(0.05);
      // Congestion within 7 days cannot be likelier than within 30; the 30-day one is also stored
      // under its first name.
      expect(gi['probCongested7d'] as number).toBeLessThanOrEqual(gi['probCongested30d'] as number);
      expect(gi['probCongested30d']).toBe(gi['probCongested']);
      expect(gi['threshold']).toBe(0.8);
      const eth = rows.find((r) => r['ifIndex'] === '2' && r['direction'] === 'out')!;
      expect(eth['capacityBps'] ?? undefined).toBeUndefined();
      expect(eth['daysToThreshold'] ?? undefined).toBeUndefined();
      expect(String(eth['note'])).toMatch(/capacity unknown: the name Ethernet2 states no speed/);
      expect(rows.length).toBe(4);
    });

    it('reports a level shift as one anomaly episode, not once per interval', async () => {
      // The first run warms the detectors up on the history: nothing is reported.
      const first = await scheduler.run('anomaly');
      expect(first.points).toBe(0);
      // Three intervals at three times the usual traffic on every series, then one run per interval.
      for (let i = 0; i < 3; i++) {
        store.write(trafficPoints(now, now + STEP, 3));
        await store.flush();
        now += STEP;
        await scheduler.run('anomaly');
      }
      const rows = await store.anomalies({ from: END, to: now + DAY, kind: 'series' });
      const gi = rows.filter((r) => r['series'] === `traffic/${A}/1/in`);
      expect(gi.length).toBe(1);
      expect(gi[0]).toMatchObject({
        kind: 'series',
        exporter: A,
        state: 'start',
        subject: `traffic/${A}/1/in`,
      });
      const value = gi[0]!['value'] as number;
      expect(Math.abs(value - 3 * bps(1, 'in', gi[0]!.time)) / value).toBeLessThan(0.01);
      expect(gi[0]!['expected'] as number).toBeLessThan(value / 2);
      expect(String(gi[0]!['message'])).toMatch(/GigabitEthernet0\/1 in: .* Mb\/s where .* was expected/);
    });

    it('exports job metrics and never runs one job twice at once', async () => {
      expect(scheduler.trigger('forecast')).toBe('started');
      expect(scheduler.trigger('forecast')).toBe('running');
      expect(scheduler.trigger('nope')).toBe('unknown');
      while (scheduler.list().find((j) => j.name === 'forecast')!.running)
        await new Promise((r) => setTimeout(r, 20));
      const text = await metrics.metrics();
      expect(text).toContain('flowcast_job_runs_total{job="forecast",result="ok"} 2');
      expect(text).toContain('flowcast_job_runs_total{job="anomaly",result="ok"} 4');
      expect(text).toMatch(/flowcast_job_duration_seconds_count\{job="capacity"\} 1/);
      expect(text).toMatch(/flowcast_job_last_success_timestamp_seconds\{job="forecast"\} \d+/);
    });
  });
}

jobsSuite('the embedded store (DuckDB)', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-jobs-'));
  return {
    store: new EmbeddedStore({ dataDir, log, retentionDays: 100 * 365 }),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});

describe.skipIf(!influxdAvailable())('with influxd', () => {
  let influxd: Influxd;
  beforeAll(async () => {
    influxd = await Influxd.launch();
  });
  afterAll(async () => {
    await influxd?.stop();
  });
  jobsSuite('InfluxDB 1.x', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-jobs-influx-'));
    return {
      store: new InfluxStore({ url: influxd.url, database: 'flowcast_jobs', dataDir, log }),
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  });
});
