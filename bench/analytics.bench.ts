/**
 * Analytics: one forecast run (the forecast job's worker task, on this thread) over 1,000 series of
 * 30 days of 5-minute points, 7 days ahead, as the job splits it by default (the busiest
 * `analytics.mstlSeries` series with MSTL among the candidates, the rest with the default models); beside it, the same
 * run with seasonal naive alone as the reference (reading the data and writing the bands cost the
 * same in both, so the ratio is the models' own cost). Series are synthetic traffic: daily and
 * weekly cycles, a trend and noise, each at its own level.
 *
 * Run alone with `npx tsx bench/analytics.bench.ts`; `bench/run.ts` imports `benchAnalytics`.
 */
import { pathToFileURL } from 'node:url';
import { gaussian } from '../analytics/forecast/synthetic.js';
import { analyticsSchema } from '../analytics/jobs/config.js';
import { forecastTasks } from '../analytics/jobs/jobs.js';
import { runForecast, type SeriesData } from '../analytics/jobs/tasks.js';
import type { BenchResult } from './measure.js';

const SERIES = Number(process.env['FLOWCAST_BENCH_SERIES'] ?? 1000);
const STEP_MS = 300_000;
const POINTS = 30 * 288;

function makeSeries(): SeriesData[] {
  const noise = gaussian(11);
  const out: SeriesData[] = [];
  for (let s = 0; s < SERIES; s++) {
    const level = 1e6 * (1 + (s % 97));
    const values = new Float64Array(POINTS);
    for (let t = 0; t < POINTS; t++) {
      const day = Math.sin((2 * Math.PI * t) / 288);
      const week = Math.floor(t / 288) % 7 >= 5 ? 0.7 : 1;
      values[t] = Math.max(0, level * week * (1 + 0.5 * day + 0.002 * (t / 288)) + 0.05 * level * noise());
    }
    out.push({ key: `traffic/bench/${s}/in`, stepMs: STEP_MS, start: 0, values });
  }
  return out;
}

async function timeRun(
  series: SeriesData[],
  models: Parameters<typeof runForecast>[0]['models'],
): Promise<number> {
  const started = performance.now();
  const out = await runForecast({ type: 'forecast', series, horizonDays: 7, models, periods: 'calendar' });
  const seconds = (performance.now() - started) / 1000;
  const failed = out.filter((o) => o.error !== undefined).length;
  if (failed > 0) throw new Error(`${failed} series failed`);
  return seconds;
}

export async function benchAnalytics(): Promise<BenchResult[]> {
  const series = makeSeries();
  const reference = await timeRun(series, ['seasonal_naive']);
  // What a default configuration runs: the job's tasks, MSTL for the busiest series.
  const defaults = analyticsSchema.parse({});
  let full = 0;
  for (const t of forecastTasks(series.length, defaults.models, defaults.mstlSeries))
    full += await timeRun(series.slice(t.from, t.to), t.models);
  const row = (name: string, s: number): BenchResult => ({
    name,
    median: s,
    min: s,
    max: s,
    unit: 's (one run)',
    runs: 1,
  });
  return [
    row(
      `forecast run, ${SERIES} series × 30 d of 5-min points, defaults (MSTL for the busiest ${defaults.mstlSeries})`,
      full,
    ),
    row(`  reference: same run, seasonal naive only (ratio ${(full / reference).toFixed(1)}×)`, reference),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchAnalytics()) console.log(`${r.name}: ${r.median.toFixed(1)} ${r.unit}`);
}
