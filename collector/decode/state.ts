/**
 * Per-exporter decoder state: the template cache, sampler rates, interface names, sequence
 * trackers, the buffer of data that arrived before its template, and the counters.
 *
 * Template keys follow the RFCs: IPFIX templates belong to a transport session (exporter address
 * and port) and observation domain (RFC 7011 section 8); v9 templates to an exporter address and
 * Source ID (RFC 3954 section 5.1). Everything here is bounded: exporters, templates per exporter,
 * and buffered data, with every refusal counted.
 */
import { z } from 'zod';
import type { CollectorCounters } from '../rollup/rollup.js';
import type { ElementRegistry } from './ie/registry.js';
import { SequenceTracker } from './sequence.js';
import {
  type CompiledTemplate,
  compileTemplate,
  type ExportHeader,
  sameLayout,
  type TemplateSpec,
} from './template.js';

/** Stable reason codes for datagrams and sets that could not be decoded. */
export type DecodeErrorReason =
  | 'short_header'
  | 'unsupported_version'
  | 'bad_length'
  | 'bad_set_length'
  | 'bad_set_id'
  | 'bad_template'
  | 'truncated_record'
  | 'bad_variable_length'
  | 'template_limit'
  | 'exporter_limit'
  | 'domain_limit'
  | 'bad_value'
  | 'internal';

/** What the memory budget refused, by kind of state (`flowcast_state_refused_total{kind}`). */
export type RefusedKind = 'exporter' | 'domain' | 'template' | 'pending' | 'interface' | 'sampler';

/**
 * What each piece of state is charged against the memory budget, in bytes. Measured on Node 20
 * (heap growth per object over 2,000 objects, `--expose-gc`): a compiled template costs about
 * 1.9 KB plus 230 bytes per IANA field and 370 per enterprise field (their names are strings), so
 * 2 KiB + 400 B per field over-counts every case; the others are a Map entry and its object.
 */
export const STATE_COST = {
  exporter: 4096,
  domain: 1024,
  templateBase: 2048,
  templateField: 400,
  /** A buffered set: its bytes plus this. */
  pendingSet: 256,
  /** An interface entry: this plus two bytes per character of its name and description. */
  interface: 192,
  sampler: 96,
} as const;

/** The most sampler ids kept per template scope, and interface names per exporter. */
export const MAX_SAMPLERS_PER_DOMAIN = 1024;
export const MAX_INTERFACES_PER_EXPORTER = 65_536;

/**
 * The largest sampling rate believed: one packet in 2^32 (IPFIX's samplingInterval is an
 * unsigned32). A stated rate beyond it, below 1 or not finite (samplingProbability 1e-300 says
 * 1e300) is counted as `bad_value` and ignored, so no upscaled count can overflow.
 */
export const MAX_SAMPLING_RATE = 2 ** 32;

/** Whether a stated sampling rate is one to believe (see MAX_SAMPLING_RATE). */
export function isSamplingRate(rate: number): boolean {
  return rate >= 1 && rate <= MAX_SAMPLING_RATE;
}

export interface StateOptions {
  /** How long a template received over UDP stays valid without being refreshed (ms). */
  templateLifetimeMs: number;
  maxTemplatesPerExporter: number;
  maxExporters: number;
  /** Data sets kept per exporter while waiting for their template. */
  pendingMaxSets: number;
  /** Bytes kept per exporter while waiting for templates. */
  pendingMaxBytes: number;
  /** How long data waits for its template (ms). */
  pendingLifetimeMs: number;
  /** Bytes kept waiting for templates over all exporters. */
  pendingMaxBytesTotal: number;
  /**
   * The memory budget (bytes) for all template state, pending data, interface and sampler tables
   * together, charged as state is created (STATE_COST). What would exceed it is refused and
   * counted; state of exporters that never produced a valid record is evicted first to make room.
   */
  stateMaxBytes: number;
  /** The most one exporter's state may take of the budget (bytes). */
  exporterMaxBytes: number;
  /** Template scopes (v9 Source IDs, IPFIX ports and domains) per exporter. */
  maxDomainsPerExporter: number;
  /** An exporter silent this long is forgotten (its templates, names and counters) (ms). */
  exporterIdleMs: number;
  /** Sampling rate per exporter address: `default` when the exporter states none, `override` always. */
  sampling: ReadonlyMap<string, { default?: number; override?: number }>;
}

