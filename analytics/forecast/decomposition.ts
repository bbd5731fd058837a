/**
 * Seasonal decomposition with exponential smoothing (`decomposition`): MSTL + ETS made cheap
 * enough to run on every series. The series (its logarithm when strictly positive: traffic's daily
 * swing grows with its level) is split into a trend, a daily profile, a weekly profile when the
 * window holds two weeks, and what is left; the profiles are carried forward and the seasonally
 * adjusted series is forecast by exponential smoothing with a damped trend.
 *
 * How it differs from MSTL (mstl.ts), and why it is about a hundred times cheaper: the trend is a
 * centred moving average over the longest period (MSTL: Loess), each profile is a weighted mean of
 * the same phase over past cycles (MSTL: a Loess smoother across cycles), and the smoothing
 * parameters come from a small grid (MSTL: AutoETS's search over model forms by numerical
 * optimisation). The memory of each profile follows MSTL's default seasonal windows (7 + 4i cycles
 * for the i-th period, i from 1: 11 days, 15 weeks): a weight per cycle back of
 * (s - 1) / (s + 1), the exponential weighting whose mean age equals a flat window of s cycles'.
 * The weekly profile has only a few cycles to average, so it is also smoothed over neighbouring
 * phases (a 24th of a day: an hour at 5-minute steps).
 */
import {
  type FittedModel,
  ForecastError,
  type Forecaster,
  finiteOr,
  lastFinite,
  type SeriesShape,
} from './forecaster.js';

/**
 * Moving average over `width` samples, centred where it can be; within half a width of either end
 * the window is the first or last full one. A window always spans a whole period, so the period's
 * shape never leaks into the trend (a truncated window at the end of a week of weekdays would read
 * the weekdays' level as the trend, and the weekend profile would absorb the difference).
 */
export function centredMovingAverage(x: Float64Array, width: number): Float64Array {
  const n = x.length;
  const cumulative = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) cumulative[i + 1] = cumulative[i]! + x[i]!;
  const span = Math.min(n, width);
  const half = Math.floor(span / 2);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const from = Math.min(Math.max(0, i - half), n - span);
    out[i] = (cumulative[from + span]! - cumulative[from]!) / span;
  }
  return out;
}

/**
 * The seasonal profile of period `p`: for each phase (index `t % p`, so the window's own origin),
 * the mean of `r` at that phase, a cycle `a` back from the newest weighted `decay^a`; then averaged
 * over `smooth` neighbouring phases (circularly) and centred on zero.
 */
export function seasonalProfile(r: Float64Array, p: number, decay: number, smooth = 1): Float64Array {
  const n = r.length;
  const sum = new Float64Array(p);
  const weight = new Float64Array(p);
  // Newest first: the weight drops by `decay` each time a whole cycle has been walked back.
  let w = 1;
  let phase = (n - 1) % p;
  for (let t = n - 1, walked = 0; t >= 0; t--) {
    sum[phase]! += w * r[t]!;
    weight[phase]! += w;
    phase = phase === 0 ? p - 1 : phase - 1;
    if (++walked === p) {
      walked = 0;
      w *= decay;
    }
  }
  const raw = new Float64Array(p);
  for (let i = 0; i < p; i++) raw[i] = weight[i]! > 0 ? sum[i]! / weight[i]! : 0;
  const half = Math.floor(smooth / 2);
  const out = new Float64Array(p);
  let total = 0;
  for (let i = 0; i < p; i++) {
    let s = 0;
    for (let j = -half; j <= half; j++) s += raw[(((i + j) % p) + p) % p]!;
    out[i] = s / (2 * half + 1);
    total += out[i]!;
  }
  const centre = total / p;
  for (let i = 0; i < p; i++) out[i]! -= centre;
  return out;
}

/** Cycle weight for the i-th period (0: daily) from MSTL's default seasonal window 7 + 4(i + 1). */
export function profileDecay(i: number): number {
  const s = 7 + 4 * (i + 1);
  return (s - 1) / (s + 1);
}

const ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1];
const BETAS = [0, 0.01, 0.05];
/** Damping of the trend per step (the usual upper bound of ETS's damped-trend search). */
const PHI = 0.98;

interface Smoothed {
  level: number;
  trend: number;
}

