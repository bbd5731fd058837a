/**
 * `npm run fuzz -- [--seconds N | --datagrams N] [--seed N]`: the whole-path fuzz harness
 * (test/fuzz/whole-path.ts) for a fixed time or count. Prints the counts, the seed, and each kept
 * failure with its reproducer; exits 1 when anything failed.
 */
import { parseArgs } from 'node:util';
import { failsAlone, fuzzWholePath } from './whole-path.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    datagrams: { type: 'string' },
    seed: { type: 'string' },
    keep: { type: 'string', default: '3' },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
const datagrams = values.datagrams === undefined ? undefined : Number(values.datagrams);
if (
  !Number.isSafeInteger(seed) ||
  (seconds !== undefined && !(seconds > 0)) ||
  (datagrams !== undefined && !(datagrams > 0))
) {
  console.error('usage: npm run fuzz -- [--seconds N | --datagrams N] [--seed N] [--keep N]');
  process.exit(2);
}
console.log(
  `whole-path fuzz: seed ${seed}, ${seconds !== undefined ? `${seconds} s` : `${datagrams ?? 100_000} datagrams`}`,
);
const report = fuzzWholePath({
  seed,
  ...(seconds !== undefined ? { durationMs: seconds * 1000 } : { datagrams: datagrams ?? 100_000 }),
  keepPerStage: Number(values.keep),
});
console.log(
  `datagrams ${report.datagrams}, records ${report.records}, flushes ${report.flushes}, points ${report.points}, lines ${report.lines}, ${(report.elapsedMs / 1000).toFixed(1)} s`,
);
const total = Object.values(report.failuresByStage).reduce((a, b) => a + b, 0);
console.log(`failures: ${total}${total > 0 ? ` ${JSON.stringify(report.failuresByStage)}` : ''}`);
for (const f of report.failures) {
  const alone = failsAlone(f.hex, f.exporter);
  console.log(
    `\n[${f.stage}] ${f.message}\n  reproduce: npm run fuzz -- --seed ${f.seed} --datagrams ${f.iteration + 1}` +
      `\n  datagram ${f.iteration} from ${f.exporter}: ${f.hex}` +
      `\n  alone in a fresh state: ${alone === undefined ? 'does not fail (needs the state before it)' : `fails: ${alone}`}`,
  );
}
process.exitCode = total > 0 ? 1 : 0;
