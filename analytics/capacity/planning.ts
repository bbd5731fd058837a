/**
 * Capacity planning figures for one interface and direction, from its traffic (bits per second)
 * over the history window and its forecast: the window's 95th percentile, the trend per day (a
 * Theil–Sen line through the daily 95th percentiles, robust to a few odd days), and the days until
 * the forecast's upper band first reaches the threshold (default 80 % of capacity). Beyond the
 * forecast horizon, the last day's upper band is carried forward along the trend; a flat or falling
 * trend that never reaches the threshold gives no date (undefined), not a large number.
 */
import { TheilSenRegression } from 'ml-regression';

const DAY_MS = 86_400_000;

export function percentile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values as ArrayLike<number>)
    .filter(Number.isFinite)
    .sort();
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Theil–Sen slope of the daily 95th percentiles, in units per day; 0 with fewer than 3 days. */
export function trendPerDay(times: readonly number[], values: ArrayLike<number>): number {
  const byDay = new Map<number, number[]>();
  for (let i = 0; i < times.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const day = Math.floor(times[i]! / DAY_MS);
    const list = byDay.get(day);
    if (list === undefined) byDay.set(day, [v]);
    else list.push(v);
  }
  const days = [...byDay.keys()].sort((a, b) => a - b);
  if (days.length < 3) return 0;
  const regression = new TheilSenRegression(
    days,
    days.map((d) => percentile(byDay.get(d)!, 0.95)),
  );
  return Number.isFinite(regression.slope) ? regression.slope : 0;
}

/**
 * Days from `now` until `upper` (the forecast's upper band at `times`) first reaches `threshold`;
 * past the last forecast point, the band's last daily peak is extended by `trend` per day, for at
 * most `maxDays`. 0 when it is already reached; undefined when it is not reached within `maxDays`.
 */
export function daysToThreshold(
  now: number,
  times: readonly number[],
  upper: ArrayLike<number>,
  threshold: number,
  trend: number,
  maxDays = 3650,
): number | undefined {
  let lastTime = now;
  let lastPeakFrom = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (t < now) continue;
    if (upper[i]! >= threshold) return Math.max(0, (t - now) / DAY_MS);
    lastTime = t;
  }
  // The peak of the band's last day carries forward along the trend.
  for (let i = 0; i < times.length; i++)
    if (times[i]! >= lastTime - DAY_MS && times[i]! >= now) lastPeakFrom = Math.max(lastPeakFrom, upper[i]!);
  if (!Number.isFinite(lastPeakFrom) || !(trend > 0)) return undefined;
  const days = (lastTime - now) / DAY_MS + (threshold - lastPeakFrom) / trend;
  return days <= maxDays ? days : undefined;
}
