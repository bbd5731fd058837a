/**
 * Which series a job reads, on the real embedded store: the busiest `maxSeries` only, chosen before
 * any series is read (a flood of spoofed exporters with random interface numbers once made a run
 * read every one of them, and held a stop of the service for 100 s), and none once stopping.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../storage/embedded/embedded-store.js';
import { MAX_INTERFACE_ROWS, type Point, type TrafficQuery } from '../../storage/store.js';
import { busiest, loadSeries } from './series.js';

const STEP = 300_000;
const END = Date.UTC(2024, 5, 11);
const START = END - 12 * STEP;
const INTERFACES = 300;

let dir: string;
let store: EmbeddedStore;
const reads: TrafficQuery[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowcast-series-'));
  store = new EmbeddedStore({ dataDir: dir, log: pino({ level: 'silent' }) });
  await store.start();
  const points: Point[] = [];
  for (let t = START; t < END; t += STEP) {
    for (let i = 1; i <= INTERFACES; i++) {
      // Interface i carries i kB per step inbound, nothing outbound: the busiest is the highest i.
      points.push({
        measurement: 'traffic',
        tags: { exporter: '192.0.2.1', ifIndex: String(i), ifName: `if${i}`, direction: 'in' },
        fields: { bytes: i * 1000, packets: 1, flows: 1 },
        time: t,
      });
    }
  }
  store.write(points);
  await store.flush();
  const traffic = store.traffic.bind(store);
  store.traffic = (q) => {
    reads.push(q);
    return traffic(q);
  };
});

afterAll(async () => {
  await store.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('loadSeries', () => {
  it('reads only the busiest maxSeries series, chosen from one aggregate', async () => {
    reads.length = 0;
    const series = await loadSeries(store, {
      now: END,
      from: START,
      stepSeconds: STEP / 1000,
      maxSeries: 5,
      totals: false,
    });
    expect(series.map((s) => s.key)).toEqual(
      [300, 299, 298, 297, 296].map((i) => `traffic/192.0.2.1/${i}/in`),
    );
    expect(reads).toHaveLength(5);
    // 11 complete steps before END (the newest bucket is still filling), i kB each, in bits per second.
    expect(series[0]!.values[0]).toBeCloseTo((300 * 1000 * 8) / (STEP / 1000));
  });

  it('asks the store for its busiest rows only, and names the series from them', async () => {
    const limits: number[] = [];
    const spied = Object.create(store) as EmbeddedStore;
    spied.interfaces = (q) => {
      limits.push(q.limit);
      return store.interfaces(q);
    };
    spied.interfaceTotals = (q) => {
      limits.push(q.limit);
      return store.interfaceTotals(q);
    };
    const options = { now: END, from: START, stepSeconds: STEP / 1000, totals: true };
    const series = await loadSeries(spied, { ...options, maxSeries: 3 });
    expect(limits).toEqual([MAX_INTERFACE_ROWS, MAX_INTERFACE_ROWS]);
    // The exporter's total first (the sum of every interface), then the busiest interfaces, named.
    expect(series.map((s) => [s.key, s.ifName])).toEqual([
      ['traffic/192.0.2.1/total/in', ''],
      ['traffic/192.0.2.1/300/in', 'if300'],
      ['traffic/192.0.2.1/299/in', 'if299'],
    ]);
    // A run that wants more series than the cap asks for that many rows.
    limits.length = 0;
    await loadSeries(spied, { ...options, maxSeries: MAX_INTERFACE_ROWS + 1 });
    expect(limits).toEqual([MAX_INTERFACE_ROWS + 1, MAX_INTERFACE_ROWS + 1]);
  });

  it('rests after every series read, not before the first', async () => {
    // The job's pace (pace.ts) runs between reads: the log holds each read and each rest in turn.
    const events: string[] = [];
    const spied = Object.create(store) as EmbeddedStore;
    spied.traffic = (q) => {
      events.push(`read ${q.ifIndex}`);
      return store.traffic(q);
    };
    const pace = async () => {
      events.push('rest');
    };
    const options = { now: END, from: START, stepSeconds: STEP / 1000, totals: false };
    await loadSeries(spied, { ...options, maxSeries: 3, pace });
    expect(events).toEqual(['read 300', 'rest', 'read 299', 'rest', 'read 298', 'rest']);
  });

  it('reads nothing once the service is stopping', async () => {
    reads.length = 0;
    const stopping = new AbortController();
    stopping.abort(new Error('the service is stopping'));
    await expect(
      loadSeries(store, {
        now: END,
        from: START,
        stepSeconds: STEP / 1000,
        maxSeries: 5,
        totals: true,
        signal: stopping.signal,
      }),
    ).rejects.toThrow('stopping');
    expect(reads).toHaveLength(0);
  });
});

describe('busiest', () => {
  it('chooses the same series as sorting every candidate, ties by key', async () => {
    const refs = Array.from({ length: 12_000 }, (_, i) => ({
      key: `traffic/10.0.0.${i % 50}/${i}/in`,
      exporter: `10.0.0.${i % 50}`,
      ifIndex: i,
      ifName: '',
      direction: 'in' as const,
    }));
    // Few distinct values, so that ties straddle the cut; some idle.
    const busy = new Map(refs.map((r, i) => [r.key, (i * 7919) % 13]));
    for (const max of [0, 1, 10, 37, 100, 499, 500, 1000]) {
      const expected = refs
        .filter((r) => busy.get(r.key)! > 0)
        .sort((a, b) => busy.get(b.key)! - busy.get(a.key)! || a.key.localeCompare(b.key))
        .slice(0, max);
      expect(await busiest(refs, busy, max), `max ${max}`).toEqual(expected);
    }
  });
});
