/**
 * NAB's scoring, reproduced exactly from numenta/NAB (nab/sweeper.py, nab/optimizer.py,
 * nab/runner.py normalize(), config/profiles.json): label windows, the scaled sigmoid reward, the
 * 15 % probationary period (capped at 750 rows), the three application profiles, the threshold
 * swept over every distinct anomaly score of the scored files, and the normalisation between the
 * null detector (which never fires: minus the false-negative weight for each window it can be
 * scored on) and the perfect one (the true-positive weight for each labelled window).
 */

export interface CostMatrix {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

export const PROFILES = {
  standard: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 },
  reward_low_FP_rate: { tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0 },
  reward_low_FN_rate: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0 },
} as const satisfies Record<string, CostMatrix>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

/** A labelled file: timestamps (Unix ms, as in the data), the detector's scores in [0, 1], windows. */
export interface ScoredFile {
  readonly name: string;
  readonly timestamps: readonly number[];
  readonly scores: ArrayLike<number>;
  /** [start, end] of each label window, Unix ms, each equal to one of the timestamps. */
  readonly windows: ReadonlyArray<readonly [number, number]>;
}

interface AnomalyPoint {
  readonly anomalyScore: number;
  readonly sweepScore: number;
  /** undefined outside windows; 'probationary' inside the probationary period. */
  readonly window: string | undefined;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** NAB's scaledSigmoid: +0.98661 at a window's left edge, 0 at its right edge, negative after. */
export function scaledSigmoid(relativePosition: number): number {
  return relativePosition > 3.0 ? -1.0 : 2 * sigmoid(-5 * relativePosition) - 1.0;
}

/** NAB's _getProbationaryLength. */
export function probationaryLength(rows: number, probationPercent = 0.15): number {
  return Math.min(Math.floor(probationPercent * rows), probationPercent * 5000);
}

/** sweeper.calcSweepScore: each row's weighted score if it were a detection, and its window. */
function sweepScores(file: ScoredFile, cost: CostMatrix, probationPercent: number): AnomalyPoint[] {
  const { timestamps, scores } = file;
  const windows = [...file.windows];
  const maxTP = scaledSigmoid(-1.0);
  const probation = probationaryLength(timestamps.length, probationPercent);
  const points: AnomalyPoint[] = [];
  let cur: readonly [number, number] | undefined;
  let curName: string | undefined;
  let curWidth = 0;
  let curRight = 0;
  let prevWidth: number | undefined;
  let prevRight: number | undefined;
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i]!;
    const next = windows[0];
    if (next !== undefined && t === next[0]) {
      cur = windows.shift()!;
      curName = `${file.name}|${cur[0]}`;
      curRight = timestamps.indexOf(cur[1]);
      curWidth = curRight - timestamps.indexOf(cur[0]) + 1;
    }
    let weighted: number;
    if (cur !== undefined) {
      const position = -(curRight - i + 1) / curWidth;
      weighted = (scaledSigmoid(position) * cost.tpWeight) / maxTP;
    } else {
      const unweighted =
        prevRight === undefined ? -1.0 : scaledSigmoid(Math.abs(prevRight - i) / (prevWidth! - 1));
      weighted = unweighted * cost.fpWeight;
    }
    points.push({
      anomalyScore: scores[i]!,
      sweepScore: weighted,
      window: i >= probation ? curName : 'probationary',
    });
    if (cur !== undefined && t === cur[1]) {
      prevRight = i;
      prevWidth = curWidth;
      cur = undefined;
      curName = undefined;
    }
  }
  return points;
}

export interface ThresholdScore {
  readonly threshold: number;
  readonly score: number;
  readonly tp: number;
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
}

/** sweeper.calcScoreByThreshold: the raw score at every distinct threshold, highest first. */
function scoresByThreshold(points: readonly AnomalyPoint[], cost: CostMatrix): ThresholdScore[] {
  const scorable = points
    .filter((p) => p.window !== 'probationary')
    .sort((a, b) => b.anomalyScore - a.anomalyScore);
  const parts = new Map<string, number>([['fp', 0]]);
  for (const p of scorable) if (p.window !== undefined) parts.set(p.window, -cost.fnWeight);
  const total = () => {
    let s = 0;
    for (const v of parts.values()) s += v;
    return s;
  };
  const out: ThresholdScore[] = [];
  let threshold = 1.1;
  let tn = scorable.filter((p) => p.window === undefined).length;
  let fn = scorable.length - tn;
  let tp = 0;
  let fp = 0;
  for (const p of scorable) {
    if (p.anomalyScore !== threshold) {
      out.push({ threshold, score: total(), tp, tn, fp, fn });
      threshold = p.anomalyScore;
    }
    if (p.window !== undefined) {
      tp++;
      fn--;
      parts.set(p.window, Math.max(parts.get(p.window)!, p.sweepScore));
    } else {
      fp++;
      tn--;
      parts.set('fp', parts.get('fp')! + p.sweepScore);
    }
  }
  out.push({ threshold, score: total(), tp, tn, fp, fn });
  return out;
}

