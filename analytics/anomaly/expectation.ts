/**
 * What each sample of a series is measured against: the stored forecast for its time, or a short
 * moving level of the samples before it, whichever has predicted this series better recently.
 *
 * The forecast is refitted hourly on 30 days and carries the series' daily and weekly cycles; the
 * moving level (the mean of the last six samples) knows only the last half hour. On a series with a
 * cycle the forecast predicts better and catches what breaks the cycle; on a series without one (a
 * CPU, a latency, a queue) the forecast is a smoothed history that a level change leaves far off for
 * hours, and the residual against it tells the detector more about the forecast than about the
 * series. So both are scored on every sample they both exist for (mean absolute error, exponentially
 * weighted over about `memory` samples) and the better so far is the expectation. Where there is no
 * forecast (a new series, before any model fits) the level is used.
 */

/** Samples (a week of 5-minute intervals) over which forecast and level are compared. */
export const EXPECTATION_MEMORY = 2016;
/** Samples compared before the level may replace the forecast (an hour of 5-minute intervals). */
const MIN_COMPARED = 12;

/** A short moving level: the mean of the last samples. */
export class MovingLevel {
  private readonly buf: Float64Array;
  private n = 0;
  private sum = 0;
  constructor(size = 6) {
    this.buf = new Float64Array(size);
  }
  /** The expectation for the next sample (NaN before the first). */
  get expected(): number {
    return this.n === 0 ? Number.NaN : this.sum / Math.min(this.n, this.buf.length);
  }
  push(v: number): void {
    const i = this.n % this.buf.length;
    if (this.n >= this.buf.length) this.sum -= this.buf[i]!;
    this.buf[i] = v;
    this.sum += v;
    this.n++;
  }
}

export class Expectation {
  private readonly level = new MovingLevel();
  private forecastError = 0;
  private levelError = 0;
  private compared = 0;

  constructor(private readonly memory: number = EXPECTATION_MEMORY) {}

  /** True when the level, not the forecast, is the expectation of the next sample that has both. */
  get prefersLevel(): boolean {
    return this.compared >= MIN_COMPARED && this.levelError < this.forecastError;
  }

  /**
   * The expectation of `value` given the stored forecast for its time (NaN where there is none; NaN
   * before the first sample), then learns `value`. A non-finite value is not learnt.
   */
  next(value: number, forecast: number): number {
    const level = this.level.expected;
    if (!Number.isFinite(value)) return Number.isFinite(forecast) ? forecast : level;
    let expected = Number.isFinite(forecast) ? forecast : level;
    if (Number.isFinite(forecast) && Number.isFinite(level)) {
      if (this.prefersLevel) expected = level;
      this.compared++;
      const a = Math.max(1 / this.memory, 1 / this.compared);
      this.forecastError += a * (Math.abs(value - forecast) - this.forecastError);
      this.levelError += a * (Math.abs(value - level) - this.levelError);
    }
    this.level.push(value);
    return expected;
  }
}
