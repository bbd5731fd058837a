/**
 * Forecasting one series: every candidate model is scored by rolling-origin backtest on the most
 * recent history (refitted at each origin on the data before it only), the one with the lowest mean
 * absolute error for the requested horizon wins, it is refitted on the whole history, and its
 * prediction intervals come from its own out-of-sample errors at each horizon step.
 */
import {
  type FittedModel,
  type Forecast,
  ForecastError,
  type Forecaster,
  type SeriesShape,
} from './forecaster.js';

export interface EngineOptions {
  /** Candidates, in order of preference when their errors tie; the last one is the fallback. */
  readonly forecasters: readonly Forecaster[];
  /** Backtest origins per candidate (each costs one fit). */
  readonly origins: number;
  /**
   * Horizon the backtest measures (default: the whole horizon). Past it the band widens with the
   * square root of the steps ahead, as a random walk's would: a week-ahead forecast is chosen and
   * calibrated on day-ahead errors, which the history can afford to measure.
   */
  readonly selectHorizon?: number;
}

/**
 * Backtest origins per candidate in `flowcast serve` (and so in `flowcast eval`): two, a day apart.
 * Each costs one fit per candidate; more would choose a little more steadily at that price.
 */
export const BACKTEST_ORIGINS = 2;

/** z-scores of the central 80 % and 95 % of a normal distribution. */
const Z80 = 1.2815515655446004;
const Z95 = 1.959963984540054;

export interface Backtest {
  readonly model: string;
  /** Each origin's predictions (for combining models without refitting them). */
  readonly predictions?: readonly Float64Array[];
  /** Mean absolute error over every origin and step. */
  readonly mae: number;
  /** Root mean square error per horizon step (index k: k + 1 samples ahead). */
  readonly rmsePerStep: Float64Array;
}

function fitPredict(f: Forecaster, train: Float64Array, shape: SeriesShape, horizon: number): Float64Array {
  let model: FittedModel | undefined;
  try {
    model = f.fit(train, shape);
    return model.predict(horizon);
  } finally {
    model?.dispose?.();
  }
}

/** Origins spaced by the horizon (at least a sixth of a day), latest first, leaving room to fit. */
export function backtestOrigins(
  n: number,
  horizon: number,
  count: number,
  minTrain: number,
  spacing: number,
): number[] {
  const origins: number[] = [];
  for (let j = 0; j < count; j++) {
    const o = n - horizon - j * spacing;
    if (o < minTrain) break;
    origins.push(o);
  }
  return origins;
}

export function backtest(
  f: Forecaster,
  y: Float64Array,
  shape: SeriesShape,
  horizon: number,
  origins: readonly number[],
): Backtest {
  const predictions = origins.map((o) => fitPredict(f, y.subarray(0, o), shape, horizon));
  return scoreBacktest(f.name, y, horizon, origins, predictions);
}

/** Errors of predictions made at `origins` against what followed. */
export function scoreBacktest(
  model: string,
  y: Float64Array,
  horizon: number,
  origins: readonly number[],
  predictions: readonly Float64Array[],
): Backtest {
  const sq = new Float64Array(horizon);
  const counts = new Float64Array(horizon);
  let absSum = 0;
  let absCount = 0;
  origins.forEach((o, j) => {
    const pred = predictions[j]!;
    for (let k = 0; k < horizon && o + k < y.length; k++) {
      const e = y[o + k]! - pred[k]!;
      sq[k]! += e * e;
      counts[k]! += 1;
      absSum += Math.abs(e);
      absCount++;
    }
  });
  const rmsePerStep = new Float64Array(horizon);
  for (let k = 0; k < horizon; k++)
    rmsePerStep[k] = counts[k]! > 0 ? Math.sqrt(sq[k]! / counts[k]!) : Number.NaN;
  return {
    model,
    mae: absCount > 0 ? absSum / absCount : Number.POSITIVE_INFINITY,
    rmsePerStep,
    predictions,
  };
}

/** The mean of two models' forecasts: often better than either when their errors differ. */
export function combination(a: Forecaster, b: Forecaster): Forecaster {
  return {
    name: `${a.name}+${b.name}`,
    minLength: (shape) => Math.max(a.minLength(shape), b.minLength(shape)),
    fit(y, shape) {
      const ma = a.fit(y, shape);
      let mb: FittedModel;
      try {
        mb = b.fit(y, shape);
      } catch (err) {
        ma.dispose?.();
        throw err;
      }
      return {
        predict(h) {
          const pa = ma.predict(h);
          const pb = mb.predict(h);
          return pa.map((v, k) => (v + pb[k]!) / 2);
        },
        dispose() {
          ma.dispose?.();
          mb.dispose?.();
        },
      };
    },
  };
}

