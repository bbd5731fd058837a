/**
 * `flowcast eval`: the evaluation harness. Forecasting by rolling-origin backtest on every CSV
 * directly under each directory; the series anomaly detector scored with NAB's scoring on NAB's
 * layout (`data/<category>/*.csv`, `labels/combined_windows.json`); the Markov chain's congestion
 * probabilities by Brier score against persistence and climatology. Output contract: design
 * section 6 (`--json`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  DETECTOR_DEFAULTS,
  type DetectorOptions,
  episodeStarts,
  SeriesAnomalyDetector,
} from '../anomaly/detector.js';
import { Expectation } from '../anomaly/expectation.js';
import { BACKTEST_ORIGINS, forecastSeries } from '../forecast/engine.js';
import type { Forecaster } from '../forecast/forecaster.js';
import { loadMstl } from '../forecast/mstl.js';
import { detectPeriods } from '../forecast/periods.js';
import { seasonalNaive } from '../forecast/seasonal-naive.js';
import { analyticsSchema } from '../jobs/config.js';
import { forecasters, runForecast } from '../jobs/tasks.js';
import { DEFAULT_BOUNDS, stateOf } from '../markov/chain.js';
import { chooseChain } from '../markov/select.js';
import { EvalInputError, medianStep, parseTime, readSeries, type Series } from './csv.js';
import {
  normalisedScore,
  PROFILE_NAMES,
  type ProfileName,
  type ScoredFile,
  scoreDetections,
  weigh,
} from './nab.js';

export type Horizon = '1h' | '1d';

export interface ForecastResult {
  series: string;
  horizon: Horizon;
  model: string;
  smape: number;
  mase: number;
  naive: { smape: number; mase: number };
  /** How often each model was chosen over the origins. */
  chosen: Record<string, number>;
  origins: number;
}

export interface AnomalyResult {
  files: number;
  threshold: number;
  scores: Record<ProfileName, number>;
  optimized: Record<ProfileName, number>;
}

export interface MarkovResult {
  series: string;
  horizon: Horizon;
  brier: number;
  persistenceBrier: number;
  climatologyBrier: number;
  /** Time slots of the chain chosen at each origin (1 pooled, 24 hour of day, 168 hour of week). */
  chosen: Record<string, number>;
  /** Forecast probability bins: mean forecast, observed frequency, count. */
  reliability: Array<{ bin: string; forecast: number; observed: number; count: number }>;
}

export interface EvalReport {
  forecast: ForecastResult[];
  anomaly?: AnomalyResult;
  markov: MarkovResult[];
}

/**
 * The candidates `flowcast serve` tries by default on one of its busiest series (an evaluated
 * series stands for one): the default models, and MSTL (`analytics.mstlSeries`).
 */
