/**
 * Per-record cost of what a decode worker does with a real exporter's stream: softflowd's IPFIX
 * export of a generated capture (bench/ingest/stream.ts: about 30 records per datagram, a quarter
 * of the flows IPv6), decoded through `decodeDatagram` and rolled up through `Rollup.ingest` in
 * batches of 4,096 records, as collector/decode/decode-loop.ts hands them to the worker's sink.
 *
 * Four figures, records per CPU second (one thread does the work), each the median of several timed runs after a
 * warm-up: decode alone, rollup alone (records decoded once beforehand, ingested again and again),
 * decode + rollup, and `worker`: what a decode worker in `flowcast serve` does per batch message
 * (collector/worker/worker.ts): the batch buffer copied and read into a `DecodeLoop`'s queue,
 * decoded, then rolled up and run through detection with the default configuration, the open
 * window checked every 250,000 records, a clock advanced 0.25 s per check (the service's default
 * check period and 5 s window at 1 M records/s). The replayed datagrams repeat their sequence numbers, as the ingest
 * bench's sender does; the decoder counts that per datagram, not per record.
 *
 *   npx tsx bench/pipeline.bench.ts [decode|rollup|pipeline|worker|all] [--stream FILE] [--flows N]
 *
 * The stream is recorded once (softflowd when installed, else the encoder's equivalent) and kept
 * in FILE (default: the system's temporary folder), so that runs compared side by side, even of
 * two checkouts, read the same bytes. Profile with `node --cpu-prof --import tsx bench/pipeline.bench.ts`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { buildDetection, detectionSchema } from '../cli/detection-config.js';
import { decodeDatagram } from '../collector/decode/decode.js';
import { DecodeLoop } from '../collector/decode/decode-loop.js';
import type { DecodedRecord } from '../collector/decode/flow.js';
import { ElementRegistry } from '../collector/decode/ie/registry.js';
import { FlowState } from '../collector/decode/state.js';
import { Rollup } from '../collector/rollup/rollup.js';
import { BatchWriter, readBatch } from '../collector/worker/batch.js';
import { recordStream } from './ingest/stream.js';

/** Records handed to the rollup at once (the decode loop's SINK_BATCH). */
const BATCH = 4096;
const RUNS = 5;
const RUN_MS = 700;
const WARM_MS = 1000;
const SOURCE = { address: '192.0.2.1', port: 4739 };
/** Datagrams per batch message in `worker` mode (the receiving thread sends one per turn). */
const DATAGRAMS_PER_MESSAGE = 32;
/** `worker` mode: records between checks of detection's open window, and the time that stands for. */
const CHECK_EVERY_RECORDS = 250_000;
const CHECK_MS = 250;

