/**
 * The `analytics:` configuration section (validated with the rest in cli/config.ts), and how it
 * becomes the scheduler's configuration. Defaults: forecasts hourly, capacity daily at 02:30,
 * series anomalies every rollup interval; 30 days of history, 7 days of horizon, the 2,000 busiest
 * series.
 */
import cron from 'node-cron';
import { z } from 'zod';
import { DEFAULT_BOUNDS } from '../markov/chain.js';
import type { SchedulerConfig } from './scheduler.js';
import { MODEL_NAMES } from './tasks.js';

const cronExpression = z.string().refine((s) => cron.validate(s), 'not a cron expression (node-cron syntax)');

export const analyticsSchema = z
  .strictObject({
    /** Run the jobs on this instance (false on all but one when collectors share a database). */
    enabled: z.boolean().default(true),
    schedules: z
      .strictObject({
        forecast: cronExpression.default('0 * * * *'),
        capacity: cronExpression.default('30 2 * * *'),
        /** Default: every rollup interval. */
        anomaly: cronExpression.optional(),
      })
      .prefault({}),
    maxSeries: z.number().int().min(1).max(100_000).default(2000),
    /**
     * Fraction of the time a job run works; it rests the rest, so that on a busy collector its
     * reads, writes and fits take the cores a little at a time (1: flat out). See pace.ts.
     */
    dutyCycle: z.number().min(0.05).max(1).default(0.25),
    historyDays: z.number().min(1).max(400).default(30),
    horizonDays: z
      .number()
      .min(1 / 24)
      .max(90)
      .default(7),
    /** Step of the series forecast and planned on (seconds). */
    stepSeconds: z.number().int().min(60).max(86_400).default(300),
    /** Candidate models; each series gets the one with the lowest backtest error. */
    models: z
      .array(z.enum(MODEL_NAMES))
      .min(1)
      .default(['decomposition', 'holt_winters', 'regression', 'seasonal_naive']),
    /**
     * The busiest this many series also try MSTL (`mstl`), the best day-ahead model, whatever
     * `models` says: at 0.4-0.75 s a fit and three fits a series it is too slow for every series.
     */
    mstlSeries: z.number().int().min(0).max(100_000).default(10),
    /** `calendar`: a day is 86,400 s; `detect`: daily period from the data near that. */
    periods: z.enum(['calendar', 'detect']).default('calendar'),
    /** Planning threshold as a fraction of capacity. */
    threshold: z.number().gt(0).max(1).default(0.8),
    /** Ascending utilisation bounds between Markov states; the last state is congested. */
    states: z
      .array(z.number().gt(0).lt(2))
      .min(1)
      .max(20)
      .refine((a) => a.every((v, i) => i === 0 || v > a[i - 1]!), 'must be ascending')
      .default([...DEFAULT_BOUNDS]),
    /** Interface speeds: by exporter and ifIndex, or a pattern on the interface name. */
    capacity: z
      .array(
        z.strictObject({
          exporter: z.string().min(1).optional(),
          ifIndex: z.number().int().min(0).optional(),
          ifName: z
            .string()
            .min(1)
            .refine((s) => {
              try {
                new RegExp(s);
                return true;
              } catch {
                return false;
              }
            }, 'not a regular expression')
            .optional(),
          bps: z.number().positive(),
        }),
      )
      .default([]),
    anomaly: z
      .strictObject({
        /** Score (0..1) at which an episode starts. */
        threshold: z.number().gt(0).max(1).default(0.95),
        /** Quiet intervals that end an episode. */
        quietIntervals: z.number().int().min(1).default(288),
      })
      .prefault({}),
  })
  .prefault({});

export type AnalyticsConfig = z.infer<typeof analyticsSchema>;

/** A cron expression that fires every `seconds` (rounded to what cron can express). */
export function everyInterval(seconds: number): string {
  if (seconds < 60) {
    const s = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30].filter((d) => d <= seconds).pop() ?? 1;
    return `*/${s} * * * * *`;
  }
  const minutes = Math.round(seconds / 60);
  if (minutes >= 60) return '0 * * * *';
  const m = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30].filter((d) => d <= minutes).pop() ?? 1;
  return m === 1 ? '* * * * *' : `*/${m} * * * *`;
}

export function schedulerConfig(a: AnalyticsConfig, rollupIntervalSeconds: number): SchedulerConfig {
  return {
    enabled: a.enabled,
    schedules: {
      forecast: a.schedules.forecast,
      capacity: a.schedules.capacity,
      anomaly: a.schedules.anomaly ?? everyInterval(rollupIntervalSeconds),
    },
    settings: {
      maxSeries: a.maxSeries,
      historyDays: a.historyDays,
      horizonDays: a.horizonDays,
      stepSeconds: a.stepSeconds,
      anomalyStepSeconds: rollupIntervalSeconds,
      models: a.models,
      mstlSeries: a.mstlSeries,
      periods: a.periods,
      threshold: a.threshold,
      states: a.states,
      capacity: a.capacity.map((c) => ({
        bps: c.bps,
        ...(c.exporter !== undefined && { exporter: c.exporter }),
        ...(c.ifIndex !== undefined && { ifIndex: c.ifIndex }),
        ...(c.ifName !== undefined && { ifName: c.ifName }),
      })),
      anomalyThreshold: a.anomaly.threshold,
      anomalyQuietSamples: a.anomaly.quietIntervals,
      dutyCycle: a.dutyCycle,
    },
  };
}
