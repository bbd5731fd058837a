/**
 * The collector component over real UDP sockets on loopback: every port takes every version,
 * records reach the sink, counters reach /metrics under the design's names, templates persist
 * across a restart, and a full receive queue drops and counts.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeV5, type FieldSpec, ipfixMessage, v9Datagram } from '../test/support/encoder.js';
import type { DecodedRecord, FlowRecord } from './flow.js';
import { ElementRegistry } from './ie/registry.js';
import { Collector, type CollectorConfig } from './service.js';

const silent = pino({ level: 'silent' });
const dirs: string[] = [];
const collectors: Collector[] = [];

afterEach(async () => {
  for (const c of collectors.splice(0)) await c.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function make(overrides: Partial<CollectorConfig> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'flowcast-collector-'));
  dirs.push(dataDir);
  const records: DecodedRecord[] = [];
  const metrics = new Registry();
  const config: CollectorConfig = {
    bind: '127.0.0.1',
    netflowPort: 0,
    ipfixPort: 0,
    queueSize: 1024,
    receiveBuffer: 1 << 20,
    dataDir,
    state: {},
    ...overrides,
  };
  const collector = new Collector(config, {
    log: silent,
    registry: new ElementRegistry(),
    metrics,
    sink: (batch) => records.push(...batch),
  });
  collectors.push(collector);
  return { collector, records, metrics, dataDir };
}

async function send(port: number, ...datagrams: Uint8Array[]): Promise<void> {
  const socket = createSocket('udp4');
  for (const d of datagrams) {
    await new Promise<void>((resolve, reject) =>
      socket.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }
  socket.close();
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the collector');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const FIELDS: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 1, length: 4 },
];

describe('collector service', () => {
  it('every port accepts every version; counters appear on /metrics under the design names', async () => {
    const { collector, records, metrics } = make();
    await collector.start();
    const [netflowPort, ipfixPort] = collector.ports as [number, number];
    const ipfix = ipfixMessage({
      exportTime: 1_700_000_000,
      sets: [
        { kind: 'template', templates: [{ id: 256, fields: FIELDS }] },
        { kind: 'data', id: 256, fields: FIELDS, records: [['10.0.0.1', 100]] },
      ],
    });
    await send(
      netflowPort,
      ipfix,
      encodeV5({ unixSecs: 1_700_000_000, records: [{ srcAddr: '10.0.0.2', bytes: 5 }] }),
    );
    await send(
      ipfixPort,
      encodeV5({ unixSecs: 1_700_000_000, records: [{ srcAddr: '10.0.0.3', bytes: 7 }] }),
      Uint8Array.of(0, 9, 1),
    );
    await until(
      () => records.length === 3 && collector.state.exporters.get('127.0.0.1')?.counters.packets === 4,
    );
    expect(records.map((r) => (r as FlowRecord).srcAddr).sort()).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
    ]);
    const text = await metrics.metrics();
    expect(text).toMatch(/flowcast_packets_received_total\{exporter="127.0.0.1",version="10"\} 1/);
    expect(text).toMatch(/flowcast_packets_received_total\{exporter="127.0.0.1",version="5"\} 2/);
    expect(text).toMatch(/flowcast_records_decoded_total\{exporter="127.0.0.1",version="5"\} 2/);
    expect(text).toMatch(/flowcast_decode_errors_total\{exporter="127.0.0.1",reason="short_header"\} 1/);
    for (const name of [
      'flowcast_missing_template_total',
      'flowcast_sequence_gaps_total',
      'flowcast_queue_dropped_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
  });

  it('templates survive a restart through the data directory', async () => {
    const first = make();
    await first.collector.start();
    await send(
      first.collector.ports[0]!,
      v9Datagram({
        unixSecs: 1_700_000_000,
        flowsets: [{ kind: 'template', templates: [{ id: 300, fields: FIELDS }] }],
      }),
    );
    await until(() => first.collector.state.exporters.get('127.0.0.1')?.templateCount === 1);
    await first.collector.stop();
    collectors.splice(collectors.indexOf(first.collector), 1);

    const second = make({ dataDir: first.dataDir });
    await second.collector.start();
    await send(
      second.collector.ports[0]!,
      v9Datagram({
        unixSecs: 1_700_000_000,
        flowsets: [{ kind: 'data', id: 300, fields: FIELDS, records: [['10.1.1.1', 42]] }],
      }),
    );
    await until(() => second.records.length === 1);
    expect((second.records[0] as FlowRecord).bytes).toBe(42);
  });

  it('a full receive queue drops datagrams and counts them', async () => {
    const { collector, metrics } = make({ queueSize: 16 });
    await collector.start();
    const port = collector.ports[0]!;
    const datagram = encodeV5({ unixSecs: 1_700_000_000, records: [{ bytes: 1 }] });
    // Send from a child-free tight loop: the decode loop cannot run until this test yields, so
    // everything past the queue's capacity is dropped.
    const socket = createSocket('udp4');
    for (let i = 0; i < 200; i++) socket.send(datagram, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 300));
    socket.close();
    await until(() => collector.queue.length === 0);
    expect(collector.queue.dropped).toBeGreaterThan(0);
    expect(collector.queue.enqueued + collector.queue.dropped).toBe(200);
    expect(await metrics.metrics()).toMatch(
      new RegExp(`flowcast_queue_dropped_total ${collector.queue.dropped}\\b`),
    );
  });
});