export function defaultForecasters(): Forecaster[] {
  const models = PRODUCTION.models;
  return forecasters(PRODUCTION.mstlSeries > 0 && !models.includes('mstl') ? ['mstl', ...models] : models);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

interface Layout {
  readonly step: number;
  readonly periods: number[];
  readonly samplesPerDay: number;
  readonly horizons: Record<Horizon, number>;
  readonly origins: number[];
}

/** Origins once a day over the last 30 % of the series (in the series' own samples per day). */
function layout(s: Series): Layout {
  const step = medianStep(s.times);
  if (!(step > 0)) throw new EvalInputError(`${s.name}: timestamps do not advance`);
  const samplesPerDay = Math.max(1, Math.round(DAY_MS / step));
  const periods = detectPeriods(s.values, samplesPerDay);
  const horizons = { '1h': Math.max(1, Math.round(HOUR_MS / step)), '1d': samplesPerDay };
  const n = s.values.length;
  const origins: number[] = [];
  for (let o = Math.floor(0.7 * n); o < n; o += samplesPerDay) origins.push(o);
  return { step, periods, samplesPerDay, horizons, origins };
}

function seasonalNaiveScale(y: Float64Array, end: number, m: number): number {
  let s = 0;
  let c = 0;
  for (let t = m; t < end; t++) {
    s += Math.abs(y[t]! - y[t - m]!);
    c++;
  }
  return c > 0 ? s / c : Number.NaN;
}

/** What `flowcast serve` forecasts from by default: its history window and horizon, in days. */
const PRODUCTION = analyticsSchema.parse({});

/**
 * At each origin, the forecast `flowcast serve` would make there: from the last `historyDays` of the
 * series, `horizonDays` ahead, the model chosen on its day-ahead backtest errors at production's
 * origins. The 1-hour and 1-day figures are the first hour and the first day of that one forecast,
 * as a reader of production's forecasts gets them.
 */
export function evaluateForecasts(s: Series, forecasters: readonly Forecaster[]): ForecastResult[] {
  const L = layout(s);
  const y = s.values;
  const m = L.periods[0] ?? L.samplesPerDay;
  const history = Math.round(PRODUCTION.historyDays * L.samplesPerDay);
  const horizon = Math.max(L.horizons['1d'], Math.round(PRODUCTION.horizonDays * L.samplesPerDay));
  const empty = () => ({
    model: { ae: 0, sm: 0, n: 0 },
    naive: { ae: 0, sm: 0, n: 0 },
    chosen: {} as Record<string, number>,
    origins: 0,
  });
  const acc = { '1h': empty(), '1d': empty() };
  for (const o of L.origins) {
    if (y.length - o < L.horizons['1h']) continue;
    const train = y.subarray(Math.max(0, o - history), o);
    const scale = seasonalNaiveScale(y, o, m);
    const fc = forecastSeries(train, { periods: L.periods }, horizon, {
      forecasters,
      origins: BACKTEST_ORIGINS,
      selectHorizon: Math.min(horizon, L.samplesPerDay),
    });
    const naive = seasonalNaive.fit(train, { periods: L.periods }).predict(L.horizons['1d']);
    for (const hz of ['1h', '1d'] as const) {
      const h = L.horizons[hz];
      if (y.length - o < h) continue;
      const a = acc[hz];
      a.chosen[fc.model] = (a.chosen[fc.model] ?? 0) + 1;
      a.origins++;
      for (let k = 0; k < h; k++) {
        const truth = y[o + k]!;
        for (const [pred, e] of [
          [fc.yhat[k]!, a.model],
          [naive[k]!, a.naive],
        ] as const) {
          const err = Math.abs(truth - pred);
          e.ae += err / scale;
          e.sm += Math.abs(truth) + Math.abs(pred) > 0 ? (200 * err) / (Math.abs(truth) + Math.abs(pred)) : 0;
          e.n++;
        }
      }
    }
  }
  return (['1h', '1d'] as const).map((horizon) => {
    const a = acc[horizon];
    const names = Object.keys(a.chosen);
    return {
      series: s.name,
      horizon,
      model: names.length === 1 ? names[0]! : 'auto',
      smape: a.model.sm / a.model.n,
      mase: a.model.ae / a.model.n,
      naive: { smape: a.naive.sm / a.naive.n, mase: a.naive.ae / a.naive.n },
      chosen: a.chosen,
      origins: a.origins,
    };
  });
}

/** The evaluation link's capacity: 1.1 times the largest value of the series (documented rule). */
export const EVAL_CAPACITY_FACTOR = 1.1;

export function evaluateMarkov(s: Series): MarkovResult[] {
  const L = layout(s);
  const y = s.values;
  const m = L.periods[0] ?? L.samplesPerDay;
  const week = 7 * m;
  let max = 0;
  for (const v of y) max = Math.max(max, v);
  const capacity = max * EVAL_CAPACITY_FACTOR;
  const util = y.map((v) => v / capacity);
  // Slots from the phase within the detected daily and weekly periods (the calendar may be wrong).
  const phase = (t: number, slots: number) =>
    slots === 24 ? Math.floor(((t % m) / m) * 24) : Math.floor(((t % week) / week) * slots);
  const states = Uint8Array.from(util, (u) => stateOf(u, DEFAULT_BOUNDS));
  const congested = DEFAULT_BOUNDS.length;
  const results: MarkovResult[] = [];
  for (const horizon of ['1h', '1d'] as const) {
    const h = L.horizons[horizon];
    const sums = { chain: 0, persistence: 0, climatology: 0, n: 0 };
    const bins = Array.from({ length: 10 }, () => ({ f: 0, o: 0, n: 0 }));
    const chosen: Record<string, number> = {};
    for (let j = 0; j < L.origins.length; j++) {
      const o = L.origins[j]!;
      const end = Math.min(y.length - h, L.origins[j + 1] ?? y.length);
      const choice = chooseChain(util.subarray(0, o), phase, h, week, DEFAULT_BOUNDS, 7 * m);
      chosen[String(choice.slots)] = (chosen[String(choice.slots)] ?? 0) + 1;
      // Climatology: how often the event happened in the training part.
      let events = 0;
      let cases = 0;
      for (let t = 0; t + h < o; t++) {
        cases++;
        for (let k = 1; k <= h; k++) {
          if (states[t + k] === congested) {
            events++;
            break;
          }
        }
      }
      const climate = cases > 0 ? events / cases : 0;
      for (let t = o; t < end; t++) {
        let happened = 0;
        for (let k = 1; k <= h; k++) {
          if (states[t + k] === congested) {
            happened = 1;
            break;
          }
        }
        const p = choice.chain.probCongestedWithin(states[t]!, h, (k) => choice.slotOf(t + k));
        const persistence = states[t] === congested ? 1 : 0;
        sums.chain += (p - happened) ** 2;
        sums.persistence += (persistence - happened) ** 2;
        sums.climatology += (climate - happened) ** 2;
        sums.n++;
        const bin = bins[Math.min(9, Math.floor(p * 10))]!;
        bin.f += p;
        bin.o += happened;
        bin.n++;
      }
    }
    results.push({
      series: s.name,
      horizon,
      brier: sums.chain / sums.n,
      persistenceBrier: sums.persistence / sums.n,
      climatologyBrier: sums.climatology / sums.n,
      chosen,
      reliability: bins
        .map((b, i) => ({
          bin: `${i * 10}-${i * 10 + 10}%`,
          forecast: b.n ? b.f / b.n : 0,
          observed: b.n ? b.o / b.n : 0,
          count: b.n,
        }))
        .filter((b) => b.count > 0),
    });
  }
  return results;
}

/**
 * What production's anomaly job finds stored for each row: the forecast of the last forecast run
 * before it. The forecast job runs hourly by default (`0 * * * *`), so a run starts at the first row
 * of each hour of the data's own clock and forecasts, as `flowcast serve` does (the same task, with
 * production's defaults: the last `historyDays` of rows before it, `horizonDays` ahead, its models
 * and periods), the rows up to the next run. NaN until the history is long enough for any model,
 * where production has no forecast either.
 */
export async function storedForecasts(times: readonly number[], values: Float64Array): Promise<Float64Array> {
  const out = new Float64Array(values.length).fill(Number.NaN);
  const stepMs = medianStep(times);
  const history = Math.round((PRODUCTION.historyDays * DAY_MS) / stepMs);
  let yhat: Float64Array | undefined;
  let runRow = 0;
  for (let i = 1; i < values.length; i++) {
    if (Math.floor(times[i]! / HOUR_MS) !== Math.floor(times[i - 1]! / HOUR_MS)) {
      const [run] = await runForecast({
        type: 'forecast',
        series: [
          {
            key: 'eval',
            stepMs,
            start: times[i]! - i * stepMs,
            values: values.slice(Math.max(0, i - history), i),
          },
        ],
        horizonDays: PRODUCTION.horizonDays,
        models: PRODUCTION.models,
        periods: PRODUCTION.periods,
      });
      yhat = run?.yhat;
      runRow = i;
    }
    const k = i - runRow;
    if (yhat !== undefined && k < yhat.length) out[i] = yhat[k]!;
  }
  return out;
}

/**
 * The production detector's score of every row, before any episode is formed: each row measured
 * against what production would expect of it (`forecasts`, NaN where there is none; `Expectation`
 * chooses between it and the moving level), as the anomaly job does.
 */
export function rawDetectorScores(
  values: Float64Array,
  forecasts: Float64Array,
  options: DetectorOptions = {},
): Float64Array {
  const detector = new SeriesAnomalyDetector(options);
  const expectation = new Expectation();
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const expected = expectation.next(v, forecasts[i]!);
    out[i] = Number.isFinite(expected) ? detector.update(v, expected).score : 0;
  }
  return out;
}

