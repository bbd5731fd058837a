/**
 * Seasonal periods in samples. Live series have trustworthy timestamps, so their daily period is a
 * day divided by the step; a series whose calendar cannot be trusted (a copied data set with
 * regenerated timestamps, an exporter with a drifting clock) gets its daily period from the
 * autocorrelation peak near the calendar's guess, and its weekly period from the autocorrelation
 * peak near seven of those (which measures a fractional daily period seven times more finely).
 */

const DAY_MS = 86_400_000;

/** Daily and weekly periods from the sampling step; weekly only when the history holds two weeks. */
export function calendarPeriods(stepMs: number, length: number): number[] {
  const daily = Math.round(DAY_MS / stepMs);
  if (daily < 2) return [];
  return length >= 14 * daily ? [daily, 7 * daily] : [daily];
}

/** Autocorrelation of `y` at `lag` (mean removed). */
export function autocorrelation(y: ArrayLike<number>, lag: number, mu: number, variance: number): number {
  let s = 0;
  for (let t = 0; t + lag < y.length; t++) s += (y[t]! - mu) * (y[t + lag]! - mu);
  return variance > 0 ? s / variance : 0;
}

/**
 * The daily period as the lag of highest autocorrelation within ±20 % of `guess` samples, and when
 * the history holds two weeks the weekly period as the highest within seven lags of seven days
 * (the daily period then a seventh of it). Returns the calendar's periods when the series is too
 * short to tell or shows no daily correlation.
 */
export function detectPeriods(y: ArrayLike<number>, guess: number): number[] {
  const n = y.length;
  if (guess < 4 || n < 3 * guess) return guess >= 2 && n >= 2 * guess ? [guess] : [];
  let mu = 0;
  for (let i = 0; i < n; i++) mu += y[i]!;
  mu /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (y[i]! - mu) ** 2;
  let best = guess;
  let bestR = Number.NEGATIVE_INFINITY;
  for (let lag = Math.floor(guess * 0.8); lag <= Math.ceil(guess * 1.2); lag++) {
    const r = autocorrelation(y, lag, mu, variance);
    if (r > bestR) {
      bestR = r;
      best = lag;
    }
  }
  const daily = bestR > 0.2 ? best : guess;
  if (n < 14 * daily) return [daily];
  // The weekly lag measures the period seven times more finely than the daily one: near a
  // fractional period (283.1 samples) the daily peak is flat over two lags, and seven times the
  // wrong one puts the weekly lag 7 samples off. So the weekly period is its own autocorrelation
  // peak within a daily lag step of seven days, and the daily period is refined to a seventh of it.
  let weekly = 7 * daily;
  let weeklyR = Number.NEGATIVE_INFINITY;
  for (let lag = 7 * (daily - 1); lag <= 7 * (daily + 1); lag++) {
    const r = autocorrelation(y, lag, mu, variance);
    if (r > weeklyR) {
      weeklyR = r;
      weekly = lag;
    }
  }
  return [Math.round(weekly / 7), weekly];
}
