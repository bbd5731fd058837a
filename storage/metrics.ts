/** The store's Prometheus metrics (docs/internals.md), read from `store.stats` when scraped. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Store, StoreStats } from './store.js';

const COUNTERS: ReadonlyArray<[keyof StoreStats, string, string]> = [
  ['pointsWritten', 'flowcast_store_points_written_total', 'Points written to the database'],
  ['writeErrors', 'flowcast_store_write_errors_total', 'Failed write attempts (retried or spooled)'],
  [
    'rejected',
    'flowcast_store_points_rejected_total',
    'Points the database refused as malformed (not retried)',
  ],
  [
    'spoolDropped',
    'flowcast_store_spool_dropped_total',
    'Spooled points dropped because the spool was full (oldest first)',
  ],
];

export function registerStoreMetrics(registry: Registry, store: Store): void {
  for (const [key, name, help] of COUNTERS) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(store.stats[key]);
      },
    });
  }
  new Gauge({
    name: 'flowcast_store_spool_points',
    help: 'Points in the durable spool waiting to be written',
    registers: [registry],
    collect() {
      this.set(store.stats.spoolPoints);
    },
  });
}
