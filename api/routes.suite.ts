/**
 * The API's route suite, run against every store (like storage/store.contract.ts): known points are
 * written through the store, a real FlowState learns a real v9 template, and every route is read
 * over HTTP from a real HttpServer on loopback. Expected values are worked out by hand from the
 * points below (comments show the sums), never copied from an answer.
 */

import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobControl, JobStatus } from '../analytics/job-status.js';
import { decodeDatagram } from '../collector/decode/decode.js';
import type { DecodedRecord } from '../collector/decode/flow.js';
import { ElementRegistry } from '../collector/decode/ie/registry.js';
import { FlowState } from '../collector/decode/state.js';
import { localView } from '../collector/decode/view.js';
import type { Point, Store } from '../storage/store.js';
import { v9Datagram } from '../test/support/encoder.js';
import { HttpServer } from './server.js';

/** A store under test and how to dispose of what it created. */
export interface RouteSubject {
  /** Not started yet. */
  store: Store;
  cleanup(): Promise<void>;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2024, 0, 1);
/** The API's clock: one day after T0. */
const NOW = T0 + 24 * HOUR;
const k = (i: number) => T0 + i * MIN;
const A = '192.0.2.1';
const B = '198.51.100.2';
const V6 = '2001:db8::1';
const FORMULA_MESSAGE = '=HYPERLINK("http://evil.example/")';

const point = (
  measurement: string,
  time: number,
  tags: Record<string, string>,
  fields: Record<string, number | string>,
): Point => ({ measurement, time, tags, fields });

function fixture(): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < 6; i++) {
    const a1 = { exporter: A, ifIndex: '1', ifName: 'GigabitEthernet0/0/1' };
    points.push(
      point('traffic', k(i), { ...a1, direction: 'in' }, { bytes: 600_000, packets: 100, flows: 1 }),
    );
    points.push(
      point('traffic', k(i), { ...a1, direction: 'out' }, { bytes: 60_000, packets: 50, flows: 1 }),
    );
    if (i % 2 === 0) {
      const a2 = { exporter: A, ifIndex: '2', ifName: 'xe-0/0/2', direction: 'in' };
      points.push(point('traffic', k(i), a2, { bytes: 1_200_000, packets: 10, flows: 1 }));
    }
    const b1 = { exporter: B, ifIndex: '1', ifName: 'eth0', direction: 'in' };
    points.push(point('traffic', k(i), b1, { bytes: 6000, packets: 6, flows: 1 }));
    points.push(
      point(
        'collector',
        k(i),
        { exporter: A, version: '9' },
        { packets: 1, records: 1, decodeErrors: 0, missingTemplates: 0, sequenceGaps: 0, dropped: 0 },
      ),
    );
  }
  for (const i of [0, 1, 2]) {
    points.push(
      point(
        'collector',
        k(i),
        { exporter: B, version: '10' },
        { packets: 1, records: 1, decodeErrors: 0, missingTemplates: 0, sequenceGaps: 0, dropped: 0 },
      ),
    );
  }
  const talker = (time: number, exporter: string, side: string, rank: number, addr: string, bytes: number) =>
    point('top_talkers', time, { exporter, side, rank: String(rank) }, { addr, bytes, packets: bytes / 100 });
  points.push(
    talker(k(0), A, 'src', 1, '10.0.0.1', 500),
    talker(k(0), A, 'src', 2, '10.0.0.2', 300),
    talker(k(1), A, 'src', 1, '10.0.0.2', 400),
    talker(k(0), B, 'src', 1, '10.0.0.3', 1000),
    talker(k(0), A, 'dst', 1, V6, 900),
  );
  const proto = (time: number, exporter: string, protocol: string, service: string, bytes: number) =>
    point(
      'traffic_protocol',
      time,
      { exporter, protocol, service },
      { bytes, packets: bytes / 100, flows: 1 },
    );
  points.push(
    proto(k(0), A, 'tcp', 'https', 3000),
    proto(k(1), A, 'tcp', 'https', 3000),
    proto(k(0), A, 'udp', 'dns', 1000),
    proto(k(0), B, 'tcp', 'https', 3000),
  );
  for (let i = 0; i < 4; i++) {
    points.push(
      point(
        'forecast',
        NOW + i * HOUR,
        { series: `traffic/${A}/1/in`, model: 'linear' },
        { yhat: 100 + i, lower: 90 + i, upper: 110 + i, lower80: 95 + i, upper80: 105 + i },
      ),
    );
  }
  points.push(
    point(
      'forecast',
      NOW,
      { series: `traffic/${V6}/total/out`, model: 'linear' },
      { yhat: 1, lower: 0, upper: 2 },
    ),
  );
  const capacity = (
    exporter: string,
    ifIndex: string,
    direction: string,
    fields: Record<string, number | string>,
  ) => point('capacity', NOW - HOUR, { exporter, ifIndex, direction }, fields);
  points.push(
    capacity(A, '1', 'in', {
      capacityBps: 1e6,
      p95Bps: 5e5,
      trendBpsPerDay: 1000,
      daysToThreshold: 12.5,
      probCongested: 0.25,
      threshold: 0.07,
    }),
    capacity(A, '1', 'out', { capacityBps: 1e6, p95Bps: 1e5, trendBpsPerDay: 10, probCongested: 0.01 }),
    capacity(B, '9', 'in', {
      capacityBps: 1e8,
      p95Bps: 9e7,
      trendBpsPerDay: 5e5,
      daysToThreshold: 3,
      threshold: 0.8,
      probCongested: 0.5,
      probCongested30d: 0.5,
      probCongested7d: 0.2,
      note: 'capacity configured',
    }),
  );
  const anomaly = (time: number, tags: Record<string, string>, message: string) =>
    point('anomaly', time, tags, {
      score: 5,
      value: 10,
      expected: 1,
      message,
      subject: '10.0.0.9',
      state: 'start',
    });
  points.push(
    anomaly(NOW - 30 * MIN, { kind: 'scan', exporter: A }, 'port scan'),
    anomaly(NOW - 10 * MIN, { kind: 'series', exporter: A, series: `traffic/${A}/1/in` }, FORMULA_MESSAGE),
    anomaly(NOW - 2 * HOUR, { kind: 'syn_flood', exporter: B }, 'SYN flood'),
  );
  return points;
}

