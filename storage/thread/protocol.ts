/**
 * The messages between a store and its clients across threads (thread-store.ts, host.ts, and the
 * analytics worker's reads): a call names a method of the {@link Store} interface, a write carries
 * a batch (points or columns, both structured-cloneable), and every answer carries the store's
 * counters so the client's `stats` follow without a call of their own.
 */
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import type { PointBatch } from '../columns.js';
import { type EmbeddedErrorCode, EmbeddedStoreError } from '../embedded/errors.js';
import { type InfluxErrorCode, InfluxStoreError } from '../influx/errors.js';
import type { Store, StoreStats } from '../store.js';

/** The methods a client may call: the Store interface and nothing else. */
export const METHODS = [
  'start',
  'stop',
  'flush',
  'traffic',
  'topTalkers',
  'protocols',
  'interfaceTotals',
  'exporters',
  'interfaces',
  'forecasts',
  'forecastSeries',
  'capacity',
  'anomalies',
  'rows',
] as const satisfies readonly (keyof Store)[];
export type Method = (typeof METHODS)[number];
const METHOD_SET: ReadonlySet<string> = new Set(METHODS);

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && METHOD_SET.has(name);
}

/** An error as it crosses: the store errors keep their class and code (the API maps them to 4xx/503). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

export type ToStore =
  | { readonly type: 'call'; readonly id: number; readonly method: Method; readonly args: unknown[] }
  | { readonly type: 'write'; readonly batch: PointBatch }
  /** Serve one more client on this port (host only). */
  | { readonly type: 'connect'; readonly port: MessagePort };

/** Every answer carries the counters and `taken`: the points of this channel's writes handled so far. */
export type FromStore =
  | {
      readonly type: 'result';
      readonly id: number;
      readonly value: unknown;
      readonly stats: StoreStats;
      readonly taken: number;
    }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly error: WireError;
      readonly stats: StoreStats;
      readonly taken: number;
    }
  /** Sent unasked: first when the channel is served (the client knows it is), then as counters change. */
  | { readonly type: 'stats'; readonly stats: StoreStats; readonly taken: number };

/** Either side of a channel: a Worker, its parentPort, or a MessagePort. */
export interface Endpoint {
  postMessage(value: unknown, transferList?: readonly TransferListItem[]): void;
  on(event: string, listener: (value: unknown) => void): unknown;
}

export function toWire(err: unknown): WireError {
  if (err instanceof EmbeddedStoreError || err instanceof InfluxStoreError)
    return { name: err.name, message: err.message, code: err.code };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

export function fromWire(w: WireError): Error {
  if (w.name === 'EmbeddedStoreError') return new EmbeddedStoreError(w.code as EmbeddedErrorCode, w.message);
  if (w.name === 'InfluxStoreError') return new InfluxStoreError(w.code as InfluxErrorCode, w.message);
  const err = new Error(w.message);
  err.name = w.name;
  return err;
}

export function copyStats(from: StoreStats, to: StoreStats): void {
  to.pointsWritten = from.pointsWritten;
  to.writeErrors = from.writeErrors;
  to.spoolPoints = from.spoolPoints;
  to.spoolDropped = from.spoolDropped;
  to.rejected = from.rejected;
}

/** Adds `from`'s counters to `to`'s (`spoolPoints`, a level, not a count, is left as it is). */
export function addCounters(from: StoreStats, to: StoreStats): void {
  to.pointsWritten += from.pointsWritten;
  to.writeErrors += from.writeErrors;
  to.spoolDropped += from.spoolDropped;
  to.rejected += from.rejected;
}

export function sameStats(a: StoreStats, b: StoreStats): boolean {
  return (
    a.pointsWritten === b.pointsWritten &&
    a.writeErrors === b.writeErrors &&
    a.spoolPoints === b.spoolPoints &&
    a.spoolDropped === b.spoolDropped &&
    a.rejected === b.rejected
  );
}

export function emptyStats(): StoreStats {
  return { pointsWritten: 0, writeErrors: 0, spoolPoints: 0, spoolDropped: 0, rejected: 0 };
}
