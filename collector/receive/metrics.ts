/**
 * The collector's Prometheus metrics. Values are read from the decoder state when scraped, so the
 * hot path only bumps plain integers; names follow the design (section 6).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ExporterState, FlowState } from '../decode/state.js';
import type { Rollup, RollupStats } from '../rollup/rollup.js';
import type { Collector } from './service.js';
import { socketDrops } from './socket-drops.js';

/** A counter whose value is copied from our own bookkeeping at scrape time. */
export function mirroredCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (set: (labels: Partial<Record<L, string | number>>, value: number) => void) => void,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read((labels, value) => {
        if (value > 0) this.inc(labels, value);
      });
    },
  });
}

/** The label value of exporters beyond the labelled ones. */
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

/** What the receiving thread counts: the allow-list, the kernel's drops and receive buffers, datagrams dropped before a worker. */
export function registerReceiveMetrics(registry: Registry, collector: Collector): void {
  mirroredCounter(
    registry,
    'flowcast_exporters_not_allowed_total',
    'Datagrams dropped because their source is outside collector.allowedExporters',
    [],
    (set) => set({}, collector.notAllowed),
  );
  mirroredCounter(
    registry,
    'flowcast_socket_drops_total',
    'Datagrams the kernel dropped at the collector sockets before flowcast read them (receive buffer full)',
    [],
    (set) => set({}, socketDrops({ ports: collector.ports }) ?? 0),
  );
  new Gauge({
    name: 'flowcast_socket_receive_buffer_bytes',
    help: 'UDP receive buffer the kernel granted, by port',
    labelNames: ['port'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [port, bytes] of collector.receiveBuffers) this.set({ port: String(port) }, bytes);
    },
  });
  mirroredCounter(
    registry,
    'flowcast_queue_dropped_total',
    'Datagrams dropped because the receive queue was full',
    [],
    (set) => set({}, collector.route.dropped),
  );
  new Gauge({
    name: 'flowcast_queue_length',
    help: 'Datagrams waiting in the receive queue',
    registers: [registry],
    collect() {
      this.set(collector.route.pending);
    },
  });
  new Gauge({
    name: 'flowcast_queue_bytes',
    help: 'Bytes of datagrams waiting in the receive queue',
    registers: [registry],
    collect() {
      this.set(collector.route.pendingBytes);
    },
  });
}

const ROLLUP_COUNTERS: ReadonlyArray<[keyof RollupStats, string, string]> = [
  ['records', 'flowcast_rollup_records_total', 'Flow records rolled up'],
  [
    'late',
    'flowcast_rollup_late_records_total',
    'Records whose interval was already written, added to the current one',
  ],
  [
    'early',
    'flowcast_rollup_early_records_total',
    'Records stamped more than an interval ahead, added to the current one',
  ],
  [
    'untimed',
    'flowcast_rollup_untimed_records_total',
    'Records without start or end time, placed at receipt',
  ],
  [
    'withoutInIf',
    'flowcast_rollup_records_without_input_interface_total',
    'Records with no input interface (no inbound traffic point)',
  ],
  [
    'withoutOutIf',
    'flowcast_rollup_records_without_output_interface_total',
    'Records with no output interface (no outbound traffic point)',
  ],
  ['saturated', 'flowcast_rollup_saturated_values_total', 'Sums clamped to the 64-bit integer range'],
  [
    'interfacesFolded',
    'flowcast_rollup_interfaces_folded_total',
    'Records counted under ifIndex "overflow": over 4,096 interfaces per exporter, or 65,536 series over all, in one interval',
  ],
  [
    'protocolsFolded',
    'flowcast_rollup_protocols_folded_total',
    'Records counted under protocol and service "other": the interval\'s series budget was spent',
  ],
  [
    'exportersFolded',
    'flowcast_rollup_exporters_folded_total',
    'Records counted under exporter "overflow": over 1,000 exporters in one interval',
  ],
  ['pointsEmitted', 'flowcast_rollup_points_total', 'Points the rollup handed to the store'],
];

export function registerRollupMetrics(registry: Registry, rollup: Rollup): void {
  for (const [key, name, help] of ROLLUP_COUNTERS) {
    mirroredCounter(registry, name, help, [], (set) => set({}, rollup.stats[key]));
  }
  new Gauge({
    name: 'flowcast_rollup_open_windows',
    help: 'Rollup intervals not yet written',
    registers: [registry],
    collect() {
      this.set(rollup.openWindows);
    },
  });
}
