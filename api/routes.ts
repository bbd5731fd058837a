/**
 * The data routes of the API (docs/api.md), on the store interface and the collector's view of its
 * live state. Each one is a {@link JsonRoute}: its parameters are validated by its schemas before
 * the handler runs, and its answer is what its response schema documents.
 */
import type { JobStatus } from '../analytics/job-status.js';
import { byRecency, type CollectorView, type ExporterSummary } from '../collector/decode/view.js';
import { iso } from '../common/iso.js';
import type { Row } from '../storage/store.js';
import type { Cell } from './csv.js';
import { ApiError, badParameter } from './errors.js';
import { type JsonRoute, jsonRoute, type RouteContext } from './route.js';
import {
  anomaliesBody,
  anomaliesQuery,
  capacityBody,
  capacityQuery,
  exporterDetailBody,
  exporterPath,
  exportersBody,
  exportersQuery,
  forecastsBody,
  forecastsQuery,
  healthBody,
  interfacesBody,
  interfacesQuery,
  jobPath,
  jobRunBody,
  jobsBody,
  jobsQuery,
  MAX_POINTS,
  noQuery,
  protocolsBody,
  protocolsQuery,
  seriesBody,
  seriesQuery,
  templatesBody,
  templatesQuery,
  topBody,
  topQuery,
  trafficBody,
  trafficQuery,
} from './schemas.js';
import { parseTime, TIME_FORMATS } from './time.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: HOUR, d: DAY, w: 7 * DAY };
/** How long the health answer waits for the store. */
const HEALTH_PROBE_MS = 2000;
/** How many of the most recently heard exporters the health answer lists. */
const HEALTH_RECENT_EXPORTERS = 100;
/** The answer's header when it leaves interfaces out (besides `truncated` in its JSON). */
export const TRUNCATED_HEADER = 'Flowcast-Truncated';
/**
 * The most interface names and descriptions asked of the running collector (those with traffic
 * have their names in the store too). They come from the decode workers: 100,000 rows in one
 * answer held the receiving thread for 340 ms.
 */
const MAX_LIVE_INTERFACE_NAMES = 10_000;

/** One time parameter in milliseconds, relative forms counted from `now`. */
function timeOf(name: string, text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseTime(text, now);
  if (ms === undefined) throw badParameter(name, `expected ${TIME_FORMATS}`);
  return ms;
}

/** `from` and `to` in milliseconds: `to` defaults to now, `from` to `span` before `to`. */
function rangeOf(q: { from?: string | undefined; to?: string | undefined }, ctx: RouteContext, span: number) {
  const now = ctx.now();
  const to = timeOf('to', q.to, now) ?? now;
  const from = timeOf('from', q.from, now) ?? Math.max(0, to - span);
  if (from >= to) throw badParameter('from', `must be before "to" (got from ${iso(from)}, to ${iso(to)})`);
  return { from, to };
}

/** 404 unless the collector knows the exporter now or the store has points from it. */
async function requireExporter(ctx: RouteContext, address: string | undefined): Promise<void> {
  if (address === undefined || (await ctx.collector?.has(address))) return;
  if ((await ctx.store.exporters()).some((e) => e.exporter === address)) return;
  throw new ApiError('not_found', `no exporter ${address}: the collector has not heard from it`);
}

/**
 * Interface speed from its name, for the common vendor prefixes whose speed the name fixes (Cisco
 * GigabitEthernet/Gi, TenGigE/Te, …; Junos ge-, xe-). Anything else (et-, Ethernet1, eth0) is
 * unknown: never guessed.
 */
const SPEED_BY_NAME: readonly [RegExp, number][] = [
  [/^(FastEthernet|Fa)\d/i, 100e6],
  [/^(GigabitEthernet|GigE|Gi)\d/i, 1e9],
  [/^ge-\d/, 1e9],
  [/^(TenGigabitEthernet|TenGigE|Te)\d/i, 10e9],
  [/^xe-\d/, 10e9],
  [/^(TwentyFiveGigE|Twe)\d/i, 25e9],
  [/^(FortyGigabitEthernet|FortyGigE|Fo)\d/i, 40e9],
  [/^(HundredGigE|Hu)\d/i, 100e9],
  [/^(FourHundredGigE|FH)\d/i, 400e9],
];

