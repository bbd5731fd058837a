/**
 * The one contract every {@link Store} runs (STYLE.md 5): known points of every measurement of
 * docs/schema.md are written, then every read is checked against values computed by hand.
 *
 * What it pins down, for every adapter alike:
 * - `traffic` buckets start at multiples of the step since the Unix epoch (the first one may start
 *   before `from`, holding only points from `from` on); buckets without points are left out, since
 *   "no data" is not "no traffic"; samples come oldest first.
 * - `topTalkers` sums bytes and packets per address over the range, then ranks by bytes (then
 *   packets, then address); `protocols` sums per (protocol, service), largest bytes first.
 * - `exporters` comes from the `collector` measurement; `interfaces` from `traffic`, newest name
 *   of an (exporter, ifIndex) winning, `ifName` '' when none was written.
 * - `interfaces` and `interfaceTotals` keep the `limit` busiest (most bytes over the range), busiest
 *   first; the cases keep ties away from the cut, where each database breaks them its own way.
 * - Rows (`capacity`, `anomalies`, `rows`) flatten tags and fields: tags as strings, integers and
 *   floats as numbers; a tag or field a point did not have is absent or null.
 * - `write` never throws: a point whose values do not fit the schema is counted in `rejected`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toColumns } from './columns.js';
import type { Point, Row, Store } from './store.js';

/** A store under test and how to dispose of what it created. */
export interface ContractSubject {
  /** Not started yet: the contract calls `start()`. */
  store: Store;
  /** Removes the store's data; called after `stop()`. */
  cleanup(): Promise<void>;
}

const MIN = 60_000;
/** 2024-01-01T00:00:00Z: a multiple of every step used here. */
const T0 = Date.UTC(2024, 0, 1);
/** Forecasts are in the future. */
const FUTURE = Date.UTC(2100, 0, 1);
const HOUR = 60 * MIN;

const A = '192.0.2.1';
const B = '198.51.100.2';
const C = '203.0.113.9';
const RENAMED = 'eth 0, "uplink=core"';
const SCAN_MESSAGE = 'port scan from 10.0.0.9: 120 ports, "fast", C:\\tmp\nsecond line';

const k = (i: number) => T0 + i * MIN;
const point = (
  measurement: string,
  time: number,
  tags: Record<string, string>,
  fields: Record<string, number | bigint | string>,
): Point => ({ measurement, time, tags, fields });

function trafficPoints(): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < 6; i++) {
    const base = { exporter: A, ifIndex: '1', ifName: 'ge-0/0/1' };
    points.push(
      point(
        'traffic',
        k(i),
        { ...base, direction: 'in' },
        { bytes: 100 * (i + 1), packets: i + 1, flows: 1 },
      ),
    );
    points.push(
      point('traffic', k(i), { ...base, direction: 'out' }, { bytes: 10 * (i + 1), packets: 1, flows: 1 }),
    );
    if (i % 2 === 0) {
      const tags = { exporter: A, ifIndex: '2', ifName: 'ge-0/0/2', direction: 'in' };
      points.push(point('traffic', k(i), tags, { bytes: 1000, packets: 10, flows: 2 }));
    }
    const name = i < 5 ? 'eth0' : RENAMED;
    points.push(
      point(
        'traffic',
        k(i),
        { exporter: B, ifIndex: '1', ifName: name, direction: 'in' },
        { bytes: 5, packets: 1, flows: 1 },
      ),
    );
  }
  // A day later, counts past 2^32, and an interface without a name.
  points.push(
    point(
      'traffic',
      T0 + 24 * HOUR,
      { exporter: C, ifIndex: '7', direction: 'out' },
      { bytes: 2 ** 33 + 1, packets: 2n ** 32n + 7n, flows: 3 },
    ),
  );
  return points;
}