export const DEFAULT_STATE_OPTIONS: StateOptions = {
  templateLifetimeMs: 30 * 60_000,
  maxTemplatesPerExporter: 4096,
  maxExporters: 10_000,
  pendingMaxSets: 256,
  pendingMaxBytes: 1 << 20,
  pendingLifetimeMs: 60_000,
  pendingMaxBytesTotal: 64 << 20,
  stateMaxBytes: 128 << 20,
  exporterMaxBytes: 16 << 20,
  maxDomainsPerExporter: 1024,
  exporterIdleMs: 24 * 3_600_000,
  sampling: new Map(),
};

/** Per-version counts of one exporter. */
export interface VersionCounters {
  packets: number;
  records: number;
  decodeErrors: number;
  missingTemplates: number;
  /** Datagrams dropped at the receive queue (counted by the collector service). */
  dropped: number;
}

/** Counters for one exporter; exported as Prometheus metrics and `collector` points. */
export class ExporterCounters {
  packets = 0;
  records = 0;
  optionsRecords = 0;
  decodeErrors = 0;
  readonly errorsByReason = new Map<DecodeErrorReason, number>();
  /** Data sets that arrived with no (valid) template. */
  missingTemplates = 0;
  templatesReceived = 0;
  templatesChanged = 0;
  templatesWithdrawn = 0;
  templatesExpired = 0;
  pendingBuffered = 0;
  pendingDecoded = 0;
  /** Buffered data sets dropped undecoded: their template never came, or the buffer was full. */
  pendingExpired = 0;
  /** The same counts split by the datagrams' version field (the `collector` measurement's key). */
  readonly byVersion = new Map<number, VersionCounters>();

  /** The counters of one version, created on first use. */
  version(version: number): VersionCounters {
    let v = this.byVersion.get(version);
    if (v === undefined) {
      v = { packets: 0, records: 0, decodeErrors: 0, missingTemplates: 0, dropped: 0 };
      this.byVersion.set(version, v);
    }
    return v;
  }

  error(reason: DecodeErrorReason): void {
    this.decodeErrors++;
    this.errorsByReason.set(reason, (this.errorsByReason.get(reason) ?? 0) + 1);
  }
}

/** A data set kept until its template arrives. The bytes are a copy: datagram buffers are reused. */
export interface PendingSet {
  readonly domainKey: string;
  readonly templateId: number;
  readonly bytes: Uint8Array;
  readonly header: ExportHeader;
  readonly receivedAt: number;
  /** Where decoding resumes: a set is released a bounded number of records at a time. */
  offset: number;
}

export interface InterfaceInfo {
  name?: string;
  description?: string;
}

/** State for one template scope: (exporter, v9 Source ID) or (exporter, port, IPFIX domain). */
export class DomainState {
  readonly templates = new Map<number, CompiledTemplate>();
  /** Sampling rate per sampler/selector id; key -1 is the rate stated with no id. */
  readonly samplerRates = new Map<number, number>();
  /** systemInitTimeMilliseconds from options data, -1 when unknown. */
  systemInitMs = -1;
  /** v5/v9 sysUptime of the last datagram, to recognise a reboot. */
  lastUptime = -1;

  /**
   * Notes a v5/v9 header's sysUptime: one that went back by more than a minute (more than any
   * reordering explains) means the exporter rebooted, so its sequence starts afresh.
   */
  observeUptime(sysUptime: number): void {
    if (this.lastUptime >= 0 && sysUptime + 60_000 < this.lastUptime) this.sequence.restart(undefined);
    this.lastUptime = sysUptime;
  }
  readonly sequence: SequenceTracker;

  constructor(
    readonly key: string,
    readonly observationDomainId: number,
    sequenceWindow: number,
  ) {
    this.sequence = new SequenceTracker(sequenceWindow);
  }
}

export class ExporterState {
  readonly counters = new ExporterCounters();
  readonly domains = new Map<string, DomainState>();
  readonly interfaces = new Map<number, InterfaceInfo>();
  readonly pending: PendingSet[] = [];
  pendingBytes = 0;
  templateCount = 0;
  /** Unix ms of the last datagram. */
  lastSeen = 0;
  /** Bytes of the memory budget this exporter's state is charged (STATE_COST). */
  memory = 0;
  /** Decode errors when a warning was last logged for this exporter (the collector's bookkeeping). */
  errorsLogged = 0;
  /** Whether the collector has logged this exporter's first flow records. */
  announced = false;

  constructor(
    readonly address: string,
    readonly samplingDefault: number,
    readonly samplingOverride: number,
  ) {}

