/**
 * Test support: `traffic` points of a daily sine, every 5 minutes for `days` days ending now, for
 * interfaces 1..`interfaces` of exporter 192.0.2.1, both directions: history for the analytics jobs
 * to fit. Interface i carries i Mb/s times (1.2 + sin) of the time of day.
 */
import type { Point, Store } from '../../storage/store.js';

const STEP = 300_000;
const DAY = 86_400_000;

export function sineTrafficHistory(days: number, interfaces: number, ifNamePrefix: string): Point[] {
  const end = Math.floor(Date.now() / STEP) * STEP;
  const points: Point[] = [];
  for (let t = end - days * DAY; t < end; t += STEP) {
    for (let i = 1; i <= interfaces; i++) {
      for (const direction of ['in', 'out'] as const) {
        const bps = 1e6 * i * (1.2 + Math.sin((2 * Math.PI * t) / DAY));
        points.push({
          measurement: 'traffic',
          tags: { exporter: '192.0.2.1', ifIndex: String(i), ifName: `${ifNamePrefix}${i}`, direction },
          fields: { bytes: BigInt(Math.round((bps * 300) / 8)), packets: 1n, flows: 1n },
          time: t,
        });
      }
    }
  }
  return points;
}

/** Points written per call of `writeHistory`: below every store's queue bound (200,000 points). */
const WRITE_CHUNK = 50_000;

/**
 * Writes `points` through `store` a chunk at a time, each flushed before the next: one write of
 * more than the store's queue bound drops the oldest points (counted, never thrown), and history
 * written so would hold less than it says. Throws if any point was dropped all the same.
 */
export async function writeHistory(store: Store, points: readonly Point[]): Promise<void> {
  const dropped = store.stats.spoolDropped;
  for (let i = 0; i < points.length; i += WRITE_CHUNK) {
    store.write(points.slice(i, i + WRITE_CHUNK));
    await store.flush();
  }
  if (store.stats.spoolDropped !== dropped) {
    throw new Error(
      `the store dropped ${store.stats.spoolDropped - dropped} of ${points.length} history points`,
    );
  }
}