/**
 * Thresholds tried by the optimised score: a grid of 0.001 over (0, 1]. NAB's own optimiser is a
 * local search to a finite tolerance, not a sweep over every score; a thousandth is finer than any
 * threshold a user would set.
 */
const THRESHOLD_GRID = Array.from({ length: 1000 }, (_, k) => (k + 1) / 1000);

export async function evaluateNab(dir: string, options: DetectorOptions = {}): Promise<AnomalyResult> {
  const labelsPath = join(dir, 'labels', 'combined_windows.json');
  const labels = JSON.parse(readFileSync(labelsPath, 'utf8')) as Record<string, [string, string][]>;
  const files: ScoredFile[] = [];
  const raws: Float64Array[] = [];
  for (const [relative, windows] of Object.entries(labels)) {
    const path = join(dir, 'data', relative);
    if (!existsSync(path)) continue;
    const s = readSeries(path, relative);
    const raw = rawDetectorScores(s.values, await storedForecasts(s.times, s.values), options);
    raws.push(raw);
    files.push({
      name: relative,
      timestamps: s.times,
      scores: raw,
      windows: windows.map(([a, b]) => [parseTime(a), parseTime(b)] as const),
    });
  }
  if (files.length === 0) throw new EvalInputError(`${dir}: no labelled data files found`);
  const threshold = options.threshold ?? DETECTOR_DEFAULTS.threshold;
  const quiet = options.quietSamples ?? DETECTOR_DEFAULTS.quietSamples;
  // At each threshold, NAB is given what production would report at it: the start of each episode.
  const startsAt = new Map<number, number[][]>();
  const starts = (t: number) => {
    let s = startsAt.get(t);
    if (s === undefined) {
      s = raws.map((r) => episodeStarts(r, t, quiet));
      startsAt.set(t, s);
    }
    return s;
  };
  const scores = {} as Record<ProfileName, number>;
  const optimized = {} as Record<ProfileName, number>;
  for (const p of PROFILE_NAMES) {
    const weighed = files.map((f) => weigh(f, p));
    const rawAt = (t: number) => starts(t).reduce((sum, d, i) => sum + scoreDetections(weighed[i]!, d), 0);
    scores[p] = normalisedScore(rawAt(threshold), files, p);
    let best = Number.NEGATIVE_INFINITY;
    for (const t of [...THRESHOLD_GRID, threshold]) best = Math.max(best, rawAt(t));
    optimized[p] = normalisedScore(best, files, p);
  }
  return { files: files.length, threshold, scores, optimized };
}

