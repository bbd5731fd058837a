/** The rollup's Prometheus metrics, copied from its counters when scraped. */
import { Gauge, type Registry } from 'prom-client';
import { mirroredCounter } from '../../common/metrics.js';
import type { Rollup, RollupStats } from './rollup.js';

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
