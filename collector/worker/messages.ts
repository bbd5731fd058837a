/**
 * What the receiving thread and a decode worker say to each other. Datagrams travel in batches
 * (batch.ts) whose buffers go back and forth by transfer; everything else is a request with an id
 * and its answer, or points the worker hands to the store.
 */
import type { Config } from '../../cli/config.js';
import type { LogFormat } from '../../common/logger.js';
import type { PointColumns } from '../../storage/columns.js';
import type { Point } from '../../storage/store.js';

/** What a worker is started with (its workerData). */
export interface WorkerSetup {
  /** This worker's place in the pool, and the pool's size (its share of the budgets is 1/count). */
  readonly index: number;
  readonly count: number;
  readonly config: Config;
  /** The logger's format as the receiving thread resolved it (`auto` means the main thread's terminal). */
  readonly logFormat: Exclude<LogFormat, 'auto'>;
  /** The first rollup interval not yet written by an earlier process (rollup-state.json). */
  readonly resumeAt: number | undefined;
  /**
   * templates.json, whose exporters pinned to this worker it restores as it starts (a worker
   * started again after it died); undefined for none (the first start restores on request).
   */
  readonly templatesFile: string | undefined;
}

/** Datagrams dropped on the receiving thread (worker busy), per exporter and version, for the `collector` measurement. */
export type DropCounts = [address: string, version: number, count: number][];

export type ToWorker =
  | { t: 'batch'; buffer: ArrayBuffer; used: number; drops: DropCounts | undefined }
  | { t: 'drops'; drops: DropCounts }
  | { t: 'req'; id: number; op: Op; arg?: unknown };

export type FromWorker =
  | { t: 'ready' }
  | {
      t: 'ack';
      buffer: ArrayBuffer;
      count: number;
      /** The worker's own queue after the batch: datagrams, bytes, dropped so far. */
      queue: [length: number, bytes: number, dropped: number];
    }
  | { t: 'queue'; queue: [length: number, bytes: number, dropped: number] }
  | { t: 'res'; id: number; value?: unknown; error?: string }
  | { t: 'points'; points: Point[] }
  /**
   * Part of the answer to request `id` (a flush's or stop's points, as columns), ahead of its `res`:
   * points of exporters pinned to this worker, written as they come.
   */
  | { t: 'part'; id: number; columns: PointColumns };

/** FNV-1a of the address text: which worker an exporter is pinned to. */
export function workerOf(address: string, workers: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % workers;
}

/**
 * Requests: `flush` emits the rollup windows due at `arg` (ms), sends their points in parts and
 * answers those that other workers may hold too (exporter "overflow"), to be merged; `drain`
 * decodes everything queued; `restore` restores its exporters' templates from templates.json (`arg`,
 * the path) and answers how many; `templates` writes its exporters' part of templates.json to
 * `arg` (a path) and answers how many exporters it wrote;
 * `metrics` its registry as JSON; `view` calls a CollectorView method ({method, args});
 * `stop` closes the rollup (its last points in parts, like a flush's, and resumeAt) and detection.
 */
export type Op = 'flush' | 'drain' | 'restore' | 'templates' | 'metrics' | 'view' | 'stop';

export interface StopAnswer {
  /** The closed windows' points that other workers may hold too (the rest came in parts). */
  points: Point[];
  resumeAt: number;
}
