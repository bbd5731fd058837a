/**
 * Dashboards are code: every query of every provisioned Grafana dashboard (panels and template
 * variables) runs against a real InfluxDB holding what the rollup writes, and returns data. Grafana's
 * macros are expanded as Grafana would for a one-hour range.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowRecord } from '../collector/flow.js';
import { Rollup } from '../collector/rollup.js';
import { InfluxStore } from '../storage/influx/influx-store.js';
import type { Point } from '../storage/store.js';
import { Influxd, influxdAvailable } from './support/influxd.js';
import { requireTool } from './support/tools.js';

const hasInfluxd = requireTool('influxd', influxdAvailable());
const DASHBOARDS = join(import.meta.dirname, '..', 'grafana', 'dashboards');
const DATABASE = 'flowcast';
const T0 = Date.UTC(2024, 0, 1, 12);
const MIN = 60_000;

interface Query {
  where: string;
  query: string;
}

/** Every InfluxQL query in a dashboard: panel targets and query variables. */
function queriesOf(file: string): Query[] {
  const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as {
    panels?: { title?: string; targets?: { query?: string }[] }[];
    templating?: { list?: { name?: string; type?: string; query?: string }[] };
  };
  const out: Query[] = [];
  for (const panel of dashboard.panels ?? []) {
    for (const target of panel.targets ?? []) {
      if (target.query !== undefined)
        out.push({ where: `${file}: panel "${panel.title}"`, query: target.query });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type === 'query' && variable.query !== undefined) {
      out.push({ where: `${file}: variable $${variable.name}`, query: variable.query });
    }
  }
  return out;
}

/** Grafana's expansion of its macros and of the `exporter` variable set to All. */
function expand(query: string): string {
  return query
    .replaceAll('$timeFilter', `time >= ${T0 - 30 * MIN}ms AND time <= ${T0 + 30 * MIN}ms`)
    .replaceAll('$__interval_ms', '60000')
    .replaceAll('$__interval', '1m')
    .replaceAll('$exporter', '.*');
}

/** What the rollup writes for a little traffic from two exporters over a few minutes. */
function rollupPoints(): Point[] {
  const points: Point[] = [];
  const rollup = new Rollup(
    { intervalMs: MIN },
    {
      sink: (p) => points.push(...p),
      interfaceName: (_exporter, ifIndex) => `xe-0/0/${ifIndex}`,
      collectorCounters: () => [
        {
          exporter: '192.0.2.1',
          version: 9,
          packets: 40,
          records: 400,
          decodeErrors: 1,
          missingTemplates: 0,
          sequenceGaps: 2,
          dropped: 0,
        },
      ],
    },
  );
  const records: FlowRecord[] = [];
  for (let i = 0; i < 200; i++) {
    const r = new FlowRecord(i % 2 ? '192.0.2.1' : '192.0.2.2', 9, 0);
    r.srcAddr = `10.0.0.${i % 7}`;
    r.dstAddr = `198.51.100.${i % 5}`;
    r.srcPort = 40_000 + i;
    r.dstPort = [443, 53, 22][i % 3]!;
    r.protocol = i % 3 === 1 ? 17 : 6;
    r.bytes = 1000 + i;
    r.packets = 1 + (i % 4);
    r.inIf = 1 + (i % 3);
    r.outIf = 10;
    r.end = T0 + (i % 5) * MIN;
    records.push(r);
  }
  rollup.flush(T0);
  rollup.ingest(records, T0 + 4 * MIN);
  rollup.flush(T0 + 2 * MIN);
  rollup.close(T0 + 5 * MIN);
  return points;
}

describe.skipIf(!hasInfluxd)('Grafana dashboards', () => {
  let influxd: Influxd;
  let dataDir = '';

  beforeAll(async () => {
    influxd = await Influxd.launch();
    dataDir = await mkdtemp(join(tmpdir(), 'flowcast-dashboards-'));
    const store = new InfluxStore({
      url: influxd.url,
      database: DATABASE,
      dataDir,
      log: pino({ level: 'silent' }),
    });
    await store.start();
    store.write(rollupPoints());
    await store.flush();
    await store.stop();
    expect(store.stats.rejected).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await influxd?.destroy();
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });

  const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
  it('there are dashboards to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files.flatMap((file) => queriesOf(file)))('$where runs and returns data', async ({ query }) => {
    const answer = await influxd.query(DATABASE, expand(query));
    expect(answer.error).toBeUndefined();
    const result = answer.results?.[0];
    expect(result?.error).toBeUndefined();
    expect(result?.series?.length ?? 0).toBeGreaterThan(0);
  });
});