export function speedFromName(name: string): number | undefined {
  for (const [pattern, bps] of SPEED_BY_NAME) if (pattern.test(name)) return bps;
  return undefined;
}

const cellOf = (value: unknown): Cell =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
const numberOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;
const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const isoOrNull = (ms: number | undefined): string | null => (ms === undefined ? null : iso(ms));

function jobRow(j: JobStatus) {
  return {
    name: j.name,
    schedule: j.schedule,
    enabled: j.enabled,
    running: j.running,
    lastStart: isoOrNull(j.lastStart),
    lastDurationMs: j.lastDurationMs ?? null,
    lastResult: j.lastResult ?? null,
    lastError: j.lastError ?? null,
    seriesProcessed: j.seriesProcessed ?? null,
    lastSuccess: isoOrNull(j.lastSuccess),
    nextRun: isoOrNull(j.nextRun),
  };
}

/** A table for CSV from rows of plain values. */
function table(columns: readonly string[], rows: readonly object[]) {
  return {
    columns,
    rows: rows.map((r) => {
      const out: Record<string, Cell> = {};
      for (const c of columns) out[c] = cellOf((r as Record<string, unknown>)[c]);
      return out;
    }),
  };
}

/**
 * The first `limit` of `rows` (live rows and stored-only ones, in answer order) without the stored
 * rows of exporters the collector knows. The live rows came from a view limited to `limit`: when it
 * was full, a stored row not among them may still belong to a live exporter ranked further down,
 * and `collector` is asked about those (only as many as can still make the answer, a batch at a
 * time, one question per batch); otherwise `collector` is undefined and every live exporter is among the rows already.
 */
async function withoutLiveStored(
  rows: readonly ExporterSummary[],
  limit: number,
  collector: CollectorView | undefined,
): Promise<ExporterSummary[]> {
  if (collector === undefined) return rows.slice(0, limit);
  const out: ExporterSummary[] = [];
  let next = 0;
  while (out.length < limit && next < rows.length) {
    const batch = rows.slice(next, next + limit - out.length);
    next += batch.length;
    const stored = batch.filter((e) => !e.live);
    const liveElsewhere = new Set(
      (await collector.known(stored.map((e) => e.address))).flatMap((yes, i) => (yes ? [stored[i]!] : [])),
    );
    for (const e of batch) if (!liveElsewhere.has(e)) out.push(e);
  }
  return out;
}

/** Promise that rejects after `ms` (the timer does not hold the process open). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** How long a store probe's answer stands for the health checks that follow (ms). */
const HEALTH_PROBE_REUSE_MS = 1000;

/**
 * Whether the store answers a small read within HEALTH_PROBE_MS. Monitors ask often (every few
 * seconds, load balancers several times a second) and the answer must come fast whatever the load:
 * a probe's result stands for a second, the next one runs in the background, and only a probe that
 * has been under way longer than HEALTH_PROBE_MS makes the store unreachable meanwhile. Under a
 * flood, a store read per check put the check behind the database's writes (p99 240 ms).
 */
