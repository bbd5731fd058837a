import { describe, expect, it } from 'vitest';
import { gaussian } from '../forecast/synthetic.js';
import { DETECTOR_DEFAULTS, episodeStarts, normalTail, SeriesAnomalyDetector } from './detector.js';

describe('series anomaly detector', () => {
  it('has the right normal tail', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 7);
    expect(normalTail(1.959963984540054)).toBeCloseTo(0.025, 6);
    expect(normalTail(-1.2815515655446004)).toBeCloseTo(0.9, 6);
  });

  it('stays quiet on noise and reports a level shift once, as one episode with a start and an end', () => {
    const noise = gaussian(3);
    // The likelihood learns a lasting shift within tens of samples (the score falls while it lasts):
    // the quiet period has to outlast that for the shift to stay one episode.
    const detector = new SeriesAnomalyDetector({ quietSamples: 150 });
    const events: Array<[number, string, number]> = [];
    for (let t = 0; t < 3000; t++) {
      const value = 100 + noise() * 5 + (t >= 2000 && t < 2100 ? 80 : 0);
      const r = detector.update(value, 100);
      if (r.event !== undefined) events.push([t, r.event, r.score]);
    }
    expect(events.length).toBe(2);
    expect(events[0]![1]).toBe('start');
    expect(events[0]![0]).toBeGreaterThanOrEqual(2000);
    expect(events[0]![0]).toBeLessThan(2005);
    expect(events[1]![1]).toBe('end');
    expect(events[1]![0]).toBeGreaterThanOrEqual(2100);
  });

  it('finds after the fact the episode starts the online detector reported, at any threshold', () => {
    const noise = gaussian(11);
    const values = Array.from({ length: 4000 }, (_, t) => {
      const burst = (t >= 1500 && t < 1530) || (t >= 1700 && t < 1710) || (t >= 2500 && t < 2600) ? 60 : 0;
      return 100 + noise() * 5 + burst;
    });
    for (const [threshold, quietSamples] of [
      [0.95, 288],
      [0.6, 50],
      [0.3, 20],
    ] as const) {
      const detector = new SeriesAnomalyDetector({ threshold, quietSamples });
      const scores: number[] = [];
      const online: number[] = [];
      values.forEach((v, t) => {
        const r = detector.update(v, 100);
        scores.push(r.score);
        if (r.event === 'start') online.push(t);
      });
      expect(online.length).toBeGreaterThan(0);
      expect(episodeStarts(scores, threshold, quietSamples)).toEqual(online);
    }
    // By hand: an episode ends after `quietSamples` samples below the threshold, not before.
    expect(episodeStarts([0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1], 0.5, 3)).toEqual([1, 10]);
  });

  it('scores nothing during warm-up and ignores non-finite input', () => {
    // 100 samples for the yardsticks, 10 for the first short-term mean, 10 short-term means learnt.
    const detector = new SeriesAnomalyDetector({ warmup: 10 });
    for (let t = 0; t < 119; t++) expect(detector.update(t === 5 || t === 115 ? 1e9 : 1, 1).score).toBe(0);
    expect(detector.update(Number.NaN, 1)).toEqual({ score: 0 });
  });

  it('keeps independent normal noise to about one chance episode in 57,000 samples', () => {
    // 10 series of 20,000 samples: about 3.5 chance episodes expected at the default threshold.
    let episodes = 0;
    for (let s = 0; s < 10; s++) {
      const noise = gaussian(1000 + s);
      const detector = new SeriesAnomalyDetector();
      for (let t = 0; t < 20_000; t++)
        if (detector.update(100 + 5 * noise(), 100).event === 'start') episodes++;
    }
    expect(episodes).toBeLessThanOrEqual(12);
  });

  it('measures an anomaly against the Gaussian of the last re-estimation, which it has not yet widened', () => {
    // Soon after warm-up the running Gaussian still moves fast (the plain average of a few hundred
    // short-term means): re-estimated at every sample, a shift's first samples would widen it enough
    // to hide the shift within about ten samples.
    const aboveThreshold = (reestimation?: number) => {
      const noise = gaussian(4);
      const detector = new SeriesAnomalyDetector(reestimation === undefined ? {} : { reestimation });
      let n = 0;
      for (let t = 0; t < 460; t++) {
        const r = detector.update(100 + 5 * noise() + (t >= 420 ? 15 : 0), 100);
        if (t >= 420 && r.score >= DETECTOR_DEFAULTS.threshold) n++;
      }
      return n;
    };
    expect(aboveThreshold()).toBeGreaterThanOrEqual(30);
    expect(aboveThreshold(1)).toBeLessThan(20);
  });

  it('reports a change of spread (the same level, three times the noise) soon after it starts', () => {
    const noise = gaussian(5);
    const detector = new SeriesAnomalyDetector();
    const starts: number[] = [];
    for (let t = 0; t < 4000; t++) {
      const r = detector.update(100 + noise() * (t >= 3000 ? 15 : 5), 100);
      if (r.event === 'start') starts.push(t);
    }
    expect(starts.length).toBe(1);
    expect(starts[0]).toBeGreaterThanOrEqual(3000);
    expect(starts[0]).toBeLessThan(3030);
  });

  it('learns a heavy-tailed series: its everyday spikes are not reported, a lasting shift is', () => {
    const noise = gaussian(9);
    const detector = new SeriesAnomalyDetector();
    const starts: number[] = [];
    for (let t = 0; t < 6000; t++) {
      // Student-t with 3 degrees of freedom: a spike of six yardsticks or more every few hundred samples.
      const chi = (noise() ** 2 + noise() ** 2 + noise() ** 2) / 3;
      const value = 100 + (5 * noise()) / Math.sqrt(chi) + (t >= 5000 ? 60 : 0);
      if (detector.update(value, 100).event === 'start') starts.push(t);
    }
    expect(starts.filter((t) => t < 5000).length).toBeLessThanOrEqual(1);
    expect(starts.some((t) => t >= 5000 && t < 5010)).toBe(true);
  });
});