/** Exporter A as the collector sees it: one v9 datagram with a template and a record. */
function liveState(): FlowState {
  const state = new FlowState(new ElementRegistry(), { sampling: new Map([[A, { default: 100 }]]) });
  const fields = [
    { id: 8, length: 4 },
    { id: 12, length: 4 },
    { id: 1, length: 4 },
    { id: 2, length: 4 },
    { id: 10, length: 2 },
    { id: 14, length: 2 },
    { id: 4, length: 1 },
  ];
  const datagram = v9Datagram({
    unixSecs: NOW / 1000,
    sysUptime: 10_000,
    sourceId: 7,
    flowsets: [
      { kind: 'template', templates: [{ id: 256, fields }] },
      { kind: 'data', id: 256, fields, records: [['10.0.0.1', '10.0.0.2', 1500, 3, 1, 2, 6]] },
    ],
  });
  const out: DecodedRecord[] = [];
  decodeDatagram(state, datagram, { address: A, port: 2055 }, NOW, out);
  if (out.length !== 1) throw new Error(`the fixture datagram decoded to ${out.length} records`);
  return state;
}

/** A JobControl with two jobs, for the jobs routes (the scheduler itself lives in analytics/). */
class TwoJobs implements JobControl {
  running = new Set<string>(['anomaly']);
  list(): JobStatus[] {
    return [
      {
        name: 'forecast',
        schedule: '0 * * * *',
        enabled: true,
        running: this.running.has('forecast'),
        lastStart: NOW - HOUR,
        lastResult: 'ok',
      },
      { name: 'anomaly', schedule: '*/5 * * * *', enabled: true, running: this.running.has('anomaly') },
    ];
  }
  trigger(name: string): 'started' | 'running' | 'unknown' {
    if (name !== 'forecast' && name !== 'anomaly') return 'unknown';
    if (this.running.has(name)) return 'running';
    this.running.add(name);
    return 'started';
  }
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
  json: any;
}