  /**
   * The sampling rate of a record whose exporter states `stated` (undefined when it states none):
   * the configured override, else the stated rate, else the configured default, else 1.
   */
  rate(stated: number | undefined): number {
    if (this.samplingOverride > 0) return this.samplingOverride;
    if (stated !== undefined && stated > 0) {
      if (isSamplingRate(stated)) return stated;
      this.counters.error('bad_value');
    }
    return this.samplingDefault > 0 ? this.samplingDefault : 1;
  }

  /** Sequence units lost over all domains, or over those of one version. */
  sequenceGapsOf(version?: number): number {
    let n = 0;
    for (const d of this.domains.values()) {
      if (version === undefined || d.key.startsWith(`${version}/`)) n += d.sequence.lost;
    }
    return n;
  }

  get sequenceGaps(): number {
    return this.sequenceGapsOf();
  }
}

/** What a template of `fields` fields is charged (STATE_COST). */
export function templateCost(fields: number): number {
  return STATE_COST.templateBase + fields * STATE_COST.templateField;
}

function interfaceCost(info: InterfaceInfo): number {
  return STATE_COST.interface + 2 * ((info.name?.length ?? 0) + (info.description?.length ?? 0));
}

/** Interface names and descriptions are kept to this many characters (ifName is at most 64 in IF-MIB). */
const MAX_INTERFACE_TEXT = 255;

/** Cumulative decoder counters per exporter and version (what the `collector` measurement is made of). */
export function* collectorCounters(state: FlowState): Iterable<CollectorCounters> {
  for (const e of state.exporters.values()) {
    for (const [version, v] of e.counters.byVersion) {
      yield {
        exporter: e.address,
        version,
        packets: v.packets,
        records: v.records,
        decodeErrors: v.decodeErrors,
        missingTemplates: v.missingTemplates,
        sequenceGaps: e.sequenceGapsOf(version),
        dropped: v.dropped,
      };
    }
  }
}

/** Reorder window per version, in that version's sequence units. */
function sequenceWindow(version: number): number {
  return version === 9 ? 64 : 4096;
}

/**
 * The decoders' shared state. Owned by one decoding thread; pure data plus bounded bookkeeping,
 * no I/O (persistence goes through `snapshot`/`restore`).
 */
export class FlowState {
  readonly exporters = new Map<string, ExporterState>();
  /** Datagrams refused because the exporter table was full of exporters that produced records. */
  exportersRejected = 0;
  /** Exporters forgotten to make room (table or memory) for others; only unproven ones are. */
  exportersEvicted = 0;
  /** Bytes waiting for templates over all exporters. */
  pendingBytesTotal = 0;
  /** Bytes of the memory budget in use (STATE_COST over every exporter). */
  memoryUsed = 0;
  /** What the memory budget refused, by kind. */
  readonly refused = new Map<RefusedKind, number>();
  /**
   * Exporters that have not yet produced a valid flow record, oldest first. Under pressure (table
   * full, budget spent) these are forgotten first, so a flood of junk or spoofed sources cannot
   * lock out an exporter that sends real flows.
   */
  private readonly unproven = new Map<string, ExporterState>();
  /** Exporters holding buffered data whose template has arrived, to be decoded by `releasePending`. */
  readonly releasable = new Set<ExporterState>();
  /** Where the incremental sweep resumes (an exporter address), so one sweep never holds the loop. */
  private sweepCursor: string | undefined;
  readonly options: StateOptions;

  constructor(
    readonly registry: ElementRegistry,
    options: Partial<StateOptions> = {},
  ) {
    this.options = { ...DEFAULT_STATE_OPTIONS, ...options };
  }

  /**
   * The exporter's state, created on first sight. When the table is full (or the budget spent) the
   * oldest exporter that never produced a flow record makes room; undefined (counted) when every
   * exporter in the table has.
   */
  exporter(address: string): ExporterState | undefined {
    let e = this.exporters.get(address);
    if (e === undefined) {
      if (this.exporters.size >= this.options.maxExporters && !this.evictUnproven(undefined)) {
        this.exportersRejected++;
        return undefined;
      }
      const s = this.options.sampling.get(address);
      e = new ExporterState(address, s?.default ?? 0, s?.override ?? 0);
      if (!this.charge(e, STATE_COST.exporter, 'exporter')) {
        this.exportersRejected++;
        return undefined;
      }
      this.exporters.set(address, e);
      this.unproven.set(address, e);
    }
    return e;
  }