async function storeProbe(ctx: RouteContext): Promise<{ reachable: boolean; error?: string }> {
  const h = ctx.health;
  const now = Date.now();
  // One probe at a time: a store that hangs keeps its one query, never a pile of them.
  if (h.probing === undefined && (h.probe === undefined || now - h.probe.at >= HEALTH_PROBE_REUSE_MS)) {
    const t = ctx.now();
    const done = ctx.store.rows('collector', { from: t - 1000, to: t }).then(
      () => {
        h.probe = { at: Date.now(), reachable: true };
      },
      (err: unknown) => {
        h.probe = {
          at: Date.now(),
          reachable: false,
          error: err instanceof Error ? err.message.slice(0, 300) : 'unknown error',
        };
      },
    );
    h.probing = {
      since: now,
      done: done.finally(() => {
        h.probing = undefined;
      }),
    };
  }
  // Before any answer, wait for the first probe, but never past HEALTH_PROBE_MS from its start.
  const left = h.probing === undefined ? 0 : HEALTH_PROBE_MS - (Date.now() - h.probing.since);
  if (h.probe === undefined && h.probing !== undefined && left > 0)
    await within(h.probing.done, left, 'the store').catch(() => undefined);
  if (h.probing !== undefined && Date.now() - h.probing.since >= HEALTH_PROBE_MS)
    return { reachable: false, error: `the store did not answer within ${HEALTH_PROBE_MS} ms` };
  const probe = h.probe ?? { reachable: false, error: 'no answer from the store' };
  return { reachable: probe.reachable, ...(probe.error !== undefined && { error: probe.error }) };
}

