/**
 * A forecast run never stalls the collector: with NetFlow v5 arriving at a steady rate on a
 * collector whose socket buffer is as small as the configuration allows (a few hundred datagrams:
 * a main thread held for a fraction of a second would overflow it, and the kernel would drop
 * silently), the forecast job fits 120 series in its worker thread and every datagram sent is
 * received and decoded, none dropped.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../cli/config.js';
import { buildService, type Service } from '../cli/serve.js';
import type { Point } from '../storage/store.js';
import { encodeV5 } from './support/encoder.js';

const STEP = 300_000;
const DAY = 86_400_000;
const INTERFACES = 60;
const EXPORTER = '127.0.0.1';

describe('analytics jobs and the collector', () => {
  let dir: string;
  let service: Service;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowcast-stall-'));
    const config = configSchema.parse({
      collector: { bind: '127.0.0.1', netflowPort: 0, ipfixPort: 0, receiveBuffer: 65_536 },
      http: { bind: '127.0.0.1', port: 0 },
      storage: { dataDir: dir, rollupInterval: 60, retentionDays: 3650 },
      analytics: { enabled: false, historyDays: 7, horizonDays: 1 },
      log: { level: 'silent' },
    });
    service = buildService(config, pino({ level: 'silent' }));
    await service.start();
    // A week of 5-minute traffic for 60 interfaces, both directions, ending now.
    const end = Math.floor(Date.now() / STEP) * STEP;
    const points: Point[] = [];
    for (let t = end - 7 * DAY; t < end; t += STEP) {
      for (let i = 1; i <= INTERFACES; i++) {
        for (const direction of ['in', 'out'] as const) {
          const bps = 1e6 * i * (1.2 + Math.sin((2 * Math.PI * t) / DAY));
          points.push({
            measurement: 'traffic',
            tags: { exporter: '192.0.2.1', ifIndex: String(i), ifName: `ge-0/0/${i}`, direction },
            fields: { bytes: BigInt(Math.round((bps * 300) / 8)), packets: 1n, flows: 1n },
            time: t,
          });
        }
      }
    }
    service.store.write(points);
    await service.store.flush();
  });

  afterAll(async () => {
    await service?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('drops no datagram while the forecast job fits 120 series', async () => {
    const port = service.collector.ports[0]!;
    const socket = createSocket('udp4');
    const records = Array.from({ length: 20 }, (_, i) => ({
      srcAddr: '10.0.0.1',
      dstAddr: `10.0.1.${i}`,
      input: 1,
      output: 2,
      packets: 1,
      bytes: 100,
      protocol: 6,
    }));
    let sent = 0;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    // 1,000 datagrams a second, sent in bursts of ten every 10 ms.
    const timer = setInterval(() => {
      for (let i = 0; i < 10; i++) {
        socket.send(encodeV5({ flowSequence: sent * 20, records }), port, '127.0.0.1');
        sent++;
      }
    }, 10);
    let result: Awaited<ReturnType<Service['jobs']['run']>>;
    try {
      result = await service.jobs.run('forecast');
    } finally {
      clearInterval(timer);
      delay.disable();
    }
    expect(result.series).toBe(2 * INTERFACES + 2);
    const received = () =>
      service.collector.state.exporters.get(EXPORTER)?.counters.byVersion.get(5)?.packets ?? 0;
    const deadline = Date.now() + 10_000;
    while (received() < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    socket.close();
    process.stderr.write(
      `analytics-stall: ${sent} datagrams sent during the forecast run, ${received()} received; event loop delay max ${(delay.max / 1e6).toFixed(1)} ms\n`,
    );
    expect(sent).toBeGreaterThan(500);
    expect(received()).toBe(sent);
    expect(service.collector.queue.dropped).toBe(0);
  });
});
