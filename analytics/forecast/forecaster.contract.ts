/**
 * The one contract every {@link Forecaster} runs (STYLE.md 5), on synthetic series whose future is
 * known exactly: a forecaster must reproduce a clean trend-plus-daily-sinusoid within 1 %, keep a
 * flat series flat, return finite values of the asked length, leave its input untouched, refuse a
 * series shorter than its stated minimum, and (through the engine) give 80 % and 95 % bands that
 * hold the truth about as often as they claim on a noisy series.
 */
import { describe, expect, it } from 'vitest';
import { forecastSeries } from './engine.js';
import { ForecastError, type Forecaster } from './forecaster.js';
import { gaussian, SYNTHETIC_DAY, trendSinusoid } from './synthetic.js';

const M = SYNTHETIC_DAY;

export function forecasterContract(f: Forecaster, options: { exactWithin?: number } = {}): void {
  const shape = { periods: [M] };
  describe(`forecaster contract: ${f.name}${options.exactWithin === undefined ? '' : ` (within ${options.exactWithin * 100} %)`}`, () => {
    it('continues a trend plus a daily sinusoid within 1 % over a day', () => {
      const n = 20 * M;
      const full = trendSinusoid(n + M);
      const y = full.slice(0, n);
      const pred = f.fit(y, shape).predict(M);
      expect(pred.length).toBe(M);
      for (let k = 0; k < M; k++) {
        const truth = full[n + k]!;
        expect(Math.abs(pred[k]! - truth) / truth).toBeLessThan(options.exactWithin ?? 0.01);
      }
    });

    it('keeps a flat series flat, returns finite values and leaves its input untouched', () => {
      const y = new Float64Array(10 * M).fill(500);
      const copy = y.slice();
      const pred = f.fit(y, shape).predict(2 * M + 3);
      expect(pred.length).toBe(2 * M + 3);
      for (const v of pred) expect(Math.abs(v - 500)).toBeLessThan(0.01);
      expect(y).toEqual(copy);
    });

    it('refuses a series shorter than its stated minimum with a ForecastError', () => {
      const min = f.minLength(shape);
      expect(min).toBeGreaterThan(0);
      expect(() => f.fit(new Float64Array(min - 1).fill(1), shape)).toThrow(ForecastError);
    });

    it('gives bands that hold the truth about as often as they claim (engine, noisy series)', () => {
      const noise = gaussian(7);
      const n = 20 * M;
      const full = trendSinusoid(n + 30 * M, () => 30 * noise());
      let in80 = 0;
      let in95 = 0;
      let total = 0;
      let narrower = true;
      for (let origin = n; origin < n + 30 * M - 12; origin += 2 * M) {
        const fc = forecastSeries(full.slice(0, origin), shape, 12, { forecasters: [f], origins: 8 });
        for (let k = 0; k < 12; k++) {
          const truth = full[origin + k]!;
          if (truth >= fc.lower80[k]! && truth <= fc.upper80[k]!) in80++;
          if (truth >= fc.lower95[k]! && truth <= fc.upper95[k]!) in95++;
          if (fc.upper80[k]! - fc.lower80[k]! > fc.upper95[k]! - fc.lower95[k]!) narrower = false;
          total++;
        }
      }
      expect(narrower).toBe(true);
      // Bands from eight origins are rough; they must still be in the right region, not 0 % or 100 %.
      expect(in80 / total).toBeGreaterThan(0.6);
      expect(in80 / total).toBeLessThan(0.97);
      expect(in95 / total).toBeGreaterThan(0.8);
    });
  });
}
