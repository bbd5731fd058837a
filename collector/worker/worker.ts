/**
 * A decode worker: everything that runs per datagram and per record, off the thread that receives.
 * It holds the state of the exporters pinned to it (templates, sequence numbers, data waiting for
 * a template), decodes their datagrams, rolls the records up, samples raw flows and runs the
 * attack detectors over them. Rollup windows are emitted when the receiving thread asks (`flush`),
 * so that the windows of every worker are merged there before the store; raw-flow and anomaly
 * points go to the store as they come.
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { buildDetection } from '../../cli/detection-config.js';
import { InternalErrors, registerInternalErrorMetrics } from '../../common/internal-errors.js';
import { createLogger } from '../../common/logger.js';
import { installProfiler } from '../../common/profiler.js';
import { settleThread } from '../../common/thread.js';
import { ColumnsBuilder, transferables } from '../../storage/columns.js';
import type { Point } from '../../storage/store.js';
import { DecodeLoop } from '../decode/decode-loop.js';
import type { DecodedRecord } from '../decode/flow.js';
import { ElementRegistry } from '../decode/ie/registry.js';
import { registerDecodeMetrics } from '../decode/metrics.js';
import { collectorCounters } from '../decode/state.js';
import { type CollectorView, localView } from '../decode/view.js';
import { registerRollupMetrics } from '../rollup/metrics.js';
import { RawFlowSampler } from '../rollup/raw-flows.js';
import {
  MAX_EXPORTERS_PER_WINDOW,
  MAX_SERIES_PER_WINDOW,
  OVERFLOW_EXPORTER,
  Rollup,
} from '../rollup/rollup.js';
import { readBatch } from './batch.js';
import {
  type DropCounts,
  type FromWorker,
  type Op,
  type StopAnswer,
  type ToWorker,
  type WorkerSetup,
  workerOf,
} from './messages.js';

const MIB = 1024 * 1024;
/** Points per message of a flush's answer (the store's batch). */
const ANSWER_CHUNK = 5000;
/** How often the queue's length is reported when it changed without a batch arriving (ms). */
const QUEUE_REPORT_MS = 100;
const port = parentPort!;
const setup = workerData as WorkerSetup;
const { config, index, count } = setup;
const c = config.collector;
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

const log = createLogger(config.log.level, setup.logFormat).child({ worker: index });
const metrics = new Registry();
const internalErrors = new InternalErrors(log.child({ component: 'guard' }));
registerInternalErrorMetrics(metrics, internalErrors);
installProfiler(`decode-${index}`, (err) => internalErrors.report('profiler', err));
// Named for top -H and bench:ingest's CPU by thread; the receiving thread's priority.
settleThread(`flowcast-dec-${index}`, 0);

/** Each worker holds 1/count of the exporters, so it gets that share of the table and budget. */
const share = (n: number, min: number) => Math.max(min, Math.ceil(n / count));
const sampling = new Map(
  Object.entries(c.exporters).map(([address, e]) => [
    address,
    {
      ...(e.samplingRate !== undefined && { default: e.samplingRate }),
      ...(e.samplingOverride !== undefined && { override: e.samplingOverride }),
    },
  ]),
);

let windowPoints: Point[] = [];
const rollup = new Rollup(
  {
    intervalMs: config.storage.rollupInterval * 1000,
    topN: config.storage.topTalkers,
    maxSeriesPerWindow: share(MAX_SERIES_PER_WINDOW, 1024),
    maxExportersPerWindow: share(MAX_EXPORTERS_PER_WINDOW, 16),
  },
  {
    sink: (points) => {
      for (const p of points) windowPoints.push(p);
    },
    interfaceName: (exporter, ifIndex) => loop.state.exporters.get(exporter)?.interfaces.get(ifIndex)?.name,
    collectorCounters: () => collectorCounters(loop.state),
  },
);
if (setup.resumeAt !== undefined) rollup.resumeAfter(setup.resumeAt);
const write = (points: readonly Point[]) => {
  if (points.length > 0) post({ t: 'points', points: [...points] });
};
const rawFlows = config.storage.rawFlows.enabled
  ? new RawFlowSampler(config.storage.rawFlows.sampleOneIn, write)
  : undefined;