export const ROUTES: readonly JsonRoute[] = [
  jsonRoute({
    method: 'get',
    path: '/api/v1/health',
    operationId: 'health',
    summary: 'Service health',
    description:
      'Whether the store answers, its write and spool counters, the last datagram per exporter and the jobs. 503 when the store can neither be written nor spooled. Never needs the token.',
    tag: 'service',
    query: noQuery,
    response: healthBody,
    csv: false,
    errors: ['store_unavailable'],
    public: true,
    async handle(_input, ctx) {
      const stats = { ...ctx.store.stats };
      const { reachable, error } = await storeProbe(ctx);
      // Writes are being lost when the store's drop counter grew since the previous check.
      const previous = ctx.health.spoolDropped ?? stats.spoolDropped;
      ctx.health.spoolDropped = stats.spoolDropped;
      const losing = stats.spoolDropped > previous;
      const status = reachable ? 'ok' : losing ? 'unavailable' : 'degraded';
      const exporters = (await ctx.collector?.overview(HEALTH_RECENT_EXPORTERS)) ?? {
        count: 0,
        lastDatagram: [],
      };
      return {
        status: status === 'unavailable' ? 503 : 200,
        body: {
          status,
          store: { reachable, ...(error !== undefined && { error }), ...stats },
          exporters: { count: exporters.count, lastDatagram: exporters.lastDatagram },
          jobs: (ctx.jobs?.list() ?? []).map(jobRow),
          ...(ctx.collectorHealth !== undefined && { collector: ctx.collectorHealth() }),
        },
      };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/exporters',
    operationId: 'listExporters',
    summary: 'Exporters',
    description:
      'Every exporter the collector knows (counters since it started, templates, sampling) and those only the store remembers (live false).',
    tag: 'collector',
    query: exportersQuery,
    response: exportersBody,
    csv: true,
    errors: ['store_unavailable'],
    async handle({ query }, ctx) {
      const limit = query.limit ?? 1000;
      const live = (await ctx.collector?.exporters(limit)) ?? [];
      const known = new Set(live.map((e) => e.address));
      const stored = (await ctx.store.exporters())
        .filter((e) => !known.has(e.exporter))
        .map(
          (e): ExporterSummary => ({
            address: e.exporter,
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
            lastSeen: iso(e.lastSeen),
          }),
        );
      const merged = [...live, ...stored].sort(byRecency);
      const exporters = await withoutLiveStored(
        merged,
        limit,
        live.length < limit ? undefined : ctx.collector,
      );
      const columns = [
        'address',
        'live',
        'versions',
        'packets',
        'records',
        'decodeErrors',
        'missingTemplates',
        'templates',
        'sequenceGaps',
        'samplingRate',
        'samplingSource',
        'lastSeen',
      ];
      return {
        body: { exporters },
        table: table(
          columns,
          exporters.map((e) => ({ ...e, versions: e.versions.join(' ') })),
        ),
      };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/exporters/{address}',
    operationId: 'getExporter',
    summary: 'One exporter in detail',
    description:
      'Counters per version, decode errors by reason, template and buffer counters, sampler rates and template scopes of one exporter the running collector knows.',
    tag: 'collector',
    query: noQuery,
    params: exporterPath,
    response: exporterDetailBody,
    csv: false,
    errors: ['not_found'],
    async handle({ params }, ctx) {
      const detail = await ctx.collector?.exporter(params.address);
      if (detail === undefined)
        throw new ApiError('not_found', `the collector does not know exporter ${params.address}`);
      return { body: detail };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/exporters/{address}/templates',
    operationId: 'getExporterTemplates',
    summary: "An exporter's templates",
    description:
      'Every template the collector holds for the exporter, per scope, with its fields (element id, enterprise number, length, name): what to check first when records look wrong.',
    tag: 'collector',
    query: templatesQuery,
    params: exporterPath,
    response: templatesBody,
    csv: false,
    errors: ['not_found'],
    async handle({ query, params }, ctx) {
      const templates = await ctx.collector?.templates(params.address, query.limit ?? 1000);
      if (templates === undefined)
        throw new ApiError('not_found', `the collector does not know exporter ${params.address}`);
      return { body: templates };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/interfaces',
    operationId: 'listInterfaces',
    summary: 'Interfaces, their capacity and utilisation',
    description:
      'Every interface seen per exporter (from the store and the exporters’ interface tables), its capacity and where it came from, and its traffic over the range (default the last hour). `sort=utilisation` lists the busiest first. The store is asked for its busiest interfaces only (10,000 by default, the most `limit` may be); `truncated` says when interfaces were left out.',
    tag: 'traffic',
    query: interfacesQuery,
    response: interfacesBody,
    csv: true,
    errors: ['not_found', 'store_unavailable'],
    async handle({ query }, ctx) {
      const { from, to } = rangeOf(query, ctx, HOUR);
      const cap = ctx.maxInterfaces;
      const limit = query.limit ?? Math.min(1000, cap);
      if (limit > cap) throw badParameter('limit', `expected a whole number from 1 to ${cap}`);
      await requireExporter(ctx, query.exporter);
      // Every read is cut to the busiest (the store ranks), asking one row more than it keeps so as to
      // know whether it cut: after a flood of random ifIndex values there are millions.
      const liveCap = Math.min(cap, MAX_LIVE_INTERFACE_NAMES);
      const totalsCap = 2 * cap; // in and out
      const [refs, named, totals, capacity] = await Promise.all([
        // Names from the last 30 days at most: the whole history of `traffic` can be large.
        ctx.store.interfaces({
          from: Math.max(0, Math.min(from, to - 30 * DAY)),
          to,
          limit: cap + 1,
          ...(query.exporter !== undefined && { exporter: query.exporter }),
        }),
        ctx.collector?.interfaces(query.exporter, liveCap + 1) ?? [],
        ctx.store.interfaceTotals({
          from,
          to,
          limit: totalsCap + 1,
          ...(query.exporter !== undefined && { exporter: query.exporter }),
        }),
        ctx.store.capacity(),
      ]);
      let truncated = refs.length > cap || named.length > liveCap || totals.length > totalsCap;
      type Entry = {
        exporter: string;
        ifIndex: number;
        ifName: string;
        description: string;
        inBytes: number;
        outBytes: number;
        jobCapacity?: number;
      };
      const entries = new Map<string, Entry>();
      const entry = (exporter: string, ifIndex: number): Entry => {
        const key = `${exporter}\0${ifIndex}`;
        let e = entries.get(key);
        if (e === undefined) {
          e = { exporter, ifIndex, ifName: '', description: '', inBytes: 0, outBytes: 0 };
          entries.set(key, e);
        }
        return e;
      };
      for (const r of refs.slice(0, cap)) entry(r.exporter, r.ifIndex).ifName = r.ifName;
      for (const info of named.slice(0, liveCap)) {
        const i = entry(info.exporter, info.ifIndex);
        if (info.name !== undefined) i.ifName = info.name;
        if (info.description !== undefined) i.description = info.description;
      }
      for (const t of totals.slice(0, totalsCap)) {
        const i = entry(t.exporter, t.ifIndex);
        if (t.direction === 'in') i.inBytes += t.bytes;
        else if (t.direction === 'out') i.outBytes += t.bytes;
      }
      for (const row of capacity) {
        const key = `${String(row['exporter'])}\0${Number(row['ifIndex'])}`;
        const i = entries.get(key);
        const bps = numberOrNull(row['capacityBps']);
        if (i !== undefined && bps !== null && bps > 0) i.jobCapacity = Math.max(i.jobCapacity ?? 0, bps);
      }
      const seconds = (to - from) / 1000;
      let interfaces = [...entries.values()].map((i) => {
        const byName = speedFromName(i.ifName);
        const capacityBps = i.jobCapacity ?? byName ?? null;
        const inBps = (i.inBytes * 8) / seconds;
        const outBps = (i.outBytes * 8) / seconds;
        return {
          exporter: i.exporter,
          ifIndex: i.ifIndex,
          ifName: i.ifName,
          description: i.description,
          capacityBps,
          capacitySource:
            i.jobCapacity !== undefined
              ? ('capacity_job' as const)
              : byName !== undefined
                ? ('name' as const)
                : ('unknown' as const),
          inBytes: i.inBytes,
          outBytes: i.outBytes,
          inBps,
          outBps,
          utilisation: capacityBps === null ? null : Math.max(inBps, outBps) / capacityBps,
        };
      });
      const sort = query.sort ?? 'exporter';
      interfaces.sort((a, b) => {
        if (sort === 'utilisation') {
          const d = (b.utilisation ?? -1) - (a.utilisation ?? -1);
          if (d !== 0) return d;
        } else if (sort === 'bps') {
          const d = Math.max(b.inBps, b.outBps) - Math.max(a.inBps, a.outBps);
          if (d !== 0) return d;
        }
        return a.exporter.localeCompare(b.exporter) || a.ifIndex - b.ifIndex;
      });
      truncated ||= interfaces.length > limit;
      interfaces = interfaces.slice(0, limit);
      const columns = Object.keys(interfacesBody.shape.interfaces.element.shape);
      return {
        body: { from: iso(from), to: iso(to), interfaces, truncated },
        table: table(columns, interfaces),
        ...(truncated && { headers: { [TRUNCATED_HEADER]: 'true' } }),
      };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/traffic',
    operationId: 'getTraffic',
    summary: 'Traffic over time',
    description:
      'Bytes, packets and flows per step, and bits and packets per second, summed over every series that matches the filters (default: the last 24 hours). Steps without data are left out. At most 10,000 samples per answer.',
    tag: 'traffic',
    query: trafficQuery,
    response: trafficBody,
    csv: true,
    errors: ['not_found', 'store_unavailable'],
    async handle({ query }, ctx) {
      const { from, to } = rangeOf(query, ctx, DAY);
      const interval = ctx.rollupIntervalSeconds;
      let step = query.step;
      if (step === undefined) {
        const wanted = Math.ceil((to - from) / 1000 / 1000);
        step = Math.max(interval, Math.ceil(wanted / interval) * interval);
      } else if (step < interval) {
        throw badParameter('step', `must be at least the rollup interval (${interval} s), got ${step}`);
      }
      const stepMs = step * 1000;
      const samples = Math.floor((to - 1) / stepMs) - Math.floor(from / stepMs) + 1;
      if (samples > MAX_POINTS) {
        throw badParameter(
          'step',
          `${step} s gives ${samples} samples over the range; at most ${MAX_POINTS} (use a step of at least ${Math.ceil((to - from) / 1000 / MAX_POINTS)} s or a shorter range)`,
        );
      }
      await requireExporter(ctx, query.exporter);
      const rows = await ctx.store.traffic({
        from,
        to,
        stepSeconds: step,
        ...(query.exporter !== undefined && { exporter: query.exporter }),
        ...(query.ifIndex !== undefined && { ifIndex: query.ifIndex }),
        ...(query.direction !== undefined && { direction: query.direction }),
      });
      const out = rows.map((s) => ({
        time: iso(s.time),
        bytes: s.bytes,
        packets: s.packets,
        flows: s.flows,
        bps: (s.bytes * 8) / step,
        pps: s.packets / step,
      }));
      return {
        body: { from: iso(from), to: iso(to), step, samples: out },
        table: table(['time', 'bytes', 'packets', 'flows', 'bps', 'pps'], out),
      };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/top',
    operationId: 'getTopTalkers',
    summary: 'Top talkers',
    description:
      'The addresses that sent (side=src) or received (side=dst) the most bytes over the range (default the last hour), summed over the per-interval top lists.',
    tag: 'traffic',
    query: topQuery,
    response: topBody,
    csv: true,
    errors: ['not_found', 'store_unavailable'],
    async handle({ query }, ctx) {
      const { from, to } = rangeOf(query, ctx, HOUR);
      await requireExporter(ctx, query.exporter);
      const side = query.side ?? 'src';
      const talkers = await ctx.store.topTalkers({
        from,
        to,
        side,
        limit: query.limit ?? 10,
        ...(query.exporter !== undefined && { exporter: query.exporter }),
      });
      const seconds = (to - from) / 1000;
      const out = talkers.map((t, i) => ({ rank: i + 1, ...t, bps: (t.bytes * 8) / seconds }));
      return {
        body: { side, from: iso(from), to: iso(to), talkers: out },
        table: table(['rank', 'addr', 'bytes', 'packets', 'bps'], out),
      };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/protocols',
    operationId: 'getProtocols',
    summary: 'Traffic per protocol and service',
    description:
      'Bytes, packets and flows per protocol and service over the range (default the last hour), largest first.',
    tag: 'traffic',
    query: protocolsQuery,
    response: protocolsBody,
    csv: true,
    errors: ['not_found', 'store_unavailable'],
    async handle({ query }, ctx) {
      const { from, to } = rangeOf(query, ctx, HOUR);
      await requireExporter(ctx, query.exporter);
      const totals = await ctx.store.protocols({
        from,
        to,
        ...(query.exporter !== undefined && { exporter: query.exporter }),
      });
      const all = totals.reduce((n, p) => n + p.bytes, 0);
      const out = totals.slice(0, MAX_POINTS).map((p) => ({ ...p, share: all > 0 ? p.bytes / all : 0 }));
      return {
        body: { from: iso(from), to: iso(to), protocols: out },
        table: table(['protocol', 'service', 'bytes', 'packets', 'flows', 'share'], out),
      };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/forecasts',
    operationId: 'getForecast',
    summary: 'Forecast of one series',
    description:
      'The stored forecast of a series (yhat with its 95 % band, lower and upper, and its 80 % band, lower80 and upper80), all of it or over a range; `horizon=7d` means from now to seven days ahead.',
    tag: 'analytics',
    query: forecastsQuery,
    response: forecastsBody,
    csv: true,
    errors: ['not_found', 'store_unavailable'],
    async handle({ query }, ctx) {
      const now = ctx.now();
      let from = timeOf('from', query.from, now);
      let to = timeOf('to', query.to, now);
      if (query.horizon !== undefined) {
        if (query.from !== undefined || query.to !== undefined)
          throw badParameter('horizon', 'give either horizon or from/to, not both');
        const m = /^(\d+)([smhdw])$/.exec(query.horizon)!;
        from = now;
        to = now + Number(m[1]) * UNIT_MS[m[2]!]!;
      }
      if (from !== undefined && to !== undefined && from >= to)
        throw badParameter('from', 'must be before "to"');
      const known = await ctx.store.forecastSeries();
      if (!known.includes(query.series))
        throw new ApiError(
          'not_found',
          `no forecast for series ${JSON.stringify(query.series)} (see /api/v1/series)`,
        );
      const samples = await ctx.store.forecasts({
        series: query.series,
        ...(from !== undefined && { from }),
        ...(to !== undefined && { to }),
      });
      const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);
      const out = samples.slice(0, MAX_POINTS).map((s) => ({
        ...s,
        time: iso(s.time),
        lower80: finiteOrNull(s.lower80),
        upper80: finiteOrNull(s.upper80),
      }));
      return {
        body: { series: query.series, forecast: out },
        table: table(['time', 'yhat', 'lower', 'upper', 'lower80', 'upper80'], out),
      };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/series',
    operationId: 'listSeries',
    summary: 'Forecast series',
    description:
      'The keys of the series that have forecasts: traffic/<exporter>/<ifIndex or total>/<direction>.',
    tag: 'analytics',
    query: seriesQuery,
    response: seriesBody,
    csv: true,
    errors: ['store_unavailable'],
    async handle(_input, ctx) {
      const keys = (await ctx.store.forecastSeries()).slice(0, MAX_POINTS);
      const series = keys.map((key) => {
        // The exporter may be an IPv6 address: its colons are not separators, the slashes are.
        const parts = key.split('/');
        const ok = parts.length === 4 && parts[0] === 'traffic';
        return {
          series: key,
          exporter: ok ? parts[1]! : null,
          ifIndex: ok ? parts[2]! : null,
          direction: ok ? parts[3]! : null,
        };
      });
      return { body: { series }, table: table(['series', 'exporter', 'ifIndex', 'direction'], series) };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/capacity',
    operationId: 'getCapacity',
    summary: 'The capacity-planning table',
    description:
      "The capacity job's latest row per interface and direction: capacity, 95th percentile, trend, the planning threshold (per cent and bits per second), days until it is reached, and the probability of congestion within 7 and 30 days; soonest to fill first.",
    tag: 'analytics',
    query: capacityQuery,
    response: capacityBody,
    csv: true,
    errors: ['not_found', 'store_unavailable'],
    async handle({ query }, ctx) {
      await requireExporter(ctx, query.exporter);
      const now = ctx.now();
      const [rows, refs] = await Promise.all([
        ctx.store.capacity(),
        // For names only: those of the busiest interfaces, which the capacity job chooses from.
        ctx.store.interfaces({ from: Math.max(0, now - 30 * DAY), to: now + DAY, limit: ctx.maxInterfaces }),
      ]);
      const names = new Map(refs.map((r) => [`${r.exporter}\0${r.ifIndex}`, r.ifName]));
      const out = rows
        .filter((r: Row) => query.exporter === undefined || r['exporter'] === query.exporter)
        .map((r: Row) => {
          const capacityBps = numberOrNull(r['capacityBps']);
          const p95Bps = numberOrNull(r['p95Bps']);
          const threshold = numberOrNull(r['threshold']);
          const exporter = String(r['exporter'] ?? '');
          const ifIndex = String(r['ifIndex'] ?? '');
          return {
            time: iso(r.time),
            exporter,
            ifIndex,
            ifName: names.get(`${exporter}\0${Number(ifIndex)}`) ?? '',
            direction: String(r['direction'] ?? ''),
            capacityBps,
            p95Bps,
            utilisation:
              capacityBps !== null && capacityBps > 0 && p95Bps !== null ? p95Bps / capacityBps : null,
            trendBpsPerDay: numberOrNull(r['trendBpsPerDay']),
            // Per cent to four decimals: 100 * 0.07 is 7.000000000000001 in binary floating point.
            thresholdPercent: threshold === null ? null : Math.round(threshold * 1e6) / 1e4,
            thresholdBps: threshold === null || capacityBps === null ? null : threshold * capacityBps,
            daysToThreshold: numberOrNull(r['daysToThreshold']),
            probCongested: numberOrNull(r['probCongested']),
            probCongested7d: numberOrNull(r['probCongested7d']),
            probCongested30d: numberOrNull(r['probCongested30d']),
            note: typeof r['note'] === 'string' ? r['note'] : '',
          };
        });
      const sort = query.sort ?? 'daysToThreshold';
      const last = (v: number | null, sign: 1 | -1) => (v === null ? Number.POSITIVE_INFINITY : sign * v);
      out.sort((a, b) => {
        let d = 0;
        if (sort === 'daysToThreshold') d = last(a.daysToThreshold, 1) - last(b.daysToThreshold, 1);
        else if (sort === 'utilisation') d = last(a.utilisation, -1) - last(b.utilisation, -1);
        else if (sort === 'probCongested') d = last(a.probCongested, -1) - last(b.probCongested, -1);
        if (Number.isNaN(d)) d = 0;
        return (
          d ||
          a.exporter.localeCompare(b.exporter) ||
          Number(a.ifIndex) - Number(b.ifIndex) ||
          a.direction.localeCompare(b.direction)
        );
      });
      const limited = out.slice(0, query.limit ?? MAX_POINTS);
      return {
        body: { capacity: limited },
        table: table(Object.keys(capacityBody.shape.capacity.element.shape), limited),
      };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/anomalies',
    operationId: 'listAnomalies',
    summary: 'Anomalies',
    description:
      'Anomalies detected over the range (default the last 24 hours), newest first, optionally of one kind or one exporter.',
    tag: 'analytics',
    query: anomaliesQuery,
    response: anomaliesBody,
    csv: true,
    errors: ['not_found', 'store_unavailable'],
    async handle({ query }, ctx) {
      const { from, to } = rangeOf(query, ctx, DAY);
      await requireExporter(ctx, query.exporter);
      const rows = await ctx.store.anomalies({
        from,
        to,
        ...(query.kind !== undefined && { kind: query.kind }),
        ...(query.exporter !== undefined && { exporter: query.exporter }),
      });
      const out = rows
        .sort((a, b) => b.time - a.time)
        .slice(0, query.limit ?? 1000)
        .map((r) => ({
          time: iso(r.time),
          kind: String(r['kind'] ?? ''),
          exporter: stringOrNull(r['exporter']),
          series: stringOrNull(r['series']),
          subject: stringOrNull(r['subject']),
          state: stringOrNull(r['state']),
          score: numberOrNull(r['score']),
          value: numberOrNull(r['value']),
          expected: numberOrNull(r['expected']),
          message: stringOrNull(r['message']),
        }));
      return {
        body: { from: iso(from), to: iso(to), anomalies: out },
        table: table(Object.keys(anomaliesBody.shape.anomalies.element.shape), out),
      };
    },
  }),

  jsonRoute({
    method: 'get',
    path: '/api/v1/jobs',
    operationId: 'listJobs',
    summary: 'Analytics jobs',
    description:
      'Each scheduled job and its last run; empty when the scheduler does not run in this process.',
    tag: 'analytics',
    query: jobsQuery,
    response: jobsBody,
    csv: true,
    errors: [],
    async handle(_input, ctx) {
      const jobs = (ctx.jobs?.list() ?? []).map(jobRow);
      return { body: { jobs }, table: table(Object.keys(jobsBody.shape.jobs.element.shape), jobs) };
    },
  }),

  jsonRoute({
    method: 'post',
    path: '/api/v1/jobs/{name}/run',
    operationId: 'runJob',
    summary: 'Run a job now',
    description:
      'Starts the job without waiting for it (202); 409 while it runs, 404 for a job that does not exist.',
    tag: 'analytics',
    query: noQuery,
    params: jobPath,
    response: jobRunBody,
    successStatus: 202,
    csv: false,
    errors: ['not_found', 'conflict'],
    async handle({ params }, ctx) {
      const outcome = ctx.jobs?.trigger(params.name) ?? 'unknown';
      if (outcome === 'unknown')
        throw new ApiError('not_found', `no job named ${JSON.stringify(params.name)}`);
      if (outcome === 'running') throw new ApiError('conflict', `job ${params.name} is already running`);
      return { status: 202, body: { job: params.name, status: 'started' } };
    },
  }),
];
