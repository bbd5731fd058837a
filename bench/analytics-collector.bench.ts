/**
 * The collector while the forecast job runs: NetFlow v5 datagrams (20 records each) sent from a
 * separate process at a high steady rate to `flowcast serve`'s collector (built in-process with
 * the embedded store and the default configuration), first for a few seconds with no job running
 * (the reference: what the collector itself keeps up with at this rate), then for as long as a
 * forecast run over 240 series of 14 days of 5-minute points takes. Reported: datagrams sent,
 * received, lost (kernel or queue), and the worst event-loop delay of the receiving thread.
 *
 * Run alone with `npx tsx bench/analytics-collector.bench.ts`; `bench/run.ts` imports it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { configSchema } from '../cli/config.js';
import { buildService, type Service } from '../cli/serve.js';
import { encodeV5 } from '../test/support/encoder.js';
import { sineTrafficHistory, writeHistory } from '../test/support/traffic-history.js';
import { steadySender } from '../test/support/udp-sender.js';
import type { BenchResult } from './measure.js';

const RATE = Number(process.env['FLOWCAST_BENCH_PPS'] ?? 20_000);
const INTERFACES = 120;

function send(port: number, seconds: number): { done: Promise<number>; stop: () => void } {
  const datagram = encodeV5({
    records: Array.from({ length: 20 }, (_, i) => ({
      srcAddr: '10.0.0.1',
      dstAddr: `10.0.1.${i}`,
      input: 1,
      output: 2,
      packets: 1,
      bytes: 100,
      protocol: 6,
    })),
  });
  return steadySender(port, datagram, RATE, seconds);
}

const received = async (service: Service) => (await service.pool.view.exporter('127.0.0.1'))?.packets ?? 0;

async function phase(
  service: Service,
  work: () => Promise<unknown>,
): Promise<{ sent: number; got: number; seconds: number; maxDelayMs: number }> {
  const before = await received(service);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const started = performance.now();
  const sender = send(service.collector.ports[0]!, 3600);
  delay.enable();
  await work();
  delay.disable();
  sender.stop();
  const sent = await sender.done;
  const deadline = Date.now() + 5000;
  while ((await received(service)) - before < sent && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  return {
    sent,
    got: (await received(service)) - before,
    seconds: (performance.now() - started) / 1000,
    maxDelayMs: delay.max / 1e6,
  };
}

export async function benchAnalyticsCollector(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'flowcast-bench-'));
  const config = configSchema.parse({
    collector: { bind: '127.0.0.1', netflowPort: 0, ipfixPort: 0 },
    http: { bind: '127.0.0.1', port: 0 },
    storage: { dataDir: dir, retentionDays: 3650 },
    analytics: { enabled: false, historyDays: 14, horizonDays: 7 },
    log: { level: 'silent' },
  });
  const service = buildService(config, pino({ level: 'silent' }));
  await service.start();
  try {
    await writeHistory(service.store, sineTrafficHistory(14, INTERFACES, 'xe-0/0/'));
    const idle = await phase(service, () => new Promise((r) => setTimeout(r, 5000)));
    const busy = await phase(service, () => service.jobs.run('forecast'));
    const row = (name: string, p: typeof idle): BenchResult => ({
      name: `${name}: ${p.sent} sent in ${p.seconds.toFixed(1)} s at ${RATE}/s, lost ${p.sent - p.got}, worst event-loop delay ${p.maxDelayMs.toFixed(0)} ms`,
      median: p.sent - p.got,
      min: p.sent - p.got,
      max: p.sent - p.got,
      unit: 'datagrams lost',
      runs: 1,
    });
    return [
      row('collector during a forecast run (240 series)', busy),
      row('  reference: collector alone', idle),
    ];
  } finally {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchAnalyticsCollector()) console.log(`${r.name}`);
}
