/**
 * What a route of the API is: its method and OpenAPI path, the schemas of its parameters and of its
 * answer, and its handler. The app registers routes from this table and the OpenAPI document is
 * generated from the same table, so every route is documented and every documented route exists.
 */
import type { Request, Response } from 'express';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { JobControl } from '../analytics/job-status.js';
import type { CollectorView } from '../collector/decode/view.js';
import type { Store } from '../storage/store.js';
import type { Cell } from './csv.js';
import type { ApiErrorCode } from './errors.js';

/** What the routes read from. */
export interface RouteContext {
  readonly store: Store;
  /** The running collector's view of its state (exporters, templates, interfaces); absent when there is none. */
  readonly collector?: CollectorView | undefined;
  /** The analytics jobs; absent when the scheduler is not running (the jobs list is then empty). */
  readonly jobs?: JobControl | undefined;
  readonly metrics: Registry;
  /** Extra collector details for the health answer (queue length, store kind, …). */
  readonly collectorHealth?: (() => Record<string, unknown>) | undefined;
  /** Seconds per rollup point: the smallest meaningful traffic step. */
  readonly rollupIntervalSeconds: number;
  /** The most interfaces one answer lists and asks of the store (ApiOptions.maxInterfaces). */
  readonly maxInterfaces: number;
  readonly now: () => number;
  /** What the previous health check saw. */
  readonly health: {
    spoolDropped?: number;
    /** The last store probe's result and when it ended; the one under way and when it began. */
    probe?: { at: number; reachable: boolean; error?: string };
    probing?: { since: number; done: Promise<void> } | undefined;
  };
}

/** An answer: its status (200 unless set), JSON body, and for tabular endpoints its table for CSV. */
export interface Answer {
  readonly status?: number;
  /** Headers sent with the answer in either format. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly table?: { readonly columns: readonly string[]; readonly rows: readonly Record<string, Cell>[] };
}

/** A JSON route, validated and documented from its schemas. */
export interface JsonRoute<Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  readonly kind: 'json';
  readonly method: 'get' | 'post';
  /** OpenAPI form, `{name}` for path parameters. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly query: Q;
  readonly params?: P;
  readonly response: z.ZodType;
  /** Status of a successful answer (200 unless set). */
  readonly successStatus?: 200 | 202;
  /** Also answers `text/csv` (Accept header or `format=csv`). */
  readonly csv: boolean;
  /** Error codes this route answers besides the common ones (bad_parameter, unauthorized, …). */
  readonly errors: readonly ApiErrorCode[];
  /** Public when the API has a token (only health). */
  readonly public?: boolean;
  handle(input: { query: z.output<Q>; params: z.output<P> }, ctx: RouteContext): Promise<Answer>;
}

/** A route that writes its own answer (the Prometheus page, the OpenAPI document, the docs page). */
export interface RawRoute {
  readonly kind: 'raw';
  readonly method: 'get';
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  /** Content type of the answer, for the document. */
  readonly contentType: string;
  readonly params?: z.ZodType;
  /** Which access rule applies when the API has a token. */
  readonly access: 'token' | 'metrics' | 'docs';
  handle(req: Request, res: Response): Promise<void> | void;
}

export type Route = JsonRoute | RawRoute;

/** Express path syntax (`:name`) for an OpenAPI path (`{name}`). */
export function expressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/** A JSON route with the types of its handler's input inferred from its schemas. */
export function jsonRoute<Q extends z.ZodType, P extends z.ZodType = z.ZodType>(
  route: Omit<JsonRoute<Q, P>, 'kind'>,
): JsonRoute {
  return { kind: 'json', ...route } as unknown as JsonRoute;
}
