/**
 * The three analytics jobs. Each reads its series through the store, runs its computing tasks, and
 * writes its results back through the store (docs/schema.md). In `flowcast serve` a whole job runs
 * in the analytics worker, reading and writing through a port to the store (worker.ts), so that
 * neither the store's answers, nor the series, nor the points written are made on the thread
 * that receives datagrams:
 * - `forecast`: `forecast` points (yhat and the 95 % band) for every series over the horizon;
 * - `capacity`: one `capacity` point per interface and direction;
 * - `anomaly`: one `anomaly` point (kind `series`) when an episode starts and one when it ends.
 */
import type { Point, Store } from '../../storage/store.js';
import type { CapacityRule } from '../capacity/speed.js';
import { capacityResolver } from '../capacity/speed.js';
import { loadSeries } from './series.js';
import type { ModelName } from './tasks.js';
import type { AnalyticsWorker } from './worker-client.js';

const DAY_MS = 86_400_000;

/** The `model` tag of `forecast` points: the engine that chooses per series (docs/analytics.md). */
export const FORECAST_MODEL_TAG = 'auto';

export interface JobSettings {
  readonly maxSeries: number;
  readonly historyDays: number;
  readonly horizonDays: number;
  /** Step of the series the forecast and capacity jobs read (seconds). */
  readonly stepSeconds: number;
  /** Step of the series the anomaly job reads: the rollup interval (seconds). */
  readonly anomalyStepSeconds: number;
  readonly models: readonly ModelName[];
  /** The busiest this many series also try MSTL. */
  readonly mstlSeries: number;
  readonly periods: 'calendar' | 'detect';
  /** Fraction of capacity that counts as the planning threshold. */
  readonly threshold: number;
  readonly states: readonly number[];
  readonly capacity: readonly CapacityRule[];
  readonly anomalyThreshold: number;
  readonly anomalyQuietSamples: number;
  /** Fraction of the wall time a run works, resting the rest (pace.ts); 1 runs flat out. */
  readonly dutyCycle: number;
}

/** Series sent to the worker in one task. */
const SERIES_PER_TASK = 50;

/**
 * The forecast job's worker tasks over `count` series, busiest first: at most SERIES_PER_TASK
 * each, the first `mstlSeries` with MSTL among their candidates whatever `models` says.
 */
export function forecastTasks(
  count: number,
  models: readonly ModelName[],
  mstlSeries: number,
): { from: number; to: number; models: readonly ModelName[] }[] {
  const withMstl: readonly ModelName[] = models.includes('mstl') ? models : ['mstl', ...models];
  const tasks: { from: number; to: number; models: readonly ModelName[] }[] = [];
  const cut = Math.min(count, Math.max(0, mstlSeries));
  for (const [start, end, m] of [
    [0, cut, withMstl],
    [cut, count, models],
  ] as const)
    for (let from = start; from < end; from += SERIES_PER_TASK)
      tasks.push({ from, to: Math.min(end, from + SERIES_PER_TASK), models: m });
  return tasks;
}
/** Points handed to the store at once (its batch size). */
const POINTS_PER_WRITE = 5000;

/**
 * Hands points to the store a slice at a time and waits for each slice to be stored before taking
 * more: the store's queue is bounded, a slice is one message of bounded size to the store thread,
 * and a store on the calling thread encodes a batch synchronously (2.4 s for one forecast run's
 * 480,000 points in one piece, measured in bench/analytics-collector before the store had a thread).
 */
class ChunkedWriter {
  private chunk: Point[] = [];
  constructor(
    private readonly store: Store,
    private readonly pace: () => Promise<void>,
  ) {}
  async add(point: Point): Promise<void> {
    this.chunk.push(point);
    if (this.chunk.length >= POINTS_PER_WRITE) await this.drain();
  }
  async close(): Promise<void> {
    await this.drain();
  }
  private async drain(): Promise<void> {
    const chunk = this.chunk;
    this.chunk = [];
    if (chunk.length > 0) this.store.write(chunk);
    await this.store.flush();
    await new Promise((resolve) => setImmediate(resolve));
    await this.pace();
  }
}

export interface JobResult {
  /** Series the run processed. */
  readonly series: number;
  /** Points written. */
  readonly points: number;
  /** Series the run could not process (with the reason logged). */
  readonly failed: number;
  readonly detail: string;
}