/** The datagrams of a recorded stream file (bench/ingest/stream.ts `encodeEntries` format). */
function parseStream(bytes: Uint8Array): { templates: Uint8Array[]; data: Uint8Array[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const templates: Uint8Array[] = [];
  const data: Uint8Array[] = [];
  for (let offset = 0; offset + 12 <= bytes.length; ) {
    const length = view.getUint16(offset + 2);
    const payload = bytes.slice(offset + 12, offset + 12 + length);
    (view.getUint8(offset) === 0 ? templates : data).push(payload);
    offset += 12 + length;
  }
  return { templates, data };
}

async function loadStream(path: string, flows: number): Promise<Uint8Array> {
  if (!existsSync(path)) {
    const work = await mkdtemp(join(tmpdir(), 'flowcast-pipeline-'));
    try {
      const stream = await recordStream(work, flows);
      await writeFile(path, await readFile(stream.path));
      console.error(`recorded ${stream.entries.length} datagrams to ${path}: ${stream.source}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return new Uint8Array(await readFile(path));
}

function newRollup(): Rollup {
  return new Rollup({}, { sink: () => {}, interfaceName: () => undefined, collectorCounters: () => [] });
}

/** The process's CPU time (user + system) in seconds. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Times `op` (which returns how many records it handled) in runs of RUN_MS after a warm-up; median
 * records per CPU second. CPU time rather than wall time: on a shared machine the process is often
 * waiting for a core, which is not its cost (garbage collection on helper threads is counted).
 */
function timed(op: () => number): { median: number; min: number; max: number } {
  const warmUntil = performance.now() + WARM_MS;
  while (performance.now() < warmUntil) op();
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let items = 0;
    const start = performance.now();
    const cpuStart = cpuSeconds();
    while (performance.now() - start < RUN_MS) items += op();
    rates.push(items / (cpuSeconds() - cpuStart));
  }
  rates.sort((a, b) => a - b);
  return { median: rates[rates.length >> 1]!, min: rates[0]!, max: rates[rates.length - 1]! };
}

/**
 * One pass over the stream as a decode worker takes it: batch messages of DATAGRAMS_PER_MESSAGE
 * datagrams (built once, as the receiving thread's BatchWriter does), each copied and read into a
 * DecodeLoop whose sink rolls up and runs detection, then drained.
 */
async function workerOp(
  templates: Uint8Array[],
  data: Uint8Array[],
  now: number,
  source: typeof SOURCE,
): Promise<() => number> {
  const messages: { buffer: ArrayBuffer; used: number }[] = [];
  const writer = new BatchWriter((size) => new ArrayBuffer(size));
  for (let i = 0; i < data.length; i++) {
    writer.add(data[i]!, source.address, source.port, now);
    if ((i + 1) % DATAGRAMS_PER_MESSAGE === 0 || i === data.length - 1) messages.push(writer.finish()!);
  }
  const rollup = newRollup();
  const log = pino({ level: 'silent' });
  const detection = buildDetection(detectionSchema.parse({}), { log, write: () => {} })!;
  await detection.start();
  let records = 0;
  let nextCheck = CHECK_EVERY_RECORDS;
  // Detection's windows follow arrival time: this clock stands for it.
  let clock = Date.now();
  const loop = new DecodeLoop(
    { queueSize: 1 << 16, queueMaxBytes: 1 << 30, state: {} },
    {
      log,
      registry: new ElementRegistry(),
      sink: (batch) => {
        rollup.ingest(batch, now);
        detection.ingest(batch, clock);
        records += batch.length;
        if (records >= nextCheck) {
          nextCheck += CHECK_EVERY_RECORDS;
          clock += CHECK_MS;
          detection.tick(clock);
        }
      },
    },
  );
  for (const t of templates) loop.push({ payload: t, ...source, receivedAt: now });
  loop.drain();
  return () => {
    const before = records;
    for (const m of messages) {
      const copy = m.buffer.slice(0, m.used);
      readBatch(copy, m.used, (payload, address, port, receivedAt) => {
        loop.push({ payload, address, port, receivedAt });
      });
      loop.drain();
    }
    return records - before;
  };
}

export interface PipelineFigures {
  name: string;
  median: number;
  min: number;
  max: number;
}

export async function benchPipeline(
  modes: readonly string[],
  streamPath: string,
  flows: number,
): Promise<PipelineFigures[]> {
  const { templates, data } = parseStream(await loadStream(streamPath, flows));
  const learn = (state: FlowState) => {
    for (const t of templates) decodeDatagram(state, t, SOURCE, Date.now(), []);
  };
  // Every record decoded once: the rollup-alone input, and where "now" is (just after the last end).
  const decoded: DecodedRecord[][] = [];
  {
    const state = new FlowState(new ElementRegistry());
    learn(state);
    let batch: DecodedRecord[] = [];
    for (const d of data) {
      decodeDatagram(state, d, SOURCE, Date.now(), batch);
      if (batch.length >= BATCH) {
        decoded.push(batch);
        batch = [];
      }
    }
    if (batch.length > 0) decoded.push(batch);
  }
  let lastEnd = 0;
  for (const b of decoded) for (const r of b) if (r.kind === 'flow') lastEnd = Math.max(lastEnd, r.end ?? 0);
  const now = lastEnd + 2000;
  const figures: PipelineFigures[] = [];
  for (const mode of modes) {
    const state = new FlowState(new ElementRegistry());
    learn(state);
    const rollup = newRollup();
    const out: DecodedRecord[] = [];
    let op: () => number;
    if (mode === 'decode' || mode === 'pipeline') {
      const roll = mode === 'pipeline';
      op = () => {
        let n = 0;
        for (const d of data) {
          decodeDatagram(state, d, SOURCE, now, out);
          if (out.length >= BATCH) {
            if (roll) rollup.ingest(out, now);
            n += out.length;
            out.length = 0;
          }
        }
        return n;
      };
    } else if (mode === 'worker') {
      op = await workerOp(templates, data, now, SOURCE);
    } else if (mode === 'rollup') {
      op = () => {
        let n = 0;
        for (const b of decoded) {
          rollup.ingest(b, now);
          n += b.length;
        }
        return n;
      };
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
    figures.push({ name: mode, ...timed(op) });
  }
  return figures;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      stream: { type: 'string', default: join(tmpdir(), 'flowcast-pipeline-stream.bin') },
      flows: { type: 'string', default: '3000' },
    },
  });
  const mode = positionals[0] ?? 'all';
  const modes = mode === 'all' ? ['decode', 'rollup', 'pipeline', 'worker'] : [mode];
  const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
  for (const f of await benchPipeline(modes, values.stream, Number(values.flows))) {
    console.log(
      `${f.name}: ${fmt(f.median)} records/CPU-s (median of ${RUNS}; min ${fmt(f.min)}, max ${fmt(f.max)})`,
    );
  }
}
