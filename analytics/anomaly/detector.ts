/**
 * Series anomalies, online, one sample at a time with bounded memory per series.
 *
 * Two views of each sample are scored: its residual against what was expected (in production the
 * seasonal forecast or a short moving level, whichever has predicted the series better recently:
 * expectation.ts), which catches what breaks the series' own pattern, and the value itself, which
 * catches a shift of the series' distribution (a level or range it has not shown recently). Each view is standardised robustly against its last
 * `window` samples (median and MAD, so that one spike does not widen the yardstick) and turned into
 * a surprise, -ln of its two-sided normal tail probability (about z²/2, capped at 50).
 *
 * Surprise alone is not a calibrated score: a series with heavy tails is surprising every day. So,
 * as Numenta's anomaly likelihood does with HTM's raw scores, the mean surprise of the last
 * `shortWindow` samples is compared with its own long-run distribution, a running Gaussian (mean and
 * variance, exponentially weighted over about `longWindow` samples): the tail probability of the
 * short-term mean is what a series of that kind makes of a moment like this one. As in Numenta's
 * code (`reestimationPeriod`, 100), the Gaussian a sample is scored against is re-estimated every
 * `reestimation` samples, not after every sample: the first samples of an anomaly do not widen the
 * yardstick that measures them (early in a series, when the running estimate still moves fast, one
 * outlier at the start of an anomaly used to widen it enough to hide the rest). The two views'
 * probabilities are combined by Bonferroni (twice the smaller), and the score is -log10 of that
 * probability over `SCORE_DECADES`, capped at 1.
 * The Gaussian is optimistic in the far tail (a mean of surprises is skewed to the right), so the
 * probability is not taken at its word: the scale was set by simulation on independent normal noise
 * (the null model), where a score of 0.95 (the default threshold) starts one chance episode in
 * about 57,000 samples, which keeps 2,000 series at 5-minute steps to about ten chance episodes a
 * day (the unit test checks it). Series with heavier tails than normal noise have more.
 * No score is given before `warmup` short-term means have been learnt (about
 * 100 + `shortWindow` + `warmup` samples).
 * Episodes: a score at or above the threshold starts one; it is not reported again until the score
 * stays below the threshold for `quietSamples` samples, when it ends.
 */

export interface DetectorOptions {
  /** Score at or above which an episode starts (0..1). */
  readonly threshold?: number;
  /** Samples kept for the median and MAD of each view. */
  readonly window?: number;
  /** Samples whose surprise is averaged into the short-term mean. */
  readonly shortWindow?: number;
  /** Memory, in samples, of the long-run mean and variance of the short-term mean. */
  readonly longWindow?: number;
  /** Samples below the threshold that end an episode. */
  readonly quietSamples?: number;
  /** Short-term means learnt before any score is given. */
  readonly warmup?: number;
  /** Samples between re-estimations of the long-run Gaussian that scores the short-term mean. */
  readonly reestimation?: number;
}

export const DETECTOR_DEFAULTS = {
  threshold: 0.95,
  window: 300,
  shortWindow: 10,
  longWindow: 8640,
  quietSamples: 288,
  warmup: 300,
  reestimation: 100,
} as const;

/** Samples a view needs before its median and MAD are used. */
const MIN_HISTORY = 100;
/** Largest surprise one sample contributes (a normal tail of about e^-50, z ≈ 10). */
const MAX_SURPRISE = 50;
/**
 * Decades of improbability that make a score of 1. On independent normal noise the default threshold
 * 0.95 (about 1e-8.5 nominal) starts one chance episode in about 57,000 samples (simulated: 1.5
 * million samples over 80 series).
 */
export const SCORE_DECADES = 9;

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

/** A robust yardstick over the last samples: the z of a new sample against their median and MAD. */
class Yardstick {
  private readonly kept: Float64Array;
  private n = 0;
  private centre = 0;
  private spread = 0;

  constructor(size: number) {
    this.kept = new Float64Array(size);
  }

  /** The robust z of `x` against the samples before it (undefined while too few), then learns `x`. */
  next(x: number): number | undefined {
    let z: number | undefined;
    if (this.n >= Math.min(MIN_HISTORY, this.kept.length)) {
      // Refresh every few samples: median and MAD cost a sort of the window.
      if (this.n % 8 === 0 || this.spread === 0) {
        const kept = this.kept.subarray(0, Math.min(this.n, this.kept.length));
        this.centre = median(kept);
        const dev = kept.map((v) => Math.abs(v - this.centre));
        this.spread = 1.4826 * median(dev);
        if (this.spread === 0) {
          let s = 0;
          for (const d of dev) s += d;
          this.spread = s / Math.max(1, dev.length) || Number.EPSILON;
        }
      }
      z = (x - this.centre) / this.spread;
    }
    this.kept[this.n % this.kept.length] = x;
    this.n++;
    return z;
  }
}

