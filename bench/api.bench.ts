/**
 * HTTP API answers per second, one client issuing requests back to back over loopback, on the
 * embedded store holding a day of one-minute traffic for 20 interfaces (57,600 points) and a
 * 500-row capacity table. `/api/v1/health` is the reference: the cost of express, helmet, the rate
 * limiter and a store probe; the others add a store query and their answer's size.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { HttpServer } from '../api/server.js';
import { EmbeddedStore } from '../storage/embedded/embedded-store.js';
import type { Point } from '../storage/store.js';
import type { BenchResult } from './measure.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

function fixture(): Point[] {
  const points: Point[] = [];
  for (let minute = 0; minute < 1440; minute++) {
    for (let i = 0; i < 20; i++) {
      for (const direction of ['in', 'out']) {
        points.push({
          measurement: 'traffic',
          time: T0 + minute * 60_000,
          tags: { exporter: '192.0.2.1', ifIndex: String(i), ifName: `xe-0/0/${i}`, direction },
          fields: { bytes: 1e9 + minute, packets: 1e6, flows: 100 },
        });
      }
    }
  }
  points.push({
    measurement: 'collector',
    time: T0,
    tags: { exporter: '192.0.2.1', version: '9' },
    fields: { packets: 1, records: 1, decodeErrors: 0, missingTemplates: 0, sequenceGaps: 0, dropped: 0 },
  });
  for (let i = 0; i < 250; i++) {
    for (const direction of ['in', 'out']) {
      points.push({
        measurement: 'capacity',
        time: T0 + DAY,
        tags: { exporter: '192.0.2.1', ifIndex: String(i), direction },
        fields: {
          capacityBps: 1e10,
          p95Bps: 1e9 + i,
          trendBpsPerDay: 1e6,
          daysToThreshold: i,
          probCongested: 0.1,
        },
      });
    }
  }
  return points;
}

/** Sequential requests to `path` for `ms`, `runs` times: the median rate. */
async function requests(
  name: string,
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<BenchResult> {
  const one = async () => {
    const res = await fetch(`${base}${path}`, { headers });
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    await res.arrayBuffer();
  };
  for (let i = 0; i < 20; i++) await one();
  const rates: number[] = [];
  for (let run = 0; run < 5; run++) {
    let done = 0;
    const start = performance.now();
    while (performance.now() - start < 1000) {
      await one();
      done++;
    }
    rates.push(done / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return { name, median: rates[2]!, min: rates[0]!, max: rates[4]!, unit: 'requests/s', runs: 5 };
}

export async function benchApi(): Promise<BenchResult[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-bench-api-'));
  const log = pino({ level: 'warn' });
  const store = new EmbeddedStore({ dataDir, log, retentionDays: 100 * 365 });
  await store.start();
  store.write(fixture());
  await store.flush();
  const server = new HttpServer(
    { bind: '127.0.0.1', port: 0, rateLimitPerMinute: 0 },
    { store, metrics: new Registry(), log, now: () => T0 + DAY },
  );
  await server.start();
  const base = `http://127.0.0.1:${server.port}`;
  try {
    return [
      await requests('api: GET /api/v1/health (reference)', base, '/api/v1/health'),
      await requests('api: GET /api/v1/traffic, 1 day, 720 samples', base, '/api/v1/traffic?from=-24h'),
      await requests(
        'api: GET /api/v1/traffic, 1 interface, 1440 samples',
        base,
        '/api/v1/traffic?from=-24h&exporter=192.0.2.1&ifIndex=3&direction=in&step=60',
      ),
      await requests('api: GET /api/v1/capacity (500 rows) as CSV', base, '/api/v1/capacity?format=csv'),
      await requests('api: GET /api/v1/interfaces, last hour', base, '/api/v1/interfaces?from=-1h'),
    ];
  } finally {
    await server.stop();
    await store.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
