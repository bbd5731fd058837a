/**
 * Whole-path fuzzing: seeded mutations of recorded and encoder-built datagrams go through what
 * `flowcast serve` does with a datagram, stage by stage: decode (one long-lived FlowState) →
 * rollup (windows flushed on a virtual clock) → line protocol (storage/line-protocol.ts, then
 * parsed back) → the embedded store's row encoding (storage/embedded/tables.ts, the values it
 * would append). collector/decode/fuzz.test.ts covers the decoder alone; this checks what crosses each
 * boundary:
 *
 * - nothing throws anywhere (decoder, JSON form of records, rollup ingest and flush, line protocol,
 *   row encoding);
 * - the decoder emits no non-finite or out-of-range value: numbers finite, times inside what a
 *   Date holds, counters 0..2^64-1, sampling rates ≥ 1, JSON times ISO-8601;
 * - every point the rollup emits is storable: times safe integers, integers in int64, floats
 *   finite; line protocol for it parses back to the same point, and the embedded store accepts it;
 * - output is bounded by input: records per datagram, points per flush, bytes per line.
 *
 * Each failure carries its reproducer: seed, iteration, and the datagram's bytes (and whether it
 * fails alone in a fresh state). `npm run fuzz -- --seconds 600 [--seed N]` runs it for a fixed
 * time; test/fuzz/whole-path.test.ts runs a bounded count in `npm test`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDatagram } from '../../collector/decode/decode.js';
import { type DecodedRecord, FlowRecord } from '../../collector/decode/flow.js';
import { ElementRegistry } from '../../collector/decode/ie/registry.js';
import { recordToJson } from '../../collector/decode/json.js';
import { collectorCounters, FlowState } from '../../collector/decode/state.js';
import { Rollup } from '../../collector/rollup/rollup.js';
import { encode, TABLES } from '../../storage/embedded/tables.js';
import { cleanTagValue, toLine } from '../../storage/line-protocol.js';
import { fieldType } from '../../storage/schema.js';
import type { Point, StoredValue } from '../../storage/store.js';
import { encodeV5, type FieldSpec, ipfixMessage, VARIABLE_LENGTH, v9Datagram } from '../support/encoder.js';
import { prng } from '../support/random.js';

// ---------------------------------------------------------------------------------------------
// Corpus and mutation
// ---------------------------------------------------------------------------------------------

function f64(v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v);
  return b;
}

/** Recorded datagrams (test/fixtures/telegraf) and encoder-built ones that carry issue 7's values. */
export function corpus(): Uint8Array[] {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'telegraf');
  const out: Uint8Array[] = [];
  for (const sub of readdirSync(dir, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const f of readdirSync(join(dir, sub.name)).sort()) {
      if (f.endsWith('.bin')) out.push(readFileSync(join(dir, sub.name, f)));
    }
  }
  const flow: FieldSpec[] = [
    { id: 8, length: 4 },
    { id: 12, length: 4 },
    { id: 7, length: 2 },
    { id: 11, length: 2 },
    { id: 4, length: 1 },
    { id: 1, length: 8 },
    { id: 2, length: 8 },
    { id: 10, length: 4 },
    { id: 14, length: 4 },
    { id: 152, length: 8 },
    { id: 153, length: 8 },
    { id: 311, length: 8 },
  ];
  const t0 = 1_700_000_000_000n;
  const probabilities = [0.01, 1e-300, 5e-324, 1, 0.5];
  for (const [i, p] of probabilities.entries()) {
    out.push(
      ipfixMessage({
        exportTime: 1_700_000_000,
        sequence: i,
        sets: [
          { kind: 'template', templates: [{ id: 256 + i, fields: flow }] },
          {
            kind: 'data',
            id: 256 + i,
            fields: flow,
            records: [
              ['10.0.0.1', '10.0.0.2', 443, 51000, 6, 1500n, 3n, 1, 2, t0, t0 + 500n, f64(p)],
              ['10.0.0.3', '192.0.2.9', 53, 5353, 17, 2n ** 64n - 1n, 2n ** 63n, 3, 4, t0, t0, f64(p)],
            ],
          },
        ],
      }),
    );
  }
  const options: FieldSpec[] = [
    { id: 10, length: 4 },
    { id: 82, length: VARIABLE_LENGTH },
  ];
  const sampler: FieldSpec[] = [
    { id: 302, length: 4 },
    { id: 34, length: 4 },
  ];
  out.push(
    ipfixMessage({
      exportTime: 1_700_000_000,
      sets: [
        {
          kind: 'options',
          templates: [
            { id: 400, scopeFields: options.slice(0, 1), fields: options.slice(1) },
            { id: 401, scopeFields: sampler.slice(0, 1), fields: sampler.slice(1) },
          ],
        },
        {
          kind: 'data',
          id: 400,
          fields: options,
          records: [
            [1, 'ge-0/0/1, "uplink" = a\\b'],
            [2, 'x\ny'],
          ],
        },
        { kind: 'data', id: 401, fields: sampler, records: [[7, 1000]] },
      ],
    }),
  );
  const v9: FieldSpec[] = [
    { id: 8, length: 4 },
    { id: 12, length: 4 },
    { id: 1, length: 4 },
    { id: 2, length: 4 },
    { id: 10, length: 2 },
    { id: 14, length: 2 },
    { id: 21, length: 4 },
    { id: 22, length: 4 },
    { id: 48, length: 1 },
    { id: 34, length: 4 },
  ];
  out.push(
    v9Datagram({
      sysUptime: 100_000,
      unixSecs: 1_700_000_000,
      flowsets: [
        { kind: 'template', templates: [{ id: 300, fields: v9 }] },
        {
          kind: 'options',
          templates: [{ id: 301, scopeFields: [{ id: 48, length: 1 }], fields: [{ id: 34, length: 4 }] }],
        },
        {
          kind: 'data',
          id: 300,
          fields: v9,
          records: [['10.1.0.1', '10.1.0.2', 0xffff_ffff, 1, 1, 2, 99_000, 0xffff_ffff, 1, 0]],
        },
      ],
    }),
    encodeV5({ unixSecs: 1_700_000_000, samplingInterval: 0x3fff, records: [{ bytes: 0xffff_ffff }] }),
  );
  return out;
}

