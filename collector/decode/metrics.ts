/**
 * The decoder's Prometheus metrics, read from its FlowState when scraped, so the hot path only
 * bumps plain integers; names follow the design (section 6). Each decode worker registers them in
 * its own registry and /metrics sums the workers'.
 */
import { Gauge, type Registry } from 'prom-client';
import { mirroredCounter } from '../../common/metrics.js';
import type { ExporterState, FlowState } from './state.js';

export const OTHER_EXPORTERS = 'other';

/**
 * Which exporters get labels of their own: the `max` busiest by datagrams, chosen afresh at most
 * once a second (every metric of one scrape sees the same choice); the rest are summed under
 * exporter="other". Per-exporter labels for 5,000 junk sources once made a 7.5 MB page taking
 * 4.1 s per scrape. A counter may step when an exporter moves in or out of the labelled set.
 */
class ExporterLabels {
  private labelled = new Set<ExporterState>();
  private chosenAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly state: FlowState,
    private readonly max: number,
  ) {}

  /** Calls `f` for every exporter with the label it is reported under. */
  each(f: (e: ExporterState, label: string) => void): void {
    if (this.state.exporters.size <= this.max) {
      for (const e of this.state.exporters.values()) f(e, e.address);
      return;
    }
    const now = Date.now();
    if (now - this.chosenAt >= 1000) {
      this.chosenAt = now;
      const all = [...this.state.exporters.values()];
      if (all.length > this.max)
        all.sort((a, b) => b.counters.packets - a.counters.packets).length = this.max;
      this.labelled = new Set(all);
    }
    for (const e of this.state.exporters.values()) f(e, this.labelled.has(e) ? e.address : OTHER_EXPORTERS);
  }
}

/**
 * The decoder's metrics, from one FlowState: registered in each decode worker's registry and summed
 * over the workers when /metrics is scraped.
 */
export function registerDecodeMetrics(registry: Registry, state: FlowState, maxExporters: number): void {
  const labels = new ExporterLabels(state, maxExporters);
  const perExporter = (f: (e: ExporterState, exporter: string) => void) => labels.each(f);
  mirroredCounter(
    registry,
    'flowcast_packets_received_total',
    'Datagrams decoded, by exporter and version',
    ['exporter', 'version'],
    (set) =>
      perExporter((e, exporter) => {
        for (const [version, v] of e.counters.byVersion) set({ exporter, version }, v.packets);
      }),
  );
  mirroredCounter(
    registry,
    'flowcast_records_decoded_total',
    'Flow records decoded, by exporter and version',
    ['exporter', 'version'],
    (set) =>
      perExporter((e, exporter) => {
        for (const [version, v] of e.counters.byVersion) set({ exporter, version }, v.records);
      }),
  );
  mirroredCounter(
    registry,
    'flowcast_options_records_total',
    'Options data records decoded',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.counters.optionsRecords)),
  );
  mirroredCounter(
    registry,
    'flowcast_decode_errors_total',
    'Datagrams or sets that could not be decoded, by reason',
    ['exporter', 'reason'],
    (set) =>
      perExporter((e, exporter) => {
        for (const [reason, n] of e.counters.errorsByReason) set({ exporter, reason }, n);
      }),
  );
  mirroredCounter(
    registry,
    'flowcast_missing_template_total',
    'Data sets that arrived without a valid template',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.counters.missingTemplates)),
  );
  mirroredCounter(
    registry,
    'flowcast_sequence_gaps_total',
    'Sequence units (v5 flows, v9 packets, IPFIX records) confirmed lost',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.sequenceGaps)),
  );
  mirroredCounter(
    registry,
    'flowcast_sequence_reordered_total',
    'Datagrams that arrived late but within the reorder window',
    ['exporter'],
    (set) =>
      perExporter((e, exporter) => {
        let n = 0;
        for (const d of e.domains.values()) n += d.sequence.reordered;
        set({ exporter }, n);
      }),
  );
  mirroredCounter(
    registry,
    'flowcast_exporter_restarts_total',
    'Sequence resets recognised as exporter restarts',
    ['exporter'],
    (set) =>
      perExporter((e, exporter) => {
        let n = 0;
        for (const d of e.domains.values()) n += d.sequence.restarts;
        set({ exporter }, n);
      }),
  );
  mirroredCounter(
    registry,
    'flowcast_templates_received_total',
    'Template records received',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.counters.templatesReceived)),
  );
  mirroredCounter(
    registry,
    'flowcast_templates_changed_total',
    'Template ids re-used with a new layout',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.counters.templatesChanged)),
  );
  mirroredCounter(
    registry,
    'flowcast_templates_withdrawn_total',
    'Templates withdrawn by IPFIX exporters',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.counters.templatesWithdrawn)),
  );
  mirroredCounter(
    registry,
    'flowcast_templates_expired_total',
    'Templates dropped after their lifetime without refresh',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.counters.templatesExpired)),
  );
  mirroredCounter(
    registry,
    'flowcast_pending_buffered_total',
    'Data sets kept while waiting for their template',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.counters.pendingBuffered)),
  );
  mirroredCounter(
    registry,
    'flowcast_pending_decoded_total',
    'Buffered data sets decoded once their template arrived',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.counters.pendingDecoded)),
  );
  mirroredCounter(
    registry,
    'flowcast_pending_expired_total',
    'Buffered data sets dropped undecoded (no template in time, or buffer full)',
    ['exporter'],
    (set) => perExporter((e, exporter) => set({ exporter }, e.counters.pendingExpired)),
  );
  mirroredCounter(
    registry,
    'flowcast_exporters_rejected_total',
    'Datagrams refused because the exporter table is full',
    [],
    (set) => set({}, state.exportersRejected),
  );
  new Gauge({
    name: 'flowcast_templates',
    help: 'Templates currently known, by exporter',
    labelNames: ['exporter'],
    registers: [registry],
    collect() {
      this.reset();
      perExporter((e, exporter) => this.inc({ exporter }, e.templateCount));
    },
  });
  new Gauge({
    name: 'flowcast_exporters',
    help: 'Exporters in the table',
    registers: [registry],
    collect() {
      this.set(state.exporters.size);
    },
  });
  mirroredCounter(
    registry,
    'flowcast_exporters_evicted_total',
    'Exporters that never produced a flow record, forgotten to make room for others',
    [],
    (set) => set({}, state.exportersEvicted),
  );
  new Gauge({
    name: 'flowcast_state_memory_bytes',
    help: 'Decoder state charged against the memory budget (templates, pending data, interface and sampler tables)',
    registers: [registry],
    collect() {
      this.set(state.memoryUsed);
    },
  });
  new Gauge({
    name: 'flowcast_state_memory_budget_bytes',
    help: 'The memory budget for decoder state (collector.stateMemoryMegabytes)',
    registers: [registry],
    collect() {
      this.set(state.options.stateMaxBytes);
    },
  });
  mirroredCounter(
    registry,
    'flowcast_state_refused_total',
    'State refused by the memory budget or its table limits, by kind',
    ['kind'],
    (set) => {
      for (const [kind, n] of state.refused) set({ kind }, n);
    },
  );
}