/**
 * Per-step spread made usable: averaged over neighbouring steps (a handful of origins is noisy),
 * then never decreasing with the horizon (uncertainty does not shrink further ahead).
 */
export function smoothSpread(rmse: Float64Array): Float64Array {
  const h = rmse.length;
  const half = Math.max(1, Math.floor(h / 24));
  const out = new Float64Array(h);
  for (let k = 0; k < h; k++) {
    let s = 0;
    let c = 0;
    for (let j = Math.max(0, k - half); j <= Math.min(h - 1, k + half); j++) {
      if (Number.isFinite(rmse[j]!)) {
        s += rmse[j]! ** 2;
        c++;
      }
    }
    out[k] = c > 0 ? Math.sqrt(s / c) : k > 0 ? out[k - 1]! : 0;
  }
  for (let k = 1; k < h; k++) out[k] = Math.max(out[k]!, out[k - 1]!);
  return out;
}

export interface SeriesForecast extends Forecast {
  /** Every candidate's backtest, for the record (what won, and by how much). */
  readonly backtests: readonly Backtest[];
}

/** Chooses, refits and predicts `horizon` samples with 80 % and 95 % bands. */
export function forecastSeries(
  y: Float64Array,
  shape: SeriesShape,
  horizon: number,
  options: EngineOptions,
): SeriesForecast {
  const m = shape.periods[0] ?? horizon;
  const tested = Math.max(1, Math.min(horizon, options.selectHorizon ?? horizon));
  const candidates = options.forecasters.filter((f) => y.length >= f.minLength(shape) + tested);
  if (candidates.length === 0) {
    throw new ForecastError(`series of ${y.length} samples is too short for any model at horizon ${horizon}`);
  }
  const spacing = Math.max(tested, Math.ceil(m / 6));
  // One set of origins for every candidate, so that their forecasts can also be averaged.
  const minTrain = Math.max(...candidates.map((f) => f.minLength(shape)));
  const origins = backtestOrigins(y.length, tested, options.origins, minTrain, spacing);
  const backtests: Backtest[] = [];
  for (const f of candidates) {
    const failed = {
      model: f.name,
      mae: Number.POSITIVE_INFINITY,
      rmsePerStep: new Float64Array(tested).fill(Number.NaN),
    };
    try {
      backtests.push(origins.length > 0 ? backtest(f, y, shape, tested, origins) : failed);
    } catch {
      backtests.push(failed);
    }
  }
  const order = candidates.map((f, i) => ({ f, b: backtests[i]! })).sort((a, b) => a.b.mae - b.b.mae);
  // The two best combined, scored on the same origins from their recorded predictions.
  const [first, second] = order;
  if (
    first?.b.predictions !== undefined &&
    second?.b.predictions !== undefined &&
    Number.isFinite(second.b.mae)
  ) {
    const pa = first.b.predictions;
    const pb = second.b.predictions;
    const mixed = pa.map((p, j) => p.map((v, k) => (v + pb[j]![k]!) / 2));
    const f = combination(first.f, second.f);
    const b = scoreBacktest(f.name, y, tested, origins, mixed);
    backtests.push(b);
    if (b.mae < first.b.mae) order.unshift({ f, b });
  }
  let lastError: unknown;
  for (const { f, b } of order) {
    let yhat: Float64Array;
    try {
      yhat = fitPredict(f, y, shape, horizon);
    } catch (err) {
      lastError = err;
      continue;
    }
    const measured = smoothSpread(b.rmsePerStep);
    const spread = new Float64Array(horizon);
    for (let k = 0; k < horizon; k++) {
      spread[k] = k < tested ? measured[k]! : measured[tested - 1]! * Math.sqrt((k + 1) / tested);
    }
    let nonNegative = true;
    for (const v of y) if (v < 0) nonNegative = false;
    const band = (z: number, sign: number) =>
      yhat.map((v, k) => {
        const bound = v + sign * z * spread[k]!;
        return nonNegative && sign < 0 ? Math.max(0, bound) : bound;
      });
    return {
      model: f.name,
      yhat,
      lower80: band(Z80, -1),
      upper80: band(Z80, 1),
      lower95: band(Z95, -1),
      upper95: band(Z95, 1),
      backtests,
    };
  }
  throw new ForecastError('no model could fit the series', { cause: lastError });
}
