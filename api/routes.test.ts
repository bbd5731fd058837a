/** The route suite against both stores: the embedded DuckDB one, and a real influxd (1.6.7). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe } from 'vitest';
import { EmbeddedStore } from '../storage/embedded/embedded-store.js';
import { InfluxStore } from '../storage/influx/influx-store.js';
import { Influxd, influxdAvailable } from '../test/support/influxd.js';
import { routeSuite } from './routes.suite.js';

const log = pino({ level: 'silent' });

routeSuite('embedded (DuckDB)', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-api-'));
  // The fixture is dated 2024: keep it out of reach of retention.
  return {
    store: new EmbeddedStore({ dataDir, log, retentionDays: 100 * 365 }),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});

const hasInfluxd = influxdAvailable();

describe.skipIf(!hasInfluxd)('on InfluxDB 1.6.7', () => {
  let influxd: Influxd | undefined;
  beforeAll(async () => {
    influxd = await Influxd.launch();
  }, 40_000);
  afterAll(async () => {
    await influxd?.destroy();
  });
  routeSuite('InfluxDB', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-api-influx-'));
    return {
      store: new InfluxStore({ url: influxd!.url, database: 'flowcast_api', dataDir, log }),
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  });
});