  /** Marks an exporter as one that produces valid flow records: it is no longer evicted first. */
  proven(e: ExporterState): void {
    this.unproven.delete(e.address);
  }

  /** Whether an exporter has not yet produced a valid flow record. */
  isUnproven(e: ExporterState): boolean {
    return this.unproven.has(e.address);
  }

  /**
   * Charges `bytes` of the budget to `e`. Over the exporter's share it is refused; over the whole
   * budget, unproven exporters other than `e` are forgotten (oldest first) until it fits, else it
   * is refused. Every refusal is counted by kind.
   */
  charge(e: ExporterState, bytes: number, kind: RefusedKind): boolean {
    const o = this.options;
    if (e.memory + bytes > o.exporterMaxBytes) return this.refuse(kind);
    while (this.memoryUsed + bytes > o.stateMaxBytes) {
      if (!this.evictUnproven(e)) return this.refuse(kind);
    }
    e.memory += bytes;
    this.memoryUsed += bytes;
    return true;
  }

  /** Returns `bytes` of `e`'s charge to the budget. */
  release(e: ExporterState, bytes: number): void {
    e.memory -= bytes;
    this.memoryUsed -= bytes;
  }

  private refuse(kind: RefusedKind): false {
    this.refused.set(kind, (this.refused.get(kind) ?? 0) + 1);
    return false;
  }

  /** Forgets the oldest unproven exporter other than `keep`; false when there is none. */
  private evictUnproven(keep: ExporterState | undefined): boolean {
    for (const victim of this.unproven.values()) {
      if (victim === keep) continue;
      this.forget(victim);
      this.exportersEvicted++;
      return true;
    }
    return false;
  }

  /** Removes an exporter and everything it holds, returning its budget. */
  private forget(e: ExporterState): void {
    for (const p of e.pending) this.pendingBytesTotal -= p.bytes.length;
    e.pending.length = 0;
    e.pendingBytes = 0;
    this.releasable.delete(e);
    this.memoryUsed -= e.memory;
    e.memory = 0;
    this.exporters.delete(e.address);
    this.unproven.delete(e.address);
  }

  /** Learns an interface's name or description from options data, within the budget. */
  learnInterface(
    e: ExporterState,
    ifIndex: number,
    name: string | undefined,
    description: string | undefined,
  ): void {
    const info = e.interfaces.get(ifIndex);
    const before = info === undefined ? 0 : interfaceCost(info);
    const next: InterfaceInfo = { ...info };
    if (name !== undefined) next.name = name.slice(0, MAX_INTERFACE_TEXT);
    if (description !== undefined) next.description = description.slice(0, MAX_INTERFACE_TEXT);
    const after = interfaceCost(next);
    if (info === undefined && e.interfaces.size >= MAX_INTERFACES_PER_EXPORTER) {
      this.refuse('interface');
      return;
    }
    if (after > before && !this.charge(e, after - before, 'interface')) return;
    if (after < before) this.release(e, before - after);
    e.interfaces.set(ifIndex, next);
  }

  /** Learns a sampler's rate from options data (`id` -1: the rate stated with no id), within the budget. */
  learnSampler(e: ExporterState, d: DomainState, id: number, rate: number): void {
    if (!d.samplerRates.has(id)) {
      if (d.samplerRates.size >= MAX_SAMPLERS_PER_DOMAIN) {
        this.refuse('sampler');
        return;
      }
      if (!this.charge(e, STATE_COST.sampler, 'sampler')) return;
    }
    d.samplerRates.set(id, rate);
  }
  /** The template scope, created on first sight; undefined (counted) when the exporter has too many. */
  domain(
    e: ExporterState,
    key: string,
    observationDomainId: number,
    version: number,
  ): DomainState | undefined {
    let d = e.domains.get(key);
    if (d === undefined) {
      if (e.domains.size >= this.options.maxDomainsPerExporter) {
        e.counters.error('domain_limit');
        return undefined;
      }
      if (!this.charge(e, STATE_COST.domain, 'domain')) return undefined;
      d = new DomainState(key, observationDomainId, sequenceWindow(version));
      e.domains.set(key, d);
    }
    return d;
  }

  /**
   * The template for a data set, or undefined when there is none or it outlived its lifetime
   * (then it is removed and counted).
   */
  template(e: ExporterState, d: DomainState, templateId: number, now: number): CompiledTemplate | undefined {
    const t = d.templates.get(templateId);
    if (t === undefined) return undefined;
    if (now - t.receivedAt > this.options.templateLifetimeMs) {
      this.dropTemplate(e, d, t);
      e.counters.templatesExpired++;
      return undefined;
    }
    return t;
  }

