/**
 * The forecaster interface every model implements (docs/analytics.md), and what all of them share:
 * a series is a Float64Array of evenly spaced values, oldest first, with its seasonal periods in
 * samples. A forecaster fits a model from the values alone (no timestamps: the caller turns the
 * calendar into periods, or detects them); the model predicts point forecasts. Prediction
 * intervals do not come from any model's in-sample fit: the engine (engine.ts) measures each
 * model's out-of-sample errors per horizon step by rolling-origin backtest and builds the 80 % and
 * 95 % bands from them, the same way for every model.
 */

export interface SeriesShape {
  /** Seasonal periods in samples, shortest (daily) first; may be empty. */
  readonly periods: readonly number[];
}

export interface FittedModel {
  /** Point forecasts for the next `horizon` samples after the fitted data. Always finite. */
  predict(horizon: number): Float64Array;
  /** Frees what the model holds outside the JavaScript heap (WebAssembly memory), if anything. */
  dispose?(): void;
}

export interface Forecaster {
  /** Stable name, written as the `model` tag of `forecast` points. */
  readonly name: string;
  /** The fewest samples `fit` needs for this shape; shorter series are not given to it. */
  minLength(shape: SeriesShape): number;
  /** Fits a model; never mutates `y`. Throws ForecastError when the series cannot be fitted. */
  fit(y: Float64Array, shape: SeriesShape): FittedModel;
}

/** A series a model cannot fit (too short, not finite). */
export class ForecastError extends Error {
  readonly code = 'FLOWCAST_FORECAST';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ForecastError';
  }
}

/** Point forecasts with their bands; all arrays have the horizon's length. */
export interface Forecast {
  readonly model: string;
  readonly yhat: Float64Array;
  readonly lower80: Float64Array;
  readonly upper80: Float64Array;
  readonly lower95: Float64Array;
  readonly upper95: Float64Array;
}

/** Replaces non-finite forecasts by the last finite value of the series (a model must not emit NaN). */
export function finiteOr(values: Float64Array, fallback: number): Float64Array {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) values[i] = fallback;
  }
  return values;
}

export function lastFinite(y: Float64Array): number {
  for (let i = y.length - 1; i >= 0; i--) if (Number.isFinite(y[i]!)) return y[i]!;
  return 0;
}

export function mean(y: ArrayLike<number>, from = 0, to = y.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += y[i]!;
  return to > from ? s / (to - from) : 0;
}
