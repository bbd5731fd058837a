/**
 * The decoder state under hostile input: every value it emits is finite and in range, every table
 * is bounded by the memory budget, one datagram never releases unbounded work, and junk sources
 * cannot lock a real exporter out. Each case is one of the ways the collector was found to fall.
 */
import { describe, expect, it } from 'vitest';
import { type FieldSpec, ipfixMessage, VARIABLE_LENGTH } from '../../test/support/encoder.js';
import { type DatagramSource, decodeDatagram } from './decode.js';
import { type DecodedRecord, FlowRecord } from './flow.js';
import { ElementRegistry } from './ie/registry.js';
import { isoTime } from './read.js';
import { releasePending } from './sets.js';
import {
  FlowState,
  MAX_SAMPLERS_PER_DOMAIN,
  MAX_SAMPLING_RATE,
  STATE_COST,
  type StateOptions,
  templateCost,
} from './state.js';

const SOURCE: DatagramSource = { address: '192.0.2.1', port: 4739 };
const NOW = 1_700_000_000_000;

function setup(options: Partial<StateOptions> = {}) {
  const state = new FlowState(new ElementRegistry([]), options);
  const decode = (b: Uint8Array, source: DatagramSource = SOURCE, now = NOW): DecodedRecord[] => {
    const out: DecodedRecord[] = [];
    decodeDatagram(state, b, source, now, out);
    return out;
  };
  return { state, decode };
}

const flows = (out: DecodedRecord[]) => out.filter((r): r is FlowRecord => r instanceof FlowRecord);

/** One IPFIX message: a template of `fields` and one data record of `values`. */
function message(fields: FieldSpec[], values: (number | bigint | Uint8Array)[], id = 256): Uint8Array {
  return ipfixMessage({
    exportTime: NOW / 1000,
    sets: [
      { kind: 'template', templates: [{ id, fields }] },
      { kind: 'data', id, fields, records: [values] },
    ],
  });
}

function float64(v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v);
  return b;
}