function talkerPoints(): Point[] {
  const talker = (
    time: number,
    exporter: string,
    side: string,
    rank: number,
    addr: string,
    bytes: number,
    packets: number,
  ) => point('top_talkers', time, { exporter, side, rank: String(rank) }, { addr, bytes, packets });
  return [
    talker(k(0), A, 'src', 1, '10.0.0.1', 500, 5),
    talker(k(0), A, 'src', 2, '10.0.0.2', 300, 3),
    talker(k(0), A, 'src', 3, '10.0.0.3', 100, 1),
    talker(k(1), A, 'src', 1, '10.0.0.2', 400, 4),
    talker(k(1), A, 'src', 2, '10.0.0.3', 350, 2),
    talker(k(1), A, 'src', 3, '10.0.0.4', 50, 1),
    talker(k(0), B, 'src', 1, '10.0.0.3', 1000, 10),
    talker(k(0), A, 'dst', 1, '192.168.1.1', 999, 9),
    talker(k(0), B, 'dst', 1, '2001:db8::1', 5, 1),
  ];
}

function otherPoints(): Point[] {
  const proto = (
    time: number,
    exporter: string,
    protocol: string,
    service: string,
    b: number,
    p: number,
    f: number,
  ) => point('traffic_protocol', time, { exporter, protocol, service }, { bytes: b, packets: p, flows: f });
  const forecast = (series: string, i: number) =>
    point(
      'forecast',
      FUTURE + i * HOUR,
      { series, model: 'linear' },
      {
        yhat: 10.5 + 0.75 * i,
        lower: 9.5 + 0.75 * i,
        upper: 11.5 + 0.75 * i,
        lower80: 10 + 0.75 * i,
        upper80: 11 + 0.75 * i,
      },
    );
  const collector = (time: number, exporter: string, version: string, packets: number | bigint) =>
    point(
      'collector',
      time,
      { exporter, version },
      {
        packets,
        records: 30,
        decodeErrors: 0,
        missingTemplates: 1,
        sequenceGaps: 0,
        dropped: 0,
      },
    );
  const capacity = (time: number, exporter: string, direction: string, capacityBps: number, days?: number) =>
    point(
      'capacity',
      time,
      { exporter, ifIndex: '1', direction },
      {
        capacityBps,
        p95Bps: capacityBps / 2,
        trendBpsPerDay: 1.5,
        probCongested: 0.25,
        ...(days === undefined ? {} : { daysToThreshold: days }),
      },
    );
  return [
    proto(k(0), A, 'tcp', 'https', 1000, 10, 5),
    proto(k(1), A, 'tcp', 'https', 2000, 20, 6),
    proto(k(0), A, 'udp', 'dns', 300, 3, 3),
    proto(k(0), B, 'tcp', 'https', 500, 5, 1),
    proto(k(1), A, 'other', 'other', 7, 1, 1),
    ...[0, 1, 2, 3].map((i) => forecast('traffic/192.0.2.1/1/in', i)),
    forecast('traffic/192.0.2.1/1/out', 1),
    ...[0, 1, 2, 3, 4, 5].map((i) => collector(k(i), A, '9', 100 + i)),
    ...[0, 1].map((i) => collector(k(i), B, '10', 7)),
    collector(k(2), B, '10', 2n ** 32n + 5n),
    capacity(T0, A, 'in', 1e9, 40),
    capacity(T0 + HOUR, A, 'in', 1e9, 12.5),
    capacity(T0, A, 'out', 1e9),
    capacity(T0 + HOUR / 2, B, 'in', 1e8, 3),
    point(
      'anomaly',
      k(1),
      { kind: 'scan', exporter: A },
      { score: 0.9, value: 120, expected: 10, message: SCAN_MESSAGE, subject: '10.0.0.9' },
    ),
    point(
      'anomaly',
      k(3),
      { kind: 'series', exporter: A, series: 'traffic/192.0.2.1/1/in' },
      {
        score: 4.5,
        value: 600,
        expected: 250,
        message: 'bytes above forecast',
        subject: 'traffic/192.0.2.1/1/in',
      },
    ),
    point(
      'anomaly',
      k(4),
      { kind: 'syn_flood', exporter: B },
      { score: 7, value: 50_000, expected: 20, message: 'SYN flood', subject: '198.51.100.77' },
    ),
    point(
      'flows',
      k(0),
      { exporter: A, protocol: 'tcp' },
      {
        srcAddr: '2001:db8::1',
        dstAddr: '10.0.0.1',
        srcPort: 443,
        dstPort: 50_123,
        bytes: 2n ** 40n,
        packets: 3,
      },
    ),
  ];
}