  /**
   * Learns a template. Returns the compiled template, or undefined when it is malformed or over the
   * exporter's limit (both counted).
   */
  learn(e: ExporterState, d: DomainState, spec: TemplateSpec, now: number): CompiledTemplate | undefined {
    const existing = d.templates.get(spec.templateId);
    if (existing !== undefined && sameLayout(existing, spec)) {
      existing.receivedAt = now;
      e.counters.templatesReceived++;
      return existing;
    }
    if (existing === undefined && e.templateCount >= this.options.maxTemplatesPerExporter) {
      e.counters.error('template_limit');
      return undefined;
    }
    // Charged before compiling: a refused template costs no compilation.
    const cost = templateCost(spec.fields.length);
    if (!this.charge(e, cost, 'template')) return undefined;
    const compiled = compileTemplate(spec, this.registry, now);
    if (compiled === undefined) {
      this.release(e, cost);
      e.counters.error('bad_template');
      return undefined;
    }
    if (existing === undefined) e.templateCount++;
    else {
      this.release(e, templateCost(existing.fields.length));
      e.counters.templatesChanged++;
    }
    d.templates.set(spec.templateId, compiled);
    e.counters.templatesReceived++;
    return compiled;
  }

  /** Removes a template and returns its budget. */
  private dropTemplate(e: ExporterState, d: DomainState, t: CompiledTemplate): void {
    d.templates.delete(t.templateId);
    e.templateCount--;
    this.release(e, templateCost(t.fields.length));
  }

  /** IPFIX template withdrawal; `templateId` undefined withdraws every (options) template. */
  withdraw(e: ExporterState, d: DomainState, templateId: number | undefined, options: boolean): void {
    if (templateId !== undefined) {
      const t = d.templates.get(templateId);
      if (t !== undefined) {
        this.dropTemplate(e, d, t);
        e.counters.templatesWithdrawn++;
      }
      return;
    }
    for (const t of [...d.templates.values()]) {
      if (t.options !== options) continue;
      this.dropTemplate(e, d, t);
      e.counters.templatesWithdrawn++;
    }
  }

  /** Keeps a data set for later; drops the oldest when over the bounds (counted). */
  buffer(e: ExporterState, set: PendingSet): void {
    const o = this.options;
    const size = set.bytes.length;
    if (
      size > o.pendingMaxBytes ||
      o.pendingMaxSets === 0 ||
      this.pendingBytesTotal + size > o.pendingMaxBytesTotal ||
      !this.charge(e, size + STATE_COST.pendingSet, 'pending')
    ) {
      e.counters.pendingExpired++;
      return;
    }
    e.pending.push(set);
    e.pendingBytes += size;
    this.pendingBytesTotal += size;
    e.counters.pendingBuffered++;
    while (e.pending.length > o.pendingMaxSets || e.pendingBytes > o.pendingMaxBytes) {
      this.unbuffer(e, e.pending.shift()!);
      e.counters.pendingExpired++;
    }
  }

  /** Removes one buffered set's accounting (the caller removes it from `e.pending`). */
  unbuffer(e: ExporterState, set: PendingSet): void {
    e.pendingBytes -= set.bytes.length;
    this.pendingBytesTotal -= set.bytes.length;
    this.release(e, set.bytes.length + STATE_COST.pendingSet);
  }

  /** Drops buffered data older than its lifetime (counted). Cheap: the buffer is in arrival order. */
  expirePending(e: ExporterState, now: number): void {
    const limit = now - this.options.pendingLifetimeMs;
    while (e.pending.length > 0 && e.pending[0]!.receivedAt < limit) {
      this.unbuffer(e, e.pending.shift()!);
      e.counters.pendingExpired++;
    }
  }