/** Values that broke something once, as 8 bytes: IEEE specials and denormals, integer extremes. */
const SPECIAL8: Uint8Array[] = [
  f64(1e-300),
  f64(5e-324),
  f64(Number.NaN),
  f64(Number.POSITIVE_INFINITY),
  f64(-1),
  f64(1e300),
  new Uint8Array(8).fill(0xff),
  Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0),
  Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0), // 2^53 ms: past what a Date holds
  new Uint8Array(8),
];

export function mutate(seed: Uint8Array, r: () => number): Uint8Array {
  const b = Uint8Array.from(seed);
  const at = () => Math.floor(r() * b.length);
  switch (Math.floor(r() * 8)) {
    case 0:
      return b.subarray(0, at());
    case 1:
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) b[at()] = Math.floor(r() * 256);
      return b;
    case 2: {
      const i = at() & ~1;
      const v = [0, 1, 3, 4, 0xff, 0xffff, 0x7fff, 0x8000][Math.floor(r() * 8)]!;
      b[i] = v >> 8;
      if (i + 1 < b.length) b[i + 1] = v & 0xff;
      return b;
    }
    case 3:
    case 4: {
      // one or more value-sized runs replaced by an extreme value (counters, times, probabilities)
      for (let k = 0, n = 1 + Math.floor(r() * 3); k < n; k++) {
        const v = SPECIAL8[Math.floor(r() * SPECIAL8.length)]!;
        const width = [1, 2, 4, 8][Math.floor(r() * 4)]!;
        const i = at();
        for (let j = 0; j < width && i + j < b.length; j++) b[i + j] = v[8 - width + j]!;
      }
      return b;
    }
    case 5:
      b.fill(0, at(), at());
      return b;
    case 6:
      return Uint8Array.from([
        ...b,
        ...Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)),
      ]);
    default:
      return b; // unmodified: templates must arrive for mutated data to meet them
  }
}

// ---------------------------------------------------------------------------------------------
// Line protocol, parsed back
// ---------------------------------------------------------------------------------------------

export interface ParsedLine {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, string>;
  time: string;
}