// Each worker runs the detectors over the records of its own exporters.
const detection = buildDetection(config.detection, {
  log: log.child({ component: 'detection' }),
  metrics,
  write,
});

const loop: DecodeLoop = new DecodeLoop(
  {
    queueSize: share(c.queueSize, 16),
    queueMaxBytes: share(c.queueMaxMegabytes * MIB, MIB),
    state: {
      templateLifetimeMs: c.templateLifetime * 1000,
      maxTemplatesPerExporter: c.maxTemplatesPerExporter,
      maxExporters: share(c.maxExporters, 1),
      pendingLifetimeMs: c.pendingLifetime * 1000,
      pendingMaxSets: c.pendingMaxSets,
      stateMaxBytes: share(c.stateMemoryMegabytes * MIB, MIB),
      exporterMaxBytes: c.exporterMemoryMegabytes * MIB,
      sampling,
    },
  },
  {
    log: log.child({ component: 'collector' }),
    registry: new ElementRegistry(c.enterpriseElements),
    internalErrors,
    sink: (records: readonly DecodedRecord[]) => {
      const now = Date.now();
      rollup.ingest(records, now);
      rawFlows?.ingest(records, now);
      detection?.ingest(records, now);
    },
  },
);
registerDecodeMetrics(metrics, loop.state, share(c.metricsMaxExporters, 1));
registerRollupMetrics(metrics, rollup);
const view: CollectorView = localView(loop.state);

/**
 * Restores the templates of this worker's exporters from templates.json; returns how many. The
 * file is read and parsed here, not on the receiving thread, which holds no template state.
 */
function restoreTemplates(text: string): number {
  const doc = JSON.parse(text) as { exporters?: unknown };
  if (!Array.isArray(doc?.exporters)) return loop.restore(doc);
  const mine = (doc.exporters as { address?: unknown }[]).filter(
    (e) => typeof e?.address === 'string' && workerOf(e.address, count) === index,
  );
  return loop.restore({ ...doc, exporters: mine });
}

// Started again after dying: with the templates last persisted for this worker's exporters, read
// before any datagram is (synchronously: the batches already sent wait behind this).
if (setup.templatesFile !== undefined) {
  try {
    restoreTemplates(readFileSync(setup.templatesFile, 'utf8'));
  } catch (err) {
    log.warn({ err }, 'templates for this worker unreadable; starting without them');
  }
}

/** This worker's part of templates.json (its exporters, comma-separated) written to `file`. */
async function writeTemplates(file: string): Promise<number> {
  const parts = await loop.snapshotParts();
  await writeFile(file, parts.join(','));
  return parts.length;
}

function takeWindowPoints(): Point[] {
  const points = windowPoints;
  windowPoints = [];
  return points;
}

/**
 * Whether a window point can meet one of another worker's: its exporter is folded under "overflow"
 * (or it names none). Every other series belongs to an exporter pinned here.
 */
function shared(p: Point): boolean {
  const exporter = p.tags['exporter'];
  return exporter === undefined || exporter === OVERFLOW_EXPORTER;
}

/**
 * Sends an answer's points ahead of it as columns (storage/columns.ts), ANSWER_CHUNK a part and one
 * part per turn of this thread's event loop, so that they reach the receiving thread apart and
 * cheap to read: it goes straight to the store. Answers, to be merged over the workers there, the
 * points that another worker may hold too (none when this is the only worker).
 *
 * Measured with bench/window-handoff.ts (a thousand exporters' interval, 49,000 points): sent as
 * objects, 2,000 a part, they cost the receiving thread 120-170 ms of CPU and held its event loop up
 * to 120-240 ms; as columns 30 ms, and at most 10-13 ms.
 */
