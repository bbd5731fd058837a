/**
 * What the rest of flowcast may read of the decoder's state: exporters, their counters, templates and
 * interface names, as plain rows. The HTTP API reads through a {@link CollectorView} and never
 * touches a {@link FlowState}, which belongs to the thread that decodes: every answer is a plain
 * structured-cloneable object (no Map, class instance or function), so a decoding worker can send it
 * through postMessage, and every list is bounded by a limit or by a cap of the state itself.
 */
import { iso } from '../../common/iso.js';
import type { DecodeErrorReason, ExporterState, FlowState } from './state.js';

/**
 * The order of exporter lists: the most recently seen first (ISO times compare as text; never
 * seen last), then by address. The API, the view of one worker and the merge over workers share it.
 */
export function byRecency(
  a: { address: string; lastSeen: string | null },
  b: { address: string; lastSeen: string | null },
): number {
  return (b.lastSeen ?? '').localeCompare(a.lastSeen ?? '') || a.address.localeCompare(b.address);
}

/** One exporter in a list: its counters since the collector started, templates and sampling. */
export interface ExporterSummary {
  address: string;
  /** Whether the running collector knows it (always true here; the API adds stored-only exporters). */
  live: boolean;
  /** Datagram versions seen, ascending. */
  versions: number[];
  packets: number;
  records: number;
  decodeErrors: number;
  missingTemplates: number;
  /** Templates held over every scope. */
  templates: number;
  sequenceGaps: number;
  samplingRate: number;
  samplingSource: 'override' | 'exporter' | 'default' | 'none';
  /** RFC 3339; null when no datagram has come yet. */
  lastSeen: string | null;
}

/** One exporter in detail: per-version counters, errors by reason, buffers, samplers and scopes. */
export interface ExporterDetail extends ExporterSummary {
  byVersion: {
    version: number;
    packets: number;
    records: number;
    decodeErrors: number;
    missingTemplates: number;
    dropped: number;
    sequenceGaps: number;
  }[];
  errorsByReason: Partial<Record<DecodeErrorReason, number>>;
  optionsRecords: number;
  templatesReceived: number;
  templatesChanged: number;
  templatesWithdrawn: number;
  templatesExpired: number;
  pending: { sets: number; bytes: number; buffered: number; decoded: number; expired: number };
  /** At most {@link MAX_DETAIL_ROWS}; samplerId null for the rate stated with no id. */
  samplerRates: { domain: string; samplerId: number | null; rate: number }[];
  /** At most {@link MAX_DETAIL_ROWS}. */
  domains: { key: string; observationDomainId: number; templates: number; sequenceLost: number }[];
  /** How many interfaces the exporter has named. */
  interfaces: number;
}

/** An exporter's templates per scope, with the name of every field's information element. */
export interface ExporterTemplates {
  exporter: string;
  templates: {
    /** Template scope: version/sourceId or 10/port/domain. */
    domain: string;
    observationDomainId: number;
    templateId: number;
    options: boolean;
    scopeCount: number;
    /** Bytes per record; -1 when variable. */
    recordLength: number;
    receivedAt: string;
    fields: { id: number; pen: number; length: number; name: string }[];
  }[];
}

/** An interface's name and description as its exporter stated them in options data. */
export interface InterfaceInfo {
  exporter: string;
  ifIndex: number;
  name?: string;
  description?: string;
}

/** The collector's state as the API reads it; every answer is structured-cloneable. */
export interface CollectorView {
  /** Every exporter known, at most `limit` (the most recently seen first). */
  exporters(limit?: number): Promise<ExporterSummary[]>;
  /** Count of exporters known and the `recent` most recently seen {exporter, lastSeen ISO} (for health). */
  overview(
    recent: number,
  ): Promise<{ count: number; lastDatagram: { exporter: string; lastSeen: string }[] }>;
  has(address: string): Promise<boolean>;
  /** `has` for many addresses in one question (one request per decode worker), in their order. */
  known(addresses: readonly string[]): Promise<boolean[]>;
  exporter(address: string): Promise<ExporterDetail | undefined>;
  templates(address: string, limit: number): Promise<ExporterTemplates | undefined>;
  /** Interface names and descriptions from options data, for one exporter or all, at most `limit` rows. */
  interfaces(exporter: string | undefined, limit: number): Promise<InterfaceInfo[]>;
}

/** The most sampler rates and template scopes one exporter's detail lists. */
const MAX_DETAIL_ROWS = 1000;

/** A limit as a count of rows: whole, at least 0 (NaN gives none). */
function rows(limit: number): number {
  return Math.max(0, Math.floor(limit)) || 0;
}

/** The sampling rate of an exporter's records and where it comes from (ExporterState.rate's order). */
function sampling(e: ExporterState): Pick<ExporterSummary, 'samplingRate' | 'samplingSource'> {
  if (e.samplingOverride > 0) return { samplingRate: e.samplingOverride, samplingSource: 'override' };
  for (const d of e.domains.values()) {
    const stated = d.samplerRates.get(-1) ?? d.samplerRates.values().next().value;
    if (stated !== undefined && stated > 0) return { samplingRate: stated, samplingSource: 'exporter' };
  }
  if (e.samplingDefault > 0) return { samplingRate: e.samplingDefault, samplingSource: 'default' };
  return { samplingRate: 1, samplingSource: 'none' };
}

