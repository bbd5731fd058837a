/**
 * What the analytics worker computes: pure functions from series to results, run off the thread
 * that receives datagrams (worker.ts). Inputs and outputs are plain data (structured-clone safe).
 * The anomaly task keeps one detector per series between runs, so it lives in a long-lived worker.
 */
import { SeriesAnomalyDetector } from '../anomaly/detector.js';
import { Expectation } from '../anomaly/expectation.js';
import { daysToThreshold, percentile, trendPerDay } from '../capacity/planning.js';
import { decompositionForecaster } from '../forecast/decomposition.js';
import { BACKTEST_ORIGINS, forecastSeries } from '../forecast/engine.js';
import type { Forecaster } from '../forecast/forecaster.js';
import { holtWinters } from '../forecast/holt-winters.js';
import { loadMstl, mstlForecaster } from '../forecast/mstl.js';
import { calendarPeriods, detectPeriods } from '../forecast/periods.js';
import { regressionForecaster } from '../forecast/regression.js';
import { seasonalNaive } from '../forecast/seasonal-naive.js';
import { stateOf } from '../markov/chain.js';
import { chooseChain } from '../markov/select.js';

export const MODEL_NAMES = ['mstl', 'decomposition', 'holt_winters', 'regression', 'seasonal_naive'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** An evenly spaced series (gaps filled by the reader), oldest first. */
export interface SeriesData {
  readonly key: string;
  readonly stepMs: number;
  /** Time of the first sample, Unix ms. */
  readonly start: number;
  readonly values: Float64Array;
}

export interface ForecastTask {
  readonly type: 'forecast';
  readonly series: readonly SeriesData[];
  readonly horizonDays: number;
  readonly models: readonly ModelName[];
  /** `calendar`: daily period from the step; `detect`: from the autocorrelation near it. */
  readonly periods: 'calendar' | 'detect';
}

export interface ForecastOutput {
  readonly key: string;
  readonly model?: string;
  readonly start?: number;
  readonly stepMs?: number;
  readonly yhat?: Float64Array;
  /** The 95 % band. */
  readonly lower?: Float64Array;
  readonly upper?: Float64Array;
  /** The 80 % band. */
  readonly lower80?: Float64Array;
  readonly upper80?: Float64Array;
  readonly error?: string;
}

export interface CapacityInput extends SeriesData {
  readonly capacityBps?: number;
  /** Forecast times and upper 95 % band (bits/s), from the forecast job. */
  readonly forecastTimes: readonly number[];
  readonly forecastUpper: readonly number[];
}

export interface CapacityTask {
  readonly type: 'capacity';
  readonly items: readonly CapacityInput[];
  readonly now: number;
  readonly threshold: number;
  readonly bounds: readonly number[];
}

export interface CapacityOutput {
  readonly key: string;
  readonly p95Bps: number;
  readonly trendBpsPerDay: number;
  readonly daysToThreshold?: number;
  readonly probCongested7d?: number;
  readonly probCongested30d?: number;
}

export interface AnomalyInput extends SeriesData {
  /** What was expected at each sample (the stored forecast), NaN where there is none. */
  readonly expected: Float64Array;
}

export interface AnomalyTask {
  readonly type: 'anomaly';
  readonly series: readonly AnomalyInput[];
  readonly threshold: number;
  readonly quietSamples: number;
  /** Most series whose detector state is kept. */
  readonly maxSeries: number;
}

export interface AnomalyEvent {
  readonly key: string;
  readonly time: number;
  readonly state: 'start' | 'end';
  readonly score: number;
  readonly value: number;
  readonly expected: number;
  readonly startedAt: number;
}

export type Task = ForecastTask | CapacityTask | AnomalyTask;

const MODELS: Record<ModelName, () => Forecaster> = {
  mstl: () => mstlForecaster(),
  decomposition: () => decompositionForecaster(),
  holt_winters: () => holtWinters(),
  regression: () => regressionForecaster(),
  seasonal_naive: () => seasonalNaive,
};

export function forecasters(models: readonly ModelName[]): Forecaster[] {
  return models.map((m) => MODELS[m]());
}

const DAY_MS = 86_400_000;

export async function runForecast(task: ForecastTask): Promise<ForecastOutput[]> {
  if (task.models.includes('mstl')) await loadMstl();
  const candidates = forecasters(task.models);
  const out: ForecastOutput[] = [];
  for (const s of task.series) {
    try {
      const guess = Math.round(DAY_MS / s.stepMs);
      const periods =
        task.periods === 'detect'
          ? detectPeriods(s.values, guess)
          : calendarPeriods(s.stepMs, s.values.length);
      const horizon = Math.max(1, Math.round((task.horizonDays * DAY_MS) / s.stepMs));
      const fc = forecastSeries(s.values, { periods }, horizon, {
        forecasters: candidates,
        origins: BACKTEST_ORIGINS,
        selectHorizon: Math.min(horizon, guess),
      });
      out.push({
        key: s.key,
        model: fc.model,
        start: s.start + s.values.length * s.stepMs,
        stepMs: s.stepMs,
        yhat: fc.yhat,
        lower: fc.lower95,
        upper: fc.upper95,
        lower80: fc.lower80,
        upper80: fc.upper80,
      });
    } catch (err) {
      out.push({ key: s.key, error: (err as Error).message });
    }
  }
  return out;
}

export function runCapacity(task: CapacityTask): CapacityOutput[] {
  return task.items.map((s) => {
    const times = Array.from({ length: s.values.length }, (_, i) => s.start + i * s.stepMs);
    const p95Bps = percentile(s.values, 0.95);
    const trend = trendPerDay(times, s.values);
    const base = { key: s.key, p95Bps: Number.isFinite(p95Bps) ? p95Bps : 0, trendBpsPerDay: trend };
    if (s.capacityBps === undefined) return base;
    const capacity = s.capacityBps;
    const days = daysToThreshold(
      task.now,
      s.forecastTimes,
      s.forecastUpper,
      task.threshold * capacity,
      trend,
    );
    const util = s.values.map((v) => v / capacity);
    // Hour of day and hour of week (UTC, Monday 00:00 first) of sample t.
    const phase = (t: number, slots: number) => {
      const time = s.start + t * s.stepMs;
      const hour = Math.floor(time / 3_600_000);
      return slots === 24 ? hour % 24 : (hour + 72) % 168;
    };
    const perDay = Math.round(DAY_MS / s.stepMs);
    // Chosen on day-ahead Brier over the last week of the history, then used for 7 and 30 days.
    const choice = chooseChain(util, phase, perDay, 7 * perDay, task.bounds, 7 * perDay, 6);
    let last = s.values.length - 1;
    while (last > 0 && !Number.isFinite(util[last]!)) last--;
    const state = stateOf(util[last] ?? 0, task.bounds);
    const within = (d: number) =>
      choice.chain.probCongestedWithin(state, Math.round((d * DAY_MS) / s.stepMs), (k) =>
        choice.slotOf(last + k + 1),
      );
    return {
      ...base,
      ...(days !== undefined && { daysToThreshold: days }),
      probCongested7d: within(7),
      probCongested30d: within(30),
    };
  });
}

interface DetectorState {
  readonly detector: SeriesAnomalyDetector;
  readonly expectation: Expectation;
  lastTime: number;
  startedAt: number;
}

/** Detector state per series, kept between runs (bounded: least recently fed evicted first). */
const detectors = new Map<string, DetectorState>();

export function runAnomaly(task: AnomalyTask): AnomalyEvent[] {
  const events: AnomalyEvent[] = [];
  for (const s of task.series) {
    let st = detectors.get(s.key);
    const fresh = st === undefined;
    if (st === undefined) {
      st = {
        detector: new SeriesAnomalyDetector({ threshold: task.threshold, quietSamples: task.quietSamples }),
        expectation: new Expectation(),
        lastTime: Number.NEGATIVE_INFINITY,
        startedAt: 0,
      };
    }
    detectors.delete(s.key);
    detectors.set(s.key, st);
    for (let i = 0; i < s.values.length; i++) {
      const time = s.start + i * s.stepMs;
      if (time <= st.lastTime) continue;
      const value = s.values[i]!;
      const expected = st.expectation.next(value, s.expected[i]!);
      st.lastTime = time;
      if (!Number.isFinite(value) || !Number.isFinite(expected)) continue;
      const r = st.detector.update(value, expected);
      // A series seen for the first time warms up on its history: only its newest sample may report.
      if (r.event === undefined || (fresh && i < s.values.length - 1)) {
        if (r.event === 'start') st.startedAt = time;
        continue;
      }
      if (r.event === 'start') st.startedAt = time;
      events.push({
        key: s.key,
        time,
        state: r.event === 'start' ? 'start' : 'end',
        score: r.score,
        value,
        expected,
        startedAt: st.startedAt,
      });
    }
  }
  while (detectors.size > task.maxSeries) {
    const oldest = detectors.keys().next().value;
    if (oldest === undefined) break;
    detectors.delete(oldest);
  }
  return events;
}

export async function runTask(task: Task): Promise<unknown> {
  switch (task.type) {
    case 'forecast':
      return runForecast(task);
    case 'capacity':
      return runCapacity(task);
    case 'anomaly':
      return runAnomaly(task);
  }
}