describe('values the decoder emits are finite and in range', () => {
  it('a samplingProbability of 1e-300 or a denormal is not believed (the 76-byte datagram that killed the service)', () => {
    const fields: FieldSpec[] = [
      { id: 1, length: 8 },
      { id: 2, length: 8 },
      { id: 311, length: 8 },
    ];
    for (const p of [1e-300, 5e-324, 0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const { decode, state } = setup();
      const [r] = flows(decode(message(fields, [123_456_789n, 10n, float64(p)])));
      expect(r!.samplingRate).toBe(1);
      expect(r!.bytes).toBe(123_456_789);
      const bad = state.exporters.get(SOURCE.address)!.counters.errorsByReason.get('bad_value') ?? 0;
      // 0 and negatives state no probability at all; the others state an impossible one.
      expect(bad).toBe(p > 0 && p !== Number.POSITIVE_INFINITY ? 1 : 0);
    }
    // The largest believable rate still is.
    const { decode } = setup();
    const [r] = flows(decode(message(fields, [1n, 1n, float64(1 / MAX_SAMPLING_RATE)])));
    expect(r!.samplingRate).toBe(MAX_SAMPLING_RATE);
  });

  it('a sampler rate from options data beyond 2^32 is refused and counted', () => {
    const { decode, state } = setup();
    const options = ipfixMessage({
      exportTime: NOW / 1000,
      sets: [
        {
          kind: 'options',
          templates: [{ id: 300, scopeFields: [{ id: 302, length: 4 }], fields: [{ id: 311, length: 8 }] }],
        },
        {
          kind: 'data',
          id: 300,
          fields: [
            { id: 302, length: 4 },
            { id: 311, length: 8 },
          ],
          records: [[7, float64(1e-12)]],
        },
      ],
    });
    decode(options);
    const e = state.exporters.get(SOURCE.address)!;
    expect([...e.domains.values()].every((d) => d.samplerRates.size === 0)).toBe(true);
    expect(e.counters.errorsByReason.get('bad_value')).toBe(1);
  });

  it('a time no Date can hold is dropped from the record and counted; fields show raw bytes, not a bare number', () => {
    const { decode, state } = setup();
    const fields: FieldSpec[] = [
      { id: 152, length: 8 }, // flowStartMilliseconds
      { id: 153, length: 8 }, // flowEndMilliseconds
      { id: 1, length: 4 },
    ];
    const [r] = flows(decode(message(fields, [0xffff_ffff_ffff_ffffn, BigInt(NOW), 5])));
    expect(r!.start).toBeUndefined();
    expect(r!.end).toBe(NOW);
    expect(state.exporters.get(SOURCE.address)!.counters.errorsByReason.get('bad_value')).toBe(1);
    // The same in an element with no normalised key (flowStartMilliseconds in an options record is
    // read by readValue): a time beyond the Date range comes out as hex.
    const { decode: decode2 } = setup();
    const opt = ipfixMessage({
      exportTime: NOW / 1000,
      sets: [
        {
          kind: 'options',
          templates: [{ id: 301, scopeFields: [{ id: 10, length: 4 }], fields: [{ id: 152, length: 8 }] }],
        },
        {
          kind: 'data',
          id: 301,
          fields: [
            { id: 10, length: 4 },
            { id: 152, length: 8 },
          ],
          records: [[1, 0xffff_ffff_ffff_ffffn]],
        },
      ],
    });
    const [o] = decode2(opt);
    expect(o!.kind).toBe('options');
    const value = o!.kind === 'options' ? o!.fields['flowStartMilliseconds'] : undefined;
    expect(value).toBe('ffffffffffffffff');
    expect(isoTime(NOW)).toBe(new Date(NOW).toISOString());
  });

  it('a template whose byte counter is longer than 8 bytes is refused, not read without bytes', () => {
    const { decode, state } = setup();
    const fields: FieldSpec[] = [
      { id: 8, length: 4 },
      { id: 1, length: 9 },
    ];
    const out = decode(message(fields, [0x0a000001, new Uint8Array(9).fill(1)]));
    expect(out).toHaveLength(0);
    const c = state.exporters.get(SOURCE.address)!.counters;
    expect(c.errorsByReason.get('bad_template')).toBe(1);
    expect(c.missingTemplates).toBe(1);
  });
});

describe('the memory budget', () => {
  /** A template of `n` fields: enterprise elements, as a hostile exporter would send. */
  const wide = (n: number): FieldSpec[] =>
    Array.from({ length: n }, (_, i) => ({ id: 1 + i, length: 1, enterprise: 32473 }));
  const templates = (n: number, fields: number, first = 256) =>
    ipfixMessage({
      exportTime: NOW / 1000,
      sets: [
        {
          kind: 'template',
          templates: Array.from({ length: n }, (_, i) => ({ id: first + i, fields: wide(fields) })),
        },
      ],
    });

  it('charges templates as they are learnt and refuses what exceeds an exporter share, counted', () => {
    const share = 64 * 1024;
    const { decode, state } = setup({ exporterMaxBytes: share });
    // 512-field templates cost 2 KiB + 200 KiB each: none fits in 64 KiB.
    decode(templates(1, 512));
    const e = state.exporters.get(SOURCE.address)!;
    expect(e.templateCount).toBe(0);
    expect(state.refused.get('template')).toBe(1);
    // Small templates fit until the share is spent.
    const small = templateCost(10);
    decode(templates(100, 10, 300));
    const fitting = Math.floor((share - STATE_COST.exporter - STATE_COST.domain) / small);
    expect(e.templateCount).toBe(fitting);
    expect(e.memory).toBeLessThanOrEqual(share);
    expect(state.memoryUsed).toBe(e.memory);
  });

  it('returns the charge when templates are withdrawn, replaced or expire', () => {
    const { decode, state } = setup({ templateLifetimeMs: 1000 });
    decode(templates(3, 10));
    const e = state.exporters.get(SOURCE.address)!;
    const base = STATE_COST.exporter + STATE_COST.domain;
    expect(e.memory).toBe(base + 3 * templateCost(10));
    decode(ipfixMessage({ exportTime: NOW / 1000, sets: [{ kind: 'withdrawal', templateIds: [256] }] }));
    expect(e.memory).toBe(base + 2 * templateCost(10));
    // Template 257 with a new layout of 20 fields.
    decode(templates(1, 20, 257));
    expect(e.memory).toBe(base + templateCost(10) + templateCost(20));
    state.sweep(NOW + 5000);
    expect(e.templateCount).toBe(0);
    expect(e.memory).toBe(base);
  });

  it('a flood of sources with huge templates stays within the budget, and a real exporter still gets in', () => {
    const budget = 4 << 20;
    const { decode, state } = setup({ stateMaxBytes: budget, exporterMaxBytes: 1 << 20 });
    for (let i = 0; i < 16; i++) decode(templates(8, 512), { address: `198.51.100.${i}`, port: 1 });
    expect(state.memoryUsed).toBeLessThanOrEqual(budget);
    const fields: FieldSpec[] = [
      { id: 8, length: 4 },
      { id: 1, length: 4 },
    ];
    const real: DatagramSource = { address: '203.0.113.9', port: 9 };
    expect(flows(decode(message(fields, [0x0a000001, 10]), real))).toHaveLength(1);
    // Once it has produced records it is not evicted by further junk.
    for (let i = 16; i < 48; i++) decode(templates(8, 512), { address: `198.51.100.${i}`, port: 1 });
    expect(state.exporters.has(real.address)).toBe(true);
    expect(flows(decode(message(fields, [0x0a000001, 10]), real))).toHaveLength(1);
    expect(state.memoryUsed).toBeLessThanOrEqual(budget);
    expect(state.exportersEvicted).toBeGreaterThan(0);
  });

  it('interface names and sampler ids from options data are bounded, whatever the ids', () => {
    const { decode, state } = setup({ exporterMaxBytes: 256 * 1024 });
    const scope: FieldSpec[] = [{ id: 10, length: 4 }];
    const named: FieldSpec[] = [{ id: 82, length: VARIABLE_LENGTH }];
    const records = Array.from({ length: 2000 }, (_, i) => [i * 7919, `ifname-${i}`] as const);
    decode(
      ipfixMessage({
        exportTime: NOW / 1000,
        sets: [
          { kind: 'options', templates: [{ id: 400, scopeFields: scope, fields: named }] },
          { kind: 'data', id: 400, fields: [...scope, ...named], records },
        ],
      }),
    );
    const e = state.exporters.get(SOURCE.address)!;
    expect(e.interfaces.size).toBeGreaterThan(100);
    expect(e.interfaces.size).toBeLessThan(2000);
    expect(e.memory).toBeLessThanOrEqual(256 * 1024);
    expect(state.refused.get('interface')).toBeGreaterThan(0);

    const samplerFields: FieldSpec[] = [{ id: 34, length: 4 }];
    const samplerScope: FieldSpec[] = [{ id: 48, length: 2 }];
    const { decode: decode2, state: state2 } = setup();
    decode2(
      ipfixMessage({
        exportTime: NOW / 1000,
        sets: [
          { kind: 'options', templates: [{ id: 401, scopeFields: samplerScope, fields: samplerFields }] },
          {
            kind: 'data',
            id: 401,
            fields: [...samplerScope, ...samplerFields],
            records: Array.from({ length: 3000 }, (_, i) => [i, 100]),
          },
        ],
      }),
    );
    const d = [...state2.exporters.get(SOURCE.address)!.domains.values()][0]!;
    expect(d.samplerRates.size).toBe(MAX_SAMPLERS_PER_DOMAIN);
    expect(state2.refused.get('sampler')).toBe(3000 - MAX_SAMPLERS_PER_DOMAIN);
  });
});

describe('work per call is bounded', () => {
  it('a template releases at most 4,096 buffered records at once; the rest comes through releasePending, a bounded number at a time', () => {
    const { decode, state } = setup({ pendingMaxSets: 4096, pendingMaxBytes: 2 << 20 });
    const fields: FieldSpec[] = [{ id: 1, length: 1 }];
    // 40 sets of 8,000 one-byte records: 320,000 records waiting for template 256.
    const data = ipfixMessage({
      exportTime: NOW / 1000,
      sets: [{ kind: 'data', id: 256, fields, records: Array.from({ length: 8000 }, () => [1]) }],
    });
    for (let i = 0; i < 40; i++) decode(data);
    const e = state.exporters.get(SOURCE.address)!;
    expect(e.pending).toHaveLength(40);
    const tpl = ipfixMessage({
      exportTime: NOW / 1000,
      sets: [{ kind: 'template', templates: [{ id: 256, fields }] }],
    });
    const first = flows(decode(tpl));
    expect(first).toHaveLength(4096);
    expect(state.releasable.has(e)).toBe(true);
    let total = first.length;
    let calls = 0;
    while (state.releasable.size > 0) {
      const out: DecodedRecord[] = [];
      const n = releasePending(state, NOW, out, 10_000);
      // A set is cut between records: never more than asked for.
      expect(n).toBeLessThanOrEqual(10_000);
      expect(out).toHaveLength(n);
      total += n;
      calls++;
      expect(calls).toBeLessThan(100);
    }
    expect(total).toBe(320_000);
    expect(calls).toBe(Math.ceil((320_000 - 4096) / 10_000));
    expect(e.pending).toHaveLength(0);
    expect(e.counters.records).toBe(320_000);
    expect(e.counters.pendingDecoded).toBe(40);
    expect(state.pendingBytesTotal).toBe(0);
    // Only the exporter and its domain and template remain charged.
    expect(e.memory).toBe(STATE_COST.exporter + STATE_COST.domain + templateCost(1));
  });

  it('buffered sets of variable-length records are cut between records too', () => {
    const { decode, state } = setup();
    const fields: FieldSpec[] = [
      { id: 1, length: 4 },
      { id: 82, length: VARIABLE_LENGTH },
    ];
    const records = Array.from({ length: 3000 }, (_, i) => [i, `if-${i}`]);
    decode(ipfixMessage({ exportTime: NOW / 1000, sets: [{ kind: 'data', id: 256, fields, records }] }));
    const first = flows(
      decode(
        ipfixMessage({
          exportTime: NOW / 1000,
          sets: [{ kind: 'template', templates: [{ id: 256, fields }] }],
        }),
      ),
    );
    expect(first).toHaveLength(3000);
    expect(first.map((r) => r.bytes)).toEqual(records.map((r) => r[0]));
    const { decode: decode2, state: state2 } = setup();
    decode2(ipfixMessage({ exportTime: NOW / 1000, sets: [{ kind: 'data', id: 256, fields, records }] }));
    decode2(ipfixMessage({ exportTime: NOW / 1000, sets: [{ kind: 'data', id: 256, fields, records }] }));
    const got: DecodedRecord[] = [
      ...decode2(
        ipfixMessage({
          exportTime: NOW / 1000,
          sets: [{ kind: 'template', templates: [{ id: 256, fields }] }],
        }),
      ),
    ];
    while (state2.releasable.size > 0) releasePending(state2, NOW, got, 777);
    expect(flows(got).map((r) => r.bytes)).toEqual([...records, ...records].map((r) => r[0]));
    expect(state.pendingBytesTotal + state2.pendingBytesTotal).toBe(0);
  });

  it('the sweep visits a bounded number of exporters per call and resumes where it stopped', () => {
    const { decode, state } = setup({ exporterIdleMs: 1000 });
    const junk = Uint8Array.of(0, 99);
    for (let i = 0; i < 250; i++) decode(junk, { address: `198.51.100.${i}`, port: 1 });
    expect(state.sweep(NOW + 5000, 100)).toBe(false);
    expect(state.exporters.size).toBe(150);
    expect(state.sweep(NOW + 5000, 100)).toBe(false);
    expect(state.sweep(NOW + 5000, 100)).toBe(true);
    expect(state.exporters.size).toBe(0);
    expect(state.memoryUsed).toBe(0);
  });
});

describe('float elements', () => {
  it('a NaN or infinite float is reported as its raw bytes, never as a number that is not finite', async () => {
    const { readValue } = await import('./read.js');
    const nan = float64(Number.NaN);
    expect(readValue(nan, 0, 8, 'float64')).toBe('7ff8000000000000');
    expect(readValue(float64(Number.NEGATIVE_INFINITY), 0, 8, 'float64')).toBe('fff0000000000000');
    expect(readValue(float64(0.25), 0, 8, 'float64')).toBe(0.25);
    // The fuzz harness's reproducer: IE 311 as NaN in a data record.
    const bytes = Uint8Array.from(
      Buffer.from(
        '000a0034000000000000000000000000000200100100000200010008013700080100001400000000000003e87ff8000000000000',
        'hex',
      ),
    );
    const out: DecodedRecord[] = [];
    decodeDatagram(new FlowState(new ElementRegistry([])), bytes, SOURCE, NOW, out);
    const [r] = flows(out);
    expect(r!.fields?.['samplingProbability']).toBe('7ff8000000000000');
    expect(r!.samplingRate).toBe(1);
  });
});
