import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Forecaster } from '../forecast/forecaster.js';
import { gaussian } from '../forecast/synthetic.js';
import { runForecast } from '../jobs/tasks.js';
import { EvalInputError, parseSeries, parseTime } from './csv.js';
import { missedGoals } from './goals.js';
import { contractJson, evaluateForecasts, formatReport, runEval, storedForecasts } from './harness.js';

const HALF_HOUR = 1_800_000;
const T0 = Date.UTC(2024, 0, 1);
const iso = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);

describe('evaluation CSV input', () => {
  it('reads a header, quoted values and NAB timestamps as UTC', () => {
    const s = parseSeries('x', '"Time","Value"\n"2024-01-01 00:00:00","10"\n2024-01-01 00:05:00,11.5\n\n');
    expect(s.times).toEqual([T0, T0 + 300_000]);
    expect([...s.values]).toEqual([10, 11.5]);
    expect(parseTime('2015-07-27 10:56:00.000000')).toBe(Date.UTC(2015, 6, 27, 10, 56));
  });

  it('names the file and line of a row it cannot read', () => {
    expect(() =>
      parseSeries('bad.csv', 'time,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n'),
    ).toThrow(new EvalInputError('bad.csv:3: cannot read "2024-01-01 00:05:00,abc" as time,value'));
  });
});

describe('flowcast eval on synthetic data', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowcast-eval-'));
    // Forecasting: 40 days of half-hourly traffic with a daily cycle, noise and a small trend.
    const noise = gaussian(5);
    const rows = ['time,value'];
    for (let i = 0; i < 40 * 48; i++) {
      const v = 1000 + 0.3 * i + 400 * Math.sin((2 * Math.PI * i) / 48) + 20 * noise();
      rows.push(`${iso(T0 + i * HALF_HOUR)},${v.toFixed(3)}`);
    }
    await mkdir(join(dir, 'traffic'));
    await writeFile(join(dir, 'traffic', 'synthetic.csv'), `${rows.join('\n')}\n`);
    // NAB layout: one file with one labelled spike.
    await mkdir(join(dir, 'nab', 'data', 'synthetic'), { recursive: true });
    await mkdir(join(dir, 'nab', 'labels'));
    const nab = ['timestamp,value'];
    for (let i = 0; i < 2000; i++)
      nab.push(`${iso(T0 + i * 300_000)},${(i >= 1500 && i < 1510 ? 200 : 50) + 2 * noise()}`);
    await writeFile(join(dir, 'nab', 'data', 'synthetic', 'spike.csv'), `${nab.join('\n')}\n`);
    const windows = {
      'synthetic/spike.csv': [[`${iso(T0 + 1450 * 300_000)}.000000`, `${iso(T0 + 1550 * 300_000)}.000000`]],
    };
    await writeFile(join(dir, 'nab', 'labels', 'combined_windows.json'), JSON.stringify(windows));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the output contract, beats seasonal naive on a trending series and finds the spike', async () => {
    const report = await runEval([join(dir, 'traffic'), join(dir, 'nab')]);
    const json = JSON.parse(JSON.stringify(contractJson(report))) as {
      forecast: Array<Record<string, unknown>>;
      anomaly: { files: number; scores: Record<string, number>; optimized: Record<string, number> };
      markov: Array<Record<string, unknown>>;
    };
    expect(json.forecast.map((f) => f['horizon'])).toEqual(['1h', '1d']);
    for (const f of json.forecast) {
      expect(Object.keys(f).sort()).toEqual([
        'chosen',
        'horizon',
        'mase',
        'model',
        'naive',
        'series',
        'smape',
      ]);
      expect(f['series']).toBe('synthetic');
      // Seasonal naive misses the trend (0.3 a sample, 14.4 a day) on top of the noise; the models do not.
      expect(f['mase'] as number).toBeLessThan((f['naive'] as { mase: number }).mase);
    }
    expect(json.anomaly.files).toBe(1);
    expect(Object.keys(json.anomaly.scores).sort()).toEqual([
      'reward_low_FN_rate',
      'reward_low_FP_rate',
      'standard',
    ]);
    // One window, detected early in it, no false positive: close to the perfect detector's 100.
    expect(json.anomaly.scores['standard']).toBeGreaterThan(90);
    // The production threshold is among those the optimised figure tries.
    for (const [profile, score] of Object.entries(json.anomaly.scores))
      expect(json.anomaly.optimized[profile]).toBeGreaterThanOrEqual(score);
    expect(json.markov.map((m) => m['horizon'])).toEqual(['1h', '1d']);
    for (const m of json.markov) {
      expect(Object.keys(m).sort()).toEqual([
        'brier',
        'climatologyBrier',
        'horizon',
        'persistenceBrier',
        'series',
      ]);
    }
    expect(
      missedGoals(report, {
        forecast: [{ series: 'synthetic', horizon: '1d', maxMase: 1e-9 }],
        markov: [],
        maxMaseEverywhere: 1,
      }),
    ).toEqual([expect.stringMatching(/^forecast synthetic 1d: MASE .* > 1e-9$/)]);
  });
});

