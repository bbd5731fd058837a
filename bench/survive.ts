/**
 * `npm run survive -- [--datagrams 1000000] [--sources 1000] [--rate 5000] [--seed N]`: the survival
 * run of issue 7. Starts the real `flowcast serve` (loopback, embedded store, 1 s rollups), sends N
 * mutated datagrams (test/fuzz/whole-path.ts's corpus and mutator) from many loopback source
 * addresses at a steady rate, samples its RSS and `/api/v1/health` latency every 100 ms throughout,
 * and prints: datagrams sent, seed, peak RSS, worst and p99 health latency, whether the process
 * survived, and drops by counter. Exits 1 when it did not survive or broke a limit of issue 7
 * (RSS under 1 GiB, health within 100 ms).
 *
 * Not part of `npm test`: a million datagrams take minutes.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { udpSocketDrops } from '../collector/receive/socket-drops.js';
import { corpus, mutate } from '../test/fuzz/whole-path.js';
import { FlowcastProcess, loopbackAddress, type Metrics } from '../test/support/flowcast-process.js';
import { prng } from '../test/support/random.js';

const RSS_LIMIT = 1024 * 1024 * 1024;
const HEALTH_LIMIT_MS = 100;

const { values } = parseArgs({
  options: {
    datagrams: { type: 'string', default: '1000000' },
    sources: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '5000' },
    seed: { type: 'string' },
    /** Rollup interval of the collector under test (s): 1 writes 60 times what production does. */
    rollup: { type: 'string', default: '1' },
    /** Run without the analytics jobs (their store reads share the receiving thread). */
    'no-analytics': { type: 'boolean', default: false },
  },
});
const total = Number(values.datagrams);
const sources = Number(values.sources);
const rate = Number(values.rate);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (
  ![total, sources, rate, seed].every(Number.isSafeInteger) ||
  total < 1 ||
  sources < 1 ||
  sources > 60_000 ||
  rate < 1
) {
  console.error(
    'usage: npm run survive -- [--datagrams N] [--sources N (1..60000)] [--rate PER_SECOND] [--seed N] [--rollup SECONDS] [--no-analytics]',
  );
  process.exit(2);
}

async function openSource(address: string): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {}); // send errors are counted at the callback
  return socket;
}

const work = await mkdtemp(join(tmpdir(), 'flowcast-survive-'));
const fc = await FlowcastProcess.start({
  dataDir: join(work, 'data'),
  rollupInterval: Number(values.rollup),
  ...(values['no-analytics'] && { config: { analytics: { enabled: false } } }),
});
console.log(
  `flowcast serve pid ${fc.pid} (ports ${fc.netflowPort}/${fc.ipfixPort}, http ${fc.httpPort}); ` +
    `seed ${seed}, ${total} datagrams from ${sources} sources at ${rate}/s`,
);
const startRss = fc.rssBytes() ?? 0;
// prom-client resets its event-loop delay histogram at each scrape: scraped once here, the maximum
// read at the end is the receiving thread's during the flood, not its start-up's.
await fc.metrics();
const sockets: Socket[] = [];
for (let i = 0; i < sources; i++) sockets.push(await openSource(loopbackAddress(64, i)));

