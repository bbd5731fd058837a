import { describe, expect, it } from 'vitest';
import type { Point } from '../../storage/store.js';
import { type DecodedRecord, FlowRecord, type OptionsRecord } from '../decode/flow.js';
import { type CollectorCounters, MAX_INTERFACES, Rollup, type RollupConfig } from './rollup.js';

/** A window start: a multiple of 60 s. */
const T0 = 1_700_000_040_000;
const MIN = 60_000;

type FlowInit = Partial<Omit<FlowRecord, 'kind' | 'exporter'>> & { exporter?: string };

function flow(init: FlowInit): FlowRecord {
  const r = new FlowRecord(init.exporter ?? 'r1', 9, 0);
  return Object.assign(r, init);
}

const options: OptionsRecord = {
  kind: 'options',
  exporter: 'r1',
  version: 9,
  observationDomainId: 0,
  templateId: 256,
  scope: { scopeInterface: 1 },
  fields: { interfaceName: 'ge-0/0/1' },
};

function setup(config: Partial<RollupConfig> = {}, counters: () => CollectorCounters[] = () => []) {
  const emitted: Point[][] = [];
  const rollup = new Rollup(config, {
    sink: (points) => emitted.push(points),
    interfaceName: (exporter, ifIndex) => (exporter === 'r1' && ifIndex === 1 ? 'ge-0/0/1' : undefined),
    collectorCounters: counters,
  });
  return { rollup, emitted, all: () => emitted.flat() };
}

function pick(points: Point[], measurement: string, tags: Record<string, string>): Point[] {
  return points.filter(
    (p) => p.measurement === measurement && Object.entries(tags).every(([k, v]) => p.tags[k] === v),
  );
}

function one(points: Point[], measurement: string, tags: Record<string, string>): Point {
  const found = pick(points, measurement, tags);
  expect(found, `${measurement} ${JSON.stringify(tags)}`).toHaveLength(1);
  return found[0]!;
}

/** The hand-worked batch: upscaled a 1000/10, b 20000/200, c 5000/50, d 84/1, e 200/2. */
const batch: DecodedRecord[] = [
  flow({
    protocol: 6,
    srcAddr: '10.0.0.1',
    srcPort: 50000,
    dstAddr: '10.0.0.9',
    dstPort: 443,
    bytes: 1000,
    packets: 10,
    inIf: 1,
    outIf: 2,
    end: T0 + 1000,
  }),
  flow({
    protocol: 17,
    srcAddr: '10.0.0.2',
    srcPort: 53,
    dstAddr: '10.0.0.1',
    dstPort: 33000,
    bytes: 200,
    packets: 2,
    samplingRate: 100,
    inIf: 2,
    outIf: 1,
    end: T0 + 2000,
  }),
  options,
  // Both ports are in the table: the lower (22, ssh) wins over 443.
  flow({
    protocol: 6,
    srcAddr: '10.0.0.1',
    srcPort: 22,
    dstAddr: '10.0.0.3',
    dstPort: 443,
    bytes: 500,
    packets: 5,
    samplingRate: 10,
    inIf: 1,
    outIf: 3,
    end: T0 + 59_999,
  }),
  flow({
    protocol: 1,
    srcAddr: '10.0.0.4',
    dstAddr: '10.0.0.1',
    bytes: 84,
    packets: 1,
    inIf: 3,
    end: T0 + 30_000,
  }),
  flow({ protocol: 99, bytes: 100, packets: 1, samplingRate: 2, outIf: 2, end: T0 + 3000 }),
];