async function inParts(id: number, points: readonly Point[]): Promise<Point[]> {
  const toMerge: Point[] = [];
  const columns = new ColumnsBuilder();
  for (const p of points) {
    if (count > 1 && shared(p)) toMerge.push(p);
    else columns.add(p);
    if (columns.count >= ANSWER_CHUNK) {
      const part = columns.take();
      post({ t: 'part', id, columns: part }, transferables(part));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  if (columns.count > 0) {
    const part = columns.take();
    post({ t: 'part', id, columns: part }, transferables(part));
  }
  return toMerge;
}

async function answer(id: number, op: Op, arg: unknown): Promise<unknown> {
  switch (op) {
    case 'flush':
      rollup.flush(arg as number);
      return await inParts(id, takeWindowPoints());
    case 'drain':
      loop.drain();
      return undefined;
    case 'restore':
      return restoreTemplates(await readFile(arg as string, 'utf8'));
    case 'templates':
      return await writeTemplates(arg as string);
    case 'metrics':
      return metrics.getMetricsAsJSON();
    case 'view': {
      const { method, args } = arg as { method: keyof CollectorView; args: unknown[] };
      const f = view[method] as (...a: unknown[]) => Promise<unknown>;
      return f.apply(view, args);
    }
    case 'stop': {
      loop.drain();
      loop.stop();
      rollup.close(arg as number);
      await detection?.stop();
      return {
        points: await inParts(id, takeWindowPoints()),
        resumeAt: rollup.resumeAt,
      } satisfies StopAnswer;
    }
  }
}

/** The queue as the receiving thread last heard of it. */
let reported = '';

/** This worker's queue now: datagrams, bytes, dropped so far. */
function queueNow(): [number, number, number] {
  return [loop.pending, loop.pendingBytes, loop.dropped];
}

/** Drops on the receiving thread, counted on their exporters here. */
function countDrops(drops: DropCounts): void {
  for (const [address, version, n] of drops) loop.countDropped(address, version, n);
}

port.on('message', (m: ToWorker) => {
  if (m.t === 'drops') {
    countDrops(m.drops);
    return;
  }
  if (m.t === 'batch') {
    let count = 0;
    // One copy of the whole batch (a memcpy), so that its buffer goes back to the receiving thread
    // for reuse at once; the queued datagrams are views into the copy. A copy per datagram
    // (Buffer.from) cost 3 µs each at 20,000 datagrams/s, a tenth of the worker's time.
    const copy = m.buffer.slice(0, m.used);
    readBatch(copy, m.used, (payload, address, sourcePort, receivedAt) => {
      count++;
      loop.push({ payload, address, port: sourcePort, receivedAt });
    });
    if (m.drops !== undefined) countDrops(m.drops);
    const queue = queueNow();
    reported = queue.join();
    post({ t: 'ack', buffer: m.buffer, count, queue }, [m.buffer]);
    return;
  }
  answer(m.id, m.op, m.arg).then(
    (value) => post({ t: 'res', id: m.id, value }),
    (err: unknown) => {
      internalErrors.report(`worker.${m.op}`, err);
      post({ t: 'res', id: m.id, error: err instanceof Error ? err.message : String(err) });
    },
  );
});

loop.start();
// The receiving thread bounds what waits for this worker by the queue it last heard of: tell it
// when the queue moved without a batch arriving (it drained).
setInterval(() => {
  const queue = queueNow();
  const key = queue.join();
  if (key !== reported) {
    reported = key;
    post({ t: 'queue', queue });
  }
}, QUEUE_REPORT_MS).unref();
(detection?.start() ?? Promise.resolve()).then(
  () => post({ t: 'ready' }),
  (err: unknown) => {
    log.error({ err }, 'detection could not start in the decode worker');
    post({ t: 'ready' });
  },
);