/**
 * What runs a job's computing tasks (tasks.ts): the analytics worker's `run`, or in the worker
 * itself the same signatures on `runTask`.
 */
export type TaskRunner = Pick<AnalyticsWorker, 'run'>;

export interface JobContext {
  readonly store: Store;
  readonly worker: TaskRunner;
  readonly settings: JobSettings;
  readonly now: () => number;
  readonly warn: (obj: Record<string, unknown>, msg: string) => void;
  /** Rests the run after a piece of work, by the duty cycle (pace.ts). */
  readonly pace: () => Promise<void>;
}

export async function forecastJob(ctx: JobContext): Promise<JobResult> {
  const { settings: s, store } = ctx;
  const now = ctx.now();
  const series = await loadSeries(store, {
    now,
    from: now - s.historyDays * DAY_MS,
    stepSeconds: s.stepSeconds,
    maxSeries: s.maxSeries,
    totals: true,
    pace: ctx.pace,
  });
  const models = new Map<string, number>();
  let failed = 0;
  let written = 0;
  let processed = 0;
  const sink = new ChunkedWriter(store, ctx.pace);
  // A batch of series per worker task: results come back (and are written) a batch at a time, so
  // neither the message from the worker nor the points held at once grow with maxSeries.
  for (const task of forecastTasks(series.length, s.models, s.mstlSeries)) {
    const results = await ctx.worker.run({
      type: 'forecast',
      series: series
        .slice(task.from, task.to)
        .map(({ key, stepMs, start, values }) => ({ key, stepMs, start, values })),
      horizonDays: s.horizonDays,
      models: task.models,
      periods: s.periods,
    });
    await ctx.pace();
    for (const r of results) {
      processed++;
      if (r.error !== undefined || r.yhat === undefined || r.start === undefined || r.stepMs === undefined) {
        failed++;
        ctx.warn({ series: r.key, reason: r.error }, 'series not forecast');
        continue;
      }
      models.set(r.model!, (models.get(r.model!) ?? 0) + 1);
      for (let k = 0; k < r.yhat.length; k++) {
        await sink.add({
          measurement: 'forecast',
          // One `model` tag value for every run (the selecting engine), so that each run overwrites
          // the last one's points instead of leaving another model's beside them; the winner is a field.
          tags: { series: r.key, model: FORECAST_MODEL_TAG },
          fields: {
            yhat: r.yhat[k]!,
            lower: r.lower![k]!,
            upper: r.upper![k]!,
            lower80: r.lower80![k]!,
            upper80: r.upper80![k]!,
            chosenModel: r.model!,
          },
          time: r.start + k * r.stepMs,
        });
        written++;
      }
    }
  }
  await sink.close();
  const chosen = [...models].map(([m, c]) => `${m} ${c}`).join(', ');
  return {
    series: processed - failed,
    points: written,
    failed,
    detail: chosen === '' ? 'no series' : `models: ${chosen}`,
  };
}

export async function capacityJob(ctx: JobContext): Promise<JobResult> {
  const { settings: s, store } = ctx;
  const now = ctx.now();
  const resolve = capacityResolver(s.capacity);
  const series = await loadSeries(store, {
    now,
    from: now - s.historyDays * DAY_MS,
    stepSeconds: s.stepSeconds,
    maxSeries: s.maxSeries,
    totals: false,
    pace: ctx.pace,
  });
  const items = [];
  const notes = new Map<string, string>();
  const capacities = new Map<string, number | undefined>();
  for (const x of series) {
    const cap = resolve(x.exporter, x.ifIndex ?? 0, x.ifName);
    notes.set(x.key, cap.note);
    capacities.set(x.key, cap.bps);
    const forecast = cap.bps === undefined ? [] : await store.forecasts({ series: x.key, from: now });
    await ctx.pace();
    items.push({
      key: x.key,
      stepMs: x.stepMs,
      start: x.start,
      values: x.values,
      ...(cap.bps !== undefined && { capacityBps: cap.bps }),
      forecastTimes: forecast.map((f) => f.time),
      forecastUpper: forecast.map((f) => f.upper),
    });
  }
  const rows = await ctx.worker.run({
    type: 'capacity',
    items,
    now,
    threshold: s.threshold,
    bounds: s.states,
  });
  const byKey = new Map(series.map((x) => [x.key, x]));
  const points: Point[] = rows.map((r) => {
    const ref = byKey.get(r.key)!;
    const capacityBps = capacities.get(r.key);
    let note = notes.get(r.key) ?? '';
    if (capacityBps !== undefined && r.daysToThreshold === undefined) {
      note += `; ${Math.round(s.threshold * 100)} % of capacity not reached by the forecast band or trend`;
    }
    return {
      measurement: 'capacity',
      tags: { exporter: ref.exporter, ifIndex: String(ref.ifIndex ?? 0), direction: ref.direction },
      fields: {
        p95Bps: r.p95Bps,
        trendBpsPerDay: r.trendBpsPerDay,
        ...(capacityBps !== undefined && { capacityBps }),
        threshold: s.threshold,
        ...(r.daysToThreshold !== undefined && { daysToThreshold: r.daysToThreshold }),
        ...(r.probCongested30d !== undefined && {
          probCongested: r.probCongested30d,
          probCongested30d: r.probCongested30d,
        }),
        ...(r.probCongested7d !== undefined && { probCongested7d: r.probCongested7d }),
        note,
      },
      time: now,
    };
  });
  store.write(points);
  await store.flush();
  const unknown = [...capacities.values()].filter((c) => c === undefined).length;
  return {
    series: rows.length,
    points: points.length,
    failed: 0,
    detail: `${unknown} with unknown capacity`,
  };
}