describe('Rollup', () => {
  it('sums traffic per interface and direction, upscaled by the sampling rate', () => {
    const { rollup, all } = setup();
    rollup.ingest(batch, T0 + 10_000);
    rollup.flush(T0 + MIN);
    expect(all()).toEqual([]);
    rollup.flush(T0 + 2 * MIN);
    const points = all();
    expect(points.every((p) => p.time === T0)).toBe(true);

    const traffic = (ifIndex: string, direction: string) => one(points, 'traffic', { ifIndex, direction });
    expect(traffic('1', 'in').fields).toEqual({ bytes: 6000, packets: 60, flows: 2 });
    expect(traffic('2', 'in').fields).toEqual({ bytes: 20000, packets: 200, flows: 1 });
    expect(traffic('3', 'in').fields).toEqual({ bytes: 84, packets: 1, flows: 1 });
    expect(traffic('1', 'out').fields).toEqual({ bytes: 20000, packets: 200, flows: 1 });
    expect(traffic('2', 'out').fields).toEqual({ bytes: 1200, packets: 12, flows: 2 });
    expect(traffic('3', 'out').fields).toEqual({ bytes: 5000, packets: 50, flows: 1 });
    expect(pick(points, 'traffic', {})).toHaveLength(6);
    expect(traffic('1', 'in').tags).toEqual({
      exporter: 'r1',
      ifIndex: '1',
      ifName: 'ge-0/0/1',
      direction: 'in',
    });
    // Unknown names fall back to the ifIndex.
    expect(traffic('2', 'in').tags['ifName']).toBe('2');

    expect(rollup.stats).toMatchObject({
      records: 5,
      optionsSkipped: 1,
      withoutInIf: 1,
      withoutOutIf: 1,
      late: 0,
      early: 0,
      untimed: 0,
      windowsEmitted: 1,
    });
    expect(rollup.stats.pointsEmitted).toBe(points.length);
    expect(rollup.openWindows).toBe(0);
  });

  it('maps protocols and services to bounded names', () => {
    const { rollup, all } = setup();
    rollup.ingest(batch, T0);
    rollup.close(T0);
    const proto = (protocol: string, service: string) =>
      one(all(), 'traffic_protocol', { exporter: 'r1', protocol, service }).fields;
    expect(proto('tcp', 'https')).toEqual({ bytes: 1000, packets: 10, flows: 1 });
    expect(proto('udp', 'dns')).toEqual({ bytes: 20000, packets: 200, flows: 1 });
    expect(proto('tcp', 'ssh')).toEqual({ bytes: 5000, packets: 50, flows: 1 });
    expect(proto('icmp', 'other')).toEqual({ bytes: 84, packets: 1, flows: 1 });
    expect(proto('other', 'other')).toEqual({ bytes: 200, packets: 2, flows: 1 });
    expect(pick(all(), 'traffic_protocol', {})).toHaveLength(5);
  });

  it('names services by the lower listed port, per transport', () => {
    const { rollup, all } = setup();
    rollup.ingest(
      [
        flow({ protocol: 6, srcPort: 50000, dstPort: 8080, bytes: 1, end: T0 }),
        flow({ protocol: 17, srcPort: 443, dstPort: 61000, bytes: 1, end: T0 }),
        flow({ protocol: 17, srcPort: 179, dstPort: 2055, bytes: 1, end: T0 }), // 179 is bgp on tcp only
        flow({ protocol: 6, srcPort: 50000, dstPort: 50001, bytes: 1, end: T0 }),
        flow({ protocol: 132, srcPort: 22, dstPort: 22, bytes: 1, end: T0 }),
      ],
      T0,
    );
    rollup.close(T0);
    const names = pick(all(), 'traffic_protocol', {}).map(
      (p) => `${p.tags['protocol']}/${p.tags['service']}`,
    );
    expect(names).toEqual(['tcp/http-alt', 'udp/quic', 'udp/netflow', 'tcp/other', 'sctp/other']);
  });

  it('ranks top talkers per side by upscaled bytes', () => {
    const { rollup, all } = setup({ topN: 2 });
    rollup.ingest(batch, T0);
    rollup.close(T0);
    const top = (side: string) =>
      pick(all(), 'top_talkers', { exporter: 'r1', side }).map((p) => [p.tags['rank'], p.fields]);
    expect(top('src')).toEqual([
      ['1', { addr: '10.0.0.2', bytes: 20000, packets: 200 }],
      ['2', { addr: '10.0.0.1', bytes: 6000, packets: 60 }],
    ]);
    expect(top('dst')).toEqual([
      ['1', { addr: '10.0.0.1', bytes: 20084, packets: 201 }],
      ['2', { addr: '10.0.0.3', bytes: 5000, packets: 50 }],
    ]);
  });

  it('ranks IPv4 talkers read as integers and writes them as text', () => {
    const { rollup, all } = setup({ topN: 2 });
    const v4 = (src: number, dst: number, bytes: number) =>
      Object.assign(flow({ bytes, packets: 1, end: T0 }), { srcAddr4: src, dstAddr4: dst });
    rollup.ingest(
      [v4(0xc0000201, 0x0a000001, 10), v4(0xc0000201, 0x0a000002, 30), v4(0xffffffff, 0x0a000002, 5)],
      T0,
    );
    rollup.close(T0);
    const top = (side: string) => pick(all(), 'top_talkers', { side }).map((p) => p.fields);
    expect(top('src')).toEqual([
      { addr: '192.0.2.1', bytes: 40, packets: 2 },
      { addr: '255.255.255.255', bytes: 5, packets: 1 },
    ]);
    expect(top('dst')).toEqual([
      { addr: '10.0.0.2', bytes: 35, packets: 2 },
      { addr: '10.0.0.1', bytes: 10, packets: 1 },
    ]);
  });

  it('writes the guaranteed part of top talkers once addresses outnumber the counters', () => {
    const { rollup, all } = setup({ topN: 1, topCapacity: 2 });
    rollup.ingest(
      [
        flow({ srcAddr: 'a', bytes: 100, packets: 1, end: T0 }),
        flow({ srcAddr: 'b', bytes: 10, packets: 1, end: T0 }),
        // c takes over b's counter (10): count 40, error 10, guaranteed 30.
        flow({ srcAddr: 'c', bytes: 30, packets: 3, end: T0 }),
        flow({ srcAddr: 'c', bytes: 80, packets: 2, end: T0 }),
      ],
      T0,
    );
    rollup.close(T0);
    expect(pick(all(), 'top_talkers', { side: 'src' }).map((p) => p.fields)).toEqual([
      { addr: 'c', bytes: 110, packets: 5 },
    ]);
  });

  it('places a flow by its end time, then its start, then now', () => {
    const { rollup, all } = setup();
    rollup.ingest(
      [
        flow({ bytes: 1, inIf: 1, start: T0 - 5000, end: T0 + MIN - 1 }),
        flow({ bytes: 2, inIf: 1, start: T0, end: T0 + MIN }),
        flow({ bytes: 4, inIf: 1, start: T0 + 10 }),
        flow({ bytes: 8, inIf: 1 }),
      ],
      T0 + MIN + 5,
    );
    rollup.close(T0 + MIN + 5);
    const bytes = pick(all(), 'traffic', { direction: 'in' }).map((p) => [p.time, p.fields['bytes']]);
    expect(bytes).toEqual([
      [T0, 5],
      [T0 + MIN, 10],
    ]);
    expect(rollup.stats.untimed).toBe(1);
  });

  it('adds late and early records to the current window, once, and counts them', () => {
    const { rollup, emitted } = setup();
    rollup.ingest([flow({ bytes: 1, inIf: 1, end: T0 + 10_000 })], T0 + 20_000);
    rollup.flush(T0 + 2 * MIN);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]![0]!.fields['bytes']).toBe(1);

    const now = T0 + 2 * MIN + 5000;
    rollup.ingest(
      [
        flow({ bytes: 2, inIf: 1, end: T0 + 5000 }), // window T0 was emitted: late
        flow({ bytes: 4, inIf: 1, end: T0 + MIN + 1 }), // window T0+1m is still in its grace period
        flow({ bytes: 8, inIf: 1, end: now + 10 * MIN }), // clock far ahead: early
        flow({ bytes: 16, inIf: 1, end: now + MIN }), // next window: kept there
      ],
      now,
    );
    expect(rollup.stats).toMatchObject({ late: 1, early: 1 });
    // Due but not yet flushed counts as late as well: the outcome does not depend on flush timing.
    rollup.ingest([flow({ bytes: 32, inIf: 1, end: T0 + MIN + 2 })], T0 + 3 * MIN);
    expect(rollup.stats.late).toBe(2);

    rollup.close(T0 + 3 * MIN);
    const bytes = pick(emitted.flat(), 'traffic', {}).map((p) => [p.time - T0, p.fields['bytes']]);
    expect(bytes).toEqual([
      [0, 1],
      [MIN, 4],
      [2 * MIN, 2 + 8],
      // The current window at T0 + 3m holds the second late record.
      [3 * MIN, 16 + 32],
    ]);
    expect(rollup.stats.windowsEmitted).toBe(4);
  });

  it('sums bigint counters above 2^53 exactly and clamps beyond 2^63 − 1', () => {
    const { rollup, all } = setup();
    const big = 2n ** 60n;
    const near = Number.MAX_SAFE_INTEGER; // 2^53 − 1
    rollup.ingest(
      [
        flow({ bytes: big, packets: 3n, inIf: 1, end: T0 }),
        flow({ bytes: near, packets: 1, samplingRate: 2, inIf: 1, end: T0 }),
        // Nine safe products of 2^50 cross 2^53 in the number accumulator.
        ...Array.from({ length: 9 }, () => flow({ bytes: 2 ** 50, packets: 1, inIf: 1, end: T0 })),
        flow({ bytes: 2n ** 64n - 1n, packets: 1, samplingRate: 1000, inIf: 2, end: T0 }),
      ],
      T0,
    );
    rollup.close(T0);
    const in1 = one(all(), 'traffic', { ifIndex: '1', direction: 'in' }).fields;
    expect(in1['bytes']).toBe(big + 2n * BigInt(near) + 9n * 2n ** 50n);
    expect(in1['packets']).toBe(3 + 2 + 9);
    expect(in1['flows']).toBe(11);
    const in2 = one(all(), 'traffic', { ifIndex: '2', direction: 'in' }).fields;
    expect(in2['bytes']).toBe(2n ** 63n - 1n);
    expect(in2['packets']).toBe(1000);
    expect(rollup.stats.saturated).toBeGreaterThanOrEqual(1);
  });

  it('rounds fractional upscaled sums once, at emission', () => {
    const { rollup, all } = setup();
    rollup.ingest(
      [
        flow({ bytes: 3, packets: 1, samplingRate: 1.5, inIf: 1, end: T0 }),
        flow({ bytes: 3, packets: 1, samplingRate: 1.5, inIf: 1, end: T0 }),
        flow({ bytes: 3, packets: 1, samplingRate: 1.5, inIf: 1, end: T0 }),
      ],
      T0,
    );
    rollup.close(T0);
    expect(one(all(), 'traffic', { direction: 'in' }).fields).toEqual({ bytes: 14, packets: 5, flows: 3 });
  });

  it('counts an unusable sampling rate as 1 and an unusable counter as 0', () => {
    const { rollup, all } = setup();
    rollup.ingest(
      [
        flow({ bytes: 10, packets: 1, samplingRate: Number.NaN, inIf: 1, end: T0 }),
        flow({ bytes: 10, packets: 1, samplingRate: 0, inIf: 1, end: T0 }),
        flow({ bytes: 10, packets: 1, samplingRate: Number.POSITIVE_INFINITY, inIf: 1, end: T0 }),
        flow({ bytes: Number.NaN, packets: 1, inIf: 1, end: T0 }),
      ],
      T0,
    );
    rollup.close(T0);
    expect(one(all(), 'traffic', { direction: 'in' }).fields).toEqual({ bytes: 30, packets: 4, flows: 4 });
  });

  it('counts an exporter the decoder forgot and saw again from zero, whatever its old values', () => {
    const base = {
      packets: 0,
      records: 0,
      decodeErrors: 0,
      missingTemplates: 0,
      sequenceGaps: 0,
      dropped: 0,
    };
    let counters: CollectorCounters[] = [
      { ...base, exporter: 'r1', version: 9, packets: 40, decodeErrors: 1, missingTemplates: 2 },
    ];
    const { rollup, all } = setup({}, () => counters);
    rollup.flush(T0 + 1000);
    rollup.flush(T0 + MIN + 1);
    counters = []; // idle for long: the decoder forgot r1
    rollup.flush(T0 + 2 * MIN + 1);
    // Back, counting from zero; some counters already past their old values.
    counters = [{ ...base, exporter: 'r1', version: 9, packets: 30, decodeErrors: 4, missingTemplates: 7 }];
    rollup.flush(T0 + 3 * MIN + 1);
    const last = all()
      .filter((p) => p.measurement === 'collector')
      .at(-1)!;
    expect(last.time).toBe(T0 + 2 * MIN);
    expect(last.fields).toMatchObject({ packets: 30, decodeErrors: 4, missingTemplates: 7 });
  });

  it('a process resuming after close() does not write the closed interval again', () => {
    const base = {
      packets: 0,
      records: 0,
      decodeErrors: 0,
      missingTemplates: 0,
      sequenceGaps: 0,
      dropped: 0,
    };
    const first = setup({}, () => [{ ...base, exporter: 'r1', version: 9, packets: 3 }]);
    first.rollup.ingest([flow({ end: T0 + 1000, bytes: 100 })], T0 + 2000);
    first.rollup.flush(T0 + 2000);
    first.rollup.close(T0 + 10_000);
    expect(first.rollup.resumeAt).toBe(T0 + MIN);
    expect(new Set(first.all().map((p) => p.time))).toEqual(new Set([T0]));

    const second = setup({}, () => [{ ...base, exporter: 'r1', version: 9, packets: 2 }]);
    second.rollup.resumeAfter(first.rollup.resumeAt);
    second.rollup.flush(T0 + 20_000);
    second.rollup.ingest([flow({ end: T0 + 15_000, bytes: 50 })], T0 + 20_000);
    second.rollup.close(T0 + 30_000);
    const points = second.all();
    expect(points.length).toBeGreaterThan(0);
    // Nothing stamped with the interval the first process wrote: its points stay as they were.
    expect(points.every((p) => p.time >= T0 + MIN)).toBe(true);
    expect(one(points, 'traffic_protocol', { exporter: 'r1' }).fields['bytes']).toBe(50);
    expect(one(points, 'collector', { exporter: 'r1' }).fields['packets']).toBe(2);
    expect(second.rollup.stats.late).toBe(1);
  });

  it('folds interfaces beyond the limit into one overflow series, sums whole', () => {
    const { rollup, all } = setup();
    const records = Array.from({ length: MAX_INTERFACES + 10 }, (_, i) =>
      flow({ end: T0 + 1000, inIf: 1000 + i, bytes: 1 }),
    );
    rollup.ingest(records, T0 + 2000);
    rollup.close(T0 + 3000);
    const inbound = pick(all(), 'traffic', { direction: 'in' });
    expect(inbound).toHaveLength(MAX_INTERFACES + 1);
    expect(one(all(), 'traffic', { ifIndex: 'overflow', direction: 'in' }).fields['bytes']).toBe(10);
    expect(inbound.reduce((n, p) => n + Number(p.fields['bytes']), 0)).toBe(MAX_INTERFACES + 10);
    expect(rollup.stats.interfacesFolded).toBe(10);
  });

  it('writes collector counters as deltas per interval', () => {
    const base = {
      packets: 0,
      records: 0,
      decodeErrors: 0,
      missingTemplates: 0,
      sequenceGaps: 0,
      dropped: 0,
    };
    let counters: CollectorCounters[] = [
      { ...base, exporter: 'r1', version: 9, packets: 10, records: 300 },
      { ...base, exporter: 'r2', version: 10, packets: 5, records: 50, decodeErrors: 1 },
    ];
    const { rollup, all } = setup({}, () => counters);
    rollup.flush(T0 + 1000);
    expect(all()).toEqual([]);
    counters = [
      { ...base, exporter: 'r1', version: 9, packets: 25, records: 700, sequenceGaps: 2, dropped: 1 },
      { ...base, exporter: 'r2', version: 10, packets: 5, records: 50, decodeErrors: 1 },
    ];
    rollup.flush(T0 + 30_000);
    expect(all()).toEqual([]);
    rollup.flush(T0 + MIN + 1);
    expect(all()).toEqual([
      {
        measurement: 'collector',
        tags: { exporter: 'r1', version: '9' },
        fields: {
          packets: 25,
          records: 700,
          decodeErrors: 0,
          missingTemplates: 0,
          sequenceGaps: 2,
          dropped: 1,
        },
        time: T0,
      },
      {
        measurement: 'collector',
        tags: { exporter: 'r2', version: '10' },
        fields: {
          packets: 5,
          records: 50,
          decodeErrors: 1,
          missingTemplates: 0,
          sequenceGaps: 0,
          dropped: 0,
        },
        time: T0,
      },
    ]);
    // r1 restarted its counting (reset), r2 did not move: no point for it.
    counters = [
      { ...base, exporter: 'r1', version: 9, packets: 4, records: 40 },
      { ...base, exporter: 'r2', version: 10, packets: 5, records: 50, decodeErrors: 1 },
    ];
    rollup.close(T0 + MIN + 10_000);
    expect(all().slice(2)).toEqual([
      {
        measurement: 'collector',
        tags: { exporter: 'r1', version: '9' },
        fields: {
          packets: 4,
          records: 40,
          decodeErrors: 0,
          missingTemplates: 0,
          sequenceGaps: 0,
          dropped: 0,
        },
        time: T0 + MIN,
      },
    ]);
  });

  it('rejects an invalid configuration', () => {
    expect(() => setup({ intervalMs: 0 })).toThrow(RangeError);
    expect(() => setup({ topN: 5, topCapacity: 4 })).toThrow(RangeError);
  });
});

