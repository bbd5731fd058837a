/**
 * `npm run bench`: every benchmark, printed as one table. Single-threaded figures (one core).
 * Not part of `npm test`: speed is measured here, never asserted in tests.
 */
import { cpus } from 'node:os';
import { benchAnalytics } from './analytics.bench.js';
import { benchAnalyticsCollector } from './analytics-collector.bench.js';
import { benchApi } from './api.bench.js';
import { benchDecode } from './decode.bench.js';
import { benchDetect } from './detect.bench.js';
import { benchInflux } from './influx.bench.js';
import type { BenchResult } from './measure.js';
import { benchRollup } from './rollup.bench.js';

const decoded = benchDecode();
const results: BenchResult[] = [
  ...decoded,
  ...(await benchRollup()),
  ...(await benchDetect(decoded.find((r) => r.name.includes('v9'))?.median)),
  ...(await benchInflux()),
  ...(await benchApi()),
  ...(await benchAnalytics()),
  ...(await benchAnalyticsCollector()),
];

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`flowcast benchmarks — node ${process.version}, ${cpus().length} cores (${cpu}); medians\n`);
const width = Math.max(...results.map((r) => r.name.length));
for (const r of results) {
  const fmt = (v: number) => Math.round(v).toLocaleString('en');
  console.log(
    `${r.name.padEnd(width)}  ${fmt(r.median).padStart(12)} ${r.unit}  (min ${fmt(r.min)}, max ${fmt(r.max)})`,
  );
}
