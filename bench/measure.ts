/** A tiny benchmark loop: warm up, then time several runs of about 300 ms and report the median. */

export interface BenchResult {
  name: string;
  /** Median over the runs, in `unit`. */
  median: number;
  min: number;
  max: number;
  unit: string;
  runs: number;
}

/** Runs `op` (which processes `itemsPerOp` items) repeatedly and reports items per second. */
export function measure(
  name: string,
  itemsPerOp: number,
  op: () => void,
  runs = 7,
  runMs = 300,
): BenchResult {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) op();
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let ops = 0;
    const start = performance.now();
    let now = start;
    while (now - start < runMs) {
      for (let i = 0; i < 100; i++) op();
      ops += 100;
      now = performance.now();
    }
    rates.push((ops * itemsPerOp) / ((now - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return {
    name,
    median: rates[Math.floor(rates.length / 2)]!,
    min: rates[0]!,
    max: rates[rates.length - 1]!,
    unit: 'records/s',
    runs,
  };
}
