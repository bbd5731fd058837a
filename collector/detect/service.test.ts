import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Point } from '../../storage/store.js';
import { FlowRecord } from '../decode/flow.js';
import { DEFAULT_DETECTOR_OPTIONS } from './detector.js';
import { DetectionService } from './service.js';

const SYN = 0x02;
const T0 = 1_700_000_000_000;

function synFlows(n: number, dst: number): FlowRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const r = new FlowRecord('192.0.2.9', 9, 0);
    r.srcAddr4 = 0xc633_6400 + (i % 100);
    r.dstAddr4 = dst;
    r.protocol = 6;
    r.tcpFlags = SYN;
    r.srcPort = 1024 + i;
    r.dstPort = 443;
    r.packets = 1;
    r.bytes = 60;
    return r;
  });
}

function service(points: Point[]) {
  return new DetectionService(
    {
      tickMs: 5000,
      checkMs: 1000,
      detector: { ...DEFAULT_DETECTOR_OPTIONS, defaultThresholds: { synPps: 1000 } },
      episodes: { endAfterMs: 10_000, updateEveryMs: 60_000, maxEpisodes: 100 },
    },
    { log: pino({ level: 'silent' }), write: (p) => points.push(...p), sinks: [], metrics: new Registry() },
  );
}

describe('DetectionService', () => {
  it('reports a strong flood at the first check where the window so far proves it, then ends it', () => {
    const points: Point[] = [];
    const s = service(points);
    const events: string[] = [];
    // 4000 SYN/s from T0 + 200 ms for 20 s, checks every second, windows of 5 s from T0.
    for (let t = 1; t <= 40; t++) {
      const now = T0 + t * 1000;
      if (t <= 20) s.detector.ingest(synFlows(4000, 0x0a00_0001), now - 800);
      for (const e of s.tick(now)) events.push(`${(e.time - T0) / 1000}:${e.state}`);
    }
    // At the check of 2 s, 8000 SYN over a 5 s window is 1600/s > 1000: reported 1.8 s after the
    // start, where the window's close at 5 s would have said so at 5 s. The last flood arrives at
    // 19.2 s and the window closed at 20 s still holds it; 10 s later, at 30 s, it ends.
    expect(events).toEqual(['2:start', '30:end']);
    expect(points.map((p) => [p.fields['state'], p.tags['kind'], p.fields['subject']])).toEqual([
      ['start', 'syn_flood', '10.0.0.1'],
      ['end', 'syn_flood', '10.0.0.1'],
    ]);
    // The peak comes from a closed window: 4000 SYN/s.
    expect(points[1]!.fields['value']).toBe(4000);
  });

  it('reports nothing early that the closed window would not report', () => {
    const points: Point[] = [];
    const s = service(points);
    // 900 SYN/s: under 1000 for every check and for the window.
    const all = [];
    for (let t = 1; t <= 10; t++) {
      s.detector.ingest(synFlows(900, 0x0a00_0002), T0 + t * 1000 - 500);
      all.push(...s.tick(T0 + t * 1000));
    }
    expect(all).toEqual([]);
    expect(points).toEqual([]);
  });
});