/** Runs everything on each directory: forecasting and Markov on its CSVs, NAB when it has NAB's layout. */
export async function runEval(
  dirs: readonly string[],
  progress: (line: string) => void = () => {},
): Promise<EvalReport> {
  await loadMstl();
  const forecasters = defaultForecasters();
  const report: EvalReport = { forecast: [], markov: [] };
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new EvalInputError(`--data ${dir}: not a directory`);
    for (const name of readdirSync(dir).sort()) {
      if (!name.toLowerCase().endsWith('.csv')) continue;
      const s = readSeries(join(dir, name), basename(name, '.csv'));
      progress(`forecasting ${s.name}`);
      report.forecast.push(...evaluateForecasts(s, forecasters));
      progress(`markov ${s.name}`);
      report.markov.push(...evaluateMarkov(s));
    }
    if (existsSync(join(dir, 'labels', 'combined_windows.json'))) {
      progress(`anomalies ${dir}`);
      if (report.anomaly !== undefined) throw new EvalInputError('only one NAB directory may be given');
      report.anomaly = await evaluateNab(dir);
    }
  }
  return report;
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const f5 = (v: number) => (Number.isFinite(v) ? v.toFixed(5) : 'n/a');

/** The readable table. */
export function formatReport(r: EvalReport): string {
  const lines: string[] = [];
  if (r.forecast.length === 0 && r.markov.length === 0 && r.anomaly === undefined)
    return 'Nothing to evaluate: no --data directory holds a CSV series or a NAB layout';
  // A table is printed for what the directories held: NAB's layout alone has no series of its own.
  if (r.forecast.length > 0) {
    lines.push('Forecasting (rolling origin, daily origins over the last 30 %)');
    lines.push(
      'series                     horizon  model            sMAPE %   MASE   | naive sMAPE %  MASE   origins  chosen',
    );
  }
  for (const f of r.forecast) {
    lines.push(
      `${f.series.padEnd(26)} ${f.horizon.padEnd(8)} ${f.model.padEnd(16)} ${f2(f.smape).padStart(7)} ${f2(f.mase).padStart(7)} | ${f2(f.naive.smape).padStart(12)} ${f2(f.naive.mase).padStart(6)} ${String(f.origins).padStart(8)}  ${Object.entries(
        f.chosen,
      )
        .map(([k, v]) => `${k}×${v}`)
        .join(' ')}`,
    );
  }
  if (r.anomaly !== undefined) {
    const a = r.anomaly;
    if (lines.length > 0) lines.push('');
    lines.push(`Anomalies (NAB scoring, ${a.files} files, normalised 0 = null detector, 100 = perfect)`);
    lines.push(`profile               production threshold ${a.threshold}   optimised threshold`);
    for (const p of PROFILE_NAMES)
      lines.push(
        `${p.padEnd(22)}${f2(a.scores[p]).padStart(12)}          ${f2(a.optimized[p]).padStart(12)}`,
      );
  }
  if (r.markov.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push('Markov congestion risk (Brier score, lower is better)');
    lines.push('series                     horizon    chain  persistence  climatology');
  }
  for (const m of r.markov) {
    lines.push(
      `${m.series.padEnd(26)} ${m.horizon.padEnd(8)} ${f5(m.brier).padStart(7)} ${f5(m.persistenceBrier).padStart(12)} ${f5(m.climatologyBrier).padStart(12)}`,
    );
    lines.push(
      `  reliability: ${m.reliability.map((b) => `${b.bin} ${f2(b.observed)} (${b.count})`).join(', ')}`,
    );
  }
  return lines.join('\n');
}

/** The `--json` object, exactly the output contract (extra detail kept out). */
export function contractJson(r: EvalReport): unknown {
  return {
    forecast: r.forecast.map((f) => ({
      series: f.series,
      horizon: f.horizon,
      model: f.model,
      smape: f.smape,
      mase: f.mase,
      naive: f.naive,
      chosen: f.chosen,
    })),
    anomaly:
      r.anomaly === undefined
        ? null
        : { files: r.anomaly.files, scores: r.anomaly.scores, optimized: r.anomaly.optimized },
    markov: r.markov.map((m) => ({
      series: m.series,
      horizon: m.horizon,
      brier: m.brier,
      persistenceBrier: m.persistenceBrier,
      climatologyBrier: m.climatologyBrier,
    })),
  };
}
