/**
 * Rollup throughput: decoded records per second through `Rollup.ingest` on one core.
 *
 * The records look like a busy site's: 20 exporters × 10 interfaces, 5 000 addresses drawn with a
 * Zipf skew (about 1 000 distinct per exporter and minute against 100 Space-Saving counters), TCP/UDP
 * to well-known and ephemeral ports, half the exporters sampled 1:1000, records in runs of 24 per
 * exporter (one datagram's worth). Addresses are as the decoder leaves them: IPv4 (90 %) as integers,
 * IPv6 (10 %) as four 32-bit words (FlowRecord `setSrcIPv6`). Records are generated anew for every run, outside the
 * timing. Two figures, each the median of several runs after a warm-up: ingest alone, and ingest
 * with `flush` after every batch over five minutes of records (window emission included).
 *
 * Run alone with `npx tsx bench/rollup.bench.ts`; `bench/run.ts` imports `benchRollup`.
 */
import { pathToFileURL } from 'node:url';
import { FlowRecord } from '../collector/decode/flow.js';
import { Rollup } from '../collector/rollup/rollup.js';
import { prng } from '../test/support/random.js';

const RECORDS = 300_000;
const BATCH = 512;
const RUNS = 7;
const EXPORTERS = 20;
const INTERFACES = 10;
const ADDRESSES = 5_000;
const PER_DATAGRAM = 24;
const IPV6_SHARE = 0.1;
const SPAN_MS = 5 * 60_000;
const T0 = 1_700_000_040_000;
const SERVER_PORTS = [443, 80, 53, 22, 123, 25, 3306, 8080, 993, 5432];

function makeRecords(): FlowRecord[] {
  const random = prng(42);
  const pick = (n: number) => Math.floor(random() * n);
  // Zipf (s = 1) over the addresses: ~1 000 distinct per exporter and minute, most seen once.
  const skewed = () => Math.floor(ADDRESSES ** random()) - 1;
  // IPv4 as the integer the decoder reads; IPv6 as the four words it reads (2001:db8::<i>).
  const DOC_PREFIX = 0x20010db8;
  const records: FlowRecord[] = [];
  let exporter = 0;
  for (let i = 0; i < RECORDS; i++) {
    if (i % PER_DATAGRAM === 0) exporter = pick(EXPORTERS);
    const r = new FlowRecord(`192.0.2.${exporter + 1}`, 9, 0);
    const roll = random();
    r.protocol = roll < 0.8 ? 6 : roll < 0.95 ? 17 : roll < 0.99 ? 1 : 47;
    const server = SERVER_PORTS[pick(SERVER_PORTS.length)]!;
    const ephemeral = 32768 + pick(28232);
    const outbound = random() < 0.5;
    if (random() < IPV6_SHARE) {
      r.setSrcIPv6(DOC_PREFIX, 0, 0, skewed());
      r.setDstIPv6(DOC_PREFIX, 0, 0, skewed());
    } else {
      r.srcAddr4 = 0x0a00_0000 + skewed();
      r.dstAddr4 = 0x0a00_0000 + skewed();
    }
    r.srcPort = outbound ? ephemeral : server;
    r.dstPort = outbound ? server : ephemeral;
    r.packets = 1 + pick(100);
    r.bytes = r.packets * (40 + pick(1460));
    r.samplingRate = exporter % 2 === 0 ? 1000 : 1;
    r.inIf = 1 + pick(INTERFACES);
    r.outIf = 1 + pick(INTERFACES);
    r.end = T0 + Math.floor((i / RECORDS) * SPAN_MS);
    r.start = r.end - pick(30_000);
    records.push(r);
  }
  return records;
}

function makeRollup(): Rollup {
  return new Rollup(
    {},
    { sink: () => {}, interfaceName: (_e, ifIndex) => `ge-0/0/${ifIndex}`, collectorCounters: () => [] },
  );
}

/** Records per second over one pass of fresh records; `flush` after every batch when asked. */
function run(withFlush: boolean): number {
  const records = makeRecords();
  const rollup = makeRollup();
  const started = process.hrtime.bigint();
  for (let i = 0; i < records.length; i += BATCH) {
    const batch = records.slice(i, i + BATCH);
    const now = (batch[batch.length - 1]!.end ?? T0) + 2000;
    rollup.ingest(batch, now);
    if (withFlush) rollup.flush(now);
  }
  if (withFlush) rollup.close(T0 + SPAN_MS);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return records.length / seconds;
}

/** One figure: `value` is the median; `median`, `min`, `max` and `runs` match bench/measure.ts. */
export interface RollupBenchResult {
  name: string;
  value: number;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Median records/s through the rollup over several runs, ingest alone and with flushes. */
export async function benchRollup(): Promise<RollupBenchResult[]> {
  const results: RollupBenchResult[] = [];
  for (const withFlush of [false, true]) {
    run(withFlush); // warm-up
    const rates: number[] = [];
    for (let i = 0; i < RUNS; i++) rates.push(run(withFlush));
    rates.sort((a, b) => a - b);
    const median = Math.round(rates[rates.length >> 1]!);
    results.push({
      name: withFlush ? 'rollup ingest+flush' : 'rollup ingest',
      value: median,
      unit: 'records/s',
      median,
      min: Math.round(rates[0]!),
      max: Math.round(rates[rates.length - 1]!),
      runs: RUNS,
    });
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const fmt = (v: number) => v.toLocaleString('en-US');
  for (const r of await benchRollup()) {
    console.log(
      `${r.name}: ${fmt(r.value)} ${r.unit} (median of ${r.runs}; min ${fmt(r.min)}, max ${fmt(r.max)})`,
    );
  }
}