/**
 * Anomaly likelihood of one view: the tail probability of the mean surprise of the last samples
 * against the running Gaussian of that mean, as it stood at its last re-estimation.
 */
class Likelihood {
  private readonly recent: Float64Array;
  private n = 0;
  private sum = 0;
  private learnt = 0;
  private mean = 0;
  private variance = 0;
  /** The Gaussian samples are scored against: the running one, copied every `reestimation`. */
  private scoringMean = 0;
  private scoringVariance = 0;

  constructor(
    shortWindow: number,
    private readonly longWindow: number,
    private readonly warmup: number,
    private readonly reestimation: number,
  ) {
    this.recent = new Float64Array(shortWindow);
  }

  /** The tail probability for this z (undefined during warm-up), then learns it. */
  next(z: number): number | undefined {
    const surprise = Math.min(MAX_SURPRISE, -Math.log(Math.max(1e-300, 2 * normalTail(Math.abs(z)))));
    const k = this.recent.length;
    const i = this.n % k;
    if (this.n >= k) this.sum -= this.recent[i]!;
    this.recent[i] = surprise;
    this.sum += surprise;
    this.n++;
    if (this.n < k) return undefined;
    const short = this.sum / k;
    let tail: number | undefined;
    if (this.learnt >= this.warmup) {
      if ((this.learnt - this.warmup) % this.reestimation === 0) {
        this.scoringMean = this.mean;
        this.scoringVariance = this.variance;
      }
      if (this.scoringVariance > 0)
        tail = normalTail((short - this.scoringMean) / Math.sqrt(this.scoringVariance));
    }
    // Running mean and variance: the plain average at first, then exponentially weighted.
    this.learnt++;
    const a = Math.max(1 / this.longWindow, 1 / this.learnt);
    const d = short - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
    return tail;
  }
}

export class SeriesAnomalyDetector {
  private readonly o: Required<DetectorOptions>;
  private readonly residualYardstick: Yardstick;
  private readonly valueYardstick: Yardstick;
  private readonly residualLikelihood: Likelihood;
  private readonly valueLikelihood: Likelihood;
  private inEpisode = false;
  private quiet = 0;

  constructor(options: DetectorOptions = {}) {
    this.o = { ...DETECTOR_DEFAULTS, ...options };
    const { window, shortWindow, longWindow, warmup, reestimation } = this.o;
    this.residualYardstick = new Yardstick(window);
    this.valueYardstick = new Yardstick(window);
    this.residualLikelihood = new Likelihood(shortWindow, longWindow, warmup, reestimation);
    this.valueLikelihood = new Likelihood(shortWindow, longWindow, warmup, reestimation);
  }

  get episodeOpen(): boolean {
    return this.inEpisode;
  }

  /** Scores one sample given what was expected of it. Non-finite input scores 0 and is not learnt. */
  update(value: number, expected: number): Scored {
    const r = value - expected;
    if (!Number.isFinite(r)) return { score: 0 };
    const zr = this.residualYardstick.next(r);
    const zv = this.valueYardstick.next(value);
    const pr = zr === undefined ? undefined : this.residualLikelihood.next(zr);
    const pv = zv === undefined ? undefined : this.valueLikelihood.next(zv);
    let score = 0;
    if (pr !== undefined || pv !== undefined) {
      const views = (pr === undefined ? 0 : 1) + (pv === undefined ? 0 : 1);
      const p = Math.min(1, views * Math.min(pr ?? 1, pv ?? 1));
      score = Math.min(1, -Math.log10(Math.max(1e-300, p)) / SCORE_DECADES);
    }
    let event: EpisodeEvent | undefined;
    if (score >= this.o.threshold) {
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

/**
 * The rows that start an episode in a sequence of scores, at a threshold: the detector's own episode
 * rule applied after the fact (the score of a sample does not depend on the threshold, only the
 * episodes do), so that an evaluation can try other thresholds without running the detector again.
 */
export function episodeStarts(
  scores: ArrayLike<number>,
  threshold: number,
  quietSamples: number = DETECTOR_DEFAULTS.quietSamples,
): number[] {
  const starts: number[] = [];
  let open = false;
  let quiet = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i]! >= threshold) {
      quiet = 0;
      if (!open) {
        open = true;
        starts.push(i);
      }
    } else if (open && ++quiet >= quietSamples) {
      open = false;
      quiet = 0;
    }
  }
  return starts;
}
