import { describe, expect, it } from 'vitest';
import { gaussian } from '../forecast/synthetic.js';
import { Expectation, MovingLevel } from './expectation.js';

describe('expectation', () => {
  it('is the moving level of the samples before where there is no forecast', () => {
    const e = new Expectation();
    expect(e.next(10, Number.NaN)).toBeNaN();
    expect(e.next(20, Number.NaN)).toBe(10);
    expect(e.next(30, Number.NaN)).toBe(15);
    const level = new MovingLevel(2);
    for (const v of [1, 2, 3]) level.push(v);
    expect(level.expected).toBe(2.5);
  });

  it('keeps the forecast on a series it predicts better than the last half hour', () => {
    // Noise around a known mean: the forecast's error is the noise, the level's a little more.
    const noise = gaussian(21);
    const e = new Expectation();
    let fromForecast = 0;
    for (let t = 0; t < 3000; t++) if (e.next(100 + 5 * noise(), 100) === 100) fromForecast++;
    expect(e.prefersLevel).toBe(false);
    expect(fromForecast).toBe(3000);
  });

  it('measures a series without a cycle against its level when the forecast lags it', () => {
    // A random walk forecast by its value a day earlier: the level knows where it is now.
    const noise = gaussian(22);
    const e = new Expectation();
    const values: number[] = [];
    let x = 100;
    let fromLevel = 0;
    for (let t = 0; t < 3000; t++) {
      x += noise();
      values.push(x);
      const forecast = t >= 288 ? values[t - 288]! : Number.NaN;
      const expected = e.next(x, forecast);
      if (t >= 288 && expected !== forecast) fromLevel++;
    }
    expect(e.prefersLevel).toBe(true);
    // Only the first comparisons go to the forecast, before the level has shown it predicts better.
    expect(fromLevel).toBeGreaterThan(3000 - 288 - 20);
  });

  it('does not learn a non-finite value', () => {
    const e = new Expectation();
    e.next(10, Number.NaN);
    expect(e.next(Number.NaN, Number.NaN)).toBe(10);
    expect(e.next(30, Number.NaN)).toBe(10);
  });
});