describe('hostile values never stop the rollup', () => {
  const INT64_MAX = 2n ** 63n - 1n;
  const finiteInteger = (v: unknown) =>
    typeof v === 'bigint'
      ? v >= 0n && v <= INT64_MAX
      : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

  it('rates of 1e300, Infinity, NaN or below 1 count as unsampled; huge counters saturate at int64', () => {
    const { rollup, all } = setup();
    const records: DecodedRecord[] = [];
    for (const samplingRate of [1e300, Number.POSITIVE_INFINITY, Number.NaN, 0.5, -3]) {
      records.push(
        flow({
          srcAddr4: 0x0a000001,
          dstAddr4: 0x0a000002,
          bytes: 2 ** 40,
          packets: 7,
          inIf: 1,
          samplingRate,
          end: T0,
        }),
      );
    }
    // The largest believable rate times the largest 64-bit counter, many times over.
    for (let i = 0; i < 1000; i++) {
      records.push(
        flow({
          srcAddr4: i,
          dstAddr4: 0x0a000002,
          bytes: 2n ** 64n - 1n,
          packets: 2n ** 64n - 1n,
          inIf: 2,
          samplingRate: 2 ** 32,
          end: T0,
        }),
      );
    }
    // Values no decoder emits, which the rollup must still not throw on.
    records.push(flow({ srcAddr4: 1, bytes: Number.NaN, packets: -5, inIf: 3, end: Number.NaN }));
    records.push(flow({ srcAddr4: 2, bytes: Number.POSITIVE_INFINITY, packets: 1, inIf: 3, end: 1e300 }));
    expect(() => rollup.ingest(records, T0 + 1000)).not.toThrow();
    expect(() => rollup.flush(T0 + 3 * MIN)).not.toThrow();
    expect(() => rollup.close(T0 + 3 * MIN)).not.toThrow();
    const points = all();
    for (const p of points) {
      for (const [k, v] of Object.entries(p.fields)) {
        if (k === 'addr') continue;
        expect(finiteInteger(v), `${p.measurement}.${k} = ${String(v)}`).toBe(true);
      }
      expect(Number.isFinite(p.time)).toBe(true);
    }
    // Interface 1: five records of 2^40 bytes at rate 1 (every one of those rates is refused).
    expect(one(points, 'traffic', { ifIndex: '1', direction: 'in' }).fields['bytes']).toBe(5 * 2 ** 40);
    expect(one(points, 'traffic', { ifIndex: '2', direction: 'in' }).fields['bytes']).toBe(INT64_MAX);
    expect(rollup.stats.saturated).toBeGreaterThan(0);
    // The two untimed records (NaN and 1e300 ms) went to the window of `now`.
    expect(rollup.stats.untimed).toBe(2);
  });
});

