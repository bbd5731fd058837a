/**
 * Holt-Winters exponential smoothing with a damped additive trend and one seasonal period (the
 * daily one), multiplicative (traffic swings that scale with its level) or additive, whichever fits
 * the one-step errors better; multiplicative only for a strictly positive series. Smoothing parameters are chosen by a coarse grid over the one-step
 * squared error, then refined locally; fitting runs over the most recent `windowPeriods` periods
 * so that its cost stays linear and bounded whatever the history holds.
 */
import {
  type FittedModel,
  ForecastError,
  type Forecaster,
  finiteOr,
  lastFinite,
  type SeriesShape,
} from './forecaster.js';

interface Params {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

interface State {
  level: number;
  trend: number;
  season: Float64Array;
  sse: number;
}

function run(y: Float64Array, m: number, p: Params, multiplicative: boolean): State {
  const n = y.length;
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < m; i++) {
    s1 += y[i]!;
    s2 += y[i + m]!;
  }
  let level = s1 / m;
  let trend = (s2 - s1) / (m * m);
  const season = new Float64Array(m);
  for (let i = 0; i < m; i++) season[i] = multiplicative ? y[i]! / (level || 1) : y[i]! - level;
  const { alpha, beta, gamma, phi } = p;
  let sse = 0;
  for (let t = m; t < n; t++) {
    const si = t % m;
    const s = season[si]!;
    const prior = level + phi * trend;
    const fitted = multiplicative ? prior * s : prior + s;
    const err = y[t]! - fitted;
    sse += err * err;
    const newLevel = multiplicative
      ? alpha * (y[t]! / (s || 1e-9)) + (1 - alpha) * prior
      : alpha * (y[t]! - s) + (1 - alpha) * prior;
    trend = beta * (newLevel - level) + (1 - beta) * phi * trend;
    level = newLevel;
    season[si] = multiplicative
      ? gamma * (y[t]! / (level || 1e-9)) + (1 - gamma) * s
      : gamma * (y[t]! - level) + (1 - gamma) * s;
  }
  // Rotate so that season[0] is the phase of the sample after the last one.
  const rotated = new Float64Array(m);
  for (let i = 0; i < m; i++) rotated[i] = season[(n + i) % m]!;
  return { level, trend, season: rotated, sse: Number.isFinite(sse) ? sse : Number.POSITIVE_INFINITY };
}

const GRID = {
  alpha: [0.1, 0.3, 0.6, 0.9],
  beta: [0, 0.05],
  gamma: [0.05, 0.2, 0.5],
  phi: [0.9, 0.98, 1],
};

function optimise(y: Float64Array, m: number, multiplicative: boolean): { params: Params; state: State } {
  let best: { params: Params; state: State } | undefined;
  for (const alpha of GRID.alpha)
    for (const beta of GRID.beta)
      for (const gamma of GRID.gamma)
        for (const phi of GRID.phi) {
          const params = { alpha, beta, gamma, phi };
          const state = run(y, m, params, multiplicative);
          if (best === undefined || state.sse < best.state.sse) best = { params, state };
        }
  // Local refinement: halve the step around the best point, one parameter at a time.
  let step = 0.1;
  for (let round = 0; round < 3 && best !== undefined; round++, step /= 2) {
    for (const key of ['alpha', 'gamma', 'beta'] as const) {
      for (const dir of [-1, 1]) {
        const value = best.params[key] + dir * step * (key === 'beta' ? 0.2 : 1);
        if (value < 0 || value > 1) continue;
        const params: Params = { ...best.params, [key]: value };
        const state = run(y, m, params, multiplicative);
        if (state.sse < best.state.sse) best = { params, state };
      }
    }
  }
  return best!;
}

export function holtWinters(options: { windowPeriods?: number; tunePeriods?: number } = {}): Forecaster {
  const windowPeriods = options.windowPeriods ?? 14;
  const tunePeriods = options.tunePeriods ?? 6;
  return {
    name: 'holt_winters',
    minLength(shape: SeriesShape) {
      return 3 * Math.max(2, shape.periods[0] ?? 2);
    },
    fit(y: Float64Array, shape: SeriesShape): FittedModel {
      const m = Math.max(2, shape.periods[0] ?? 2);
      if (y.length < 3 * m) throw new ForecastError(`Holt-Winters needs ${3 * m} samples, got ${y.length}`);
      const window = y.subarray(Math.max(0, y.length - windowPeriods * m));
      let positive = true;
      for (const v of window) if (!(v > 0)) positive = false;
      // Multiplicative seasonality only for a strictly positive series, and only when it fits better.
      // Parameters are chosen on the last `tunePeriods` periods (the cost of the search), then the
      // whole window is smoothed once with them.
      const tuning = window.subarray(Math.max(0, window.length - tunePeriods * m));
      let { params, state } = optimise(tuning, m, false);
      if (positive) {
        const multiplicative = optimise(tuning, m, true);
        if (multiplicative.state.sse < state.sse) ({ params, state } = multiplicative);
        else positive = false;
      }
      if (tuning.length < window.length) state = run(window, m, params, positive);
      const fallback = lastFinite(y);
      return {
        predict(horizon) {
          const out = new Float64Array(horizon);
          let damp = 0;
          let phiK = 1;
          for (let k = 1; k <= horizon; k++) {
            phiK *= params.phi;
            damp += phiK;
            const base = state.level + damp * state.trend;
            const s = state.season[(k - 1) % m]!;
            out[k - 1] = positive ? base * s : base + s;
          }
          return finiteOr(out, fallback);
        },
      };
    },
  };
}
