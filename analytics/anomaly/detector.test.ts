import { describe, expect, it } from 'vitest';
import { gaussian } from '../forecast/synthetic.js';
import { normalTail, SeriesAnomalyDetector } from './detector.js';

describe('series anomaly detector', () => {
  it('has the right normal tail', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 7);
    expect(normalTail(1.959963984540054)).toBeCloseTo(0.025, 6);
    expect(normalTail(-1.2815515655446004)).toBeCloseTo(0.9, 6);
  });

  it('stays quiet on noise and reports a level shift once, as one episode with a start and an end', () => {
    const noise = gaussian(3);
    const detector = new SeriesAnomalyDetector({ quietSamples: 20 });
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

  it('scores nothing during warm-up and ignores non-finite input', () => {
    const detector = new SeriesAnomalyDetector({ warmup: 10 });
    for (let t = 0; t < 10; t++) expect(detector.update(t === 5 ? 1e9 : 1, 1).score).toBe(0);
    expect(detector.update(Number.NaN, 1)).toEqual({ score: 0 });
  });
});