/** Parses one line of InfluxDB line protocol (the escaping rules of the InfluxDB 1.x reference). */
export function parseLine(line: string): ParsedLine {
  let i = 0;
  const read = (stops: string): string => {
    let out = '';
    while (i < line.length && !stops.includes(line[i]!)) {
      if (line[i] === '\\' && i + 1 < line.length && stops.includes(line[i + 1]!)) i++;
      else if (line[i] === '\\' && line[i + 1] === '\\') i++;
      out += line[i];
      i++;
    }
    return out;
  };
  const measurement = read(', ');
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    i++;
    const key = read('=, ');
    if (line[i] !== '=') throw new Error(`tag ${key} has no value at ${i}`);
    i++;
    tags[key] = read(', =');
  }
  if (line[i] !== ' ') throw new Error(`expected a space after the tags at ${i}`);
  i++;
  const fields: Record<string, string> = {};
  for (;;) {
    const key = read('=, ');
    if (line[i] !== '=') throw new Error(`field ${key} has no value at ${i}`);
    i++;
    let value = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        value += line[i];
        i++;
      }
      if (line[i] !== '"') throw new Error(`unterminated string in field ${key}`);
      i++;
      value = `"${value}`;
    } else {
      while (i < line.length && line[i] !== ',' && line[i] !== ' ') value += line[i++];
    }
    fields[key] = value;
    if (line[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  if (line[i] !== ' ') throw new Error(`expected a space before the timestamp at ${i}`);
  const time = line.slice(i + 1);
  if (!/^-?\d+$/.test(time)) throw new Error(`bad timestamp ${time}`);
  return { measurement, tags, fields, time };
}

/** Why `parsed` is not `point` as written, or undefined when it is. */
function lineMismatch(point: Point, parsed: ParsedLine): string | undefined {
  if (parsed.measurement !== point.measurement) return `measurement ${parsed.measurement}`;
  if (parsed.time !== String(point.time)) return `time ${parsed.time} for ${point.time}`;
  for (const [k, v] of Object.entries(point.tags)) {
    const want = cleanTagValue(v);
    if (want === '') continue;
    if (parsed.tags[k] !== want)
      return `tag ${k}: ${JSON.stringify(parsed.tags[k])} for ${JSON.stringify(want)}`;
  }
  for (const [k, v] of Object.entries(point.fields)) {
    const text = parsed.fields[k];
    if (text === undefined) return `field ${k} missing`;
    switch (fieldType(point.measurement, k, v)) {
      case 'integer':
        if (!text.endsWith('i') || BigInt(text.slice(0, -1)) !== BigInt(v as number | bigint))
          return `field ${k}: ${text} for ${v}`;
        break;
      case 'float':
        if (Number(text) !== Number(v)) return `field ${k}: ${text} for ${v}`;
        break;
      case 'string':
        if (text !== `"${String(v)}`) return `field ${k}: ${text} for ${JSON.stringify(v)}`;
        break;
      case 'boolean':
        if ((text === 't' || text === 'true' || text === 'T' || text === 'TRUE') !== v)
          return `field ${k}: ${text} for ${v}`;
        break;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/** Decoder output bounds (docs/schema.md; issue 7: finite, bounded values end to end). */
const MAX_DATE_MS = 8.64e15;
const U64_MAX = 2n ** 64n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const EXPORTERS = 8;
const PENDING_MAX_SETS = 16;
const TOP_N = 5;

export interface FuzzFailure {
  /** Where: decode, record, json, rollup.ingest, rollup.flush, point, line, embedded, bound. */
  readonly stage: string;
  readonly message: string;
  readonly seed: number;
  readonly iteration: number;
  /** The datagram's bytes, hex. */
  readonly hex: string;
  readonly exporter: string;
}

export interface FuzzReport {
  seed: number;
  datagrams: number;
  records: number;
  points: number;
  lines: number;
  flushes: number;
  /** Failures by stage (every occurrence counted). */
  failuresByStage: Record<string, number>;
  /** The first few failures of each stage, with reproducers. */
  failures: FuzzFailure[];
  elapsedMs: number;
}

export interface FuzzOptions {
  seed: number;
  /** Stop after this many datagrams. */
  datagrams?: number;
  /** Stop after this long (ms). */
  durationMs?: number;
  /** Failures kept per stage (all are counted). */
  keepPerStage?: number;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** What is wrong with one decoded value (undefined when nothing). */
function badValue(key: string, v: unknown): string | undefined {
  if (typeof v === 'number' && !Number.isFinite(v)) return `${key} = ${v}`;
  if (typeof v === 'string' && v.includes('undefined')) return `${key} = ${JSON.stringify(v)}`;
  return undefined;
}

/** What is wrong with one decoded record, or undefined. */
export function recordProblem(rec: DecodedRecord): string | undefined {
  if (rec.kind === 'options') {
    for (const [k, v] of [...Object.entries(rec.scope), ...Object.entries(rec.fields)]) {
      const bad = badValue(k, v);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (!(rec instanceof FlowRecord)) return 'not a FlowRecord';
  for (const key of ['start', 'end'] as const) {
    const t = rec[key];
    if (t !== undefined && !(Number.isFinite(t) && Math.abs(t) <= MAX_DATE_MS)) return `${key} = ${t}`;
  }
  for (const key of ['bytes', 'packets'] as const) {
    const c = rec[key];
    if (c === undefined) continue;
    const n = typeof c === 'bigint' ? c : Number.isInteger(c) ? BigInt(c) : undefined;
    if (n === undefined || n < 0n || n > U64_MAX) return `${key} = ${c}`;
  }
  if (!(Number.isFinite(rec.samplingRate) && rec.samplingRate >= 1))
    return `samplingRate = ${rec.samplingRate}`;
  for (const [k, v] of Object.entries(rec)) {
    const bad = badValue(k, v);
    if (bad !== undefined) return bad;
  }
  for (const [k, v] of Object.entries(rec.fields ?? {})) {
    const bad = badValue(`fields.${k}`, v);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** What is wrong with one point before any store sees it, or undefined. */
function pointProblem(p: Point): string | undefined {
  if (!Number.isSafeInteger(p.time)) return `time ${p.time}`;
  for (const [k, v] of Object.entries(p.fields) as [string, StoredValue][]) {
    if (typeof v === 'number' && !Number.isFinite(v)) return `${k} = ${v}`;
    if (typeof v === 'bigint' && (v < INT64_MIN || v > INT64_MAX)) return `${k} = ${v}`;
    if ((k === 'bytes' || k === 'packets' || k === 'flows') && Number(v) < 0) return `${k} = ${v}`;
  }
  return undefined;
}

const ISO = /^[+-]?\d{4,6}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$/;

/** Runs the whole path until the count or the time is reached; never throws. */
export function fuzzWholePath(options: FuzzOptions): FuzzReport {
  const started = performance.now();
  const keep = options.keepPerStage ?? 3;
  const r = prng(options.seed);
  const seeds = corpus();
  const state = new FlowState(new ElementRegistry(), {
    maxTemplatesPerExporter: 64,
    maxExporters: EXPORTERS,
    pendingMaxSets: PENDING_MAX_SETS,
  });
  const intervalMs = 1000;
  let emitted: Point[] = [];
  const rollup = new Rollup(
    { intervalMs, topN: TOP_N },
    {
      sink: (points) => {
        emitted.push(...points);
      },
      interfaceName: (exporter, ifIndex) => state.exporters.get(exporter)?.interfaces.get(ifIndex)?.name,
      collectorCounters: () => collectorCounters(state),
    },
  );
  const report: FuzzReport = {
    seed: options.seed,
    datagrams: 0,
    records: 0,
    points: 0,
    lines: 0,
    flushes: 0,
    failuresByStage: {},
    failures: [],
    elapsedMs: 0,
  };
  let current: { iteration: number; bytes: Uint8Array; exporter: string } = {
    iteration: 0,
    bytes: new Uint8Array(0),
    exporter: '',
  };
  const fail = (stage: string, message: string): void => {
    const n = (report.failuresByStage[stage] ?? 0) + 1;
    report.failuresByStage[stage] = n;
    if (n <= keep) {
      report.failures.push({
        stage,
        message,
        seed: options.seed,
        iteration: current.iteration,
        hex: hex(current.bytes),
        exporter: current.exporter,
      });
    }
  };
  const out: DecodedRecord[] = [];
  let now = 1_700_000_000_000;
  let recordsSinceFlush = 0;
  const maxDatagrams = options.datagrams ?? Number.POSITIVE_INFINITY;
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs;

  const checkPoints = (): void => {
    // Bound: per record at most two traffic points and one protocol point; per exporter at most
    // 2 × topN top talkers per window and one collector point per version seen (≤ 6).
    const bound = 3 * recordsSinceFlush + EXPORTERS * (2 * TOP_N * 4 + 6);
    if (emitted.length > bound) fail('bound', `${emitted.length} points from ${recordsSinceFlush} records`);
    for (const p of emitted) {
      report.points++;
      const problem = pointProblem(p);
      if (problem !== undefined) fail('point', `${p.measurement} ${JSON.stringify(p.tags)}: ${problem}`);
      let line: string | undefined;
      try {
        line = toLine(p);
        report.lines++;
      } catch (err) {
        fail('line', `${p.measurement} ${JSON.stringify(p.tags)}: toLine threw ${errorText(err)}`);
      }
      if (line !== undefined) {
        if (line.length > 4 * 65_536) fail('bound', `a line of ${line.length} bytes`);
        try {
          const mismatch = lineMismatch(p, parseLine(line));
          if (mismatch !== undefined) fail('line', `${mismatch} in ${line.slice(0, 300)}`);
        } catch (err) {
          fail('line', `does not parse back (${errorText(err)}): ${line.slice(0, 300)}`);
        }
      }
      try {
        const table = TABLES.get(p.measurement);
        if (table === undefined) fail('embedded', `no table for ${p.measurement}`);
        else {
          const row = encode(table, p);
          if (row === undefined) fail('embedded', `refused ${p.measurement} ${JSON.stringify(p, big)}`);
          else {
            for (const cell of row) {
              if (typeof cell === 'number' && !Number.isFinite(cell))
                fail('embedded', `non-finite cell ${cell}`);
              if (typeof cell === 'bigint' && (cell < INT64_MIN || cell > INT64_MAX))
                fail('embedded', `cell out of int64 ${cell}`);
            }
          }
        }
      } catch (err) {
        fail('embedded', `encode threw ${errorText(err)}`);
      }
    }
    emitted = [];
    recordsSinceFlush = 0;
  };

  for (let i = 0; report.datagrams < maxDatagrams; i++) {
    if ((i & 63) === 0 && performance.now() > deadline) break;
    const bytes = mutate(seeds[Math.floor(r() * seeds.length)]!, r);
    const exporter = `192.0.2.${1 + Math.floor(r() * (EXPORTERS + 2))}`;
    current = { iteration: i, bytes, exporter };
    report.datagrams++;
    now += 50;
    out.length = 0;
    try {
      decodeDatagram(state, bytes, { address: exporter, port: 4739 + (i % 2) }, now, out);
    } catch (err) {
      fail('decode', `threw ${errorText(err)}`);
      continue;
    }
    if (out.length > bytes.length + PENDING_MAX_SETS * 65_536) {
      fail('bound', `${out.length} records from ${bytes.length} bytes`);
    }
    report.records += out.length;
    recordsSinceFlush += out.length;
    for (const rec of out) {
      const problem = recordProblem(rec);
      if (problem !== undefined) fail('record', problem);
      try {
        const json = JSON.parse(recordToJson(rec)) as Record<string, unknown>;
        for (const key of ['start', 'end']) {
          const t = json[key];
          if (t !== undefined && !(typeof t === 'string' && ISO.test(t)))
            fail('json', `${key} printed as ${JSON.stringify(t)}`);
        }
      } catch (err) {
        fail('json', `recordToJson: ${errorText(err)}`);
      }
    }
    try {
      rollup.ingest(out, now);
    } catch (err) {
      fail('rollup.ingest', `threw ${errorText(err)}`);
    }
    if (i % 20 === 19) {
      report.flushes++;
      try {
        rollup.flush(now);
      } catch (err) {
        fail('rollup.flush', `threw ${errorText(err)}`);
      }
      checkPoints();
    }
  }
  try {
    rollup.close(now);
  } catch (err) {
    fail('rollup.flush', `close threw ${errorText(err)}`);
  }
  checkPoints();
  report.elapsedMs = performance.now() - started;
  return report;
}

function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}

/** Whether the datagram alone, in a fresh state, fails the decoder checks (a standalone reproducer). */
export function failsAlone(hexBytes: string, exporter: string): string | undefined {
  const state = new FlowState(new ElementRegistry(), {});
  const out: DecodedRecord[] = [];
  try {
    decodeDatagram(
      state,
      Buffer.from(hexBytes, 'hex'),
      { address: exporter, port: 4739 },
      1_700_000_000_000,
      out,
    );
  } catch (err) {
    return `decode threw ${errorText(err)}`;
  }
  for (const rec of out) {
    const problem = recordProblem(rec);
    if (problem !== undefined) return problem;
  }
  const rollup = new Rollup(
    { intervalMs: 1000, topN: TOP_N },
    { sink: () => {}, interfaceName: () => undefined, collectorCounters: () => [] },
  );
  try {
    rollup.ingest(out, 1_700_000_000_000);
    rollup.close(1_700_000_010_000);
  } catch (err) {
    return `rollup threw ${errorText(err)}`;
  }
  return undefined;
}
