/** How the forecast job splits its series into worker tasks, and which of them try MSTL. */
import { describe, expect, it } from 'vitest';
import { analyticsSchema } from './config.js';
import { forecastTasks } from './jobs.js';

const DEFAULT = analyticsSchema.parse({});

describe('forecastTasks', () => {
  it('the busiest mstlSeries series (first in order) try MSTL besides the configured models; the rest do not', () => {
    const tasks = forecastTasks(130, DEFAULT.models, 10);
    // Every series in exactly one task, in order.
    const covered = tasks.flatMap((t) => Array.from({ length: t.to - t.from }, (_, k) => t.from + k));
    expect(covered).toEqual(Array.from({ length: 130 }, (_, i) => i));
    for (const t of tasks) {
      expect(t.to - t.from).toBeLessThanOrEqual(50);
      const shouldTry = t.to <= 10;
      expect(t.from < 10 ? t.to <= 10 : true, 'no task mixes both kinds').toBe(true);
      expect(t.models.includes('mstl')).toBe(shouldTry);
      // The configured models are always candidates.
      for (const m of DEFAULT.models) expect(t.models).toContain(m);
    }
    expect(tasks.filter((t) => t.models.includes('mstl')).reduce((n, t) => n + t.to - t.from, 0)).toBe(10);
  });

  it('defaults: MSTL for the ten busiest, and not among the configured models (too slow for every series)', () => {
    expect(DEFAULT.mstlSeries).toBe(10);
    expect(DEFAULT.models).not.toContain('mstl');
  });

  it('mstlSeries 0 adds MSTL nowhere; MSTL listed in models runs everywhere, once', () => {
    expect(forecastTasks(60, DEFAULT.models, 0).some((t) => t.models.includes('mstl'))).toBe(false);
    const all = forecastTasks(60, ['mstl', 'seasonal_naive'], 10);
    for (const t of all) expect(t.models.filter((m) => m === 'mstl')).toHaveLength(1);
    expect(forecastTasks(5, DEFAULT.models, 10)).toEqual([
      { from: 0, to: 5, models: ['mstl', ...DEFAULT.models] },
    ]);
    expect(forecastTasks(0, DEFAULT.models, 10)).toEqual([]);
  });
});
