/**
 * `flowcast forecast`: runs every analytics job once against the configured store (forecast, then
 * capacity, which reads the forecasts, then anomaly) and prints a summary; exit status 1 when a job
 * failed.
 */
import { resolve } from 'node:path';
import { schedulerConfig } from '../analytics/jobs/config.js';
import { AnalyticsScheduler, JOB_NAMES } from '../analytics/jobs/scheduler.js';
import type { Logger } from '../common/logger.js';
import type { Config } from './config.js';
import { buildStore } from './serve.js';

export async function forecastOnce(
  config: Config,
  log: Logger,
  out: (line: string) => void,
): Promise<boolean> {
  const store = buildStore(config, resolve(config.storage.dataDir), log);
  const scheduled = schedulerConfig(config.analytics, config.storage.rollupInterval);
  // Nothing else runs in this process: the jobs go flat out (no rests, pace.ts).
  const scheduler = new AnalyticsScheduler(
    { ...scheduled, enabled: false, settings: { ...scheduled.settings, dutyCycle: 1 } },
    { store, log: log.child({ component: 'analytics' }) },
  );
  let ok = true;
  await store.start();
  try {
    await scheduler.start();
    for (const name of JOB_NAMES) {
      const started = Date.now();
      try {
        const r = await scheduler.run(name);
        out(
          `${name.padEnd(9)} ok     ${String(r.series).padStart(5)} series  ${String(r.points).padStart(8)} points  ${((Date.now() - started) / 1000).toFixed(1)} s  ${r.detail}${r.failed > 0 ? `; ${r.failed} failed` : ''}`,
        );
      } catch (err) {
        ok = false;
        out(`${name.padEnd(9)} error  ${(err as Error).message}`);
      }
    }
  } finally {
    await scheduler.stop();
    await store.stop();
  }
  return ok;
}