/**
 * Exponential smoothing with a damped additive trend, parameters by one-step squared error. Run
 * over the last `memory` samples only: with the smallest alpha (0.02) the level keeps e^-40 of
 * what came a week (2,016 5-minute samples) before, so earlier history changes nothing but the cost.
 */
function smooth(all: Float64Array, memory: number): Smoothed {
  const x = all.subarray(Math.max(0, all.length - memory));
  let best: (Smoothed & { sse: number }) | undefined;
  for (const alpha of ALPHAS) {
    for (const beta of BETAS) {
      let level = x[0]!;
      let trend = 0;
      let sse = 0;
      for (let t = 1; t < x.length; t++) {
        const prior = level + PHI * trend;
        const e = x[t]! - prior;
        sse += e * e;
        const next = prior + alpha * e;
        trend = PHI * trend + beta * (next - level - PHI * trend);
        level = next;
      }
      if (best === undefined || sse < best.sse) best = { level, trend, sse };
    }
  }
  return best!;
}

export function decompositionForecaster(options: { windowPeriods?: number; log?: boolean } = {}): Forecaster {
  const windowPeriods = options.windowPeriods ?? 28;
  const useLog = options.log ?? true;
  return {
    name: 'decomposition',
    minLength(shape: SeriesShape) {
      return 2 * Math.max(2, shape.periods[0] ?? 2);
    },
    fit(y: Float64Array, shape: SeriesShape): FittedModel {
      const m = Math.max(2, shape.periods[0] ?? 2);
      const window = y.subarray(Math.max(0, y.length - windowPeriods * m));
      if (window.length < 2 * m)
        throw new ForecastError(`decomposition needs ${2 * m} samples, got ${window.length}`);
      for (const v of window)
        if (!Number.isFinite(v)) throw new ForecastError('decomposition: non-finite value');
      const logged = useLog && window.every((v) => v > 0);
      const z = logged ? window.map(Math.log) : Float64Array.from(window);
      const n = z.length;
      const weekly = shape.periods[1];
      const w = weekly !== undefined && weekly > m && n >= 2 * weekly ? weekly : undefined;
      // Each profile unrolled over the window (`dailyAt[t]`, `weekAt[t]`), so that the passes below
      // are plain array arithmetic.
      const dailyAt = new Float64Array(n);
      const weekAt = new Float64Array(n);
      const unroll = (profile: Float64Array, into: Float64Array) => {
        const p = profile.length;
        for (let t = 0; t < n; t += p) into.set(profile.subarray(0, Math.min(p, n - t)), t);
      };
      let daily: Float64Array = new Float64Array(m);
      let week: Float64Array = new Float64Array(w ?? 1);
      const rest = new Float64Array(n);
      // Two rounds: each profile is estimated with the other removed (one round leaves the daily
      // profile holding the week's average shape twice over).
      for (let round = 0; round < 2; round++) {
        for (let t = 0; t < n; t++) rest[t] = z[t]! - dailyAt[t]! - weekAt[t]!;
        const trend = centredMovingAverage(rest, w ?? m);
        for (let t = 0; t < n; t++) rest[t] = z[t]! - trend[t]! - weekAt[t]!;
        daily = seasonalProfile(rest, m, profileDecay(0));
        unroll(daily, dailyAt);
        if (w !== undefined) {
          for (let t = 0; t < n; t++) rest[t] = z[t]! - trend[t]! - dailyAt[t]!;
          week = seasonalProfile(rest, w, profileDecay(1), Math.max(1, Math.round(m / 24)));
          unroll(week, weekAt);
        }
      }
      for (let t = 0; t < n; t++) rest[t] = z[t]! - dailyAt[t]! - weekAt[t]!;
      const { level, trend } = smooth(rest, 7 * m);
      const seasonal = (t: number) => daily[t % m]! + (w === undefined ? 0 : week[t % w]!);
      const fallback = lastFinite(y);
      return {
        predict(horizon) {
          const out = new Float64Array(horizon);
          let damped = 0;
          let phiK = 1;
          for (let k = 0; k < horizon; k++) {
            phiK *= PHI;
            damped += phiK;
            const v = level + damped * trend + seasonal(n + k);
            out[k] = logged ? Math.exp(v) : v;
          }
          return finiteOr(out, fallback);
        },
      };
    },
  };
}