describe('forecast evaluation', () => {
  it('forecasts at each origin as flowcast serve does: 30 days of history, 7 days ahead, chosen on 2 day-ahead backtests', () => {
    // 45 days at half-hour steps (48 a day): origins from day 31.5, so the history window binds.
    const perDay = 48;
    const times = Array.from({ length: 45 * perDay }, (_, i) => T0 + i * HALF_HOUR);
    const values = Float64Array.from(times, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / perDay));
    const fits: number[] = [];
    const horizons: number[] = [];
    // A model that forecasts the last value and records what it was given.
    const recorder: Forecaster = {
      name: 'last_value',
      minLength: () => 1,
      fit(y) {
        fits.push(y.length);
        const last = y[y.length - 1]!;
        return {
          predict(h) {
            horizons.push(h);
            return new Float64Array(h).fill(last);
          },
        };
      },
    };
    const [hour, day] = evaluateForecasts({ name: 's', times, values }, [recorder]);
    const origins = Math.ceil((45 * perDay - Math.floor(0.7 * 45 * perDay)) / perDay);
    expect(hour!.origins).toBe(origins);
    expect(day!.origins).toBe(origins - 1); // the last origin has an hour after it, not a day
    // Per origin: two backtest fits predicting one day, then the refit predicting seven days.
    expect(fits.length).toBe(3 * origins);
    expect(Math.max(...fits)).toBe(30 * perDay);
    expect(horizons.filter((h) => h === 7 * perDay).length).toBe(origins);
    expect(horizons.filter((h) => h === perDay).length).toBe(2 * origins);
    expect(horizons.length).toBe(3 * origins);
  });
});

describe('anomaly evaluation', () => {
  it("measures each row against the forecast production would have stored for it: the last hourly run's", async () => {
    // Four days at 5-minute steps of a daily cycle: production forecasts once two days are stored.
    const step = 300_000;
    const times = Array.from({ length: 4 * 288 }, (_, i) => T0 + i * step);
    const values = Float64Array.from(times, (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / 288));
    const stored = await storedForecasts(times, values);
    expect(Number.isNaN(stored[100]!)).toBe(true);
    // A row 25 minutes into an hour of the third day reads the run made at the hour's first row.
    const row = 3 * 288 + 12 * 5 + 5;
    const runRow = row - 5;
    const [run] = await runForecast({
      type: 'forecast',
      series: [{ key: 'x', stepMs: step, start: T0, values: values.slice(0, runRow) }],
      horizonDays: 7,
      models: ['decomposition', 'holt_winters', 'regression', 'seasonal_naive'],
      periods: 'calendar',
    });
    expect(stored[row]).toBe(run!.yhat![5]);
    // Not the moving level: on the cycle's steepest part, the forecast is the closer.
    const steep = 3 * 288 + 1;
    const movingLevel = values.slice(steep - 6, steep).reduce((a, b) => a + b, 0) / 6;
    expect(Math.abs(stored[steep]! - values[steep]!)).toBeLessThan(Math.abs(movingLevel - values[steep]!));
  });
});

describe('the readable report', () => {
  it('prints only the tables it has rows for, and says when there was nothing to evaluate', () => {
    const anomaly = {
      files: 1,
      threshold: 0.95,
      scores: { standard: 50, reward_low_FP_rate: 40, reward_low_FN_rate: 60 },
      optimized: { standard: 55, reward_low_FP_rate: 45, reward_low_FN_rate: 65 },
    };
    const nabOnly = formatReport({ forecast: [], markov: [], anomaly });
    expect(nabOnly.split('\n')[0]).toMatch(/^Anomalies \(NAB scoring, 1 files/);
    expect(nabOnly).not.toMatch(/Forecasting|Markov/);
    expect(formatReport({ forecast: [], markov: [] })).toMatch(/^Nothing to evaluate/);
  });
});