function summary(e: ExporterState): ExporterSummary {
  let templates = 0;
  for (const d of e.domains.values()) templates += d.templates.size;
  return {
    address: e.address,
    live: true,
    versions: [...e.counters.byVersion.keys()].sort((a, b) => a - b),
    packets: e.counters.packets,
    records: e.counters.records,
    decodeErrors: e.counters.decodeErrors,
    missingTemplates: e.counters.missingTemplates,
    templates,
    sequenceGaps: e.sequenceGaps,
    ...sampling(e),
    lastSeen: e.lastSeen > 0 ? iso(e.lastSeen) : null,
  };
}

function detail(e: ExporterState): ExporterDetail {
  const c = e.counters;
  const samplerRates: ExporterDetail['samplerRates'] = [];
  for (const d of e.domains.values()) {
    for (const [id, rate] of d.samplerRates) {
      if (samplerRates.length >= MAX_DETAIL_ROWS) break;
      samplerRates.push({ domain: d.key, samplerId: id === -1 ? null : id, rate });
    }
  }
  const domains: ExporterDetail['domains'] = [];
  for (const d of e.domains.values()) {
    if (domains.length >= MAX_DETAIL_ROWS) break;
    domains.push({
      key: d.key,
      observationDomainId: d.observationDomainId,
      templates: d.templates.size,
      sequenceLost: d.sequence.lost,
    });
  }
  return {
    ...summary(e),
    byVersion: [...c.byVersion]
      .sort(([a], [b]) => a - b)
      .map(([version, v]) => ({
        version,
        packets: v.packets,
        records: v.records,
        decodeErrors: v.decodeErrors,
        missingTemplates: v.missingTemplates,
        dropped: v.dropped,
        sequenceGaps: e.sequenceGapsOf(version),
      })),
    errorsByReason: Object.fromEntries(c.errorsByReason),
    optionsRecords: c.optionsRecords,
    templatesReceived: c.templatesReceived,
    templatesChanged: c.templatesChanged,
    templatesWithdrawn: c.templatesWithdrawn,
    templatesExpired: c.templatesExpired,
    pending: {
      sets: e.pending.length,
      bytes: e.pendingBytes,
      buffered: c.pendingBuffered,
      decoded: c.pendingDecoded,
      expired: c.pendingExpired,
    },
    samplerRates,
    domains,
    interfaces: e.interfaces.size,
  };
}

function templates(state: FlowState, e: ExporterState, limit: number): ExporterTemplates {
  const out: ExporterTemplates['templates'] = [];
  for (const d of e.domains.values()) {
    if (out.length >= limit) break;
    // A scope holds at most maxTemplatesPerExporter templates: sorting a copy of them is bounded.
    for (const t of [...d.templates.values()].sort((a, b) => a.templateId - b.templateId)) {
      if (out.length >= limit) break;
      out.push({
        domain: d.key,
        observationDomainId: d.observationDomainId,
        templateId: t.templateId,
        options: t.options,
        scopeCount: t.scopeCount,
        recordLength: t.recordLength,
        receivedAt: iso(t.receivedAt),
        fields: t.fields.map((f) => ({
          id: f.id,
          pen: f.pen,
          length: f.length,
          name: state.registry.nameOf(f.pen, f.id),
        })),
      });
    }
  }
  return { exporter: e.address, templates: out };
}

/**
 * The `limit` most recently seen exporters, as the API orders its exporter list: latest lastSeen
 * (as written) first, then by address. Only the rows returned are built; the table itself is
 * bounded by the state's maxExporters.
 */
function mostRecent(state: FlowState, limit: number): ExporterSummary[] {
  const keyed = [...state.exporters.values()].map((e) => ({
    e,
    address: e.address,
    lastSeen: e.lastSeen > 0 ? iso(e.lastSeen) : null,
  }));
  keyed.sort(byRecency);
  return keyed.slice(0, limit).map(({ e }) => summary(e));
}

/** The view of one FlowState in this thread (what each worker answers with, and what tests use). */
export function localView(state: FlowState): CollectorView {
  return {
    async exporters(limit) {
      return mostRecent(state, limit === undefined ? state.exporters.size : rows(limit));
    },

    async overview(recent) {
      const lastDatagram = [...state.exporters.values()]
        .filter((e) => e.lastSeen > 0)
        .sort((a, b) => b.lastSeen - a.lastSeen)
        .slice(0, rows(recent))
        .map((e) => ({ exporter: e.address, lastSeen: iso(e.lastSeen) }));
      return { count: state.exporters.size, lastDatagram };
    },

    async has(address) {
      return state.exporters.has(address);
    },
    async known(addresses) {
      return addresses.map((a) => state.exporters.has(a));
    },

    async exporter(address) {
      const e = state.exporters.get(address);
      return e === undefined ? undefined : detail(e);
    },

    async templates(address, limit) {
      const e = state.exporters.get(address);
      return e === undefined ? undefined : templates(state, e, rows(limit));
    },

    async interfaces(exporter, limit) {
      const n = rows(limit);
      const out: InterfaceInfo[] = [];
      const one = exporter === undefined ? undefined : state.exporters.get(exporter);
      const from = exporter === undefined ? state.exporters.values() : one === undefined ? [] : [one];
      for (const e of from) {
        for (const [ifIndex, info] of e.interfaces) {
          if (out.length >= n) return out;
          out.push({
            exporter: e.address,
            ifIndex,
            ...(info.name !== undefined && { name: info.name }),
            ...(info.description !== undefined && { description: info.description }),
          });
        }
      }
      return out;
    },
  };
}
