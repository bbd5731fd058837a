/**
 * Goals the evaluation must keep meeting (`flowcast eval --goals FILE`, run by `.ci/run` on the
 * development data): a committed JSON file of limits, checked against the report. Only goals met
 * when the file was written belong in it (and, for a goal not met yet, a floor just under the
 * figure measured then, such as the NAB score's), so that a failure means a regression.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { EvalReport } from './harness.js';

const goalsSchema = z.strictObject({
  forecast: z
    .array(
      z.strictObject({
        series: z.string(),
        horizon: z.enum(['1h', '1d']),
        maxMase: z.number().positive(),
      }),
    )
    .default([]),
  /** Every forecast row must have MASE below this (1: better than seasonal naive). */
  maxMaseEverywhere: z.number().positive().optional(),
  anomaly: z.strictObject({ minStandard: z.number() }).optional(),
  markov: z
    .array(
      z.strictObject({
        series: z.string(),
        horizon: z.enum(['1h', '1d']),
        beatsPersistence: z.boolean().default(false),
        beatsClimatology: z.boolean().default(false),
      }),
    )
    .default([]),
});

export type Goals = z.infer<typeof goalsSchema>;

export function readGoals(path: string): Goals {
  return goalsSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** The goals the report misses, in words; empty when all are met. */
export function missedGoals(report: EvalReport, goals: Goals): string[] {
  const missed: string[] = [];
  for (const g of goals.forecast) {
    const row = report.forecast.find((f) => f.series === g.series && f.horizon === g.horizon);
    if (row === undefined) missed.push(`forecast ${g.series} ${g.horizon}: not evaluated`);
    else if (!(row.mase <= g.maxMase))
      missed.push(`forecast ${g.series} ${g.horizon}: MASE ${row.mase.toFixed(3)} > ${g.maxMase}`);
  }
  if (goals.maxMaseEverywhere !== undefined) {
    for (const f of report.forecast) {
      if (!(f.mase < goals.maxMaseEverywhere)) {
        missed.push(
          `forecast ${f.series} ${f.horizon}: MASE ${f.mase.toFixed(3)} not below ${goals.maxMaseEverywhere}`,
        );
      }
    }
  }
  if (goals.anomaly !== undefined) {
    const s = report.anomaly?.scores.standard;
    if (s === undefined || !(s >= goals.anomaly.minStandard)) {
      missed.push(
        `anomaly: NAB standard score ${s?.toFixed(1) ?? 'not evaluated'} < ${goals.anomaly.minStandard}`,
      );
    }
  }
  for (const g of goals.markov) {
    const row = report.markov.find((m) => m.series === g.series && m.horizon === g.horizon);
    if (row === undefined) {
      missed.push(`markov ${g.series} ${g.horizon}: not evaluated`);
      continue;
    }
    if (g.beatsPersistence && !(row.brier < row.persistenceBrier)) {
      missed.push(
        `markov ${g.series} ${g.horizon}: Brier ${row.brier.toFixed(5)} not below persistence ${row.persistenceBrier.toFixed(5)}`,
      );
    }
    if (g.beatsClimatology && !(row.brier < row.climatologyBrier)) {
      missed.push(
        `markov ${g.series} ${g.horizon}: Brier ${row.brier.toFixed(5)} not below climatology ${row.climatologyBrier.toFixed(5)}`,
      );
    }
  }
  return missed;
}