/** How far back the anomaly job reads: enough for a new series' detector to warm up. */
const ANOMALY_HISTORY_SAMPLES = 1200;

export async function anomalyJob(ctx: JobContext): Promise<JobResult> {
  const { settings: s, store } = ctx;
  const now = ctx.now();
  const stepMs = s.anomalyStepSeconds * 1000;
  const series = await loadSeries(store, {
    now,
    from: now - ANOMALY_HISTORY_SAMPLES * stepMs,
    stepSeconds: s.anomalyStepSeconds,
    maxSeries: s.maxSeries,
    totals: true,
    pace: ctx.pace,
  });
  const inputs = [];
  for (const x of series) {
    const forecast = await store.forecasts({
      series: x.key,
      from: x.start,
      to: x.start + x.values.length * x.stepMs,
    });
    await ctx.pace();
    const expected = new Float64Array(x.values.length).fill(Number.NaN);
    // Each sample expects the forecast point at or just before it (forecasts may be coarser).
    let j = 0;
    for (let i = 0; i < x.values.length; i++) {
      const t = x.start + i * x.stepMs;
      while (j + 1 < forecast.length && forecast[j + 1]!.time <= t) j++;
      const f = forecast[j];
      if (f !== undefined && f.time <= t && t - f.time < DAY_MS) expected[i] = f.yhat;
    }
    inputs.push({ key: x.key, stepMs: x.stepMs, start: x.start, values: x.values, expected });
  }
  const events = await ctx.worker.run({
    type: 'anomaly',
    series: inputs,
    threshold: s.anomalyThreshold,
    quietSamples: s.anomalyQuietSamples,
    maxSeries: s.maxSeries,
  });
  const byKey = new Map(series.map((x) => [x.key, x]));
  const fmt = (v: number) => `${(v / 1e6).toFixed(1)} Mb/s`;
  const points: Point[] = events.map((e) => {
    const ref = byKey.get(e.key)!;
    const where =
      ref.ifIndex === undefined
        ? `exporter ${ref.exporter} total`
        : `${ref.exporter} ${ref.ifName || `ifIndex ${ref.ifIndex}`}`;
    const message =
      e.state === 'start'
        ? `${where} ${ref.direction}: ${fmt(e.value)} where ${fmt(e.expected)} was expected (score ${e.score.toFixed(2)})`
        : `${where} ${ref.direction}: back to normal after ${Math.round((e.time - e.startedAt) / 60_000)} min`;
    return {
      measurement: 'anomaly',
      tags: { kind: 'series', exporter: ref.exporter, series: e.key },
      fields: {
        score: e.score,
        value: e.value,
        expected: e.expected,
        message,
        subject: e.key,
        state: e.state,
      },
      time: e.time,
    };
  });
  store.write(points);
  await store.flush();
  return {
    series: inputs.length,
    points: points.length,
    failed: 0,
    detail: `${events.filter((e) => e.state === 'start').length} episodes started`,
  };
}

export const JOBS = { forecast: forecastJob, capacity: capacityJob, anomaly: anomalyJob } as const;
export type JobName = keyof typeof JOBS;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];
