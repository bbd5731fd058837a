/**
 * The regression forecaster (`ml-regression`), the baseline and the fallback: a linear regression
 * of each sample on the previous two samples (the recent level), the samples one daily period
 * earlier (the same time yesterday, and its neighbours) and one weekly period earlier when the
 * history holds one. It forecasts recursively. No global trend term: a trend fitted over weeks
 * and extrapolated over days is what made the plain Fourier-plus-trend regression lose to seasonal
 * naive; here the level follows the data and the seasonal lags carry the shape. Values are scaled
 * by the window's mean before fitting (conditioning), and forecasts are kept within the window's
 * range widened by half its span, so that a recursion never runs away.
 */
import { MultivariateLinearRegression } from 'ml-regression';
import {
  type FittedModel,
  ForecastError,
  type Forecaster,
  finiteOr,
  lastFinite,
  mean,
  type SeriesShape,
} from './forecaster.js';

function lagsFor(shape: SeriesShape, length: number, windowPeriods: number): number[] {
  const m = Math.max(2, shape.periods[0] ?? 2);
  const lags = [1, 2, m - 1, m, m + 1];
  const w = shape.periods[1];
  // A weekly lag only when the fitting window holds a few weeks of rows beyond it.
  if (w !== undefined && w > m + 1 && length >= w + 2 * m && windowPeriods * m >= w + 2 * m) lags.push(w);
  return [...new Set(lags)].filter((l) => l >= 1).sort((a, b) => a - b);
}

export function regressionForecaster(options: { windowPeriods?: number } = {}): Forecaster {
  const windowPeriods = options.windowPeriods ?? 14;
  return {
    name: 'regression',
    minLength(shape: SeriesShape) {
      return 3 * Math.max(2, shape.periods[0] ?? 2) + 2;
    },
    fit(y: Float64Array, shape: SeriesShape): FittedModel {
      const m = Math.max(2, shape.periods[0] ?? 2);
      if (y.length < 3 * m + 2)
        throw new ForecastError(`regression needs ${3 * m + 2} samples, got ${y.length}`);
      const lags = lagsFor(shape, y.length, windowPeriods);
      const maxLag = lags[lags.length - 1]!;
      const start = Math.max(maxLag, y.length - windowPeriods * m);
      const scale = Math.abs(mean(y, Math.max(0, y.length - m * windowPeriods))) || 1;
      const x: number[][] = [];
      const target: number[][] = [];
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let t = start; t < y.length; t++) {
        x.push(lags.map((l) => y[t - l]! / scale));
        target.push([y[t]! / scale]);
        lo = Math.min(lo, y[t]!);
        hi = Math.max(hi, y[t]!);
      }
      const fitted = new MultivariateLinearRegression(x, target, { intercept: true, statistics: false });
      const weights = fitted.weights.map((row) => row[0] ?? 0);
      const span = hi - lo;
      const floor = lo - span / 2;
      const ceiling = hi + span / 2;
      const fallback = lastFinite(y);
      return {
        predict(horizon) {
          const history = new Float64Array(maxLag + horizon);
          history.set(y.subarray(y.length - maxLag));
          for (let k = 0; k < horizon; k++) {
            const t = maxLag + k;
            let v = weights[lags.length] ?? 0; // intercept comes last
            for (let j = 0; j < lags.length; j++) v += weights[j]! * (history[t - lags[j]!]! / scale);
            history[t] = Math.min(ceiling, Math.max(floor, v * scale));
          }
          return finiteOr(history.slice(maxLag), fallback);
        },
      };
    },
  };
}