describe('the rollup is bounded over all exporters, not only per exporter', () => {
  it('folds interfaces and protocols beyond the series budget, and exporters beyond the exporter budget, keeping every byte', async () => {
    const { MAX_SERIES_PER_WINDOW, MAX_EXPORTERS_PER_WINDOW, OVERFLOW_EXPORTER } = await import(
      './rollup.js'
    );
    const { rollup, all } = setup();
    const records: DecodedRecord[] = [];
    // 2,000 exporters × 64 interfaces: 128,000 interface series asked for, in one interval.
    for (let e = 0; e < 2000; e++) {
      for (let i = 0; i < 64; i++) {
        records.push(
          flow({
            exporter: `x${e}`,
            inIf: i,
            protocol: i % 256,
            srcPort: 1000 + i,
            bytes: 1,
            packets: 1,
            end: T0,
          }),
        );
      }
    }
    rollup.ingest(records, T0 + 1000);
    rollup.close(T0 + 1000);
    const points = all();
    const traffic = points.filter((p) => p.measurement === 'traffic');
    const exporters = new Set(traffic.map((p) => p.tags['exporter']));
    expect(exporters.size).toBe(MAX_EXPORTERS_PER_WINDOW + 1);
    expect(exporters.has(OVERFLOW_EXPORTER)).toBe(true);
    const protocolSeries = points.filter((p) => p.measurement === 'traffic_protocol').length;
    expect(traffic.length + protocolSeries).toBeLessThanOrEqual(
      MAX_SERIES_PER_WINDOW + 2 * MAX_EXPORTERS_PER_WINDOW + 2,
    );
    // Nothing lost: every record's byte is still counted, inbound and per protocol.
    const sum = (ps: Point[]) => ps.reduce((a, p) => a + Number(p.fields['bytes']), 0);
    expect(sum(traffic)).toBe(128_000);
    expect(sum(points.filter((p) => p.measurement === 'traffic_protocol'))).toBe(128_000);
    expect(rollup.stats.exportersFolded).toBe((2000 - MAX_EXPORTERS_PER_WINDOW) * 64);
    expect(rollup.stats.interfacesFolded).toBeGreaterThan(0);
  });
});