  /**
   * Periodic housekeeping: expires buffered data and templates past their lifetime, and forgets
   * exporters silent for longer than `exporterIdleMs` (so that a burst of junk sources cannot keep
   * the exporter table full for good). Visits at most `maxExporters` exporters per call and resumes
   * where the last call stopped, so a table of thousands never holds the event loop; returns true
   * when the pass over the table is complete.
   */
  sweep(now: number, maxExporters = Number.POSITIVE_INFINITY): boolean {
    let visited = 0;
    let started = this.sweepCursor === undefined;
    for (const e of [...this.exporters.values()]) {
      if (!started) {
        if (e.address !== this.sweepCursor) continue;
        started = true;
      }
      if (visited >= maxExporters) {
        this.sweepCursor = e.address;
        return false;
      }
      visited++;
      if (now - e.lastSeen > this.options.exporterIdleMs) {
        this.forget(e);
        continue;
      }
      this.expirePending(e, now);
      for (const d of e.domains.values()) {
        for (const id of [...d.templates.keys()]) this.template(e, d, id, now);
      }
    }
    // The cursor's exporter was forgotten meanwhile (or the pass is done): start afresh next time.
    this.sweepCursor = undefined;
    return started;
  }

  /**
   * Templates for persistence across restarts: those of exporters that have produced flow records
   * (what junk sources sent is not worth a disk write, and could be made large).
   */
  snapshot(): PersistedTemplates {
    const exporters: PersistedTemplates['exporters'] = [];
    for (const e of this.exporters.values()) {
      const pe = this.snapshotExporter(e);
      if (pe !== undefined) exporters.push(pe);
    }
    return { format: 1, exporters };
  }

  /** One exporter's part of `snapshot()`; undefined when it has nothing worth persisting. */
  snapshotExporter(e: ExporterState): PersistedTemplates['exporters'][number] | undefined {
    if (this.unproven.has(e.address)) return undefined;
    const domains: PersistedTemplates['exporters'][number]['domains'] = [];
    for (const d of e.domains.values()) {
      if (d.templates.size === 0) continue;
      domains.push({
        key: d.key,
        observationDomainId: d.observationDomainId,
        templates: [...d.templates.values()].map((t) => ({
          templateId: t.templateId,
          scopeCount: t.scopeCount,
          options: t.options,
          fields: t.fields.map((f) => ({ id: f.id, length: f.length, pen: f.pen })),
          receivedAt: t.receivedAt,
        })),
      });
    }
    return domains.length === 0 ? undefined : { address: e.address, proven: true, domains };
  }

  /**
   * Restores persisted templates, dropping those already past their lifetime. Returns how many
   * were restored. A file that does not match the format restores nothing.
   */
  restore(data: unknown, now: number): number {
    const parsed = persistedSchema.safeParse(data);
    if (!parsed.success) return 0;
    let restored = 0;
    for (const pe of parsed.data.exporters) {
      const e = this.exporter(pe.address);
      if (e === undefined) break;
      for (const pd of pe.domains) {
        const version = pd.key.startsWith('9/') ? 9 : 10;
        const d = this.domain(e, pd.key, pd.observationDomainId, version);
        if (d === undefined) break;
        for (const spec of pd.templates) {
          if (now - spec.receivedAt > this.options.templateLifetimeMs) continue;
          if (this.learn(e, d, spec, spec.receivedAt) !== undefined) restored++;
        }
      }
      if (pe.proven === true) this.proven(e);
      // Restoring is not receiving: the live counters start from zero, the idle clock from now.
      e.counters.templatesReceived = 0;
      e.lastSeen = now;
    }
    return restored;
  }
}

const u16 = z.number().int().min(0).max(0xffff);
const persistedSchema = z.object({
  format: z.literal(1),
  exporters: z.array(
    z.object({
      address: z.string(),
      /** Whether the exporter had produced flow records (absent in files of earlier versions). */
      proven: z.boolean().optional(),
      domains: z.array(
        z.object({
          key: z.string(),
          observationDomainId: z.number().int().min(0).max(0xffff_ffff),
          templates: z.array(
            z.object({
              templateId: u16,
              scopeCount: u16,
              options: z.boolean(),
              receivedAt: z.number(),
              fields: z.array(
                z.object({ id: u16, length: u16, pen: z.number().int().min(0).max(0xffff_ffff) }),
              ),
            }),
          ),
        }),
      ),
    }),
  ),
});

/**
 * templates.json's text from exporters' persisted forms, each already JSON: the document
 * `JSON.stringify(snapshot())` makes, without building it as objects first.
 */
export function templatesDocument(exporters: readonly string[]): string {
  return `${TEMPLATES_HEAD}${exporters.join(',')}${TEMPLATES_TAIL}`;
}

/** What templates.json's text has before and after its exporters (comma-separated). */
export const TEMPLATES_HEAD = '{"format":1,"exporters":[';
export const TEMPLATES_TAIL = ']}';

/** The on-disk form of the template cache (`templates.json` in the data directory). */
export type PersistedTemplates = z.infer<typeof persistedSchema>;