/** sweeper.scoreDataSet's choice of row: detections are the rows scoring at or above `threshold`. */
function atThreshold(rows: readonly ThresholdScore[], threshold: number): ThresholdScore | undefined {
  let prev: ThresholdScore | undefined;
  for (const row of rows) {
    if (row.threshold === threshold) return row;
    if (row.threshold < threshold) return prev;
    prev = row;
  }
  return prev;
}

/** The raw NAB score of one file at a threshold (scorer.scoreDataSet). */
export function scoreFile(
  file: ScoredFile,
  threshold: number,
  cost: CostMatrix,
  probationPercent = 0.15,
): ThresholdScore {
  const rows = scoresByThreshold(sweepScores(file, cost, probationPercent), cost);
  return atThreshold(rows, threshold) ?? rows[0]!;
}

export interface CorpusScore {
  /** Normalised: 0 is the null detector, 100 the perfect one. */
  readonly normalized: number;
  readonly raw: number;
  readonly threshold: number;
}

function normalise(raw: number, files: readonly ScoredFile[], cost: CostMatrix): number {
  const windows = files.reduce((n, f) => n + f.windows.length, 0);
  // The null detector's score: every window it can be scored on missed.
  const base = files.reduce((s, f) => {
    const probation = probationaryLength(f.timestamps.length);
    const scorable = f.windows.filter((w) => {
      const right = f.timestamps.indexOf(w[1]);
      return right >= probation;
    }).length;
    return s - scorable * cost.fnWeight;
  }, 0);
  const perfect = windows * cost.tpWeight;
  return (100 * (raw - base)) / (perfect - base);
}

/** Scores a corpus at a fixed threshold (a detector as it runs in production). */
export function scoreCorpus(
  files: readonly ScoredFile[],
  threshold: number,
  profile: ProfileName,
): CorpusScore {
  const cost = PROFILES[profile];
  const raw = files.reduce((s, f) => s + scoreFile(f, threshold, cost).score, 0);
  return { raw, threshold, normalized: normalise(raw, files, cost) };
}

/**
 * A file's rows as NAB weighs them (sweeper.calcSweepScore), computed once for scoring many sets of
 * detections: each row's weight were it a detection, and its window (undefined outside windows,
 * 'probationary' inside the probationary period).
 */
export interface Weighed {
  readonly weights: Float64Array;
  readonly windows: ReadonlyArray<string | undefined>;
  readonly cost: CostMatrix;
}

export function weigh(file: ScoredFile, profile: ProfileName, probationPercent = 0.15): Weighed {
  const cost = PROFILES[profile];
  const points = sweepScores(file, cost, probationPercent);
  return {
    weights: Float64Array.from(points, (p) => p.sweepScore),
    windows: points.map((p) => p.window),
    cost,
  };
}

/**
 * The raw NAB score of a file for exactly these detections (row indexes): the best-placed detection
 * in each window, minus the false-negative weight for each window without one, plus the (negative)
 * weight of every detection outside the windows; rows in the probationary period are not scored.
 * The same figure as `scoreFile` when the detections are the rows at or above its threshold.
 */
export function scoreDetections(w: Weighed, detections: Iterable<number>): number {
  const best = new Map<string, number>();
  for (const name of w.windows)
    if (name !== undefined && name !== 'probationary') best.set(name, -w.cost.fnWeight);
  let fp = 0;
  for (const i of detections) {
    const name = w.windows[i];
    if (name === 'probationary') continue;
    if (name === undefined) fp += w.weights[i]!;
    else best.set(name, Math.max(best.get(name)!, w.weights[i]!));
  }
  let s = fp;
  for (const v of best.values()) s += v;
  return s;
}

/** The normalised score (0 the null detector, 100 the perfect one) of a raw corpus score. */
export function normalisedScore(raw: number, files: readonly ScoredFile[], profile: ProfileName): number {
  return normalise(raw, files, PROFILES[profile]);
}

/** NAB's optimizer: the threshold that maximises the corpus score, swept over all scores at once. */
export function optimiseCorpus(files: readonly ScoredFile[], profile: ProfileName): CorpusScore {
  const cost = PROFILES[profile];
  const points = files.flatMap((f) => sweepScores(f, cost, 0.15));
  const rows = scoresByThreshold(points, cost);
  let best = rows[0]!;
  for (const r of rows) if (r.score > best.score) best = r;
  return { raw: best.score, threshold: best.threshold, normalized: normalise(best.score, files, cost) };
}
