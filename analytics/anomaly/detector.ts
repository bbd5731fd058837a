/**
 * Series anomalies, online: each new sample's residual against what was expected (the seasonal
 * forecast in production; a short moving level when no forecast exists) is scored robustly against
 * the recent residuals (median and MAD, so that one spike does not widen the yardstick), squared
 * and summed over `shortWindow` samples (one by default), and turned into a chi-square tail
 * probability, in the manner of NAB's best detectors (a likelihood rather than a raw error). The
 * score is -log10 of that probability over 5, capped at 1: 0.8 means a residual this unusual is
 * expected about once in 10,000 samples, 0.95 (the default threshold) once in 55,000, which keeps
 * 2,000 series at 5-minute steps to about ten chance episodes a day. No score is given before the
 * yardstick's window is full (`warmup`).
 * Episodes: a score at or above the threshold starts one; it is not reported again until the score
 * stays below the threshold for `quietSamples` samples, when it ends.
 */

export interface DetectorOptions {
  /** Score at or above which an episode starts (0..1). */
  readonly threshold?: number;
  /** Residuals kept for the median and MAD. */
  readonly window?: number;
  /** Samples averaged into the short-term residual. */
  readonly shortWindow?: number;
  /** Samples below the threshold that end an episode. */
  readonly quietSamples?: number;
  /** Samples seen before any score is given. */
  readonly warmup?: number;
}

export const DETECTOR_DEFAULTS = {
  threshold: 0.95,
  window: 600,
  shortWindow: 1,
  quietSamples: 288,
  warmup: 600,
} as const;

export type EpisodeEvent = 'start' | 'update' | 'end';

export interface Scored {
  /** 0..1; 0 during warm-up. */
  readonly score: number;
  /** Set when this sample starts or ends an episode. */
  readonly event?: EpisodeEvent;
}

/** Survival function of the standard normal, P(Z > z). */
export function normalTail(z: number): number {
  // Abramowitz-Stegun 7.1.26 on erfc; absolute error below 1.5e-7, enough for a score.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

function median(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export class SeriesAnomalyDetector {
  private readonly o: Required<DetectorOptions>;
  private readonly residuals: Float64Array;
  private readonly recent: Float64Array;
  private count = 0;
  private inEpisode = false;
  private quiet = 0;
  private centre = 0;
  private spread = 0;

  constructor(options: DetectorOptions = {}) {
    this.o = { ...DETECTOR_DEFAULTS, ...options };
    this.residuals = new Float64Array(this.o.window);
    this.recent = new Float64Array(this.o.shortWindow);
  }

  get episodeOpen(): boolean {
    return this.inEpisode;
  }

  /** Scores one sample given what was expected of it. Non-finite input scores 0 and is not learnt. */
  update(value: number, expected: number): Scored {
    const r = value - expected;
    if (!Number.isFinite(r)) return { score: 0 };
    const { window, shortWindow, warmup, threshold } = this.o;
    this.recent[this.count % shortWindow] = r;
    let score = 0;
    if (this.count >= warmup) {
      // Refresh the yardstick every few samples: median and MAD cost a sort of the window.
      if (this.count % 8 === 0 || this.spread === 0) {
        const kept = this.residuals.subarray(0, Math.min(this.count, window));
        this.centre = median(kept);
        const dev = kept.map((v) => Math.abs(v - this.centre));
        this.spread = 1.4826 * median(dev);
        if (this.spread === 0) {
          let s = 0;
          for (const d of dev) s += d;
          this.spread = s / Math.max(1, dev.length) || Number.EPSILON;
        }
      }
      // The sum of k squared standardised residuals is chi-square with k degrees of freedom under
      // the normal model; Wilson–Hilferty turns it into a normal deviate for the tail probability.
      let sum = 0;
      for (let i = 0; i < shortWindow; i++) sum += ((this.recent[i]! - this.centre) / this.spread) ** 2;
      const k = shortWindow;
      const z = (Math.cbrt(sum / k) - (1 - 2 / (9 * k))) / Math.sqrt(2 / (9 * k));
      const tail = Math.max(1e-300, normalTail(z));
      score = Math.min(1, -Math.log10(tail) / 5);
    }
    this.residuals[this.count % window] = r;
    this.count++;
    let event: EpisodeEvent | undefined;
    if (score >= threshold) {
      this.quiet = 0;
      if (!this.inEpisode) {
        this.inEpisode = true;
        event = 'start';
      }
    } else if (this.inEpisode && ++this.quiet >= this.o.quietSamples) {
      this.inEpisode = false;
      this.quiet = 0;
      event = 'end';
    }
    return event === undefined ? { score } : { score, event };
  }
}

/** A short moving level as the expectation when there is no forecast: the mean of the last samples. */
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