describe('a decode worker’s share of the rollup budgets', () => {
  it('folds beyond the configured series and exporter shares, keeping every byte', () => {
    const { rollup, all } = setup({ maxSeriesPerWindow: 10, maxExportersPerWindow: 3 });
    const records: DecodedRecord[] = [];
    // 5 exporters × 4 interfaces, one byte each: exporters 4 and 5 go to overflow; interfaces
    // beyond 10 series (interfaces and protocol pairs together) to ifIndex overflow.
    for (let e = 1; e <= 5; e++)
      for (let i = 1; i <= 4; i++)
        records.push(
          flow({ exporter: `x${e}`, inIf: i, protocol: 6, srcPort: 443, bytes: 1, packets: 1, end: T0 }),
        );
    rollup.ingest(records, T0 + 1000);
    rollup.close(T0 + 1000);
    const traffic = all().filter((p) => p.measurement === 'traffic');
    expect(new Set(traffic.map((p) => p.tags['exporter']))).toEqual(new Set(['x1', 'x2', 'x3', 'overflow']));
    expect(traffic.reduce((a, p) => a + Number(p.fields['bytes']), 0)).toBe(20);
    expect(traffic.some((p) => p.tags['ifIndex'] === 'overflow')).toBe(true);
    expect(rollup.stats.exportersFolded).toBe(8);
  });

  it('refuses a share that is not a positive integer', () => {
    expect(() => setup({ maxSeriesPerWindow: 0 })).toThrow(RangeError);
    expect(() => setup({ maxExportersPerWindow: 1.5 })).toThrow(RangeError);
  });
});
