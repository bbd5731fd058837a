/**
 * `npx tsx bench/window-handoff.ts objects|columns`: what one rollup interval of a thousand
 * exporters (49,000 points) costs the receiving thread when a decode worker hands it over, as
 * objects (2,000 a part, held until written, as before) or as columns (storage/columns.ts, 5,000
 * a part, turned back into points 500 at a time as the embedded store does). Prints that thread's
 * CPU time (from /proc), its GC pauses and its event loop's longest delay.
 *
 * On the shared 2-core VM (load about 4): objects 120-170 ms of CPU, GC 35-67 ms, event loop held
 * up to 122-237 ms; columns 30 ms, GC 10-21 ms, at most 10-13 ms.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startWorker } from '../common/worker.js';
import { ColumnsBuilder, type PointColumns, pointsOf, transferables } from '../storage/columns.js';
import type { Point } from '../storage/store.js';

function interval(): Point[] {
  const out: Point[] = [];
  const time = 1_700_000_040_000;
  for (let e = 0; e < 1000; e++) {
    const exporter = `10.64.${e >> 8}.${e & 255}`;
    for (let i = 0; i < 8; i++)
      for (const direction of ['in', 'out'])
        out.push({
          measurement: 'traffic',
          tags: { exporter, ifIndex: String(i), ifName: `ge-0/0/${i}`, direction },
          fields: { bytes: 123456 * i + e, packets: 1000 + i, flows: 10 },
          time,
        });
    for (let i = 0; i < 12; i++)
      out.push({
        measurement: 'traffic_protocol',
        tags: { exporter, protocol: 'tcp', service: `svc${i}` },
        fields: { bytes: 99999 + i, packets: 88, flows: 7 },
        time,
      });
    for (const side of ['src', 'dst'])
      for (let r = 1; r <= 10; r++)
        out.push({
          measurement: 'top_talkers',
          tags: { exporter, side, rank: String(r) },
          fields: { addr: `192.${e & 255}.${r}.${side === 'src' ? 1 : 2}`, bytes: 5000 - r, packets: 50 },
          time,
        });
    out.push({
      measurement: 'collector',
      tags: { exporter, version: '10' },
      fields: {
        packets: 50,
        records: 500,
        decodeErrors: 3,
        missingTemplates: 1,
        sequenceGaps: 0,
        dropped: 0,
      },
      time,
    });
  }
  return out;
}

const cpu = () => {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

if (isMainThread) {
  const mode = process.argv[2] as 'objects' | 'columns';
  const gcs: number[] = [];
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gcs.push(e.duration);
  }).observe({ entryTypes: ['gc'] });
  const w = startWorker(import.meta.url, './window-handoff', { workerData: mode });
  const held: (Point[] | PointColumns)[] = [];
  let longest = 0;
  let points = 0;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let c0 = 0;
  w.on('message', async (m: { t: string; v?: Point[] | PointColumns }) => {
    if (m.t === 'start') {
      c0 = cpu();
      return;
    }
    if (m.t === 'part') {
      const t = performance.now();
      held.push(m.v!);
      longest = Math.max(longest, performance.now() - t);
      return;
    }
    // "write": 500 points at a time, a yield between (as the store does), then drop.
    for (const b of held) {
      const n = Array.isArray(b) ? b.length : b.count;
      for (let s = 0; s < n; s += 500) {
        const slice = Array.isArray(b) ? b.slice(s, s + 500) : pointsOf(b, s, Math.min(n, s + 500));
        for (const p of slice) points += Object.keys(p.fields).length > 0 ? 1 : 0;
        await new Promise((r) => setImmediate(r));
      }
    }
    held.length = 0;
    h.disable();
    console.log(
      `${mode}: ${points} points; main thread CPU ${cpu() - c0} ms; GC ${gcs.length} pauses, ${gcs.reduce((a, b) => a + b, 0).toFixed(0)} ms, longest ${Math.max(0, ...gcs).toFixed(1)} ms; event-loop delay max ${(h.max / 1e6).toFixed(0)} ms`,
    );
    await w.terminate();
  });
} else {
  const mode = workerData as string;
  const all = interval();
  parentPort!.postMessage({ t: 'start' });
  await new Promise((r) => setTimeout(r, 200));
  if (mode === 'objects') {
    for (let s = 0; s < all.length; s += 2000) {
      parentPort!.postMessage({ t: 'part', v: all.slice(s, s + 2000) });
      await new Promise((r) => setImmediate(r));
    }
  } else {
    const b = new ColumnsBuilder();
    for (const p of all) {
      b.add(p);
      if (b.count >= 5000) {
        const c = b.take();
        parentPort!.postMessage({ t: 'part', v: c }, transferables(c));
        await new Promise((r) => setImmediate(r));
      }
    }
    const c = b.take();
    parentPort!.postMessage({ t: 'part', v: c }, transferables(c));
  }
  parentPort!.postMessage({ t: 'end' });
}