const seeds = corpus();
const r = prng(seed);
const watch = fc.watch(100);
// The latency is measured from this process: its own event-loop delay is printed beside it, so a
// slow sender cannot pass for a slow flowcast.
const ownDelay = monitorEventLoopDelay({ resolution: 10 });
ownDelay.enable();
let sent = 0;
let sendErrors = 0;
let inFlight = 0;
let bytesSent = 0;
const started = performance.now();
let lastReport = started;
const tickMs = 10;
while (sent < total && fc.running) {
  // Steady rate: as many as the schedule says should have gone by now, in one tick's burst.
  const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
  while (sent < due && inFlight < 2000) {
    const payload = mutate(seeds[Math.floor(r() * seeds.length)]!, r);
    const socket = sockets[Math.floor(r() * sockets.length)]!;
    const port = r() < 0.5 ? fc.netflowPort : fc.ipfixPort;
    inFlight++;
    sent++;
    bytesSent += payload.length;
    socket.send(payload, port, '127.0.0.1', (err) => {
      inFlight--;
      if (err) sendErrors++;
    });
  }
  const now = performance.now();
  if (now - lastReport > 10_000) {
    lastReport = now;
    console.log(
      `  ${sent} sent, ${((now - started) / 1000).toFixed(0)} s, RSS ${((fc.rssBytes() ?? 0) / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  await sleep(tickMs);
}
const sendSeconds = (performance.now() - started) / 1000;
while (inFlight > 0) await sleep(10);
await sleep(3000); // let the queue drain and a few rollups flush
const seen = await watch.stop();
ownDelay.disable();
const survivedRun = fc.running;

let metrics: Metrics | undefined;
if (survivedRun) {
  try {
    metrics = await fc.metrics();
  } catch (err) {
    console.log(`/metrics failed: ${String(err)}`);
  }
}
const kernel = survivedRun
  ? udpSocketDrops({ pid: fc.pid, ports: [fc.netflowPort, fc.ipfixPort] })
  : undefined;
const stopStarted = performance.now();
const exit = survivedRun ? await fc.stop(120_000).catch((err: unknown) => ({ error: String(err) })) : fc.exit;
const stopSeconds = (performance.now() - stopStarted) / 1000;
for (const s of sockets) s.close();

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const counter = (name: string) => (metrics === undefined ? 'n/a' : String(metrics.value(name)));
const has = (name: string) => metrics?.samples.some((s) => s.name === name) ?? false;
console.log(`
datagrams sent        ${sent} (${mib(bytesSent)}) in ${sendSeconds.toFixed(1)} s, ${sendErrors} send errors
seed                  ${seed}
sources               ${sources}
RSS                   start ${mib(startRss)}, peak ${mib(seen.peakRss)}
health latency        worst ${seen.worstMs.toFixed(1)} ms, p99 ${seen.p99Ms.toFixed(1)} ms (${seen.samples} samples, ${seen.failures} failed)
event-loop delay      flowcast's max ${counter('flowcast_process_nodejs_eventloop_lag_max_seconds') === 'n/a' ? 'n/a' : `${(Number(counter('flowcast_process_nodejs_eventloop_lag_max_seconds')) * 1000).toFixed(0)} ms`} (its receiving thread, during the flood); this sender's max ${(ownDelay.max / 1e6).toFixed(0)} ms, p99 ${(ownDelay.percentile(99) / 1e6).toFixed(0)} ms
survived              ${survivedRun ? 'yes' : 'NO'}; exit ${JSON.stringify(exit)}${survivedRun ? ` after SIGTERM in ${stopSeconds.toFixed(1)} s` : ''}
drops by counter
  flowcast_queue_dropped_total            ${counter('flowcast_queue_dropped_total')}
  flowcast_socket_drops_total             ${has('flowcast_socket_drops_total') ? counter('flowcast_socket_drops_total') : 'not exported'}
  kernel drops at flowcast's sockets      ${kernel === undefined ? 'n/a' : kernel.reduce((n, s) => n + s.drops, 0)} (read from /proc/${fc.pid}/net/udp)
  flowcast_exporters_rejected_total       ${counter('flowcast_exporters_rejected_total')}
  flowcast_exporters_not_allowed_total    ${has('flowcast_exporters_not_allowed_total') ? counter('flowcast_exporters_not_allowed_total') : 'not exported'}
  flowcast_state_refused_total            ${has('flowcast_state_refused_total') ? counter('flowcast_state_refused_total') : 'not exported'}
  flowcast_decode_errors_total            ${counter('flowcast_decode_errors_total')}
  flowcast_internal_errors_total          ${has('flowcast_internal_errors_total') ? counter('flowcast_internal_errors_total') : 'not exported'}
decoded               ${counter('flowcast_packets_received_total')} datagrams, ${counter('flowcast_records_decoded_total')} records`);
if (!survivedRun) console.log(`\nlast output:\n${fc.output()}`);
await rm(work, { recursive: true, force: true });
const ok = survivedRun && seen.peakRss < RSS_LIMIT && seen.worstMs < HEALTH_LIMIT_MS && seen.failures === 0;
console.log(ok ? '\nPASS' : `\nFAIL (limits: RSS < 1 GiB, health < ${HEALTH_LIMIT_MS} ms, process alive)`);
process.exitCode = ok ? 0 : 1;
