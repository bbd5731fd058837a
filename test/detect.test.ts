/**
 * Detection in `flowcast serve`, in process: the service built from a YAML configuration by the
 * composition root, NetFlow v9 datagrams from the test encoder on a loopback socket, the embedded
 * DuckDB store, and the real Alertmanager. A SYN flood must appear as an anomaly episode (start,
 * then end once it stops) in the store and as an alert in Alertmanager that resolves.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../cli/config.js';
import { buildService, type Service } from '../cli/serve.js';
import type { Row } from '../storage/store.js';
import { Alertmanager, alertmanagerAvailable } from './support/alertmanager.js';
import { v9Datagram } from './support/encoder.js';
import { Metrics } from './support/flowcast-process.js';

const hasAlertmanager = alertmanagerAvailable();

const FIELDS = [
  { id: 8, length: 4 }, // sourceIPv4Address
  { id: 12, length: 4 }, // destinationIPv4Address
  { id: 7, length: 2 }, // sourceTransportPort
  { id: 11, length: 2 }, // destinationTransportPort
  { id: 4, length: 1 }, // protocolIdentifier
  { id: 6, length: 1 }, // tcpControlBits
  { id: 2, length: 4 }, // packetDeltaCount
  { id: 1, length: 4 }, // octetDeltaCount
];
const SYN = 0x02;

describe.skipIf(!hasAlertmanager)('detection in flowcast serve (embedded store, real Alertmanager)', () => {
  let dir: string;
  let am: Alertmanager;
  let service: Service;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowcast-detect-'));
    am = await Alertmanager.launch();
    const file = join(dir, 'flowcast.yaml');
    await writeFile(
      file,
      `collector: { bind: 127.0.0.1, netflowPort: 0, ipfixPort: 0 }
http: { bind: 127.0.0.1, port: 0 }
storage: { dataDir: ${JSON.stringify(join(dir, 'data'))}, rollupInterval: 60 }
detection:
  tick: 1
  thresholds: { pps: 1000000 }
  hostGroups:
    - name: servers
      networks: [10.20.0.0/16]
      thresholds: { synPps: 2000 }
  episodes: { endAfter: 2, updateEvery: 60 }
  alertmanager: { url: "${am.url}", timeout: 2 }
log: { level: silent }
`,
    );
    service = buildService(loadConfig(file, {}), pino({ level: 'silent' }));
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await am?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a start and an end anomaly point for a SYN flood and fires then resolves its alert', async () => {
    const port = service.collector.ports[0]!;
    const socket = createSocket('udp4');
    const send = (d: Uint8Array) =>
      new Promise<void>((resolve) => socket.send(d, port, '127.0.0.1', () => resolve()));
    await send(
      v9Datagram({
        unixSecs: 1_700_000_000,
        flowsets: [{ kind: 'template', templates: [{ id: 300, fields: FIELDS }] }],
      }),
    );
    // 3 s of a SYN flood: every 100 ms, 50 flow records of 20 SYN packets = 10 000 SYN/s against 2000.
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) {
      const records = Array.from({ length: 50 }, (_, k) => [
        `192.0.2.${1 + (k % 200)}`,
        '10.20.1.1',
        1024 + k,
        80,
        6,
        SYN,
        20,
        800,
      ]);
      await send(
        v9Datagram({
          unixSecs: 1_700_000_000 + i,
          sequence: i,
          flowsets: [{ kind: 'data', id: 300, fields: FIELDS, records }],
        }),
      );
      await sleep(100);
    }
    socket.close();
    // Detected within two ticks of the start (plus the datagrams' trip), ended 2 s after it stops.
    const rows = async (): Promise<Row[]> => {
      await service.store.flush();
      return service.store.rows('anomaly', { from: t0 - 60_000, to: Date.now() + 60_000 });
    };
    let firing = false;
    let found: Row[] = [];
    for (let i = 0; i < 200 && !found.some((r) => r['state'] === 'end'); i++) {
      found = await rows();
      if (!firing) firing = (await am.alerts()).some((a) => a.labels['subject'] === '10.20.1.1');
      await sleep(100);
    }
    expect(found.map((r) => r['state'])).toEqual(['start', 'end']);
    const [start, end] = found as [Row, Row];
    expect(start).toMatchObject({
      kind: 'syn_flood',
      exporter: '127.0.0.1',
      series: 'syn_flood/servers',
      subject: '10.20.1.1',
    });
    expect(start['value']).toBeGreaterThan(2000);
    expect(Number(start['score'])).toBeGreaterThan(1);
    expect(start.time - t0).toBeLessThanOrEqual(2 * 1000 + 500);
    expect(String(end['message'])).toMatch(/^ended after \d+ s; peak: SYN flood on 10\.20\.1\.1 \(servers\)/);
    expect(firing).toBe(true);
    // Resolved: Alertmanager no longer lists it as active.
    await sleep(500);
    expect((await am.alerts()).filter((a) => a.labels['subject'] === '10.20.1.1')).toEqual([]);
    const metrics = Metrics.parse(
      await (await fetch(`http://127.0.0.1:${service.http.port}/metrics`)).text(),
    );
    expect(metrics.value('flowcast_anomalies_total', { kind: 'syn_flood' })).toBe(1);
    expect(metrics.value('flowcast_anomalies_active', { kind: 'syn_flood' })).toBe(0);
    expect(
      metrics.value('flowcast_alert_deliveries_total', { sink: 'alertmanager', result: 'success' }),
    ).toBe(2);
    expect(metrics.value('flowcast_detect_records_total')).toBe(1500);
  });
});
