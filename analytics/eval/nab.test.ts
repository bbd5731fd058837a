import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTime, readSeries } from './csv.js';
import {
  optimiseCorpus,
  PROFILES,
  probationaryLength,
  type ScoredFile,
  scaledSigmoid,
  scoreCorpus,
  scoreDetections,
  scoreFile,
  weigh,
} from './nab.js';

// Numenta HTM's published anomaly scores on realTraffic/TravelTime_387.csv (testdata/SOURCE.md).
const results = readSeries(fileURLToPath(new URL('./testdata/numenta_TravelTime_387.csv', import.meta.url)));
// labels/combined_windows.json of NAB for that file.
const windows = [
  ['2015-07-27 10:56:00.000000', '2015-07-31 18:01:00.000000'],
  ['2015-08-17 11:51:00.000000', '2015-08-20 01:54:00.000000'],
  ['2015-08-31 15:44:00.000000', '2015-09-01 13:06:00.000000'],
].map(([a, b]) => [parseTime(a!), parseTime(b!)] as const);
const file: ScoredFile = {
  name: 'realTraffic/TravelTime_387.csv',
  timestamps: results.times,
  scores: results.values,
  windows,
};

describe('NAB scoring', () => {
  it('has NAB constants: sigmoid edges and the probationary period', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3.5)).toBe(-1);
    expect(probationaryLength(2500)).toBe(375);
    expect(probationaryLength(22695)).toBe(750);
  });

  // results/numenta/numenta_<profile>_scores.csv and config/thresholds.json of numenta/NAB.
  it.each([
    ['standard', 0.5421876907348634, 0.371826726451, { tp: 2, tn: 1874, fp: 2, fn: 247 }],
    ['reward_low_FP_rate', 0.5751955032348636, 0.371813980326, { tp: 2, tn: 1875, fp: 1, fn: 247 }],
    ['reward_low_FN_rate', 0.5421876907348634, -0.628173273549, { tp: 2, tn: 1874, fp: 2, fn: 247 }],
  ] as const)(
    'reproduces HTM’s published raw score on TravelTime_387 (%s)',
    (profile, threshold, published, counts) => {
      const row = scoreFile(file, threshold, PROFILES[profile]);
      expect(row.score).toBeCloseTo(published, 9);
      expect({ tp: row.tp, tn: row.tn, fp: row.fp, fn: row.fn }).toEqual(counts);
    },
  );

  it.each([
    ['standard', 0.5421876907348634, 0.371826726451],
    ['reward_low_FP_rate', 0.5751955032348636, 0.371813980326],
    ['reward_low_FN_rate', 0.5421876907348634, -0.628173273549],
  ] as const)(
    'scores a given set of detections as NAB does (HTM on TravelTime_387, %s)',
    (profile, threshold, published) => {
      const detections: number[] = [];
      for (let i = 0; i < file.timestamps.length; i++) if (file.scores[i]! >= threshold) detections.push(i);
      expect(scoreDetections(weigh(file, profile), detections)).toBeCloseTo(published, 9);
      // No detection: minus the false-negative weight of each of the three windows (all after probation).
      expect(scoreDetections(weigh(file, profile), [])).toBeCloseTo(-3 * PROFILES[profile].fnWeight, 12);
    },
  );

  it('normalises between the null detector (0) and the perfect one (100)', () => {
    const never: ScoredFile = { ...file, scores: new Float64Array(file.timestamps.length) };
    expect(scoreCorpus([never], 0.5, 'standard').normalized).toBeCloseTo(0, 9);
    const perfect = new Float64Array(file.timestamps.length);
    for (const [start] of windows) perfect[file.timestamps.indexOf(start)] = 1;
    expect(scoreCorpus([{ ...file, scores: perfect }], 0.5, 'standard').normalized).toBeCloseTo(100, 9);
    // Optimising the threshold can only do as well as or better than any fixed one.
    const optimised = optimiseCorpus([file], 'standard');
    expect(optimised.raw).toBeGreaterThanOrEqual(
      scoreFile(file, 0.5421876907348634, PROFILES.standard).score,
    );
  });
});
