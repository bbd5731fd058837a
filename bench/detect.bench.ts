/**
 * Detection throughput: decoded records per second through `Detector.ingest` on one core, beside
 * the rollup on the same records, so the cost detection adds to the collector path is a ratio
 * from one run.
 *
 * The records look like a busy site's, as in rollup.bench.ts: 20 exporters, 5 000 addresses drawn
 * with a Zipf skew, TCP/UDP/ICMP to well-known and ephemeral ports, half the exporters sampled
 * 1:1000, IPv4 as integers and 10 % IPv6 as strings; 5 % of the records are SYN-only probes from
 * 200 scanning sources, so the scan table works too. Figures: ingest alone, ingest with a check
 * of the open window every 100 000 records (each second at 100 000 records/s; every fifth check
 * closes the window), the
 * rollup's ingest on the same records, and the collector path (decode of a v9 datagram, rollup,
 * detection) as a ratio with and without detection, from those medians.
 *
 * Run alone with `npx tsx bench/detect.bench.ts`; `bench/run.ts` imports `benchDetect`.
 */
import { pathToFileURL } from 'node:url';
import { FlowRecord } from '../collector/decode/flow.js';
import { DEFAULT_DETECTOR_OPTIONS, Detector } from '../collector/detect/detector.js';
import { Rollup } from '../collector/rollup/rollup.js';
import { prng } from '../test/support/random.js';
import type { BenchResult } from './measure.js';

const RECORDS = 300_000;
const BATCH = 512;
const RUNS = 7;
const ADDRESSES = 5_000;
const T0 = 1_700_000_040_000;
const SERVER_PORTS = [443, 80, 53, 22, 123, 25, 3306, 8080, 993, 5432];

function makeRecords(): FlowRecord[] {
  const random = prng(43);
  const pick = (n: number) => Math.floor(random() * n);
  const skewed = () => Math.floor(ADDRESSES ** random()) - 1;
  const records: FlowRecord[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const exporter = pick(20);
    const r = new FlowRecord(`192.0.2.${exporter + 1}`, 9, 0);
    const roll = random();
    r.protocol = roll < 0.8 ? 6 : roll < 0.95 ? 17 : 1;
    if (random() < 0.1) {
      r.srcAddr = `2001:db8::${skewed().toString(16)}`;
      r.dstAddr = `2001:db8::${skewed().toString(16)}`;
    } else {
      r.srcAddr4 = 0x0a00_0000 + skewed();
      r.dstAddr4 = 0x0a00_0000 + skewed();
    }
    const outbound = random() < 0.5;
    const server = SERVER_PORTS[pick(SERVER_PORTS.length)]!;
    r.srcPort = outbound ? 32768 + pick(28232) : server;
    r.dstPort = outbound ? server : 32768 + pick(28232);
    r.tcpFlags = 0x1b;
    if (random() < 0.05) {
      r.protocol = 6;
      r.srcAddr4 = 0xcb00_7100 + pick(200);
      r.dstPort = 1 + pick(65535);
      r.tcpFlags = 0x02;
    }
    r.packets = 1 + pick(100);
    r.bytes = r.packets * (40 + pick(1460));
    r.samplingRate = exporter % 2 === 0 ? 1000 : 1;
    r.inIf = 1 + pick(10);
    r.outIf = 1 + pick(10);
    r.end = T0 + Math.floor((i / RECORDS) * 300_000);
    r.start = r.end - pick(30_000);
    records.push(r);
  }
  return records;
}

function median(rates: number[]): { median: number; min: number; max: number } {
  rates.sort((a, b) => a - b);
  return { median: rates[rates.length >> 1]!, min: rates[0]!, max: rates[rates.length - 1]! };
}

function timeIt(records: readonly FlowRecord[], ingest: (batch: FlowRecord[], i: number) => void): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < records.length; i += BATCH) ingest(records.slice(i, i + BATCH), i);
  return records.length / (Number(process.hrtime.bigint() - started) / 1e9);
}

export async function benchDetect(decodeRate?: number): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const records = makeRecords();
  const variants: Array<[string, () => (batch: FlowRecord[], i: number) => void]> = [
    [
      'detect ingest',
      () => {
        const d = new Detector(DEFAULT_DETECTOR_OPTIONS);
        return (batch) => d.ingest(batch, T0);
      },
    ],
    [
      'detect ingest+check (every 100k records)',
      () => {
        const d = new Detector(DEFAULT_DETECTOR_OPTIONS);
        let next = 0;
        let t = T0;
        return (batch, i) => {
          d.ingest(batch, t);
          if (i >= next) {
            // A check of the open window every 100 000 records (every second at 100 000
            // records/s), closing it every fifth check, as the service does.
            next += 100_000;
            t += 1000;
            if ((t - T0) % 5000 === 0) d.evaluate(t, 5000);
            else d.peek(t, 5000);
          }
        };
      },
    ],
    [
      'rollup ingest (same records)',
      () => {
        const rollup = new Rollup(
          {},
          {
            sink: () => {},
            interfaceName: (_e, ifIndex) => `ge-0/0/${ifIndex}`,
            collectorCounters: () => [],
          },
        );
        return (batch) => rollup.ingest(batch, (batch[batch.length - 1]!.end ?? T0) + 2000);
      },
    ],
  ];
  const medians = new Map<string, number>();
  for (const [name, make] of variants) {
    timeIt(records, make()); // warm-up
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r++) rates.push(timeIt(records, make()));
    const m = median(rates);
    medians.set(name, m.median);
    results.push({ name, ...m, unit: 'records/s', runs: RUNS });
  }
  if (decodeRate !== undefined) {
    const detect = medians.get('detect ingest+check (every 100k records)')!;
    const rollup = medians.get('rollup ingest (same records)')!;
    const without = 1 / (1 / decodeRate + 1 / rollup);
    const withDetect = 1 / (1 / decodeRate + 1 / rollup + 1 / detect);
    results.push({
      name: 'collector path with detection (decode+rollup+detect, % of without)',
      median: (100 * withDetect) / without,
      min: (100 * withDetect) / without,
      max: (100 * withDetect) / without,
      unit: '%',
      runs: RUNS,
    });
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await benchDetect())
    console.log(`${r.name}: ${Math.round(r.median).toLocaleString('en-US')} ${r.unit}`);
}
