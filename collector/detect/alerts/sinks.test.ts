/** Every alert sink against real receivers: the real Alertmanager, a local HTTP server, real programs. */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Alertmanager, alertmanagerAvailable } from '../../../test/support/alertmanager.js';
import { AlertmanagerSink } from './alertmanager.js';
import { CommandSink } from './command.js';
import { alertSinkContract, testEvent } from './sink.contract.js';
import type { DeliveryResult } from './sink.js';
import { WebhookSink } from './webhook.js';

const log = pino({ level: 'silent' });
const queue = (maxQueued: number, attempts = 2) => ({
  maxQueued,
  attempts,
  backoffMs: 20,
  maxBackoffMs: 100,
});
/** A loopback port nothing listens on (connections are refused at once). */
const CLOSED = 'http://127.0.0.1:9';

/** A local HTTP server that records JSON bodies and answers `status()`. */
async function receiver(status: () => number = () => 200) {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString();
    });
    req.on('end', () => {
      bodies.push({ path: req.url, headers: req.headers, body: JSON.parse(text) });
      res.statusCode = status();
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const hasAlertmanager = alertmanagerAvailable();

describe.skipIf(!hasAlertmanager)('Alertmanager sink against the real prometheus-alertmanager', () => {
  let am: Alertmanager;
  beforeAll(async () => {
    am = await Alertmanager.launch();
  });
  afterAll(async () => {
    await am?.destroy();
  });

  const severity = { ddos: 'critical', syn_flood: 'critical', scan: 'warning' };
  const received = async () => {
    const text = await (await fetch(`${am.url}/metrics`)).text();
    let n = 0;
    for (const m of text.matchAll(/^alertmanager_alerts_received_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
    return n;
  };

  alertSinkContract('alertmanager', {
    sendsUpdates: true,
    async working(onResult, maxQueued) {
      const before = await received();
      const sink = new AlertmanagerSink(
        {
          url: am.url,
          timeoutMs: 2000,
          holdMs: 300_000,
          severity,
          labels: {},
          headers: {},
          ...queue(maxQueued),
        },
        { log, onResult },
      );
      return { sink, received: async () => (await received()) - before, cleanup: async () => {} };
    },
    async failing(onResult, maxQueued) {
      const sink = new AlertmanagerSink(
        {
          url: CLOSED,
          timeoutMs: 2000,
          holdMs: 300_000,
          severity,
          labels: {},
          headers: {},
          ...queue(maxQueued),
        },
        { log, onResult },
      );
      return { sink, cleanup: async () => {} };
    },
  });

  it('fires an alert labelled kind, subject, exporter, severity, and resolves it with endsAt at the end', async () => {
    const results: DeliveryResult[] = [];
    const sink = new AlertmanagerSink(
      {
        url: am.url,
        timeoutMs: 2000,
        holdMs: 300_000,
        severity,
        labels: { team: 'noc' },
        headers: {},
        ...queue(10),
      },
      { log, onResult: (_, r) => results.push(r) },
    );
    await sink.start();
    const subject = '198.51.100.99';
    const start = testEvent('start', subject);
    sink.deliver(start);
    await waitUntil(() => results.length === 1);
    const firing = (await am.alerts()).filter((a) => a.labels['subject'] === subject);
    expect(firing).toHaveLength(1);
    expect(firing[0]!.labels).toEqual({
      alertname: 'flowcast_syn_flood',
      kind: 'syn_flood',
      subject,
      exporter: '192.0.2.1',
      group: 'servers',
      severity: 'critical',
      team: 'noc',
    });
    expect(firing[0]!.status.state).toBe('active');
    expect(firing[0]!.annotations['summary']).toContain(`SYN flood on ${subject}`);
    expect(Date.parse(firing[0]!.startsAt)).toBe(start.episode.startedAt);
    // The end: endsAt now, and Alertmanager no longer lists it as active.
    const end = testEvent('end', subject, Date.now() - 1000);
    sink.deliver({ ...end, episode: { ...end.episode, startedAt: start.episode.startedAt } });
    await waitUntil(() => results.length === 2);
    expect(results).toEqual(['success', 'success']);
    expect((await am.alerts()).filter((a) => a.labels['subject'] === subject)).toEqual([]);
    await sink.stop();
  });
});

async function waitUntil(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('webhook sink', () => {
  alertSinkContract('webhook', {
    sendsUpdates: true,
    async working(onResult, maxQueued) {
      const r = await receiver();
      const sink = new WebhookSink(
        { url: r.url, timeoutMs: 2000, headers: {}, ...queue(maxQueued) },
        { log, onResult },
      );
      return { sink, received: async () => r.bodies.length, cleanup: r.close };
    },
    async failing(onResult, maxQueued) {
      const sink = new WebhookSink(
        { url: CLOSED, timeoutMs: 2000, headers: {}, ...queue(maxQueued) },
        { log, onResult },
      );
      return { sink, cleanup: async () => {} };
    },
  });

  it('retries a failing receiver with backoff and succeeds when it recovers, sending the episode as JSON', async () => {
    let calls = 0;
    const r = await receiver(() => (++calls <= 2 ? 503 : 200));
    const results: DeliveryResult[] = [];
    const sink = new WebhookSink(
      { url: r.url, timeoutMs: 2000, headers: { Authorization: 'Bearer x' }, ...queue(10, 5) },
      { log, onResult: (_, res) => results.push(res) },
    );
    await sink.start();
    sink.deliver(testEvent('start', '10.1.1.1'));
    await waitUntil(() => results.length === 1);
    expect(results).toEqual(['success']);
    expect(r.bodies).toHaveLength(3);
    const last = r.bodies[2] as { headers: Record<string, string>; body: unknown };
    expect(last.headers['authorization']).toBe('Bearer x');
    expect(last.body).toMatchObject({
      state: 'start',
      episode: { kind: 'syn_flood', subject: '10.1.1.1', metric: 'syn_pps', value: 12_000, endedAt: null },
    });
    await sink.stop();
    await r.close();
  });
});

describe('command sink', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowcast-command-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const script = async (name: string, body: string) => {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  };

  alertSinkContract('command', {
    sendsUpdates: false,
    async working(onResult, maxQueued) {
      const out = join(dir, `runs-${Math.random()}`);
      const path = await script('ok.sh', 'cat >> "$1"; echo >> "$1"');
      const sink = new CommandSink(
        { path, args: [out], timeoutMs: 5000, ...queue(maxQueued, 1) },
        { log, onResult },
      );
      const received = async () =>
        (await readFile(out, 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('{')).length;
      return { sink, received, cleanup: async () => {} };
    },
    async failing(onResult, maxQueued) {
      const path = await script('fail.sh', 'sleep 0.05; echo nope >&2; exit 3');
      const sink = new CommandSink(
        { path, args: [], timeoutMs: 5000, ...queue(maxQueued, 1) },
        { log, onResult },
      );
      return { sink, cleanup: async () => {} };
    },
  });

  it('passes the episode on stdin and state, kind, subject as arguments; kills a run past its timeout', async () => {
    const out = join(dir, 'args.txt');
    const path = await script('args.sh', `echo "$@" > "${out}"; cat >> "${out}"`);
    const results: DeliveryResult[] = [];
    const sink = new CommandSink(
      { path, args: ['--from-flowcast'], timeoutMs: 5000, ...queue(5, 1) },
      { log, onResult: (_, r) => results.push(r) },
    );
    await sink.start();
    sink.deliver(testEvent('start', '10.2.2.2'));
    await waitUntil(() => results.length === 1);
    const [args, json] = (await readFile(out, 'utf8')).split('\n');
    expect(args).toBe('--from-flowcast start syn_flood 10.2.2.2');
    expect(JSON.parse(json!)).toMatchObject({
      state: 'start',
      episode: { subject: '10.2.2.2', group: 'servers' },
    });
    await sink.stop();

    const slow = await script('slow.sh', 'sleep 30');
    const slowResults: DeliveryResult[] = [];
    const slowSink = new CommandSink(
      { path: slow, args: [], timeoutMs: 300, ...queue(5, 1) },
      { log, onResult: (_, r) => slowResults.push(r) },
    );
    await slowSink.start();
    const t0 = Date.now();
    slowSink.deliver(testEvent('start'));
    await waitUntil(() => slowResults.length === 1);
    expect(slowResults).toEqual(['failure']);
    expect(Date.now() - t0).toBeLessThan(5000);
    await slowSink.stop();
  });
});
