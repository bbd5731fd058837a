/**
 * InfluxDB write throughput: points/s from `store.write()` until `flush()` resolves with every
 * point written, into a local InfluxDB 1.6.7 started for the benchmark (Debian's influxdb
 * package; skipped with a note when it is not installed). Points are the rollup's shape: traffic
 * points for 1,000 interfaces per interval, batched 5,000 per request as the adapter does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { InfluxStore } from '../storage/influx/influx-store.js';
import type { Point } from '../storage/store.js';
import { Influxd, influxdAvailable } from '../test/support/influxd.js';
import type { BenchResult } from './measure.js';

const POINTS = 100_000;
const RUNS = 3;

function points(run: number): Point[] {
  const out: Point[] = [];
  const base = Date.UTC(2024, 0, 1) + run * 86_400_000;
  for (let i = 0; i < POINTS; i++) {
    out.push({
      measurement: 'traffic',
      tags: {
        exporter: `10.0.${(i >> 8) & 3}.1`,
        ifIndex: String(i % 250),
        ifName: `xe-0/0/${i % 250}`,
        direction: i % 2 ? 'in' : 'out',
      },
      fields: { bytes: 1_000_000 + i, packets: 1000 + i, flows: 10 },
      time: base + Math.floor(i / 1000) * 60_000,
    });
  }
  return out;
}

export async function benchInflux(): Promise<BenchResult[]> {
  if (!influxdAvailable()) {
    console.log('influx write benchmark skipped: influxd is not installed (scripts/install-test-deps.sh)');
    return [];
  }
  const server = await Influxd.launch();
  const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-bench-'));
  const store = new InfluxStore({
    url: server.url,
    database: 'bench',
    dataDir,
    log: pino({ level: 'warn' }),
  });
  try {
    await store.start();
    const rates: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const batch = points(run);
      const before = store.stats.pointsWritten;
      const start = performance.now();
      store.write(batch);
      await store.flush();
      const seconds = (performance.now() - start) / 1000;
      if (store.stats.pointsWritten - before !== POINTS)
        throw new Error('not every benchmark point was written');
      rates.push(POINTS / seconds);
    }
    rates.sort((a, b) => a - b);
    return [
      {
        name: `InfluxDB 1.6.7 write (${POINTS.toLocaleString('en')} points, local)`,
        median: rates[Math.floor(RUNS / 2)]!,
        min: rates[0]!,
        max: rates[RUNS - 1]!,
        unit: 'points/s',
        runs: RUNS,
      },
    ];
  } finally {
    await store.stop();
    await server.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}
