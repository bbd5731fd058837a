/** Prometheus helpers shared by the stages' metrics. */
import { Counter, type Registry } from 'prom-client';

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