export async function request(base: string, path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const q = (params: Record<string, string | number>) =>
  new URLSearchParams(
    Object.entries(params).map(([key, v]): [string, string] => [key, String(v)]),
  ).toString();
const iso = (ms: number) => new Date(ms).toISOString();

/** Runs the route suite against stores made by `make`. */
export function routeSuite(name: string, make: () => Promise<RouteSubject>): void {
  describe(`API routes: ${name}`, () => {
    let subject: RouteSubject;
    let server: HttpServer;
    let base = '';
    const jobs = new TwoJobs();
    const get = (path: string, init?: RequestInit) => request(base, path, init);

    beforeAll(async () => {
      subject = await make();
      await subject.store.start();
      subject.store.write(fixture());
      await subject.store.flush();
      expect(subject.store.stats.rejected).toBe(0);
      server = new HttpServer(
        {
          bind: '127.0.0.1',
          port: 0,
          rateLimitPerMinute: 0,
          validateResponses: true,
          rollupIntervalSeconds: 60,
        },
        {
          store: subject.store,
          collector: localView(liveState()),
          jobs,
          metrics: new Registry(),
          log: pino({ level: 'silent' }),
          now: () => NOW,
        },
      );
      await server.start();
      base = `http://127.0.0.1:${server.port}`;
    });
    afterAll(async () => {
      await server?.stop();
      await subject?.store.stop();
      await subject?.cleanup();
    });

    describe('traffic', () => {
      it('sums every series per step, with bits and packets per second', async () => {
        // Per 120 s bucket: A/1/in 2 × 600,000 + A/1/out 2 × 60,000 + A/2/in 1,200,000 + B/1/in 2 × 6000.
        const r = await get(`/api/v1/traffic?${q({ from: iso(k(0)), to: k(6) / 1000, step: 120 })}`);
        expect(r.status).toBe(200);
        const bucket = (i: number) => ({
          time: iso(k(i)),
          bytes: 2_532_000,
          packets: 322,
          flows: 7,
          bps: (2_532_000 * 8) / 120,
          pps: 322 / 120,
        });
        expect(r.json).toEqual({ from: iso(k(0)), to: iso(k(6)), step: 120, samples: [0, 2, 4].map(bucket) });
      });

      it('filters by exporter, ifIndex and direction; relative times count back from now', async () => {
        const r = await get(
          `/api/v1/traffic?${q({ exporter: A, ifIndex: 1, direction: 'in', from: '-24h', to: '-1434m' })}`,
        );
        expect(r.status).toBe(200);
        // -24h is k(0), -1434m is k(6); the default step is the rollup interval (60 s).
        expect(r.json.step).toBe(60);
        expect(r.json.samples).toEqual(
          [0, 1, 2, 3, 4, 5].map((i) => ({
            time: iso(k(i)),
            bytes: 600_000,
            packets: 100,
            flows: 1,
            bps: 80_000,
            pps: 100 / 60,
          })),
        );
      });

      it('answers CSV for Accept: text/csv and format=csv', async () => {
        const path = `/api/v1/traffic?${q({ exporter: B, from: iso(k(0)), to: iso(k(2)) })}`;
        const expected = `time,bytes,packets,flows,bps,pps\r\n${iso(k(0))},6000,6,1,800,0.1\r\n${iso(k(1))},6000,6,1,800,0.1\r\n`;
        const byAccept = await get(path, { headers: { accept: 'text/csv' } });
        expect(byAccept.status).toBe(200);
        expect(byAccept.headers.get('content-type')).toBe('text/csv; charset=utf-8');
        expect(byAccept.text).toBe(expected);
        expect((await get(`${path}&format=csv`)).text).toBe(expected);
        expect((await get(path, { headers: { accept: 'image/png' } })).json.error.code).toBe(
          'not_acceptable',
        );
      });
    });

    it('ranks top talkers over the range, with bits per second', async () => {
      const r = await get(`/api/v1/top?${q({ from: iso(k(0)), to: iso(k(6)) })}`);
      expect(r.status).toBe(200);
      // 10.0.0.3: 1000; 10.0.0.2: 300 + 400; 10.0.0.1: 500. 360 s.
      expect(r.json.talkers).toEqual([
        { rank: 1, addr: '10.0.0.3', bytes: 1000, packets: 10, bps: 8000 / 360 },
        { rank: 2, addr: '10.0.0.2', bytes: 700, packets: 7, bps: 5600 / 360 },
        { rank: 3, addr: '10.0.0.1', bytes: 500, packets: 5, bps: 4000 / 360 },
      ]);
      const dst = await get(
        `/api/v1/top?${q({ side: 'dst', exporter: A, limit: 1, from: iso(k(0)), to: iso(k(6)) })}`,
      );
      expect(dst.json.talkers).toEqual([{ rank: 1, addr: V6, bytes: 900, packets: 9, bps: 7200 / 360 }]);
    });

    it('totals protocols with their share of the bytes', async () => {
      const r = await get(`/api/v1/protocols?${q({ from: iso(k(0)), to: iso(k(6)) })}`);
      // tcp/https 3000 + 3000 + 3000, udp/dns 1000: 10,000 bytes in all.
      expect(r.json.protocols).toEqual([
        { protocol: 'tcp', service: 'https', bytes: 9000, packets: 90, flows: 3, share: 0.9 },
        { protocol: 'udp', service: 'dns', bytes: 1000, packets: 10, flows: 1, share: 0.1 },
      ]);
      const b = await get(
        `/api/v1/protocols?${q({ exporter: B, from: iso(k(0)), to: iso(k(6)), format: 'csv' })}`,
      );
      expect(b.text).toBe('protocol,service,bytes,packets,flows,share\r\ntcp,https,3000,30,1,1\r\n');
    });

    it('lists interfaces with capacity, its source and utilisation, busiest first', async () => {
      const r = await get(`/api/v1/interfaces?${q({ from: iso(k(0)), to: iso(k(6)), sort: 'utilisation' })}`);
      expect(r.status).toBe(200);
      // Over 360 s: A/1 in 3.6 MB (80 kbit/s) out 360 kB (8 kbit/s) against the capacity job's 1 Mbit/s;
      // A/2 in 3.6 MB against xe- (10 Gbit/s, from the name); B/1 eth0: unknown capacity (the capacity
      // job has a row for B's ifIndex 9 only, an interface the store never saw traffic on: not listed).
      expect(r.json.interfaces).toEqual([
        {
          exporter: A,
          ifIndex: 1,
          ifName: 'GigabitEthernet0/0/1',
          description: '',
          capacityBps: 1e6,
          capacitySource: 'capacity_job',
          inBytes: 3_600_000,
          outBytes: 360_000,
          inBps: 80_000,
          outBps: 8000,
          utilisation: 0.08,
        },
        {
          exporter: A,
          ifIndex: 2,
          ifName: 'xe-0/0/2',
          description: '',
          capacityBps: 10e9,
          capacitySource: 'name',
          inBytes: 3_600_000,
          outBytes: 0,
          inBps: 80_000,
          outBps: 0,
          utilisation: 80_000 / 10e9,
        },
        {
          exporter: B,
          ifIndex: 1,
          ifName: 'eth0',
          description: '',
          capacityBps: null,
          capacitySource: 'unknown',
          inBytes: 36_000,
          outBytes: 0,
          inBps: 800,
          outBps: 0,
          utilisation: null,
        },
      ]);
      // Every interface is listed: nothing left out.
      expect(r.json.truncated).toBe(false);
      expect(r.headers.get('flowcast-truncated')).toBeNull();
      const top1 = await get(
        `/api/v1/interfaces?${q({ from: iso(k(0)), to: iso(k(6)), sort: 'utilisation', limit: 1, format: 'csv' })}`,
      );
      expect(top1.text.split('\r\n')[1]).toBe(
        `${A},1,GigabitEthernet0/0/1,,1000000,capacity_job,3600000,360000,80000,8000,0.08`,
      );
      // Two left out by the limit: CSV has no field for it, the header says so.
      expect(top1.headers.get('flowcast-truncated')).toBe('true');
    });

    describe('with a cap of two interfaces', () => {
      let capped: HttpServer;
      let cappedBase = '';
      beforeAll(async () => {
        capped = new HttpServer(
          { bind: '127.0.0.1', port: 0, rateLimitPerMinute: 0, validateResponses: true, maxInterfaces: 2 },
          {
            store: subject.store,
            collector: localView(liveState()),
            metrics: new Registry(),
            log: pino({ level: 'silent' }),
            now: () => NOW,
          },
        );
        await capped.start();
        cappedBase = `http://127.0.0.1:${capped.port}`;
      });
      afterAll(async () => {
        await capped?.stop();
      });

      it('lists at most two, says it left some out, and refuses a larger limit', async () => {
        const range = { from: iso(k(0)), to: iso(k(6)) };
        // Three interfaces have traffic: A/1 (3.96 MB), A/2 (3.6 MB), B/1 (36 kB). The store is asked
        // for the busiest, and the answer lists two of them.
        const r = await request(cappedBase, `/api/v1/interfaces?${q({ ...range, sort: 'bps' })}`);
        expect(r.status).toBe(200);
        expect(r.json.truncated).toBe(true);
        expect(r.headers.get('flowcast-truncated')).toBe('true');
        expect(
          r.json.interfaces.map((i: { exporter: string; ifIndex: number }) => `${i.exporter}/${i.ifIndex}`),
        ).toEqual([`${A}/1`, `${A}/2`]);
        // Below the cap, the same as without one.
        const b = await request(cappedBase, `/api/v1/interfaces?${q({ ...range, exporter: B })}`);
        expect(b.json.interfaces).toHaveLength(1);
        expect(b.json.interfaces[0]).toMatchObject({
          exporter: B,
          ifIndex: 1,
          ifName: 'eth0',
          inBytes: 36_000,
        });
        for (const limit of [3, 10_000]) {
          const bad = await request(cappedBase, `/api/v1/interfaces?${q({ ...range, limit })}`);
          expect(bad.status).toBe(400);
          expect(bad.json.error.code).toBe('bad_parameter');
          expect(bad.json.error.message).toContain('"limit"');
          expect(bad.json.error.message).toContain('from 1 to 2');
        }
        const zero = await request(cappedBase, `/api/v1/interfaces?${q({ ...range, limit: 0 })}`);
        expect([zero.status, zero.json.error.code]).toEqual([400, 'bad_parameter']);
      });
    });

    it('serves the capacity table soonest-to-fill first, filtered and as CSV', async () => {
      const r = await get('/api/v1/capacity');
      expect(
        r.json.capacity.map((c: { exporter: string; direction: string }) => `${c.exporter}/${c.direction}`),
      ).toEqual([`${B}/in`, `${A}/in`, `${A}/out`]);
      expect(r.json.capacity[0]).toEqual({
        time: iso(NOW - HOUR),
        exporter: B,
        ifIndex: '9',
        ifName: '',
        direction: 'in',
        capacityBps: 1e8,
        p95Bps: 9e7,
        utilisation: 0.9,
        trendBpsPerDay: 5e5,
        // 80 % of 100 Mb/s.
        thresholdPercent: 80,
        thresholdBps: 8e7,
        daysToThreshold: 3,
        probCongested: 0.5,
        probCongested7d: 0.2,
        probCongested30d: 0.5,
        note: 'capacity configured',
      });
      const byUse = await get(`/api/v1/capacity?${q({ exporter: A, sort: 'utilisation' })}`);
      expect(byUse.json.capacity.map((c: { utilisation: number }) => c.utilisation)).toEqual([0.5, 0.1]);
      const csv = await get(`/api/v1/capacity?${q({ exporter: A })}`, { headers: { accept: 'text/csv' } });
      expect(csv.text.split('\r\n')).toEqual([
        'time,exporter,ifIndex,ifName,direction,capacityBps,p95Bps,utilisation,trendBpsPerDay,thresholdPercent,thresholdBps,daysToThreshold,probCongested,probCongested7d,probCongested30d,note',
        // 7 % of 1 Mb/s is 70 kb/s; the second row was stored without a threshold.
        `${iso(NOW - HOUR)},${A},1,GigabitEthernet0/0/1,in,1000000,500000,0.5,1000,7,70000,12.5,0.25,,,`,
        `${iso(NOW - HOUR)},${A},1,GigabitEthernet0/0/1,out,1000000,100000,0.1,10,,,,0.01,,,`,
        '',
      ]);
    });

    it('lists the anomalies of the last hour, newest first, by kind and exporter', async () => {
      const r = await get('/api/v1/anomalies?from=-1h');
      expect(r.json.anomalies.map((a: { kind: string }) => a.kind)).toEqual(['series', 'scan']);
      expect(r.json.anomalies[1]).toEqual({
        time: iso(NOW - 30 * MIN),
        kind: 'scan',
        exporter: A,
        series: null,
        subject: '10.0.0.9',
        state: 'start',
        score: 5,
        value: 10,
        expected: 1,
        message: 'port scan',
      });
      expect((await get('/api/v1/anomalies?kind=syn_flood')).json.anomalies).toHaveLength(1);
      expect((await get(`/api/v1/anomalies?${q({ exporter: B, from: '-1h' })}`)).json.anomalies).toEqual([]);
      const csv = await get('/api/v1/anomalies?from=-1h&kind=series&format=csv');
      // A message from the network must not run as a spreadsheet formula.
      expect(csv.text).toContain(`"'=HYPERLINK(""http://evil.example/"")"`);
    });

    it('serves forecasts by series, by range or horizon, and lists the series', async () => {
      const series = `traffic/${A}/1/in`;
      const all = await get(`/api/v1/forecasts?${q({ series })}`);
      expect(all.json).toEqual({
        series,
        forecast: [0, 1, 2, 3].map((i) => ({
          time: iso(NOW + i * HOUR),
          yhat: 100 + i,
          lower: 90 + i,
          upper: 110 + i,
          lower80: 95 + i,
          upper80: 105 + i,
        })),
      });
      // A point stored without the 80 % band (as before flowcast wrote it) has null bounds.
      const old = await get(`/api/v1/forecasts?${q({ series: `traffic/${V6}/total/out` })}`);
      expect(old.json.forecast[0]).toMatchObject({
        yhat: 1,
        lower: 0,
        upper: 2,
        lower80: null,
        upper80: null,
      });
      const horizon = await get(`/api/v1/forecasts?${q({ series, horizon: '2h' })}`);
      expect(horizon.json.forecast.map((f: { yhat: number }) => f.yhat)).toEqual([100, 101]);
      expect((await get(`/api/v1/forecasts?${q({ series: `traffic/${B}/1/in` })}`)).json.error.code).toBe(
        'not_found',
      );
      expect((await get('/api/v1/series')).json.series).toEqual([
        { series: `traffic/${A}/1/in`, exporter: A, ifIndex: '1', direction: 'in' },
        { series: `traffic/${V6}/total/out`, exporter: V6, ifIndex: 'total', direction: 'out' },
      ]);
    });

    it('lists exporters from the live state and the store, with sampling and its source', async () => {
      const r = await get('/api/v1/exporters');
      expect(r.json.exporters).toEqual([
        {
          address: A,
          live: true,
          versions: [9],
          packets: 1,
          records: 1,
          decodeErrors: 0,
          missingTemplates: 0,
          templates: 1,
          sequenceGaps: 0,
          samplingRate: 100,
          samplingSource: 'default',
          lastSeen: iso(NOW),
        },
        {
          address: B,
          live: false,
          versions: [],
          packets: 0,
          records: 0,
          decodeErrors: 0,
          missingTemplates: 0,
          templates: 0,
          sequenceGaps: 0,
          samplingRate: 1,
          samplingSource: 'none',
          lastSeen: iso(k(2)),
        },
      ]);
      const detail = await get(`/api/v1/exporters/${A}`);
      expect(detail.json).toMatchObject({
        address: A,
        byVersion: [{ version: 9, packets: 1, records: 1 }],
        domains: [{ key: '9/7', observationDomainId: 7, templates: 1 }],
      });
      expect((await get(`/api/v1/exporters/${B}`)).status).toBe(404);
    });

    it("shows an exporter's templates with the elements' IANA names", async () => {
      const r = await get(`/api/v1/exporters/${A}/templates`);
      expect(r.status).toBe(200);
      expect(r.json.templates).toHaveLength(1);
      const t = r.json.templates[0];
      expect(t).toMatchObject({
        domain: '9/7',
        observationDomainId: 7,
        templateId: 256,
        options: false,
        recordLength: 21,
      });
      expect(t.fields.map((f: { name: string }) => f.name)).toEqual([
        'sourceIPv4Address',
        'destinationIPv4Address',
        'octetDeltaCount',
        'packetDeltaCount',
        'ingressInterface',
        'egressInterface',
        'protocolIdentifier',
      ]);
    });

    it('lists jobs and runs one: 202, 409 while it runs, 404 for none', async () => {
      const list = await get('/api/v1/jobs');
      expect(list.json.jobs.map((j: { name: string; running: boolean }) => [j.name, j.running])).toEqual([
        ['forecast', false],
        ['anomaly', true],
      ]);
      expect(list.json.jobs[0].lastStart).toBe(iso(NOW - HOUR));
      const run = await get('/api/v1/jobs/forecast/run', { method: 'POST' });
      expect([run.status, run.json]).toEqual([202, { job: 'forecast', status: 'started' }]);
      const again = await get('/api/v1/jobs/forecast/run', { method: 'POST' });
      expect([again.status, again.json.error.code]).toEqual([409, 'conflict']);
      expect((await get('/api/v1/jobs/nothing/run', { method: 'POST' })).status).toBe(404);
      expect((await get('/api/v1/jobs/forecast/run')).status).toBe(405);
    });

    it('answers health with the store reachable and the last datagram per exporter', async () => {
      const r = await get('/api/v1/health');
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        status: 'ok',
        store: { reachable: true, spoolPoints: 0 },
        exporters: { count: 1, lastDatagram: [{ exporter: A, lastSeen: iso(NOW) }] },
      });
      expect(r.json.jobs).toHaveLength(2);
    });

    describe('bad input gets a 4xx naming the parameter', () => {
      const span = { from: iso(k(0)), to: iso(k(6)) };
      const cases: [path: string, status: number, code: string, mention: string][] = [
        [`/api/v1/traffic?${q({ ...span, step: 0 })}`, 400, 'bad_parameter', '"step"'],
        [`/api/v1/traffic?${q({ ...span, step: -60 })}`, 400, 'bad_parameter', '"step"'],
        [`/api/v1/traffic?${q({ ...span, step: 1.5 })}`, 400, 'bad_parameter', '"step"'],
        [`/api/v1/traffic?${q({ ...span, step: 30 })}`, 400, 'bad_parameter', 'rollup interval'],
        [`/api/v1/traffic?${q({ from: 0, to: 'now', step: 60 })}`, 400, 'bad_parameter', 'at most 10000'],
        [`/api/v1/traffic?${q({ step: '1e3' })}`, 400, 'bad_parameter', '"step"'],
        [`/api/v1/traffic?${q({ from: 'yesterday' })}`, 400, 'bad_parameter', '"from"'],
        [`/api/v1/traffic?${q({ from: '-1h', to: '-2h' })}`, 400, 'bad_parameter', 'before "to"'],
        [`/api/v1/traffic?${q({ from: '2024-02-30T00:00:00Z' })}`, 400, 'bad_parameter', '"from"'],
        [`/api/v1/traffic?${q({ to: '99999999999999' })}`, 400, 'bad_parameter', '"to"'],
        [`/api/v1/traffic?${q({ ifIndex: 'abc' })}`, 400, 'bad_parameter', '"ifIndex"'],
        [`/api/v1/traffic?${q({ ifIndex: 4294967296 })}`, 400, 'bad_parameter', '"ifIndex"'],
        [`/api/v1/traffic?${q({ direction: 'up' })}`, 400, 'bad_parameter', '"direction"'],
        [`/api/v1/traffic?${q({ exporter: 'router1' })}`, 400, 'bad_parameter', '"exporter"'],
        [`/api/v1/traffic?${q({ exporter: "192.0.2.1' OR '1'='1" })}`, 400, 'bad_parameter', '"exporter"'],
        ['/api/v1/traffic?exporter=192.0.2.1&exporter=198.51.100.2', 400, 'bad_parameter', '"exporter"'],
        [`/api/v1/traffic?${q({ exporter: '203.0.113.99' })}`, 404, 'not_found', '203.0.113.99'],
        [`/api/v1/traffic?${q({ bogus: 1 })}`, 400, 'bad_parameter', '"bogus"'],
        ['/api/v1/traffic?from[$gt]=1', 400, 'bad_parameter', 'from[$gt]'],
        [`/api/v1/traffic?${q({ format: 'xml' })}`, 400, 'bad_parameter', '"format"'],
        [`/api/v1/top?${q({ side: 'left' })}`, 400, 'bad_parameter', '"side"'],
        [`/api/v1/top?${q({ limit: 0 })}`, 400, 'bad_parameter', '"limit"'],
        [`/api/v1/top?${q({ limit: 1001 })}`, 400, 'bad_parameter', '"limit"'],
        [`/api/v1/top?${q({ exporter: '203.0.113.99' })}`, 404, 'not_found', '203.0.113.99'],
        [`/api/v1/protocols?${q({ to: 'soon' })}`, 400, 'bad_parameter', '"to"'],
        [`/api/v1/protocols?${q({ exporter: '::ffff:zz' })}`, 400, 'bad_parameter', '"exporter"'],
        ['/api/v1/forecasts', 400, 'bad_parameter', '"series"'],
        [
          `/api/v1/forecasts?${q({ series: `traffic/${A}/1/in`, horizon: '7' })}`,
          400,
          'bad_parameter',
          '"horizon"',
        ],
        [
          `/api/v1/forecasts?${q({ series: `traffic/${A}/1/in`, horizon: '7d', from: '-1h' })}`,
          400,
          'bad_parameter',
          '"horizon"',
        ],
        [`/api/v1/forecasts?${q({ series: "traffic' OR ''='" })}`, 404, 'not_found', 'series'],
        [`/api/v1/forecasts?${q({ series: 'x'.repeat(600) })}`, 400, 'bad_parameter', '"series"'],
        [`/api/v1/capacity?${q({ sort: 'size' })}`, 400, 'bad_parameter', '"sort"'],
        [`/api/v1/capacity?${q({ exporter: '203.0.113.99' })}`, 404, 'not_found', '203.0.113.99'],
        [`/api/v1/anomalies?${q({ kind: "scan' OR '1'='1" })}`, 400, 'bad_parameter', '"kind"'],
        [`/api/v1/anomalies?${q({ kind: 'Scan' })}`, 400, 'bad_parameter', '"kind"'],
        [`/api/v1/anomalies?${q({ limit: 10001 })}`, 400, 'bad_parameter', '"limit"'],
        [`/api/v1/interfaces?${q({ sort: 'name' })}`, 400, 'bad_parameter', '"sort"'],
        [`/api/v1/interfaces?${q({ from: '-1h', to: '-1h' })}`, 400, 'bad_parameter', '"from"'],
        [`/api/v1/exporters?${q({ limit: 0 })}`, 400, 'bad_parameter', '"limit"'],
        ['/api/v1/exporters/not-an-address', 400, 'bad_parameter', '"address"'],
        [`/api/v1/exporters/${A}/templates?limit=-1`, 400, 'bad_parameter', '"limit"'],
        ['/api/v1/exporters/203.0.113.99/templates', 404, 'not_found', '203.0.113.99'],
        [`/api/v1/interfaces?${q({ exporter: 'router1' })}`, 400, 'bad_parameter', '"exporter"'],
        [`/api/v1/interfaces?${q({ limit: 0 })}`, 400, 'bad_parameter', '"limit"'],
        [`/api/v1/interfaces?${q({ limit: 10_001 })}`, 400, 'bad_parameter', '"limit"'],
        [`/api/v1/interfaces?${q({ limit: 'all' })}`, 400, 'bad_parameter', '"limit"'],
        [`/api/v1/interfaces?${q({ to: 'later' })}`, 400, 'bad_parameter', '"to"'],
        [`/api/v1/interfaces?${q({ format: 'xlsx' })}`, 400, 'bad_parameter', '"format"'],
        [`/api/v1/top?${q({ from: '-1y' })}`, 400, 'bad_parameter', '"from"'],
        [`/api/v1/top?${q({ format: 'html' })}`, 400, 'bad_parameter', '"format"'],
        [`/api/v1/protocols?${q({ from: '1.5e9' })}`, 400, 'bad_parameter', '"from"'],
        [`/api/v1/protocols?${q({ exporter: '203.0.113.99' })}`, 404, 'not_found', '203.0.113.99'],
        [
          `/api/v1/forecasts?${q({ series: `traffic/${A}/1/in`, from: 'tomorrow' })}`,
          400,
          'bad_parameter',
          '"from"',
        ],
        [
          `/api/v1/forecasts?${q({ series: `traffic/${A}/1/in`, from: '-1h', to: '-2h' })}`,
          400,
          'bad_parameter',
          '"from"',
        ],
        [`/api/v1/series?${q({ format: 'yaml' })}`, 400, 'bad_parameter', '"format"'],
        [`/api/v1/series?${q({ series: 'x' })}`, 400, 'bad_parameter', '"series"'],
        [`/api/v1/capacity?${q({ limit: 0 })}`, 400, 'bad_parameter', '"limit"'],
        [`/api/v1/capacity?${q({ exporter: "' OR 1=1 --" })}`, 400, 'bad_parameter', '"exporter"'],
        [`/api/v1/anomalies?${q({ exporter: 'router1' })}`, 400, 'bad_parameter', '"exporter"'],
        [`/api/v1/anomalies?${q({ exporter: '203.0.113.99' })}`, 404, 'not_found', '203.0.113.99'],
        [`/api/v1/anomalies?${q({ from: '-1h', to: '-3h' })}`, 400, 'bad_parameter', '"from"'],
        [`/api/v1/jobs?${q({ format: 'pdf' })}`, 400, 'bad_parameter', '"format"'],
        [`/api/v1/exporters?${q({ format: 'tsv' })}`, 400, 'bad_parameter', '"format"'],
        [`/api/v1/exporters?${q({ limit: 10001 })}`, 400, 'bad_parameter', '"limit"'],
        ['/api/v1/health?verbose=1', 400, 'bad_parameter', '"verbose"'],
        ['/api/v1/nothing', 404, 'not_found', '/api/v1/nothing'],
      ];
      it.each(cases)('%s → %i', async (path, status, code, mention) => {
        const r = await get(path);
        expect(r.status).toBe(status);
        expect(r.headers.get('content-type')).toMatch(/^application\/json/);
        expect(r.json.error.code).toBe(code);
        expect(r.json.error.message).toContain(mention);
      });

      it('refuses a job name with a path in it', async () => {
        const r = await get('/api/v1/jobs/a%2F..%2Fb/run', { method: 'POST' });
        expect([r.status, r.json.error.code]).toEqual([400, 'bad_parameter']);
        expect(r.json.error.message).toContain('"name"');
      });

      it('left every stored point in place', async () => {
        const r = await get(`/api/v1/traffic?${q({ from: iso(k(0)), to: iso(k(6)), step: 360 })}`);
        expect(r.json.samples).toEqual([
          {
            time: iso(k(0)),
            bytes: 7_596_000,
            packets: 966,
            flows: 21,
            bps: (7_596_000 * 8) / 360,
            pps: 966 / 360,
          },
        ]);
      });
    });
  });
}
