import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AnalyticsWorker } from '../analytics/jobs/worker-client.js';
import { ThreadStore } from '../storage/thread/thread-store.js';

const log = pino({ level: 'silent' });
const linux = process.platform === 'linux';

/** This process's threads by name: their nice values (field 19 of /proc/…/stat). */
function threads(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const id of readdirSync('/proc/self/task')) {
    try {
      const name = readFileSync(`/proc/self/task/${id}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8');
      const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      out.set(name, [...(out.get(name) ?? []), nice]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

describe.skipIf(!linux)('thread names and priorities', () => {
  it('names the store thread and the analytics worker and runs them below the receiving thread', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'flowcast-thread-'));
    const store = new ThreadStore({
      spec: { kind: 'embedded', options: { dataDir } },
      logLevel: 'silent',
      logFormat: 'json',
      log,
    });
    const analytics = new AnalyticsWorker(log);
    try {
      await store.start();
      await analytics.start();
      await analytics.run({ type: 'anomaly', series: [], threshold: 0.95, quietSamples: 1, maxSeries: 1 });
      const seen = threads();
      // Threads the store thread starts (DuckDB's) inherit its name and priority.
      expect(seen.get('flowcast-store')?.[0]).toBe(5);
      expect(new Set(seen.get('flowcast-store'))).toEqual(new Set([5]));
      expect(seen.get('flowcast-jobs')).toEqual([10]);
      // The engine's own threads keep the process's name and priority.
      expect(seen.get('node')?.every((nice) => nice === 0)).toBe(true);
      // This thread (the one that receives, in serve) keeps its priority.
      const self = readFileSync('/proc/thread-self/stat', 'utf8');
      expect(Number(self.slice(self.lastIndexOf(')') + 2).split(' ')[16])).toBe(0);
    } finally {
      await analytics.stop();
      await store.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