/** Rows without empty cells, keys sorted, rows ordered by time then content: comparable. */
function normalise(rows: readonly Row[]): Record<string, unknown>[] {
  return rows
    .map((row) =>
      Object.fromEntries(
        Object.entries(row)
          .filter(([, value]) => value !== null && value !== undefined)
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
    )
    .sort(
      (a, b) => Number(a['time']) - Number(b['time']) || JSON.stringify(a).localeCompare(JSON.stringify(b)),
    );
}

/** Runs the store contract against stores made by `make` (one store for the whole suite). */
export function storeContract(name: string, make: () => Promise<ContractSubject>): void {
  describe(`Store contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: Store;
    const written = [...trafficPoints(), ...talkerPoints(), ...otherPoints()];

    beforeAll(async () => {
      subject = await make();
      store = subject.store;
      await store.start();
      store.write(written);
      await store.flush();
    });
    afterAll(async () => {
      await store?.stop();
      await subject?.cleanup();
    });

    it('counts every point written', () => {
      expect(store.stats.pointsWritten).toBe(written.length);
      expect(store.stats.rejected).toBe(0);
      expect(store.stats.spoolPoints).toBe(0);
    });

    describe('traffic', () => {
      it('sums every series per step', async () => {
        expect(await store.traffic({ from: T0, to: k(6), stepSeconds: 120 })).toEqual([
          { time: k(0), bytes: 1340, packets: 17, flows: 8 },
          { time: k(2), bytes: 1780, packets: 21, flows: 8 },
          { time: k(4), bytes: 2220, packets: 25, flows: 8 },
        ]);
      });

      it('filters by exporter, ifIndex and direction', async () => {
        const samples = await store.traffic({
          from: T0,
          to: k(6),
          stepSeconds: 60,
          exporter: A,
          ifIndex: 1,
          direction: 'in',
        });
        expect(samples).toEqual(
          [0, 1, 2, 3, 4, 5].map((i) => ({ time: k(i), bytes: 100 * (i + 1), packets: i + 1, flows: 1 })),
        );
        expect(await store.traffic({ from: T0, to: k(6), stepSeconds: 180, direction: 'out' })).toEqual([
          { time: k(0), bytes: 60, packets: 3, flows: 3 },
          { time: k(3), bytes: 150, packets: 3, flows: 3 },
        ]);
        expect(await store.traffic({ from: T0, to: k(6), stepSeconds: 60, exporter: B })).toHaveLength(6);
        expect(await store.traffic({ from: T0, to: k(6), stepSeconds: 60, exporter: 'nobody' })).toEqual([]);
      });

      it('leaves out buckets without points', async () => {
        const samples = await store.traffic({
          from: T0,
          to: k(10),
          stepSeconds: 60,
          exporter: A,
          ifIndex: 2,
        });
        expect(samples).toEqual([0, 2, 4].map((i) => ({ time: k(i), bytes: 1000, packets: 10, flows: 2 })));
      });

      it('aligns buckets to the epoch and honours from (inclusive) and to (exclusive)', async () => {
        const q = { exporter: A, ifIndex: 1, direction: 'in' as const };
        expect(await store.traffic({ ...q, from: k(1), to: k(6), stepSeconds: 120 })).toEqual([
          { time: k(0), bytes: 200, packets: 2, flows: 1 },
          { time: k(2), bytes: 700, packets: 7, flows: 2 },
          { time: k(4), bytes: 1100, packets: 11, flows: 2 },
        ]);
        expect(
          (await store.traffic({ ...q, from: T0, to: k(3), stepSeconds: 60 })).map((s) => s.time),
        ).toEqual([k(0), k(1), k(2)]);
      });

      it('round-trips integers above 2^32', async () => {
        expect(
          await store.traffic({ from: T0 + 24 * HOUR, to: T0 + 25 * HOUR, stepSeconds: 3600, exporter: C }),
        ).toEqual([{ time: T0 + 24 * HOUR, bytes: 2 ** 33 + 1, packets: 2 ** 32 + 7, flows: 3 }]);
      });
    });

    describe('top talkers', () => {
      it('sums per address over the range, ranks by bytes and applies the limit', async () => {
        const range = { from: T0, to: k(6) };
        expect(await store.topTalkers({ ...range, side: 'src', limit: 10 })).toEqual([
          { addr: '10.0.0.3', bytes: 1450, packets: 13 },
          { addr: '10.0.0.2', bytes: 700, packets: 7 },
          { addr: '10.0.0.1', bytes: 500, packets: 5 },
          { addr: '10.0.0.4', bytes: 50, packets: 1 },
        ]);
        expect(await store.topTalkers({ ...range, side: 'src', limit: 2 })).toEqual([
          { addr: '10.0.0.3', bytes: 1450, packets: 13 },
          { addr: '10.0.0.2', bytes: 700, packets: 7 },
        ]);
      });

      it('filters by exporter, side and range', async () => {
        expect(await store.topTalkers({ from: T0, to: k(6), side: 'src', exporter: A, limit: 3 })).toEqual([
          { addr: '10.0.0.2', bytes: 700, packets: 7 },
          { addr: '10.0.0.1', bytes: 500, packets: 5 },
          { addr: '10.0.0.3', bytes: 450, packets: 3 },
        ]);
        expect(await store.topTalkers({ from: k(1), to: k(2), side: 'src', limit: 10 })).toEqual([
          { addr: '10.0.0.2', bytes: 400, packets: 4 },
          { addr: '10.0.0.3', bytes: 350, packets: 2 },
          { addr: '10.0.0.4', bytes: 50, packets: 1 },
        ]);
        expect(await store.topTalkers({ from: T0, to: k(6), side: 'dst', limit: 10 })).toEqual([
          { addr: '192.168.1.1', bytes: 999, packets: 9 },
          { addr: '2001:db8::1', bytes: 5, packets: 1 },
        ]);
      });
    });

    it('totals protocols per protocol and service, largest first', async () => {
      expect(await store.protocols({ from: T0, to: k(6) })).toEqual([
        { protocol: 'tcp', service: 'https', bytes: 3500, packets: 35, flows: 12 },
        { protocol: 'udp', service: 'dns', bytes: 300, packets: 3, flows: 3 },
        { protocol: 'other', service: 'other', bytes: 7, packets: 1, flows: 1 },
      ]);
      expect(await store.protocols({ from: T0, to: k(6), exporter: B })).toEqual([
        { protocol: 'tcp', service: 'https', bytes: 500, packets: 5, flows: 1 },
      ]);
      expect(await store.protocols({ from: k(1), to: k(2) })).toEqual([
        { protocol: 'tcp', service: 'https', bytes: 2000, packets: 20, flows: 6 },
        { protocol: 'other', service: 'other', bytes: 7, packets: 1, flows: 1 },
      ]);
    });

    it('sums traffic per interface and direction over a range', async () => {
      // By hand from trafficPoints(): A/1/in 100+200+…+600, A/1/out 10+…+60, A/2/in 3 × 1000, B/1/in 6 × 5.
      // Busiest first.
      expect(await store.interfaceTotals({ from: T0, to: k(6), limit: 100 })).toEqual([
        { exporter: A, ifIndex: 2, direction: 'in', bytes: 3000, packets: 30, flows: 6 },
        { exporter: A, ifIndex: 1, direction: 'in', bytes: 2100, packets: 21, flows: 6 },
        { exporter: A, ifIndex: 1, direction: 'out', bytes: 210, packets: 6, flows: 6 },
        { exporter: B, ifIndex: 1, direction: 'in', bytes: 30, packets: 6, flows: 6 },
      ]);
      expect(await store.interfaceTotals({ from: k(4), to: k(6), exporter: A, limit: 100 })).toEqual([
        { exporter: A, ifIndex: 1, direction: 'in', bytes: 1100, packets: 11, flows: 2 },
        { exporter: A, ifIndex: 2, direction: 'in', bytes: 1000, packets: 10, flows: 2 },
        { exporter: A, ifIndex: 1, direction: 'out', bytes: 110, packets: 2, flows: 2 },
      ]);
      expect(await store.interfaceTotals({ from: k(6), to: k(60), limit: 100 })).toEqual([]);
    });

    it('lists the series that have forecasts', async () => {
      expect(await store.forecastSeries()).toEqual(['traffic/192.0.2.1/1/in', 'traffic/192.0.2.1/1/out']);
    });

    it('lists exporters with the time of their last collector point', async () => {
      expect(await store.exporters()).toEqual([
        { exporter: A, lastSeen: k(5) },
        { exporter: B, lastSeen: k(2) },
      ]);
    });

    it('lists interfaces once each, with their newest name, busiest first', async () => {
      // Bytes over the whole history: C/7 2^33 + 1, A/2 3000, A/1 2100 + 210, B/1 30.
      expect(await store.interfaces({ limit: 100 })).toEqual([
        { exporter: C, ifIndex: 7, ifName: '' },
        { exporter: A, ifIndex: 2, ifName: 'ge-0/0/2' },
        { exporter: A, ifIndex: 1, ifName: 'ge-0/0/1' },
        { exporter: B, ifIndex: 1, ifName: RENAMED },
      ]);
      // Over a range: only what had traffic then, with its newest name in the range
      // (A/2 2000, A/1 1400 + 140, B/1 20).
      expect(await store.interfaces({ from: k(1), to: k(5), limit: 100 })).toEqual([
        { exporter: A, ifIndex: 2, ifName: 'ge-0/0/2' },
        { exporter: A, ifIndex: 1, ifName: 'ge-0/0/1' },
        { exporter: B, ifIndex: 1, ifName: 'eth0' },
      ]);
      expect(await store.interfaces({ from: T0 + 24 * HOUR, limit: 100 })).toEqual([
        { exporter: C, ifIndex: 7, ifName: '' },
      ]);
      // Of one exporter.
      expect(await store.interfaces({ exporter: B, limit: 100 })).toEqual([
        { exporter: B, ifIndex: 1, ifName: RENAMED },
      ]);
      expect(await store.interfaces({ from: k(1), to: k(5), exporter: A, limit: 1 })).toEqual([
        { exporter: A, ifIndex: 2, ifName: 'ge-0/0/2' },
      ]);
    });

    it('keeps only the busiest interfaces past a limit, ranked in the database', async () => {
      // Twelve interfaces of one exporter, two days on (out of every other case's ranges). Interface
      // i carries 20 × rank(i) bytes in and 20 × rank(i) + 7 out, where rank(i) = 5i mod 13 is a
      // permutation of 1..12 that is neither the ifIndex order nor its text order ('10' < '2').
      const D = '192.0.2.200';
      const W = T0 + 48 * HOUR;
      const rank = (i: number) => (5 * i) % 13;
      const points: Point[] = [];
      for (let i = 1; i <= 12; i++) {
        for (const [n, time] of [W, W + MIN].entries()) {
          // ifIndex 10 is renamed between its two points; ifIndex 2 has no name.
          const ifName = i === 10 ? (n === 0 ? 'old-10' : 'new-10') : `if-${i}`;
          const tags = { exporter: D, ifIndex: String(i), ...(i !== 2 && { ifName }) };
          points.push(
            point(
              'traffic',
              time,
              { ...tags, direction: 'in' },
              { bytes: 10 * rank(i), packets: 1, flows: 1 },
            ),
            point(
              'traffic',
              time,
              { ...tags, direction: 'out' },
              { bytes: 10 * rank(i) + (n === 0 ? 7 : 0), packets: 1, flows: 1 },
            ),
          );
        }
      }
      store.write(points);
      await store.flush();
      const range = { from: W, to: W + HOUR };
      // rank 12 is ifIndex 5, 11 is 10, 10 is 2, 9 is 7.
      expect(await store.interfaceTotals({ ...range, limit: 3 })).toEqual([
        { exporter: D, ifIndex: 5, direction: 'out', bytes: 247, packets: 2, flows: 2 },
        { exporter: D, ifIndex: 5, direction: 'in', bytes: 240, packets: 2, flows: 2 },
        { exporter: D, ifIndex: 10, direction: 'out', bytes: 227, packets: 2, flows: 2 },
      ]);
      expect(await store.interfaceTotals({ ...range, exporter: D, limit: 1 })).toEqual([
        { exporter: D, ifIndex: 5, direction: 'out', bytes: 247, packets: 2, flows: 2 },
      ]);
      const totals = await store.interfaceTotals({ ...range, limit: 100 });
      expect(totals).toHaveLength(24);
      expect(totals.map((t) => t.bytes)).toEqual([...totals.map((t) => t.bytes)].sort((a, b) => b - a));
      expect(await store.interfaces({ ...range, limit: 4 })).toEqual([
        { exporter: D, ifIndex: 5, ifName: 'if-5' },
        { exporter: D, ifIndex: 10, ifName: 'new-10' },
        { exporter: D, ifIndex: 2, ifName: '' },
        { exporter: D, ifIndex: 7, ifName: 'if-7' },
      ]);
      // Under the limit, every interface, busiest first.
      expect((await store.interfaces({ ...range, limit: 100 })).map((i) => i.ifIndex)).toEqual([
        5, 10, 2, 7, 12, 4, 9, 1, 6, 11, 3, 8,
      ]);
    });

    it('returns the forecast of one series, in a range or all of it', async () => {
      const sample = (i: number) => ({
        time: FUTURE + i * HOUR,
        yhat: 10.5 + 0.75 * i,
        lower: 9.5 + 0.75 * i,
        upper: 11.5 + 0.75 * i,
        lower80: 10 + 0.75 * i,
        upper80: 11 + 0.75 * i,
      });
      const series = 'traffic/192.0.2.1/1/in';
      expect(await store.forecasts({ series })).toEqual([0, 1, 2, 3].map(sample));
      expect(await store.forecasts({ series, from: FUTURE + HOUR, to: FUTURE + 3 * HOUR })).toEqual(
        [1, 2].map(sample),
      );
      expect(await store.forecasts({ series, from: FUTURE + 2 * HOUR })).toEqual([2, 3].map(sample));
      expect(await store.forecasts({ series: 'traffic/none/1/in' })).toEqual([]);
    });

    it('returns the latest capacity point per exporter, ifIndex and direction', async () => {
      const row = (
        time: number,
        exporter: string,
        direction: string,
        capacityBps: number,
        days?: number,
      ) => ({
        time,
        exporter,
        ifIndex: '1',
        direction,
        capacityBps,
        p95Bps: capacityBps / 2,
        trendBpsPerDay: 1.5,
        probCongested: 0.25,
        ...(days === undefined ? {} : { daysToThreshold: days }),
      });
      expect(normalise(await store.capacity())).toEqual(
        normalise([
          row(T0 + HOUR, A, 'in', 1e9, 12.5),
          row(T0, A, 'out', 1e9),
          row(T0 + HOUR / 2, B, 'in', 1e8, 3),
        ]),
      );
    });

    describe('anomalies', () => {
      const scan = {
        time: k(1),
        kind: 'scan',
        exporter: A,
        score: 0.9,
        value: 120,
        expected: 10,
        message: SCAN_MESSAGE,
        subject: '10.0.0.9',
      };

      it('returns the anomalies of a range, strings intact', async () => {
        const rows = normalise(await store.anomalies({ from: T0, to: k(6) }));
        expect(rows.map((r) => r['kind'])).toEqual(['scan', 'series', 'syn_flood']);
        expect(rows[0]).toEqual(normalise([scan])[0]);
        expect(rows[1]).toMatchObject({
          series: 'traffic/192.0.2.1/1/in',
          score: 4.5,
          value: 600,
          expected: 250,
        });
        expect((await store.anomalies({ from: k(2), to: k(6) })).map((r) => r['kind'])).toEqual([
          'series',
          'syn_flood',
        ]);
      });

      it('filters by kind', async () => {
        expect(normalise(await store.anomalies({ from: T0, to: k(6), kind: 'scan' }))).toEqual(
          normalise([scan]),
        );
        expect(await store.anomalies({ from: T0, to: k(6), kind: 'ddos' })).toEqual([]);
      });

      it('filters by exporter', async () => {
        expect((await store.anomalies({ from: T0, to: k(6), exporter: B })).map((r) => r['kind'])).toEqual([
          'syn_flood',
        ]);
        expect(
          (await store.anomalies({ from: T0, to: k(6), exporter: A, kind: 'scan' })).map((r) => r['subject']),
        ).toEqual(['10.0.0.9']);
      });
    });

    describe('rows', () => {
      it('returns the rows of a measurement in a range, tags as strings', async () => {
        const rows = normalise(await store.rows('traffic', { from: T0, to: k(1) }));
        expect(rows).toHaveLength(4);
        expect(rows).toContainEqual(
          normalise([
            {
              time: T0,
              exporter: A,
              ifIndex: '2',
              ifName: 'ge-0/0/2',
              direction: 'in',
              bytes: 1000,
              packets: 10,
              flows: 2,
            },
          ])[0],
        );
        expect(await store.rows('traffic', { from: k(6), to: k(60) })).toEqual([]);
        expect(await store.rows('no_such_measurement', { from: T0, to: k(6) })).toEqual([]);
      });

      it('round-trips collector counts above 2^32 and flow records', async () => {
        const collector = normalise(await store.rows('collector', { from: k(2), to: k(3) }));
        expect(collector).toContainEqual(
          normalise([
            {
              time: k(2),
              exporter: B,
              version: '10',
              packets: 2 ** 32 + 5,
              records: 30,
              decodeErrors: 0,
              missingTemplates: 1,
              sequenceGaps: 0,
              dropped: 0,
            },
          ])[0],
        );
        expect(normalise(await store.rows('flows', { from: T0, to: k(1) }))).toEqual(
          normalise([
            {
              time: T0,
              exporter: A,
              protocol: 'tcp',
              srcAddr: '2001:db8::1',
              dstAddr: '10.0.0.1',
              srcPort: 443,
              dstPort: 50_123,
              bytes: 2 ** 40,
              packets: 3,
            },
          ]),
        );
      });
    });

    it('counts a point that does not fit the schema instead of throwing', async () => {
      const rejected = store.stats.rejected;
      expect(() => store.write([point('traffic', k(30), { exporter: A }, { bytes: 'many' })])).not.toThrow();
      await store.flush();
      expect(store.stats.rejected).toBe(rejected + 1);
    });

    it('reads what was written as soon as flush resolves', async () => {
      const time = T0 + 2 * HOUR;
      for (let i = 0; i < 3; i++) {
        store.write([
          point(
            'traffic',
            time + i * MIN,
            { exporter: 'fresh', ifIndex: '1', direction: 'in' },
            { bytes: i + 1, packets: 1, flows: 1 },
          ),
        ]);
        await store.flush();
        expect(await store.rows('traffic', { from: time, to: time + HOUR })).toHaveLength(i + 1);
      }
    });

    it('stores points written as columns as it stores the same points as objects', async () => {
      const time = T0 + 5 * HOUR;
      const points = [
        point(
          'traffic',
          time,
          { exporter: 'cols', ifIndex: '3', direction: 'in' },
          { bytes: 2 ** 60, packets: 4, flows: 1 },
        ),
        point(
          'top_talkers',
          time,
          { exporter: 'cols', side: 'src', rank: '1' },
          { addr: '10.9.9.9', bytes: 7, packets: 1 },
        ),
        point(
          'traffic',
          time + MIN,
          { exporter: 'cols', ifIndex: '3', direction: 'in' },
          { bytes: 5, packets: 1, flows: 1 },
        ),
      ];
      const written = store.stats.pointsWritten;
      store.write(toColumns(points));
      await store.flush();
      expect(store.stats.pointsWritten).toBe(written + points.length);
      expect(normalise(await store.rows('top_talkers', { from: time, to: time + 1 }))).toEqual(
        normalise([
          { time, exporter: 'cols', side: 'src', rank: '1', addr: '10.9.9.9', bytes: 7, packets: 1 },
        ]),
      );
      expect(
        (await store.rows('traffic', { from: time, to: time + HOUR })).map((r) => [r['time'], r['bytes']]),
      ).toEqual([
        [time, 2 ** 60],
        [time + MIN, 5],
      ]);
    });

    it('replaces a point written again with the same series and time (InfluxDB semantics)', async () => {
      const time = T0 + 3 * HOUR;
      const tags = { exporter: 'again', ifIndex: '7', ifName: 'xe-0/0/7', direction: 'out' };
      store.write([point('traffic', time, tags, { bytes: 100, packets: 1, flows: 1 })]);
      await store.flush();
      // Written again (a window re-emitted after a restart, a spool segment replayed twice), and
      // twice in one batch: the last one stands.
      store.write([
        point('traffic', time, tags, { bytes: 250, packets: 2, flows: 2 }),
        point('traffic', time, tags, { bytes: 300, packets: 3, flows: 3 }),
      ]);
      await store.flush();
      const rows = await store.rows('traffic', { from: time, to: time + 1 });
      expect(rows.map((r) => [r['bytes'], r['packets'], r['flows']])).toEqual([[300, 3, 3]]);
    });

    it('finds a point by a tag value with a backslash or control characters, as it was written', async () => {
      const time = T0 + 4 * HOUR;
      const odd = { exporter: 'odd\\one', ifIndex: '9', ifName: 'tab\there', direction: 'in' };
      store.write([point('traffic', time, odd, { bytes: 9, packets: 1, flows: 1 })]);
      await store.flush();
      expect(
        await store.traffic({ from: time, to: time + MIN, stepSeconds: 60, exporter: 'odd\\one' }),
      ).toEqual([{ time, bytes: 9, packets: 1, flows: 1 }]);
    });

    it('treats injection attempts in every string a caller passes as plain values', async () => {
      const attempts = [
        "' OR '1'='1",
        "x' OR 1=1 --",
        '" OR ""="',
        "'; DROP TABLE traffic; --",
        'a\' ; DROP MEASUREMENT "traffic"; SELECT * FROM "traffic" WHERE \'a\'=\'a',
        "192.0.2.1' OR exporter =~ /.*/ --",
        "\\'",
      ];
      const range = { from: T0, to: k(6) };
      for (const bad of attempts) {
        expect(await store.traffic({ ...range, stepSeconds: 60, exporter: bad }), bad).toEqual([]);
        expect(await store.topTalkers({ ...range, side: 'src', exporter: bad, limit: 10 }), bad).toEqual([]);
        expect(await store.protocols({ ...range, exporter: bad }), bad).toEqual([]);
        expect(await store.interfaceTotals({ ...range, exporter: bad, limit: 10 }), bad).toEqual([]);
        expect(await store.interfaces({ ...range, exporter: bad, limit: 10 }), bad).toEqual([]);
        expect(await store.forecasts({ series: bad }), bad).toEqual([]);
        expect(await store.anomalies({ ...range, kind: bad }), bad).toEqual([]);
        expect(await store.anomalies({ ...range, exporter: bad }), bad).toEqual([]);
        expect(await store.rows(bad, range), bad).toEqual([]);
      }
      // Nothing was dropped or changed by any of them.
      expect(await store.traffic({ ...range, stepSeconds: 360 })).toEqual([
        { time: k(0), bytes: 5340, packets: 63, flows: 24 },
      ]);
      expect(await store.forecastSeries()).toHaveLength(2);
    });

    it('keeps the data across stop and start', async () => {
      await store.stop();
      await store.start();
      expect(await store.traffic({ from: T0, to: k(6), stepSeconds: 360 })).toEqual([
        { time: k(0), bytes: 5340, packets: 63, flows: 24 },
      ]);
      expect(await store.exporters()).toHaveLength(2);
    });
  });
}
